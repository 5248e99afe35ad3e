"""Plan: from desired objects, live objects and the inventory to an ordered change set. Pure.

- `place` gives namespaced objects the channel's namespace when they name none, and refuses
  a namespace on a cluster-scoped object or a kind the cluster does not serve.
- `decorate` adds the labels and annotations every applied object carries.
- `decide` pairs desired with live objects (drift per the design notes, see `diff.drift`),
  and lists the prune candidates: inventory minus desired, each still carrying the channel
  label (only labelled objects are in `live`). Order: Namespaces and CRDs, then other
  cluster-scoped objects, then namespaced ones by kind; prunes run in reverse order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence

from syncer.diff import drift
from syncer.errors import RenderError, UnsafePruneError
from syncer.model import (
    ANNOTATION_APPLY,
    ANNOTATION_BLOB_ID,
    ANNOTATION_PRUNE,
    ANNOTATION_RELEASE,
    LABEL_CHANNEL,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    Action,
    Change,
    ChangeSet,
    Obj,
    ObjectRef,
)

__all__ = ["BOOKKEEPING", "Scope", "apply_order", "decide", "decorate", "place"]

Scope = Callable[[str, str], bool | None]
"""(group, kind) → True if namespaced, False if cluster-scoped, None if not served."""

BOOKKEEPING = (ANNOTATION_RELEASE, ANNOTATION_BLOB_ID)
"""Annotations that record which release last applied an object: not content, never drift."""

_FIRST = {("", "Namespace"), ("apiextensions.k8s.io", "CustomResourceDefinition")}
_KIND_ORDER = (
    "Namespace", "CustomResourceDefinition", "PriorityClass", "StorageClass",
    "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "ResourceQuota", "LimitRange",
    "ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap", "PersistentVolumeClaim",
    "Service", "NetworkPolicy", "DaemonSet", "Deployment", "StatefulSet", "Job", "CronJob",
    "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget",
)


def place(objects: Iterable[Obj], *, scope: Scope, namespace: str) -> list[Obj]:
    """Copies of `objects` with namespaces settled; duplicates after placing are refused."""
    placed: list[Obj] = []
    seen: set[ObjectRef] = set()
    for obj in objects:
        out = _placed(obj, scope=scope, namespace=namespace)
        ref = ObjectRef.of(out)
        if ref in seen:
            raise RenderError("duplicate object once namespaces are set", where=str(ref))
        seen.add(ref)
        placed.append(out)
    return placed


def _placed(obj: Obj, *, scope: Scope, namespace: str) -> Obj:
    ref = ObjectRef.of(obj)
    namespaced = scope(ref.group, ref.kind)
    if namespaced is None:
        raise RenderError(f"the cluster serves no kind {ref.kind!r} of group "
                          f"{ref.group or 'core'!r}, and no CRD in this release defines it",
                          where=str(ref))
    out = copy.deepcopy(obj)
    meta = out["metadata"]
    if namespaced and not ref.namespace:
        meta["namespace"] = namespace
    elif not namespaced and ref.namespace:
        raise RenderError("is cluster-scoped: remove metadata.namespace", where=str(ref))
    return out


def decorate(objects: Iterable[Obj], *, channel: str, seq: int, blob_id: str) -> list[Obj]:
    """Copies carrying the channel's labels and the release's annotations."""
    out = []
    for obj in objects:
        copied = copy.deepcopy(obj)
        meta = copied["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), LABEL_MANAGED_BY: MANAGED_BY,
                          LABEL_CHANNEL: channel}
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               ANNOTATION_RELEASE: str(seq), ANNOTATION_BLOB_ID: blob_id}
        out.append(copied)
    return out


def apply_order(ref: ObjectRef) -> tuple[int, int, str, str, str, str]:
    """Namespaces and CRDs first, then cluster-scoped kinds, then namespaced ones by kind.

    A total order: ties are broken by namespace, kind, group and name.
    """
    stage = 0 if (ref.group, ref.kind) in _FIRST else (1 if not ref.namespace else 2)
    rank = _KIND_ORDER.index(ref.kind) if ref.kind in _KIND_ORDER else len(_KIND_ORDER)
    return stage, rank, ref.namespace, ref.kind, ref.group, ref.name


def decide(desired: Sequence[Obj], live: Mapping[ObjectRef, Obj],
           inventory: Iterable[ObjectRef], *, allow_empty: bool = False) -> ChangeSet:
    """The change set: one decision per desired object, then the prunes."""
    wanted = {ObjectRef.of(o): o for o in desired}
    prunes = [_prune(ref, live[ref]) for ref in sorted(set(inventory) - set(wanted),
                                                       key=apply_order, reverse=True)
              if ref in live]
    if not wanted and prunes and not allow_empty:
        raise UnsafePruneError(f"the release has no objects and would prune all "
                               f"{len(prunes)} of the channel's objects; pass --allow-empty "
                               "to do that", where="release")
    applied = [_decide_one(ref, wanted[ref], live.get(ref))
               for ref in sorted(wanted, key=apply_order)]
    return ChangeSet(tuple(applied + prunes))


def _decide_one(ref: ObjectRef, desired: Obj, live: Obj | None) -> Change:
    if live is None:
        return Change(ref, Action.CREATE, desired, None, "not in the cluster")
    if _annotation(desired, ANNOTATION_APPLY) == "if-not-present":
        return Change(ref, Action.SKIP, desired, live, f"{ANNOTATION_APPLY}: if-not-present")
    paths = drift(_with_bookkeeping_of(desired, live), live)
    if paths:
        return Change(ref, Action.UPDATE, desired, live, ", ".join(paths))
    return Change(ref, Action.UNCHANGED, desired, live)


def _prune(ref: ObjectRef, live: Obj) -> Change:
    if _annotation(live, ANNOTATION_PRUNE) == "disabled":
        return Change(ref, Action.SKIP, None, live, f"{ANNOTATION_PRUNE}: disabled")
    return Change(ref, Action.PRUNE, None, live, "no longer in the release")


def _with_bookkeeping_of(desired: Obj, live: Obj) -> Obj:
    """`desired` with live's bookkeeping annotations, so that they never count as drift."""
    live_notes = (live.get("metadata") or {}).get("annotations") or {}
    out = copy.deepcopy(desired)
    notes = out["metadata"].setdefault("annotations", {})
    for key in BOOKKEEPING:
        if key in live_notes:
            notes[key] = live_notes[key]
    return out


def _annotation(obj: Obj, key: str) -> str | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    return str(value) if value is not None else None
