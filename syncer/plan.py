"""Plan: from desired objects, live objects and the inventory to an ordered change set. Pure.

- `place` gives namespaced objects the channel's namespace when they name none, and refuses
  a namespace on a cluster-scoped object or a kind the cluster does not serve.
- `decorate` adds the labels and annotations every applied object carries.
- `decide` pairs desired with live objects (drift per the design notes, see `diff.drift`),
  and lists the prune candidates: inventory minus desired, each still carrying the channel
  label. Order: Namespaces and CRDs, then other cluster-scoped objects, then namespaced ones
  by kind; prunes run in reverse order.

Ownership (docs/architecture.md, "Ownership and prune safety"):

- an object that exists without this channel's label is not taken over: it is BLOCKED
  ("exists, not managed by this channel") unless the release marks it
  `syncer.io/adopt: "true"`; one labelled for another channel is BLOCKED whatever the
  release says. A sync refuses a release with a blocked object before writing anything.
- a Namespace or a CRD is pruned only when the channel opts in (`prune_namespaces`,
  `prune_crds`), and even then not while the release still has objects in it (of its kind),
  nor while it holds objects this channel does not manage (`LiveState.held`).
- an inventory object whose API group could not be read (`LiveState.unread`) is neither
  pruned nor forgotten: it is skipped, and kept in the inventory (`kept`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from syncer.diff import drift
from syncer.errors import RenderError, UnsafePruneError
from syncer.kinds import defined_kind
from syncer.model import (
    ANNOTATION_ADOPT,
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
    clone,
)

__all__ = ["BOOKKEEPING", "CRD", "NAMESPACE", "LiveState", "PruneRules", "Scope", "apply_order",
           "decide", "decorate", "guarded_prunes", "kept", "place"]

Scope = Callable[[str, str], bool | None]
"""(group, kind) → True if namespaced, False if cluster-scoped, None if not served."""

BOOKKEEPING = (ANNOTATION_RELEASE, ANNOTATION_BLOB_ID)
"""Annotations that record which release last applied an object: not content, never drift."""

NAMESPACE = ("", "Namespace")
CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
_FIRST = {NAMESPACE, CRD}
_WEBHOOKS = {("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
             ("admissionregistration.k8s.io", "MutatingWebhookConfiguration")}
_SHOWN = 3  # held objects named in a reason
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
    out: Obj = clone(obj)
    meta = out["metadata"]
    if namespaced and not ref.namespace:
        meta["namespace"] = namespace
    elif not namespaced and ref.namespace:
        raise RenderError("is cluster-scoped: remove metadata.namespace", where=str(ref))
    return out


def decorate(objects: Iterable[Obj], *, channel: str, seq: int, blob_id: str) -> list[Obj]:
    """Copies carrying the channel's labels and the release's annotations: new top-level
    maps and metadata; the rest (spec, data...) is shared with `objects` and never changed."""
    out = []
    for obj in objects:
        copied = dict(obj)
        meta = copied["metadata"] = dict(copied["metadata"])
        meta["labels"] = {**(meta.get("labels") or {}), LABEL_MANAGED_BY: MANAGED_BY,
                          LABEL_CHANNEL: channel}
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               ANNOTATION_RELEASE: str(seq), ANNOTATION_BLOB_ID: blob_id}
        out.append(copied)
    return out


def apply_order(ref: ObjectRef) -> tuple[int, int, str, str, str, str]:
    """Namespaces and CRDs first, then cluster-scoped kinds, then namespaced ones by kind,
    admission webhook configurations last (until what serves them runs, they would refuse
    every write they match, as in Flux's staged apply).

    A total order: ties are broken by namespace, kind, group and name.
    """
    if (ref.group, ref.kind) in _FIRST:
        stage = 0
    elif (ref.group, ref.kind) in _WEBHOOKS:
        stage = 3
    else:
        stage = 1 if not ref.namespace else 2
    rank = _KIND_ORDER.index(ref.kind) if ref.kind in _KIND_ORDER else len(_KIND_ORDER)
    return stage, rank, ref.namespace, ref.kind, ref.group, ref.name


@dataclass(frozen=True)
class PruneRules:
    """What a channel lets a prune take along with it (channel settings in syncer.yaml)."""

    namespaces: bool = False
    crds: bool = False


@dataclass(frozen=True)
class LiveState:
    """What the cluster holds. `managed`: objects carrying this channel's label. `others`:
    objects at a desired object's place without it. `held`: for a Namespace or CRD that may
    be pruned, the objects in it (of its kind) that this channel does not manage, or what
    could not be read. `unread`: inventory objects of an API group that could not be read,
    as the inventory records them."""

    managed: Mapping[ObjectRef, Obj]
    others: Mapping[ObjectRef, Obj] = field(default_factory=dict)
    held: Mapping[ObjectRef, tuple[str, ...]] = field(default_factory=dict)
    unread: Mapping[ObjectRef, Obj] = field(default_factory=dict)


def guarded_prunes(desired: Sequence[Obj], managed: Mapping[ObjectRef, Obj],
                   inventory: Iterable[ObjectRef], rules: PruneRules) -> list[ObjectRef]:
    """The Namespaces and CRDs a prune would delete if nothing held them: what the caller
    must look into (`LiveState.held`) before `decide`."""
    wanted = {ObjectRef.of(o) for o in desired}
    allowed = {NAMESPACE} if rules.namespaces else set()
    allowed |= {CRD} if rules.crds else set()
    return sorted(ref for ref in set(inventory) - wanted
                  if ref in managed and (ref.group, ref.kind) in allowed)


def decide(desired: Sequence[Obj], live: LiveState, inventory: Iterable[ObjectRef], *,
           channel: str, rules: PruneRules = PruneRules(),
           allow_empty: bool = False) -> ChangeSet:
    """The change set: one decision per desired object, then the prunes."""
    wanted = {ObjectRef.of(o): o for o in desired}
    guard = _PruneGuard(rules, wanted.values(), live.held)
    gone = sorted(set(inventory) - set(wanted), key=apply_order, reverse=True)
    prunes = [guard.decide(ref, live.managed[ref]) for ref in gone if ref in live.managed]
    if not wanted and prunes and not allow_empty:
        raise UnsafePruneError(f"the release has no objects and would prune all "
                               f"{len(prunes)} of the channel's objects; pass --allow-empty "
                               "to do that", where="release")
    prunes += [Change(ref, Action.SKIP, None, live.unread[ref],
                      f"its API group {ref.group} could not be read: not pruned")
               for ref in gone if ref in live.unread and ref not in live.managed]
    applied = [_decide_one(ref, wanted[ref], live, channel)
               for ref in sorted(wanted, key=apply_order)]
    return ChangeSet(tuple(applied + prunes))


def _decide_one(ref: ObjectRef, desired: Obj, state: LiveState, channel: str) -> Change:
    live = state.managed.get(ref)
    if live is None and ref in state.others:
        return _not_ours(ref, desired, state.others[ref], channel)
    if live is None:
        return Change(ref, Action.CREATE, desired, None, "not in the cluster")
    if _annotation(desired, ANNOTATION_APPLY) == "if-not-present":
        return Change(ref, Action.SKIP, desired, live, f"{ANNOTATION_APPLY}: if-not-present")
    return _compared(ref, desired, live)


def _compared(ref: ObjectRef, desired: Obj, live: Obj, note: str = "") -> Change:
    paths = drift(_with_bookkeeping_of(desired, live), live)
    if paths or note:
        return Change(ref, Action.UPDATE, desired, live, note + ", ".join(paths))
    return Change(ref, Action.UNCHANGED, desired, live)


def _not_ours(ref: ObjectRef, desired: Obj, live: Obj, channel: str) -> Change:
    """An object at the desired one's place that this channel does not manage."""
    owner = ((live.get("metadata") or {}).get("labels") or {}).get(LABEL_CHANNEL)
    if owner and owner != channel:
        return Change(ref, Action.BLOCKED, desired, live,
                      f"managed by channel {owner}: channel {channel} does not take it over")
    if _annotation(desired, ANNOTATION_ADOPT) == "true":
        return _compared(ref, desired, live, note=f"{ANNOTATION_ADOPT}: taking it over; ")
    if _annotation(desired, ANNOTATION_APPLY) == "if-not-present":
        return Change(ref, Action.SKIP, desired, live, f"{ANNOTATION_APPLY}: if-not-present")
    return Change(ref, Action.BLOCKED, desired, live,
                  f'exists, not managed by this channel: mark it {ANNOTATION_ADOPT}: "true" '
                  "in the release to take it over")


def kept(changes: ChangeSet) -> list[Obj]:
    """Live objects the release dropped but a prune rule kept: they stay in the inventory,
    so that a later sync prunes them once nothing holds them. (An object marked
    `syncer.io/prune: disabled` is let go instead.)"""
    return [c.live for c in changes.of(Action.SKIP)
            if c.desired is None and c.live is not None
            and _annotation(c.live, ANNOTATION_PRUNE) != "disabled"]


class _PruneGuard:
    """Decides each prune candidate; Namespaces and CRDs by the channel's rules."""

    def __init__(self, rules: PruneRules, desired: Iterable[Obj],
                 held: Mapping[ObjectRef, tuple[str, ...]]) -> None:
        self.rules, self.held = rules, held
        refs = [ObjectRef.of(o) for o in desired]
        self.namespaces = {r.namespace for r in refs if r.namespace}
        self.kinds = {(r.group, r.kind) for r in refs}

    def decide(self, ref: ObjectRef, live: Obj) -> Change:
        if _annotation(live, ANNOTATION_PRUNE) == "disabled":
            return Change(ref, Action.SKIP, None, live, f"{ANNOTATION_PRUNE}: disabled")
        reason = self._kept_because(ref, live)
        if reason:
            return Change(ref, Action.SKIP, None, live, reason)
        return Change(ref, Action.PRUNE, None, live, "no longer in the release")

    def _kept_because(self, ref: ObjectRef, live: Obj) -> str:
        if (ref.group, ref.kind) == NAMESPACE:
            return self._namespace(ref)
        if (ref.group, ref.kind) == CRD:
            return self._crd(ref, live)
        return ""

    def _namespace(self, ref: ObjectRef) -> str:
        if not self.rules.namespaces:
            return ("a Namespace is pruned (with everything in it) only when the channel "
                    "sets prune_namespaces: true")
        if ref.name in self.namespaces:
            return "the release still has objects in it"
        return self._holding(ref, "holds objects this channel does not manage")

    def _crd(self, ref: ObjectRef, live: Obj) -> str:
        if not self.rules.crds:
            return ("a CRD is pruned (with every custom resource of its kind) only when the "
                    "channel sets prune_crds: true")
        if defined_kind(live) in self.kinds:
            return "the release still has objects of its kind"
        return self._holding(ref, "custom resources of its kind exist that this channel does "
                                  "not manage")

    def _holding(self, ref: ObjectRef, what: str) -> str:
        held = self.held.get(ref, ())
        if not held:
            return ""
        shown = ", ".join(held[:_SHOWN])
        more = f" and {len(held) - _SHOWN} more" if len(held) > _SHOWN else ""
        return f"{what}: {shown}{more}"


def _with_bookkeeping_of(desired: Obj, live: Obj) -> Obj:
    """`desired` with live's bookkeeping annotations, so that they never count as drift."""
    live_notes = (live.get("metadata") or {}).get("annotations") or {}
    out = dict(desired)  # shares all but what changes, as `decorate` does
    meta = out["metadata"] = dict(out["metadata"])
    notes = meta["annotations"] = dict(meta.get("annotations") or {})
    for key in BOOKKEEPING:
        if key in live_notes:
            notes[key] = live_notes[key]
    return out


def _annotation(obj: Obj, key: str) -> str | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    return str(value) if value is not None else None
