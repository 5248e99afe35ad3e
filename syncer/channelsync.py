"""One reconcile of one Channel, and what is reported of it: `ChannelSync`.

The controller (`syncer.controller`) decides when; this module does it:

1. the head is read from the channel's ledger (its profile's backends);
2. the release to apply is the head, unless the head was Refused: then the last good one
   (remembered, or after a restart the one the cluster's inventory records), so a bad
   release never displaces a good one; while it stands in, the status still says the head
   is Refused (Ready False, Stalled), with the last good release's health. On a channel
   that needs K approvals (`syncer.approvals`) the release to apply is the highest one
   above the applied one with K approvals; an unapproved head is never applied: the status
   reports it as `pending` (approvals n/K, who, and what applying it would change, from the
   plan a sync dry-runs), with an `ApprovalPending` Event once per seq, and a poll
   reconciles again only when the head or its approvals change;
3. it is loaded through the rendered-release cache: bytes verified once (blob ID and
   SHA-256) are not fetched or rendered again;
4. it is planned as the channel's ServiceAccount (impersonated) inside the channel's lane,
   and, when anything differs, applied by a `SyncRun` stepped here, which stops between two
   steps once `stop()` says so (SIGTERM, leadership lost);
5. the outcome goes to the Channel's status, to an Event, to the metrics, and (applied,
   failed, refused) to the channel's webhooks, each at most once per release and outcome
   (a failure once per error class and object: not again at each retry).

Outcomes: a release that does not verify, render or pass policy or the lane, or whose
SOPS-encrypted Secrets do not verify once their key is opened, is Refused (never retried);
anything else that stops a reconcile is Failed (retried with backoff by the controller),
a missing age key too (its Secret absent, or no key in it opens the data key: adding the
key fixes it without a new release, as Flux retries a failed decryption); an applied
release whose objects are still Progressing is reported so and looked at again at the next
poll, and Degraded is a failure (`HealthCheckFailed`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from syncer import agekeys, channelres, health
from syncer import inventory as inv
from syncer.approvals import DiffSummary, Pending, gate, summarize
from syncer.backends import Backends
from syncer.channelspec import ChannelSpec
from syncer.channelstatus import Outcome, OutcomeKind, PendingStatus, Unhealthy, write_status
from syncer.clock import Clock
from syncer.cluster import Cluster, Discovery
from syncer.errors import (
    BlobIntegrityError,
    BundleError,
    ClusterError,
    DecryptionIntegrityError,
    DecryptionKeyError,
    LedgerTamperedError,
    PolicyError,
    RenderError,
    SyncerError,
    SyncStoppedError,
)
from syncer.metrics import Metrics, error_reason
from syncer.metrics import Outcome as MetricOutcome
from syncer.model import Action, Obj, ObjectRef, Release
from syncer.notify import Notification, Notifier, Target
from syncer.notify import Outcome as NotifyOutcome
from syncer.reconcile import Loaded, Observed, Reconciler, SyncOptions, SyncResult
from syncer.releasecache import ReleaseCache, load_cached
from syncer.sops import Identity
from syncer.syncrun import read_inventory

__all__ = ["REFUSALS", "ChannelSync", "SyncSettings"]

log = logging.getLogger(__name__)

REFUSALS = (BlobIntegrityError, BundleError, RenderError, PolicyError, LedgerTamperedError,
            DecryptionIntegrityError)
"""What makes a release Refused: it can never be applied as it is."""
_SHOWN = 50  # unhealthy objects named in the status
_METRIC_OUTCOMES: dict[OutcomeKind, MetricOutcome] = {
    OutcomeKind.FAILED: "failed", OutcomeKind.REFUSED: "refused",
    OutcomeKind.UNCHANGED: "unchanged"}  # else "applied"


@dataclass(frozen=True)
class SyncSettings:
    inventory_namespace: str = inv.DEFAULT_NAMESPACE
    workers: int = 8
    health_timeout: float = 300.0
    poll: float = 2.0
    cluster_name: str | None = None  # named in notifications


@dataclass
class _Memory:
    """What the controller knows of one channel between reconciles."""

    good: Release | None = None  # the release last applied (or found applied)
    head: Release | None = None
    target: Release | None = None  # the release the reconcile in progress applies
    refused: dict[tuple[int, str], str] = field(default_factory=dict)  # (seq, SHA-256): why
    progressing: bool = False
    failure: tuple[object, ...] = ()  # the last failure announced (Event, notification)
    suspended: int | None = None  # the generation whose suspension was recorded
    applied_seq: int = 0  # the seq the inventory recorded, before `good` is known
    gated: tuple[object, ...] = ()  # the approval gate's last verdict (see `_gate`)
    pending_event: int | None = None  # the pending seq whose Event was recorded


class ChannelSync:
    """Reconcile one channel at a time; see the module docs."""

    def __init__(self, cluster: Cluster, *, backends: Callable[[str], Backends],
                 cache: ReleaseCache | None, settings: SyncSettings, clock: Clock,
                 metrics: Metrics, notifier: Notifier | None = None,
                 impersonate: Callable[[str], Cluster] | None = None) -> None:
        self.cluster, self.backends, self.cache = cluster, backends, cache
        self.settings, self.clock, self.metrics = settings, clock, metrics
        self.notifier, self.impersonate = notifier, impersonate
        self.memory: dict[str, _Memory] = {}
        self.last: dict[str, OutcomeKind] = {}  # each channel's last reconcile outcome
        self.heartbeat = clock.monotonic()
        self._current: threading.Event | None = None
        self._sending = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify")

    # --- what the controller asks --------------------------------------------------------

    def head_moved(self, spec: ChannelSpec, discovery: Discovery) -> bool:
        """Whether the head differs from what is applied (or the apply is still being
        watched); True when the ledger cannot be read, so that the reconcile reports it."""
        memory = self._memory(spec)
        try:
            head = self.backends(spec.profile).ledger.head(spec.channel)
        except SyncerError:
            return True
        memory.head = head
        if head is None or _key(head) in memory.refused:
            return memory.progressing
        if memory.progressing or memory.good == head:
            return memory.progressing
        try:
            target, _, verdict = self._gate(spec, head, applied=self._applied_seq(spec))
        except SyncerError:
            return True
        return target == head.seq or verdict != memory.gated

    def reconcile(self, spec: ChannelSpec, discovery: Discovery, *, why: str,
                  stop: Callable[[], bool]) -> bool:
        """One reconcile; whether it succeeded (a Refused release is a success: retrying
        cannot change it)."""
        started = self.clock.monotonic()
        log.info("reconciling", extra={"channel": spec.channel, "why": why})
        error: SyncerError | None = None
        try:
            outcome = self._reconcile(spec, discovery, stop)
        except SyncStoppedError as e:
            log.info("reconcile stopped", extra={"channel": spec.channel, "error": str(e)})
            return True
        except SyncerError as e:
            outcome, error = self._failed(spec, e), e
        self._report(spec, discovery, outcome, seconds=self.clock.monotonic() - started,
                     failure=_failure(outcome, error))
        self.last[spec.ref] = outcome.kind
        return outcome.kind is not OutcomeKind.FAILED

    def suspended(self, spec: ChannelSpec, discovery: Discovery) -> None:
        """Record a suspension once per generation of the spec."""
        memory = self._memory(spec)
        if memory.suspended == spec.generation:
            return
        outcome = Outcome(OutcomeKind.SUSPENDED, self.clock.now(),
                          "suspended: nothing is applied until spec.suspend is false")
        self._write(spec, discovery, outcome)
        memory.suspended = spec.generation

    def stop_current(self) -> None:
        """Stop the sync in progress at its next step."""
        if self._current is not None:
            self._current.set()

    def forget(self, ref: str) -> None:
        """The Channel is gone: forget it and its series."""
        memory = self.memory.pop(ref, None)
        if memory is not None and memory.head is not None:
            self.metrics.forget(memory.head.channel)

    def close(self) -> None:
        """Send the notifications still queued, then stop the sender."""
        self._sending.shutdown(wait=True)

    # --- one reconcile -------------------------------------------------------------------

    def _reconcile(self, spec: ChannelSpec, discovery: Discovery,
                   stop: Callable[[], bool]) -> Outcome:
        memory = self._memory(spec)
        memory.suspended = memory.target = None
        backends = self.backends(spec.profile)
        head = memory.head = memory.target = backends.ledger.head(spec.channel)
        if head is None:
            return Outcome(OutcomeKind.PROGRESSING, self.clock.now(),
                           "no release published on the channel yet", reason="NoRelease")
        wanted, pending = self._approved(spec, discovery, head)
        if wanted is None:
            return self._waiting(spec, discovery, head, pending)
        loaded = self._target(spec, discovery, backends, wanted)
        if loaded is None:
            return self._refused_head(spec, wanted)
        memory.target = loaded.release
        reconciler = Reconciler(self._as(spec), options=self._options(spec, discovery),
                                clock=self.clock, books=self.cluster)
        try:
            observed = reconciler.observe(loaded, discovery=discovery)
        except REFUSALS as e:  # the lane
            return self._refuse(spec, discovery, loaded.release, e)
        result = self._sync(reconciler, observed, stop)
        outcome = self._applied(spec, discovery, observed, result)
        if _key(loaded.release) != _key(wanted):
            outcome = self._held_back(spec, wanted, outcome)
        return self._with_pending(spec, discovery, outcome, pending)

    def _target(self, spec: ChannelSpec, discovery: Discovery, backends: Backends,
                head: Release) -> Loaded | None:
        """`head` (the release wanted: the head or the highest approved one) loaded, else
        (Refused) the last good release; None if there is none."""
        memory = self._memory(spec)
        if _key(head) not in memory.refused:
            try:
                return load_cached(head, blobs=backends.blobs, cache=self.cache)
            except REFUSALS as e:
                self._report_refusal(spec, discovery, head, e)
        good = memory.good or self._recorded(spec, discovery, backends)
        if good is None:
            return None
        return load_cached(good, blobs=backends.blobs, cache=self.cache)

    def _recorded(self, spec: ChannelSpec, discovery: Discovery,
                  backends: Backends) -> Release | None:
        """The release the cluster's inventory says was applied last (after a restart)."""
        record = read_inventory(self.cluster, discovery, channel=spec.channel,
                                namespace=self.settings.inventory_namespace)
        if record is None or record.seq < 1:
            return None
        return backends.ledger.release(spec.channel, record.seq)

    def _sync(self, reconciler: Reconciler, observed: Observed,
              stop: Callable[[], bool]) -> SyncResult | None:
        """Step the sync to its end, stopping between steps when `stop()`; None when
        nothing differs."""
        if not observed.changes.of(Action.CREATE, Action.UPDATE, Action.PRUNE, Action.BLOCKED):
            return None
        self._current = stopped = threading.Event()
        try:
            run = reconciler.start(observed, stop=stopped)
            while True:
                if stop():
                    stopped.set()
                if run.step() is None:
                    return run.result()
                self.heartbeat = self.clock.monotonic()
        finally:
            self._current = None

    # --- the approval gate ---------------------------------------------------------------

    def _gate(self, spec: ChannelSpec, head: Release, *, applied: int
              ) -> tuple[int | None, Pending | None, tuple[object, ...]]:
        """The seq the gate lets through (the head without a gate), the pending head, and
        the verdict a poll compares with the last one."""
        ledger = self.backends(spec.profile).ledger
        threshold = ledger.approval_policy(spec.channel).threshold
        found = gate(head_seq=head.seq, applied_seq=applied, threshold=threshold,
                     approvals=lambda seq: ledger.approvals(spec.channel, seq))
        waiting = found.pending
        verdict = (head.seq, found.target, waiting.approvals if waiting else None, threshold)
        return found.target, waiting, verdict

    def _applied_seq(self, spec: ChannelSpec) -> int:
        memory = self._memory(spec)
        return memory.good.seq if memory.good is not None else memory.applied_seq

    def _approved(self, spec: ChannelSpec, discovery: Discovery, head: Release
                  ) -> tuple[Release | None, Pending | None]:
        """The release to reconcile (None: nothing approved, nothing applied) and the head
        when it waits for approvals."""
        memory = self._memory(spec)
        if memory.good is None:
            record = read_inventory(self.cluster, discovery, channel=spec.channel,
                                    namespace=self.settings.inventory_namespace)
            memory.applied_seq = record.seq if record is not None else 0
        target, waiting, memory.gated = self._gate(spec, head, applied=self._applied_seq(spec))
        if target is None or target == head.seq:
            return (head if target else None), waiting
        if memory.good is not None and memory.good.seq == target:
            return memory.good, waiting
        return self.backends(spec.profile).ledger.release(spec.channel, target), waiting

    def _waiting(self, spec: ChannelSpec, discovery: Discovery, head: Release,
                 pending: Pending | None) -> Outcome:
        """Nothing approved to apply and nothing applied: the head waits."""
        line = pending.line() if pending else f"release {head.seq} waits for approvals"
        outcome = Outcome(OutcomeKind.PROGRESSING, self.clock.now(),
                          f"{line}: no approved release to apply yet",
                          reason="ApprovalPending", head_seq=head.seq,
                          head_blob_id=head.blob_id)
        return self._with_pending(spec, discovery, outcome, pending, prefix=False)

    def _with_pending(self, spec: ChannelSpec, discovery: Discovery, outcome: Outcome,
                      pending: Pending | None, *, prefix: bool = True) -> Outcome:
        """`outcome` with the pending head and its diff against the cluster, and once per
        seq the `ApprovalPending` Event."""
        if pending is None or outcome.kind is OutcomeKind.FAILED:
            return outcome
        found = PendingStatus(pending, self._pending_diff(spec, discovery, pending))
        memory = self._memory(spec)
        shown = ((spec.status or {}).get("pending") or {}).get("seq")
        if pending.seq not in (memory.pending_event, shown):
            self._event(spec, discovery, "Normal", "ApprovalPending",
                        f"{pending.line()}: syncer approve {pending.seq} --channel "
                        f"{spec.channel}")
        memory.pending_event = pending.seq
        message = f"{pending.line()}; {outcome.message}" if prefix else outcome.message
        return dataclasses.replace(outcome, pending=found, message=message)

    def _pending_diff(self, spec: ChannelSpec, discovery: Discovery,
                      pending: Pending) -> DiffSummary | None:
        """What applying the pending head would change now (planned as a sync plans it,
        nothing written); None when that cannot be known (its bundle refused, the cluster
        unreadable)."""
        memory, backends = self._memory(spec), self.backends(spec.profile)
        try:
            head = memory.head if memory.head and memory.head.seq == pending.seq else \
                backends.ledger.release(spec.channel, pending.seq)
            loaded = load_cached(head, blobs=backends.blobs, cache=self.cache)
            planner = Reconciler(self._as(spec), options=self._options(spec, discovery),
                                 clock=self.clock, books=self.cluster)
            return summarize(planner.observe(loaded, discovery=discovery).changes)
        except SyncerError as e:
            log.warning("pending release not compared with the cluster",
                        extra={"channel": spec.channel, "seq": pending.seq, "error": str(e)})
            return None

    # --- outcomes ------------------------------------------------------------------------

    def _applied(self, spec: ChannelSpec, discovery: Discovery, observed: Observed,
                 result: SyncResult | None) -> Outcome:
        release, memory = observed.loaded.release, self._memory(spec)
        drift = _drift(observed) if memory.good == release else 0
        self.metrics.drift(spec.channel, drift)
        status, unhealthy = _health(observed, result)
        memory.good, memory.progressing = release, status is health.Status.PROGRESSING
        kind, reason, message = _verdict(observed, result, status, unhealthy)
        new = observed.inventory is None or observed.inventory.seq != release.seq
        if result is not None and kind is not OutcomeKind.FAILED:
            self._event(spec, discovery, "Normal", "ReleaseApplied" if new else
                        "DriftRepaired", message)
            if new:
                self._notify(spec, release, "applied", message)
        return Outcome.of_release(release, kind, time=self.clock.now(), message=message,
                                  reason=reason, health=status.value,
                                  unhealthy=tuple(unhealthy[:_SHOWN]),
                                  inventory_count=len(observed.desired),
                                  head_seq=_seq(memory.head),
                                  head_blob_id=memory.head.blob_id if memory.head else "")

    def _failed(self, spec: ChannelSpec, error: SyncerError) -> Outcome:
        memory = self._memory(spec)
        release = memory.target or memory.head
        self.metrics.apply_error(spec.channel, error_reason(error))
        text = str(error)
        log.warning("reconcile failed", extra={"channel": spec.channel, "error": text})
        if release is None:
            return Outcome(OutcomeKind.FAILED, self.clock.now(), text)
        head = memory.head or release
        return Outcome.of_release(release, OutcomeKind.FAILED, time=self.clock.now(),
                                  message=text, head_seq=head.seq, head_blob_id=head.blob_id)

    def _held_back(self, spec: ChannelSpec, head: Release, outcome: Outcome) -> Outcome:
        """The head is Refused and the last good release was reconciled in its place: the
        status goes on saying that the head is refused (Ready False, Stalled), with the last
        good release's health; a failure of the last good release is reported as it is."""
        if outcome.kind is OutcomeKind.FAILED:
            return outcome
        if outcome.kind in (OutcomeKind.APPLIED, OutcomeKind.UNCHANGED) and outcome.seq:
            self.metrics.release_applied(spec.channel, outcome.seq, at=outcome.time)
        why = self._memory(spec).refused.get(_key(head), "")
        return dataclasses.replace(
            outcome, kind=OutcomeKind.REFUSED, reason="", seq=head.seq, blob_id=head.blob_id,
            sha256=head.sha256, commit=head.commit,
            message=f"release {head.seq} refused ({why}); the last good release stays: "
                    f"{outcome.message}")

    def _refused_head(self, spec: ChannelSpec, head: Release) -> Outcome:
        """The head is Refused and nothing good was ever applied."""
        return Outcome.of_release(head, OutcomeKind.REFUSED, time=self.clock.now(),
                                  message=f"release {head.seq} was refused and no earlier "
                                          "release of the channel was applied",
                                  head_seq=head.seq, head_blob_id=head.blob_id)

    def _refuse(self, spec: ChannelSpec, discovery: Discovery, release: Release,
                error: SyncerError) -> Outcome:
        self._report_refusal(spec, discovery, release, error)
        return Outcome.of_release(release, OutcomeKind.REFUSED, time=self.clock.now(),
                                  message=str(error), head_seq=_seq(self._memory(spec).head))

    def _report_refusal(self, spec: ChannelSpec, discovery: Discovery, release: Release,
                        error: SyncerError) -> None:
        """Remember a refused release; its Event and notification once."""
        memory = self._memory(spec)
        key = _key(release)
        known = key in memory.refused or _in_history(spec, release, "Refused")
        memory.refused[key] = str(error)
        log.error("release refused", extra={"channel": spec.channel, "seq": release.seq,
                                            "blob_id": release.blob_id, "error": str(error)})
        if known:
            return
        message = f"release {release.seq} refused: {error}"
        self._event(spec, discovery, "Warning", "ReleaseRefused", message)
        self._notify(spec, release, "refused", message)
        self._write(spec, discovery, Outcome.of_release(
            release, OutcomeKind.REFUSED, time=self.clock.now(), message=str(error),
            head_seq=release.seq, head_blob_id=release.blob_id))

    def _report(self, spec: ChannelSpec, discovery: Discovery, outcome: Outcome, *,
                seconds: float, failure: tuple[object, ...]) -> None:
        """Status, metrics, and the Event and notification of a new failure (`failure`
        says which, `_failure`)."""
        self._write(spec, discovery, outcome)
        memory = self._memory(spec)
        metric = _METRIC_OUTCOMES.get(outcome.kind, "applied")
        self.metrics.reconciled(spec.channel, seconds=seconds, outcome=metric)
        if outcome.kind is OutcomeKind.FAILED:
            if failure != memory.failure:
                self._event(spec, discovery, "Warning", "ReleaseFailed", outcome.message)
                failed = memory.target or memory.head
                if failed is not None:
                    self._notify(spec, failed, "failed", outcome.message)
            memory.failure = failure
            return
        memory.failure = ()
        if outcome.kind in (OutcomeKind.APPLIED, OutcomeKind.UNCHANGED) and outcome.seq:
            self.metrics.release_applied(spec.channel, outcome.seq, at=self.clock.now())

    # --- edges ---------------------------------------------------------------------------

    def _write(self, spec: ChannelSpec, discovery: Discovery, outcome: Outcome) -> None:
        try:
            write_status(self.cluster, discovery, spec, outcome)
        except ClusterError as e:
            log.warning("Channel status not written", extra={"channel": spec.channel,
                                                             "error": str(e)})

    def _event(self, spec: ChannelSpec, discovery: Discovery, kind: str, reason: str,
               message: str) -> None:
        channelres.record_event(self.cluster, discovery, spec, type=kind,  # type: ignore[arg-type]
                                reason=reason, message=message, clock=self.clock)

    def _notify(self, spec: ChannelSpec, release: Release, outcome: NotifyOutcome,
                message: str) -> None:
        """POST the outcome to the Channel's webhooks, on the sender's thread."""
        if self.notifier is None or not spec.notify:
            return
        targets = tuple(Target(url, fmt) for url, fmt in spec.notify)  # type: ignore[arg-type]
        note = Notification.of(release, outcome, message=message,
                               at=self.clock.now(), cluster=self.settings.cluster_name)
        self._sending.submit(self.notifier.send, note, targets)

    def _as(self, spec: ChannelSpec) -> Cluster:
        """The cluster as the channel's ServiceAccount, when it names one."""
        if spec.user is None:
            return self.cluster
        if self.impersonate is None:
            raise ClusterError("this syncer cannot impersonate", where=spec.ref)
        return self.impersonate(spec.user)

    def _age_keys(self, spec: ChannelSpec, discovery: Discovery) -> list[Identity]:
        """The age identities of the Secret the Channel names (`spec.decryption`), in the
        syncer's namespace, read as the syncer itself: asked for only when the release
        holds SOPS-encrypted Secrets."""
        if spec.decryption_secret is None:
            raise DecryptionKeyError("the release holds SOPS-encrypted Secrets: name the "
                                     "Secret of their age key in spec.decryption.secretRef",
                                     where=spec.ref)
        return agekeys.from_secret(self.cluster, discovery, name=spec.decryption_secret,
                                   namespace=self.settings.inventory_namespace)

    def _options(self, spec: ChannelSpec, discovery: Discovery) -> SyncOptions:
        s = self.settings
        return SyncOptions(inventory_namespace=s.inventory_namespace, workers=s.workers,
                           health_timeout=s.health_timeout, poll=s.poll, lane=spec.lane,
                           keys=partial(self._age_keys, spec, discovery))

    def _memory(self, spec: ChannelSpec) -> _Memory:
        return self.memory.setdefault(spec.ref, _Memory())


def _health(observed: Observed, result: SyncResult | None
            ) -> tuple[health.Status, list[Unhealthy]]:
    """The release's health from the objects as last read or applied: no extra request."""
    live: dict[ObjectRef, Obj] = {c.ref: c.live for c in observed.changes.changes
                                  if c.live is not None}
    live.update(result.live if result is not None else {})
    found = {ref: health.of(live[ref]) for ref in map(ObjectRef.of, observed.desired)
             if ref in live}
    unhealthy = [Unhealthy(_name(ref), h.status.value, h.reason) for ref, h in found.items()
                 if h.status is not health.Status.HEALTHY]
    return health.worst(found.values()), unhealthy


def _verdict(observed: Observed, result: SyncResult | None, status: health.Status,
             unhealthy: list[Unhealthy]) -> tuple[OutcomeKind, str, str]:
    seq = observed.loaded.release.seq
    if status is health.Status.DEGRADED:
        first = unhealthy[0]
        return (OutcomeKind.FAILED, "HealthCheckFailed",
                f"release {seq}: {first.object} is Degraded: {first.reason}")
    if status is health.Status.PROGRESSING:
        return (OutcomeKind.PROGRESSING, "Progressing",
                f"release {seq} applied; {len(unhealthy)} objects progressing")
    if result is None:
        return OutcomeKind.UNCHANGED, "", f"release {seq} in place, nothing to change"
    written = len(result.applied) + len(result.pruned)
    return (OutcomeKind.APPLIED, "", f"release {seq} applied ({written} changes), "
                                     f"{len(observed.desired)} objects healthy")


def _failure(outcome: Outcome, error: SyncerError | None) -> tuple[object, ...]:
    """What makes a failure the same one again, announced once: the release, and the
    error's class and object; not its message, which says how far each attempt got (`the
    sync stopped there: 1 of 2 changes written`) and how many requests it made. A failure
    without an error or an object (a Degraded object seen after the apply): its message."""
    if error is None or not error.where:
        return (outcome.seq, outcome.sha256, outcome.message)
    return (outcome.seq, outcome.sha256, type(error).__name__, error.where)


def _drift(observed: Observed) -> int:
    return len(observed.changes.of(Action.CREATE, Action.UPDATE, Action.PRUNE))


def _name(ref: ObjectRef) -> str:
    kind = f"{ref.group}/{ref.kind}" if ref.group else ref.kind
    return f"{kind}/{ref.namespace}/{ref.name}" if ref.namespace else f"{kind}/{ref.name}"


def _key(release: Release) -> tuple[int, str]:
    return release.seq, release.sha256


def _seq(release: Release | None) -> int | None:
    return release.seq if release is not None else None


def _in_history(spec: ChannelSpec, release: Release, outcome: str) -> bool:
    history = (spec.status or {}).get("history") or []
    return any(isinstance(h, Mapping) and h.get("sha256") == release.sha256
               and h.get("seq") == release.seq and h.get("outcome") == outcome
               for h in history)
