"""The controllers the stand-in runs, as reactors to every committed write.

kube runs controllers asynchronously; here each reaction happens before the request that
caused it returns (its answer is the object as first written), which keeps tests
deterministic; the few steps clients poll for wait a fixed number of requests (`clock`).
The reactors, in the order they run:

* `finalized`: the finalizers the stand-in's own controllers own (storage protection,
  `foregroundDeletion`, `orphan`) are cleared from an object marked for deletion, and an
  object marked for deletion without finalizers is removed;
* `namespaces`: a new namespace's ConfigMap and ServiceAccount; a deleted one emptied and
  removed (see `namespaces`);
* `crds`: names accepted, Established, storage initialised; CRs removed with their CRD;
* `Deployments` and `workloads`: the status of Deployments, StatefulSets and DaemonSets;
* `quotas`: a ResourceQuota's status; `apiservices`: an APIService's availability;
* garbage collection: objects whose `ownerReferences` name a removed object are removed.
  (Dependents are indexed as they are written, so a removal costs no scan.)
"""

from __future__ import annotations

import copy

from syncer_standins.kubeapi.aggregation import apiservices
from syncer_standins.kubeapi.catalog import BUILTIN_TYPES, ResourceType
from syncer_standins.kubeapi.crds import crds
from syncer_standins.kubeapi.deletes import FOREGROUND
from syncer_standins.kubeapi.deployments import Deployments
from syncer_standins.kubeapi.namespaces import namespaces
from syncer_standins.kubeapi.objects import meta
from syncer_standins.kubeapi.quotas import quotas
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.store import StoreKey
from syncer_standins.kubeapi.workloads import workloads
from syncer_standins.kubeapi.writes import commit, remove

__all__ = ["install"]

_BUILTIN = {(t.group, t.plural): t for t in BUILTIN_TYPES}
# Finalizers the stand-in's own controllers clear from an object being deleted: the storage
# protections (no Pod ever uses a claim here) and the garbage collector's foreground mark.
_SYSTEM_FINALIZERS = frozenset({"kubernetes.io/pvc-protection", "kubernetes.io/pv-protection",
                                FOREGROUND, "orphan"})


def _is(rtype: ResourceType, kind: str) -> bool:
    return rtype.kind == kind and not rtype.custom


def finalized(state: ApiState, written: Written) -> None:
    """Clear the system finalizers of an object being deleted; remove it once it has none."""
    rtype, after = written.rtype, written.after
    if after is None or not meta(after).get("deletionTimestamp") or _is(rtype, "Namespace"):
        return
    finalizers = meta(after).get("finalizers") or []
    kept = [name for name in finalizers if name not in _SYSTEM_FINALIZERS]
    if not kept:
        remove(state, after, rtype=rtype)
    elif kept != finalizers:
        cleared = copy.deepcopy(after)
        meta(cleared)["finalizers"] = kept
        commit(state, cleared, rtype=rtype, before=after)


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
    state.reactors += [finalized, namespaces, crds, Deployments(), workloads, quotas,
                       apiservices, GarbageCollector()]
