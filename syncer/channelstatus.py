"""The `Channel` resource's status: built from an `Outcome` (pure) and written.

`status_body` builds the whole status from the previous one and an `Outcome`;
`write_status` server-side-applies it to the status subresource as field manager
`syncer-controller`. Conditions follow `metav1.Condition`: `lastTransitionTime` moves only
when a condition's status does. Messages come from syncer's own errors (which carry no
payloads or Secret values) and are cut to 1 KiB. `pending` is present while the head waits
for approvals (`PendingStatus`): its seq, approvals n/k and who, and the counts and first
objects of what applying it would change (refs only, never values).
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from syncer.approvals import DiffSummary, Pending
from syncer.channelspec import (
    API_VERSION,
    CONTROLLER_MANAGER,
    KIND,
    MAX_MESSAGE,
    MAX_UNHEALTHY,
    ChannelSpec,
    channel_resource,
    kept,
    one_line,
)
from syncer.cluster import Cluster, Discovery
from syncer.errors import cut
from syncer.microtime import rfc3339
from syncer.model import Obj, Release

__all__ = ["Outcome", "OutcomeKind", "PendingStatus", "Unhealthy", "status_body",
           "write_status"]

log = logging.getLogger(__name__)

# --- the status -----------------------------------------------------------------------------

class OutcomeKind(enum.Enum):
    """What one reconcile of a channel came to (docs/controller.md)."""

    APPLIED = "Applied"          # the release is applied and healthy
    UNCHANGED = "Unchanged"      # a resync found nothing to change
    PROGRESSING = "Progressing"  # applied; some objects are not healthy yet
    FAILED = "Failed"            # not applied this time; the next attempt may pass
    REFUSED = "Refused"          # must never be applied as it is
    SUSPENDED = "Suspended"      # spec.suspend: nothing applied


# The status of Ready, Reconciling and Stalled after each kind of outcome, and its reason.
_CONDITIONS: Final[dict[OutcomeKind, tuple[str, str, str, str]]] = {
    OutcomeKind.APPLIED: ("True", "False", "False", "ReleaseApplied"),
    OutcomeKind.UNCHANGED: ("True", "False", "False", "ReleaseApplied"),
    OutcomeKind.PROGRESSING: ("Unknown", "True", "False", "Progressing"),
    OutcomeKind.FAILED: ("False", "False", "False", "ReleaseFailed"),
    OutcomeKind.REFUSED: ("False", "False", "True", "ReleaseRefused"),
    OutcomeKind.SUSPENDED: ("Unknown", "False", "False", "Suspended"),
}
_HEALTH = ("Healthy", "Progressing", "Degraded")
_REASON = re.compile(r"[A-Za-z]([A-Za-z0-9_,:]{0,1022}[A-Za-z0-9_])?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Unhealthy:
    """One object that is not Healthy: `apps/Deployment/ns/name`, its health, why."""

    object: str
    health: str
    reason: str = ""


@dataclass(frozen=True)
class PendingStatus:
    """The head waiting for approvals, and what applying it would change (None: unknown,
    e.g. its bundle is refused)."""

    pending: Pending
    diff: DiffSummary | None = None


@dataclass(frozen=True)
class Outcome:
    """One reconcile's result, as the status records it.

    `time` is seconds since the epoch (`Clock.now()`). `seq`, `blob_id`, `sha256` and
    `commit` name the release it concerns (None/"" when it concerns none, such as a ledger
    that could not be read). `reason` is the conditions' reason ("" for the kind's default:
    ReleaseApplied, Progressing, ReleaseFailed, ReleaseRefused, Suspended); `message` one
    line from a syncer error, never a payload. `health` "" keeps the health last recorded,
    as `inventory_count` None keeps the count and `head_seq` None the head. `pending` the
    head waiting for approvals (None: none waits).
    """

    kind: OutcomeKind
    time: float
    message: str
    reason: str = ""
    seq: int | None = None
    blob_id: str = ""
    sha256: str = ""
    commit: str = ""
    health: str = ""
    unhealthy: tuple[Unhealthy, ...] = ()
    inventory_count: int | None = None
    head_seq: int | None = None
    head_blob_id: str = ""
    pending: PendingStatus | None = None

    def __post_init__(self) -> None:
        if self.health and self.health not in _HEALTH:
            raise ValueError(f"health {self.health!r} is not one of {_HEALTH}")

    @classmethod
    def of_release(cls, release: Release, kind: OutcomeKind, *, time: float, message: str,
                   **more: Any) -> Outcome:
        """An outcome about `release`, its identity filled in."""
        return cls(kind, time, message, seq=release.seq, blob_id=release.blob_id,
                   sha256=release.sha256, commit=release.commit, **more)


def status_body(outcome: Outcome, *, spec: ChannelSpec,
                previous: Mapping[str, Any] | None = None) -> Obj:
    """The whole status after `outcome`, from the status before it (default: the one read
    with `spec`). Pure."""
    before = spec.status if previous is None else previous
    status: Obj = {"observedGeneration": spec.generation,
                   "conditions": _conditions(outcome, before, generation=spec.generation)}
    _set(status, "head", _head(outcome) or kept(before, "head", Mapping))
    _set(status, "lastApplied", _last_applied(outcome, before))
    _set(status, "pending", _pending(outcome.pending))
    _set(status, "health", outcome.health or kept(before, "health", str))
    _set(status, "unhealthy", _unhealthy(outcome) if outcome.health
         else kept(before, "unhealthy", list))
    _set(status, "inventory", {"count": outcome.inventory_count}
         if outcome.inventory_count is not None else kept(before, "inventory", Mapping))
    _set(status, "history", _history(outcome, before, limit=spec.history_limit))
    handled = spec.reconcile_requested if outcome.kind is not OutcomeKind.SUSPENDED else ""
    _set(status, "lastHandledReconcileAt",  # a suspended channel handles no request
         handled or kept(before, "lastHandledReconcileAt", str))
    return status


def _set(status: Obj, key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        status[key] = value


def _conditions(outcome: Outcome, before: Mapping[str, Any], *, generation: int) -> list[Obj]:
    *states, _ = _CONDITIONS[outcome.kind]
    reason = _reason(outcome)
    old = {c.get("type"): c for c in before.get("conditions") or [] if isinstance(c, Mapping)}
    found = []
    for kind, state in zip(("Ready", "Reconciling", "Stalled"), states, strict=True):
        previous = old.get(kind) or {}
        since = previous.get("lastTransitionTime")
        if previous.get("status") != state or not isinstance(since, str):
            since = rfc3339(outcome.time)
        found.append({"type": kind, "status": state, "observedGeneration": generation,
                      "lastTransitionTime": since, "reason": reason,
                      "message": one_line(outcome.message)})
    return found


def _reason(outcome: Outcome) -> str:
    """The outcome's reason, or its kind's when it has none fit for a condition."""
    return outcome.reason if _REASON.fullmatch(outcome.reason) else _CONDITIONS[outcome.kind][3]


def _head(outcome: Outcome) -> Obj | None:
    if outcome.head_seq is None:
        return None
    head: Obj = {"seq": outcome.head_seq}
    _set(head, "blobId", outcome.head_blob_id)
    return head


def _pending(found: PendingStatus | None) -> Obj | None:
    if found is None:
        return None
    waiting = found.pending
    body: Obj = {"seq": waiting.seq, "approvals": len(waiting.approvals),
                 "threshold": waiting.threshold, "approvedBy": list(waiting.approvals[:100]),
                 "message": one_line(waiting.line())}
    if found.diff is not None:
        diff = found.diff
        body["diff"] = {"create": diff.create, "update": diff.update, "delete": diff.delete,
                        "objects": [cut(r, 512) for r in diff.refs[:20]]}
    return body


def _release(outcome: Outcome) -> Obj:
    found: Obj = {"seq": outcome.seq}
    _set(found, "blobId", outcome.blob_id)
    if _SHA256.fullmatch(outcome.sha256):
        found["sha256"] = outcome.sha256
    _set(found, "commit", outcome.commit[:64])
    return found


def _last_applied(outcome: Outcome, before: Mapping[str, Any]) -> Any:
    """The release written to the cluster last, and when: an Applied, Unchanged or
    Progressing (applied, health pending) outcome; a later outcome about the same release
    (its health settled, a resync, a drift repaired) keeps the time it was first applied."""
    last = kept(before, "lastApplied", Mapping)
    if outcome.seq is None or outcome.kind not in (OutcomeKind.APPLIED, OutcomeKind.UNCHANGED,
                                                   OutcomeKind.PROGRESSING):
        return last
    new = {**_release(outcome), "time": rfc3339(outcome.time)}
    return last if last and _same(last, new) else new


def _same(entry: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """One release: the same seq and bundle SHA-256."""
    return bool(entry.get("seq") == other.get("seq") and
                entry.get("sha256", "") == other.get("sha256", ""))


def _unhealthy(outcome: Outcome) -> list[Obj]:
    return [{"object": cut(u.object, MAX_MESSAGE), "health": u.health[:32],
             **({"reason": one_line(u.reason)} if u.reason else {})}
            for u in outcome.unhealthy[:MAX_UNHEALTHY]]


def _history(outcome: Outcome, before: Mapping[str, Any], *, limit: int) -> list[Any]:
    """Newest first, at most `limit`; an outcome replaces an older one about the same
    release. Unchanged resyncs and suspended rounds are not recorded, except that an
    Unchanged outcome (healthy, nothing to change) settles its release's Progressing entry,
    where it stands: Applied."""
    old = [h for h in kept(before, "history", list) or [] if isinstance(h, Mapping)]
    if outcome.seq is None or outcome.kind is OutcomeKind.SUSPENDED:
        return old[:limit]
    if outcome.kind is OutcomeKind.UNCHANGED:
        return [_settled(h, outcome) for h in old[:limit]]
    entry = {**_release(outcome), "outcome": outcome.kind.value,
             "reason": _reason(outcome),
             "message": one_line(outcome.message), "time": rfc3339(outcome.time)}
    entry.pop("commit", None)
    return [entry, *(h for h in old if not _same(h, entry))][:limit]


def _settled(entry: Mapping[str, Any], outcome: Outcome) -> Mapping[str, Any]:
    """`entry`, Applied if it is the Progressing entry of the release `outcome` found
    healthy."""
    if entry.get("outcome") != OutcomeKind.PROGRESSING.value or \
            not _same(entry, _release(outcome)):
        return entry
    return {**entry, "outcome": OutcomeKind.APPLIED.value, "reason": _reason(outcome),
            "message": one_line(outcome.message), "time": rfc3339(outcome.time)}


def write_status(cluster: Cluster, discovery: Discovery, spec: ChannelSpec, outcome: Outcome,
                 *, previous: Mapping[str, Any] | None = None) -> Obj:
    """Server-side-apply the status after `outcome` to the status subresource as
    `syncer-controller`; the Channel as the server answers (`parse` it for the next round)."""
    body = {"apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": spec.name, "namespace": spec.namespace},
            "status": status_body(outcome, spec=spec, previous=previous)}
    written = cluster.apply(body, channel_resource(discovery), subresource="status",
                            manager=CONTROLLER_MANAGER)
    log.info("Channel status written", extra={"object": spec.ref, "channel": spec.channel,
                                              "seq": outcome.seq,
                                              "outcome": outcome.kind.value})
    return written
