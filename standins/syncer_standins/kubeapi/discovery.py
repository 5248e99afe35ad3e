"""Discovery documents: `/version`, `/api`, `/apis`, `/apis/{group}`, resource lists, and the
aggregated discovery (`apidiscovery.k8s.io/v2`, or `v2beta1`) clients ask for with
`Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`.

Built-in documents list what kube-apiserver v1.36 serves, entry for entry (the legacy
`/api/v1` list has no `apiVersion`, group lists do); CRD groups follow the built-in ones,
then the groups of aggregated APIServices (`aggregation`: listed, but `Stale`).
"""

from __future__ import annotations

from typing import Any

from syncer_standins.kubeapi import aggregation
from syncer_standins.kubeapi.catalog import ResourceType, Subresource
from syncer_standins.kubeapi.errors import PageNotFound
from syncer_standins.kubeapi.state import ApiState

__all__ = [
    "AGGREGATED_MEDIA",
    "aggregated",
    "aggregated_version",
    "api_group",
    "api_group_list",
    "api_versions",
    "resource_list",
    "version_info",
]

AGGREGATED_MEDIA = "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
Doc = dict[str, Any]


def version_info() -> Doc:
    return {
        "major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "35",
        "gitVersion": "v1.36.2", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-11-22T00:00:00Z", "goVersion": "go1.25.4",
        "compiler": "gc", "platform": "linux/amd64",
    }


def aggregated_version(accept: str) -> str:
    """"v2" or "v2beta1" when the Accept header asks for aggregated discovery, else ""."""
    for media in accept.split(","):
        params = dict(
            part.strip().split("=", 1) for part in media.split(";")[1:] if "=" in part
        )
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == (
            "APIGroupDiscoveryList") and params.get("v") in ("v2", "v2beta1"):
            return params["v"]
    return ""


def api_versions(state: ApiState) -> Doc:
    return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": state.address}]}


def _group_version(group: str, version: str) -> Doc:
    return {"groupVersion": f"{group}/{version}", "version": version}


def _group(group: str, versions: list[str]) -> Doc:
    return {"name": group, "versions": [_group_version(group, v) for v in versions],
            "preferredVersion": _group_version(group, versions[0])}


def _group_versions(state: ApiState) -> list[tuple[str, list[str]]]:
    served = list(state.registry.group_versions())
    return served + aggregation.groups(state, known={group for group, _ in served})


def api_group_list(state: ApiState) -> Doc:
    groups = [_group(group, versions) for group, versions in _group_versions(state)]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(state: ApiState, group: str) -> Doc:
    for name, versions in _group_versions(state):
        if name == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}
    raise PageNotFound(f"/apis/{group}")


def _legacy_entry(rtype: ResourceType) -> Doc:
    entry: Doc = {"name": rtype.plural, "singularName": rtype.singular,
                  "namespaced": rtype.namespaced, "kind": rtype.kind, "verbs": list(rtype.verbs)}
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    if rtype.storage_hash:
        entry["storageVersionHash"] = rtype.storage_hash
    return entry


def _legacy_sub(rtype: ResourceType, sub: Subresource) -> Doc:
    entry: Doc = {"name": f"{rtype.plural}/{sub.name}", "singularName": "",
                  "namespaced": rtype.namespaced}
    if sub.group or sub.version:
        entry.update(group=sub.group, version=sub.version)
    entry.update(kind=sub.kind, verbs=list(sub.verbs))
    return entry


def resource_list(state: ApiState, group: str, *, version: str) -> Doc:
    types = state.registry.resources(group, version)
    if not types:
        raise PageNotFound(f"{group}/{version}")
    resources = []
    for rtype in types:
        resources.append(_legacy_entry(rtype))
        resources += [_legacy_sub(rtype, sub) for sub in rtype.subresources]
    head: Doc = {"kind": "APIResourceList"}
    if group:
        head["apiVersion"] = "v1"
    head["groupVersion"] = f"{group}/{version}" if group else version
    return {**head, "resources": resources}


def _response_kind(
    rtype: ResourceType, kind: str, *, group: str = "", version: str = ""
) -> Doc:
    if rtype.custom and not group:
        group, version = rtype.group, rtype.version
    return {"group": group, "version": version, "kind": kind}


def _aggregated_entry(rtype: ResourceType) -> Doc:
    entry: Doc = {
        "resource": rtype.plural, "responseKind": _response_kind(rtype, rtype.kind),
        "scope": "Namespaced" if rtype.namespaced else "Cluster",
        "singularResource": rtype.singular, "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    if rtype.subresources:
        entry["subresources"] = [
            {"subresource": sub.name,
             "responseKind": _response_kind(rtype, sub.kind, group=sub.group,
                                            version=sub.version),
             "verbs": list(sub.verbs)}
            for sub in rtype.subresources
        ]
    return entry


def _aggregated_version(state: ApiState, group: str, *, version: str) -> Doc:
    resources = [_aggregated_entry(t) for t in state.registry.resources(group, version)]
    return {"version": version, "resources": resources, "freshness": "Current"}


def aggregated(state: ApiState, *, legacy: bool, media_version: str) -> Doc:
    """APIGroupDiscoveryList for `/api` (legacy=True, the core group) or for `/apis`."""
    items: list[Doc]
    if legacy:
        items = [{"metadata": {}, "versions": [_aggregated_version(state, "", version="v1")]}]
    else:
        served = list(state.registry.group_versions())
        items = [
            {"metadata": {"name": group},
             "versions": [_aggregated_version(state, group, version=v) for v in versions]}
            for group, versions in served
        ]
        known = {group for group, _ in served}
        items += [{"metadata": {"name": group},
                   "versions": [{"version": v, "freshness": "Stale"} for v in versions]}
                  for group, versions in aggregation.groups(state, known=known)]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{media_version}",
            "metadata": {}, "items": items}
