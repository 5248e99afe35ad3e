"""Which resources are served: the built-in catalogue plus what established CRDs define.

A CRD's resources are served from the moment its `Established` condition is `True` until
the CRD is removed (see `crds` for when that is, and for the 429s before). Every served
version of a CRD is served with the same stored objects (conversion strategy `None`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from syncer_standins.kubeapi.catalog import (
    BUILTIN_TYPES,
    GROUP_ORDER,
    ResourceType,
    Subresource,
    storage_version_hash,
)
from syncer_standins.kubeapi.schema import OpenAPISchema, Schema, builtin_schema
from syncer_standins.kubeapi.store import Store

__all__ = ["CRD_KEY", "Registry", "crd_types", "is_established", "version_sort_key"]

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
_CRD_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
_GPU = ("get", "patch", "update")


_VERSION = re.compile(r"v(\d+)(?:(alpha|beta)(\d+))?")


def version_sort_key(version: str) -> tuple[int, int, int, str]:
    """kube's version priority: GA before beta before alpha, higher numbers first."""
    found = _VERSION.fullmatch(version)
    if found is None:
        return 3, 0, 0, version
    major, stage, minor = found.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return rank, -int(major), -int(minor or 0), version


def has_condition(crd: dict[str, Any], kind: str) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def is_established(crd: dict[str, Any]) -> bool:
    return has_condition(crd, "Established")


def _subresources(kind: str, version: dict[str, Any]) -> tuple[Subresource, ...]:
    declared = version.get("subresources") or {}
    subs = []
    if "scale" in declared:
        subs.append(Subresource("scale", "Scale", "autoscaling", "v1", _GPU))
    if "status" in declared:
        subs.append(Subresource("status", kind, "", "", _GPU))
    return tuple(sorted(subs, key=lambda sub: sub.name))


def crd_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types one CRD serves, one per served version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served")]
    storage = next((v["name"] for v in versions if v.get("storage")), "")
    kind = str(names.get("kind", ""))
    return [
        ResourceType(
            group=str(spec.get("group", "")), version=str(version["name"]),
            plural=str(names.get("plural", "")), kind=kind,
            namespaced=spec.get("scope") == "Namespaced", verbs=_CRD_VERBS,
            singular=str(names.get("singular", kind.lower())),
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=_subresources(kind, version), custom=True,
            list_kind=str(names.get("listKind", kind + "List")),
            storage_hash=storage_version_hash(str(spec.get("group", "")), storage, kind=kind),
            crd_version=version,
        )
        for version in versions
    ]


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._builtin = {(t.group, t.version, t.plural): t for t in BUILTIN_TYPES}

    def custom_types(self) -> list[ResourceType]:
        crds = [crd for crd in self.store.items(CRD_KEY) if is_established(crd)]
        return [rtype for crd in crds for rtype in crd_types(crd)]

    def lookup(self, group: str, version: str, *, plural: str) -> ResourceType | None:
        found = self._builtin.get((group, version, plural))
        if found is not None:
            return found
        return next(
            (t for t in self.custom_types()
             if (t.group, t.version, t.plural) == (group, version, plural)),
            None,
        )

    def installing(self, group: str, version: str, *, plural: str) -> bool:
        """A CRD whose names are accepted but that is not Established yet serves this."""
        for crd in self.store.items(CRD_KEY):
            if has_condition(crd, "NamesAccepted") and not is_established(crd) and any(
                    (t.group, t.version, t.plural) == (group, version, plural)
                    for t in crd_types(crd)):
                return True
        return False

    def all_types(self) -> list[ResourceType]:
        return [*BUILTIN_TYPES, *self.custom_types()]

    def stored_types(self) -> list[ResourceType]:
        """One type per stored resource (its first served version)."""
        found: dict[tuple[str, str], ResourceType] = {}
        for rtype in self.all_types():
            found.setdefault(rtype.stored_key, rtype)
        return list(found.values())

    def group_versions(self) -> Iterator[tuple[str, list[str]]]:
        """Every group but the core one with its versions, preferred first, in kube's order."""
        types = self.all_types()
        custom_groups = sorted({t.group for t in types if t.custom} - set(GROUP_ORDER))
        for group in [*GROUP_ORDER[1:], *custom_groups]:
            versions = list(dict.fromkeys(t.version for t in types if t.group == group))
            if group in custom_groups:
                versions.sort(key=version_sort_key)
            if versions:
                yield group, versions

    def resources(self, group: str, version: str) -> list[ResourceType]:
        found = [t for t in self.all_types() if (t.group, t.version) == (group, version)]
        return sorted(found, key=lambda t: t.plural) if found and found[0].custom else found

    def schema(self, rtype: ResourceType) -> Schema:
        if rtype.custom and rtype.crd_version is not None:
            node = (rtype.crd_version.get("schema") or {}).get("openAPIV3Schema") or {}
            return OpenAPISchema(node, rtype.kind, root=True)
        return builtin_schema(rtype.kind, rtype.group)
