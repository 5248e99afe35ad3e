"""The namespace controllers: what a new namespace gets, and how a deleted one goes.

* A new namespace gets its `kube-root-ca.crt` ConfigMap and `default` ServiceAccount (manager
  `kube-controller-manager`), as the root-CA publisher and the service-account controller
  create them. (Upstream Kubernetes adds nothing else; some distributions add more.)
* A namespace marked for deletion has its content deleted as kube's namespace controller
  deletes it: objects without finalizers go, objects with finalizers are marked
  (`deletionTimestamp`, `deletionGracePeriodSeconds: 0`, generation bumped) and stay. While
  some remain, the namespace carries the controller's five conditions (discovery, parsing,
  content deletion, `NamespaceContentRemaining`, `NamespaceFinalizersRemaining`, worded as
  kube words them); once nothing remains, the namespace is gone.

kube's controller acts seconds after the DELETE and polls until the content is gone; here
it acts within the DELETE (its answer is still the namespace as first marked) and again
whenever an object of the namespace is removed.
"""

from __future__ import annotations

import copy
import json
from collections import Counter

from syncer_standins.kubeapi.catalog import BUILTIN_TYPES, ResourceType
from syncer_standins.kubeapi.deletes import mark
from syncer_standins.kubeapi.objects import Obj, meta, now
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.writes import (
    Target,
    WriteRequest,
    commit,
    create,
    remove,
    write_status,
)

__all__ = ["CA_BUNDLE", "conditions", "namespaces"]

CA_BUNDLE = (
    "-----BEGIN CERTIFICATE-----\n"
    "a3ViZS1hcGlzZXJ2ZXIgc3RhbmQtaW46IHBsYWluIEhUVFAsIG5vIGNlcnRpZmljYXRlIGF1dGhvcml0eQ==\n"
    "-----END CERTIFICATE-----\n"
)
_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)
_BUILTIN = {(t.group, t.plural): t for t in BUILTIN_TYPES}
_NAMESPACES = _BUILTIN[("", "namespaces")]
_CONTROLLER = "kube-controller-manager"
_SETTLED = (
    ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered",
     "All resources successfully discovered"),
    ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
     "All legacy kube types successfully parsed"),
    ("NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"),
)


def _create_as(state: ApiState, obj: Obj, *, rtype: ResourceType) -> None:
    target = Target(rtype, str(meta(obj).get("namespace", "")))
    if state.store.get(rtype.stored_key, namespace=target.namespace,
                       name=str(meta(obj)["name"])) is None:
        body = json.dumps(obj).encode()
        create(state, WriteRequest(target, {"fieldManager": _CONTROLLER}, body))


def _created(state: ApiState, namespace: str) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "kube-root-ca.crt", "namespace": namespace,
        "annotations": {"kubernetes.io/description": _CA_DESCRIPTION}},
        "data": {"ca.crt": CA_BUNDLE}}
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "default", "namespace": namespace}}
    _create_as(state, config_map, rtype=_BUILTIN[("", "configmaps")])
    _create_as(state, account, rtype=_BUILTIN[("", "serviceaccounts")])


def _content(state: ApiState, namespace: str) -> list[tuple[ResourceType, Obj]]:
    return [(rtype, obj) for rtype in state.registry.stored_types() if rtype.namespaced
            for obj in state.store.items(rtype.stored_key, namespace)]


def _delete_content(state: ApiState, namespace: str) -> None:
    for rtype, obj in _content(state, namespace):
        if meta(obj).get("deletionTimestamp"):
            continue
        if meta(obj).get("finalizers"):
            commit(state, mark(rtype, obj), rtype=rtype, before=obj)
        else:
            remove(state, obj, rtype=rtype)


def _condition(kind: str, status: str, reason: str, message: str, *, stamp: str) -> Obj:
    return {"type": kind, "status": status, "lastTransitionTime": stamp, "reason": reason,
            "message": message}


def conditions(remaining: list[tuple[ResourceType, Obj]], *, stamp: str) -> list[Obj]:
    """The namespace controller's conditions while `remaining` objects wait on finalizers."""
    resources = Counter(f"{t.plural}.{t.group}" if t.group else t.plural for t, _ in remaining)
    finalizers = Counter(f for _, obj in remaining for f in meta(obj).get("finalizers") or [])
    found = [_condition(kind, "False", reason, text, stamp=stamp)
             for kind, reason, text in _SETTLED]
    listed = ", ".join(f"{name} has {count} resource instances"
                       for name, count in sorted(resources.items()))
    found.append(_condition("NamespaceContentRemaining", "True", "SomeResourcesRemain",
                            f"Some resources are remaining: {listed}", stamp=stamp))
    listed = ", ".join(f"{name} in {count} resource instances"
                       for name, count in sorted(finalizers.items()))
    found.append(_condition("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain",
                            "Some content in the namespace has finalizers remaining: " + listed,
                            stamp=stamp))
    return found


def _finish_or_report(state: ApiState, name: str) -> None:
    """Remove a terminating namespace that is empty, else report what remains."""
    namespace = state.store.get(_NAMESPACES.stored_key, namespace="", name=name)
    if namespace is None or not meta(namespace).get("deletionTimestamp"):
        return
    remaining = _content(state, name)
    if not remaining:
        remove(state, namespace, rtype=_NAMESPACES)
        return
    old = (namespace.get("status") or {}).get("conditions") or []
    new = conditions(remaining, stamp=now())
    if [(c["type"], c["message"]) for c in old] != [(c["type"], c["message"]) for c in new]:
        updated = copy.deepcopy(namespace)
        updated.setdefault("status", {})["conditions"] = new
        write_status(state, updated, rtype=_NAMESPACES, manager=_CONTROLLER)


def namespaces(state: ApiState, written: Written) -> None:
    """The reactor: seed new namespaces, empty deleted ones, remove them once empty."""
    rtype, before, after = written.rtype, written.before, written.after
    if rtype.custom or rtype.kind != "Namespace":
        if after is None and before is not None and meta(before).get("deletionTimestamp"):
            _finish_or_report(state, str(meta(before).get("namespace") or ""))
        return
    if after is None:
        return
    name = str(meta(after)["name"])
    if before is None:
        _created(state, name)
    elif meta(after).get("deletionTimestamp") and not meta(before).get("deletionTimestamp"):
        _delete_content(state, name)
        _finish_or_report(state, name)
