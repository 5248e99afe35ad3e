"""Aggregated APIs: APIServices that point at a Service, and what becomes of their groups.

The stand-in runs no extension API server, so an APIService with a `spec.service` is never
available, as with kube-apiserver v1.36 when that service is missing:

* the availability controller (manager `kube-apiserver`, subresource `status`) sets
  `Available=False`, reason `ServiceNotFound` (`service/NAME in "NS" is not present`), or
  `MissingEndpoints` when the Service exists (it has no endpoints here);
* legacy discovery (`/apis`) still lists the group like any other; aggregated discovery
  lists its versions with `freshness: Stale` and no resources;
* any request under `/apis/GROUP/VERSION` answers `503 service unavailable` (plain text).

Groups are ordered as kube orders them: by `groupPriorityMinimum` (highest first), then by
name, after the built-in groups and the CRD groups; versions by `versionPriority`.
"""

from __future__ import annotations

import copy

from syncer_standins.kubeapi.errors import ServiceUnavailable
from syncer_standins.kubeapi.objects import Obj, meta, now
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.writes import write_status

__all__ = ["APISERVICES_KEY", "apiservices", "check_available", "groups"]

APISERVICES_KEY = ("apiregistration.k8s.io", "apiservices")
_SERVICES_KEY = ("", "services")


def _remote(state: ApiState) -> list[Obj]:
    """The APIServices served by another server (those with a `spec.service`)."""
    return [obj for obj in state.store.items(APISERVICES_KEY)
            if (obj.get("spec") or {}).get("service") and not meta(obj).get("deletionTimestamp")]


def groups(state: ApiState, *, known: set[str]) -> list[tuple[str, list[str]]]:
    """The aggregated groups not in `known`, each with its versions, in kube's order."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for obj in _remote(state):
        spec = obj.get("spec") or {}
        group, version = str(spec.get("group", "")), str(spec.get("version", ""))
        if group and group not in known:
            found.setdefault(group, []).append((int(spec.get("groupPriorityMinimum") or 0),
                                                int(spec.get("versionPriority") or 0), version))
    ordered = sorted(found.items(), key=lambda item: (-max(v[0] for v in item[1]), item[0]))
    return [(group, [v for _, _, v in sorted(versions, key=lambda v: (-v[1], v[2]))])
            for group, versions in ordered]


def check_available(state: ApiState, group: str, version: str) -> None:
    """503 for anything under the group version of an aggregated API (none is available)."""
    for obj in _remote(state):
        spec = obj.get("spec") or {}
        if (spec.get("group"), spec.get("version")) == (group, version):
            raise ServiceUnavailable(f"{group}/{version}")


def _available(state: ApiState, service: Obj) -> Obj:
    name, namespace = service.get("name", ""), service.get("namespace", "")
    found = state.store.get(_SERVICES_KEY, namespace=str(namespace), name=str(name))
    if found is None:
        reason, message = "ServiceNotFound", f'service/{name} in "{namespace}" is not present'
    else:
        reason = "MissingEndpoints"
        message = f'endpoints for service/{name} in "{namespace}" have no addresses'
    return {"type": "Available", "status": "False", "lastTransitionTime": now(),
            "reason": reason, "message": message}


def apiservices(state: ApiState, written: Written) -> None:
    """The reactor: the availability condition of APIServices pointing at a Service."""
    rtype, after = written.rtype, written.after
    if rtype.custom or rtype.kind != "APIService" or after is None:
        return
    service = (after.get("spec") or {}).get("service")
    if not service or meta(after).get("deletionTimestamp"):
        return
    condition = _available(state, service)
    old = [(c.get("type"), c.get("status"), c.get("reason"), c.get("message"))
           for c in (after.get("status") or {}).get("conditions") or []]
    if old == [(condition["type"], "False", condition["reason"], condition["message"])]:
        return
    new = copy.deepcopy(after)
    new["status"] = {"conditions": [condition]}
    write_status(state, new, rtype=rtype, manager="kube-apiserver")
