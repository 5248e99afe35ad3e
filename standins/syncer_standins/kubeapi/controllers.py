"""The few controllers the stand-in runs, synchronously, right after the write that wakes them.

kube runs controllers asynchronously; here each reaction happens before the request that
caused it returns (its answer is the object as first written), which keeps tests
deterministic. The reactions:

* Namespace created: its `kube-root-ca.crt` ConfigMap and `default` ServiceAccount appear
  (manager `kube-controller-manager`), as the root-CA publisher and the service-account
  controller create them.
* Namespace marked for deletion: every object in it is removed, then the Namespace.
* CRD written: names accepted and `Established` (manager `kube-apiserver`, subresource
  `status`, as in transcript 29), so its resources are served at once. CRD marked for
  deletion: its custom resources are removed, then the CRD.
* Deployment, StatefulSet, DaemonSet written: their controller's status (see `workloads`).
* An object marked for deletion whose finalizers are all gone is removed.
* Garbage collection: objects whose `ownerReferences` name a removed object are removed.
  (Dependents are indexed as they are written, so a removal costs no scan.)
"""

from __future__ import annotations

import copy
import json

from syncer_standins.kubeapi.catalog import BUILTIN_TYPES, ResourceType
from syncer_standins.kubeapi.deletes import CRD_FINALIZER, remove
from syncer_standins.kubeapi.objects import Obj, meta, now
from syncer_standins.kubeapi.registry import is_established
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.store import StoreKey
from syncer_standins.kubeapi.workloads import Workloads
from syncer_standins.kubeapi.writes import Target, WriteRequest, create, write_status

__all__ = ["CA_BUNDLE", "install"]

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
_CONTROLLER = "kube-controller-manager"


def _is(rtype: ResourceType, kind: str) -> bool:
    return rtype.kind == kind and not rtype.custom


def _create_as(state: ApiState, obj: Obj, *, rtype: ResourceType, manager: str) -> None:
    target = Target(rtype, str(meta(obj).get("namespace", "")))
    if state.store.get(rtype.stored_key, namespace=target.namespace,
                       name=str(meta(obj)["name"])) is None:
        create(state, WriteRequest(target, {"fieldManager": manager}, json.dumps(obj).encode()))


def _namespace_created(state: ApiState, namespace: str) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "kube-root-ca.crt", "namespace": namespace,
        "annotations": {"kubernetes.io/description": _CA_DESCRIPTION}},
        "data": {"ca.crt": CA_BUNDLE}}
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "default", "namespace": namespace}}
    _create_as(state, config_map, rtype=_BUILTIN[("", "configmaps")], manager=_CONTROLLER)
    _create_as(state, account, rtype=_BUILTIN[("", "serviceaccounts")], manager=_CONTROLLER)


def _namespace_deleted(state: ApiState, namespace: Obj, *, rtype: ResourceType) -> None:
    name = str(meta(namespace)["name"])
    for other in state.registry.stored_types():
        for obj in state.store.items(other.stored_key, name) if other.namespaced else []:
            remove(state, obj, rtype=other)
    remove(state, namespace, rtype=rtype)


def namespaces(state: ApiState, written: Written) -> None:
    rtype, before, after = written.rtype, written.before, written.after
    if not _is(rtype, "Namespace") or after is None:
        return
    if meta(after).get("deletionTimestamp"):
        _namespace_deleted(state, after, rtype=rtype)
    elif before is None:
        _namespace_created(state, str(meta(after)["name"]))


def _accepted(crd: Obj) -> Obj:
    names = (crd.get("spec") or {}).get("names") or {}
    order = ("plural", "singular", "shortNames", "kind", "listKind", "categories")
    return {key: names[key] for key in order if key in names}


def _established(crd: Obj) -> Obj:
    stamp = now()
    new = copy.deepcopy(crd)
    new["status"]["acceptedNames"] = _accepted(crd)
    new["status"]["conditions"] = [
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": stamp,
         "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True", "lastTransitionTime": stamp,
         "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
    ]
    return new


def crds(state: ApiState, written: Written) -> None:
    rtype, after = written.rtype, written.after
    if not _is(rtype, "CustomResourceDefinition") or after is None:
        return
    if not meta(after).get("deletionTimestamp"):
        if not is_established(after):
            write_status(state, _established(after), rtype=rtype, manager="kube-apiserver")
        return
    if CRD_FINALIZER in (meta(after).get("finalizers") or []):
        spec = after.get("spec") or {}
        key = (str(spec.get("group", "")), str((spec.get("names") or {}).get("plural", "")))
        for custom in state.registry.stored_types():
            for obj in state.store.items(key) if custom.stored_key == key else []:
                remove(state, obj, rtype=custom)
        remove(state, after, rtype=rtype)


def finalized(state: ApiState, written: Written) -> None:
    rtype, after = written.rtype, written.after
    if after is None or not meta(after).get("deletionTimestamp"):
        return
    if not meta(after).get("finalizers") and not _is(rtype, "Namespace"):
        remove(state, after, rtype=rtype)


class GarbageCollector:
    """Removes the dependents (by `ownerReferences`) of removed objects."""

    def __init__(self) -> None:
        self._dependents: dict[str, set[tuple[StoreKey, str, str]]] = {}

    def __call__(self, state: ApiState, written: Written) -> None:
        rtype, before, after = written.rtype, written.before, written.after
        if after is not None:
            for owner in meta(after).get("ownerReferences") or []:
                where = (rtype.stored_key, str(meta(after).get("namespace") or ""),
                         str(meta(after)["name"]))
                self._dependents.setdefault(str(owner.get("uid")), set()).add(where)
        elif before is not None:
            self._collect(state, str(meta(before).get("uid")))

    def _collect(self, state: ApiState, uid: str) -> None:
        types = {t.stored_key: t for t in state.registry.stored_types()}
        for key, namespace, name in sorted(self._dependents.pop(uid, set())):
            dependent = state.store.get(key, namespace=namespace, name=name)
            if dependent is None or key not in types:
                continue
            owners = meta(dependent).get("ownerReferences") or []
            if any(owner.get("uid") == uid for owner in owners):
                remove(state, dependent, rtype=types[key])


def install(state: ApiState) -> None:
    """Register the controllers as reactors of state (in the order they must run)."""
    state.reactors += [finalized, namespaces, crds, Workloads(), GarbageCollector()]
