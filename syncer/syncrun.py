"""One sync as a value that advances in steps: `SyncRun`.

`Reconciler.sync` used to run to the end in one call. A controller needs more: to stop a
sync between two steps when the process is told to shut down or loses the leader Lease, to
wait for a wave's health without blocking a thread in `time.sleep`, and to know what was
written when a sync stops. So a sync is a `SyncRun`: `step()` does the next step and says
which, `run()` steps to the end. The steps, in order:

1. `dry-run`: every change the server can check now (all at once, on the pool); nothing is
   written unless all pass;
2. `lock`: take the channel's Lease, check no other sync wrote since the reading, and record
   in the inventory everything about to be applied (so an interrupted sync leaves nothing
   a later one cannot prune);
3. per wave (`syncer.waves`, lower first), per kind tier (`plan.apply_order`): `apply`;
   after the Namespaces and CRDs of a wave, `established` (their CRDs serve) and the
   dry runs that had to wait for them; after a wave with a later one to come (or after the
   last with `SyncOptions.wait`), `health`: poll what the wave applied until it is Healthy;
   Degraded, or Progressing past `health_timeout`, stops the sync (`UnhealthyError`), the
   later waves unapplied;
4. per kind tier, in reverse order: `prune`;
5. `record`: the inventory of the applied release; the Lease is released.

Between two steps, and between the calls of a tier, a set `stop` event ends the sync with
`SyncStoppedError`; calls in flight finish first. The channel's own objects are read and
written through `cluster` (in the controller, as the channel's ServiceAccount); its
bookkeeping (the inventory, the lock, the inventory namespace) through `books` (as syncer).
Every wait takes the injected `Clock`, so tests step time and `stop` cuts a wait short. A
sync that stops or fails keeps what it wrote in `applied` and `pruned`, and its error says
how far it got (`ClusterError.stopped_sync`). Abandoning a run (`close`) releases its Lease.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from syncer import health, plan, waves, workpool
from syncer import inventory as inv
from syncer.bundle import Bundle
from syncer.clock import Clock, SystemClock
from syncer.cluster import Cluster, Discovery
from syncer.config import ChannelConfig
from syncer.errors import (
    ClusterError,
    ConflictError,
    ForbiddenError,
    LockedError,
    OwnershipError,
    SyncStoppedError,
    UnhealthyError,
)
from syncer.lock import ChannelLock
from syncer.model import LABEL_CHANNEL, Action, Change, ChangeSet, Obj, ObjectRef, Release
from syncer.sops import Identity
from syncer.takeovers import log_takeovers
from syncer.tenancy import Lane

__all__ = ["Loaded", "Observed", "Step", "SyncOptions", "SyncResult", "SyncRun",
           "can_dry_run", "new_namespaces", "read_inventory"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """A release whose bytes verified, with its bundle and the objects it renders to."""

    release: Release
    bundle: Bundle
    channel: ChannelConfig
    objects: tuple[Obj, ...]

    @property
    def namespace(self) -> str:
        """The channel's namespace, for objects that name none."""
        return self.channel.namespace


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    allow_empty: bool = False
    inventory_namespace: str = inv.DEFAULT_NAMESPACE
    crd_timeout: float = 30.0
    workers: int = 8  # API requests in flight at once while dry-running, applying, pruning
    wait: bool = False  # wait for the last wave's health too, not only between waves
    health_timeout: float = 300.0  # how long a wave may stay Progressing
    poll: float = 2.0  # seconds between two health (or CRD) checks
    lane: Lane | None = None  # the namespaces and kinds the channel may write (`tenancy`)
    # The age identities that open the release's SOPS-encrypted Secrets (`agekeys`), asked
    # for only when it has some; None: such a release fails with DecryptionKeyError.
    keys: Callable[[], Sequence[Identity]] | None = None


@dataclass(frozen=True)
class Observed:
    """Desired and live state of one release in one cluster, and the plan between them."""

    loaded: Loaded
    desired: tuple[Obj, ...]
    changes: ChangeSet
    inventory: inv.Inventory | None
    discovery: Discovery


@dataclass(frozen=True)
class SyncResult:
    observed: Observed
    applied: tuple[Change, ...] = ()
    pruned: tuple[Change, ...] = ()
    skipped: tuple[Change, ...] = ()
    live: Mapping[ObjectRef, Obj] = field(default_factory=dict)
    """Each object as last seen: as the server answered its apply, as a health check read
    it, or (an unchanged object a wave waited on) as read before the sync."""


@dataclass(frozen=True)
class Step:
    """A step done: its name (`dry-run`, `lock`, `apply`, `established`, `health`,
    `prune`, `record`), the wave (None outside waves) and what it did."""

    name: str
    wave: int | None = None
    detail: str = ""


class SyncRun:
    """One sync of `observed`, step by step (see the module docs)."""

    def __init__(self, cluster: Cluster, observed: Observed, *, options: SyncOptions,
                 clock: Clock | None = None, stop: threading.Event | None = None,
                 books: Cluster | None = None) -> None:
        self.cluster, self.observed, self.options = cluster, observed, options
        self.books = books or cluster
        self.clock = clock or SystemClock()
        self.stop = stop or threading.Event()
        self.applied: list[Change] = []
        self.pruned: list[Change] = []
        self.live: dict[ObjectRef, Obj] = {}
        self.steps: list[Step] = []
        self.done = False
        self._writing = False
        self._lock: ChannelLock | None = None
        self._steps = self._all_steps()

    def step(self) -> Step | None:
        """Do the next step; None once the sync is done. A set `stop` ends it here."""
        if self.done:
            return None
        if self.stop.is_set():
            self.close()
            raise self._failed(SyncStoppedError("the sync was told to stop",
                                                where=self._where))
        try:
            done = next(self._steps)
        except StopIteration:
            self.done = True
            return None
        except workpool.Stopped as stopped:
            self.done = True
            raise self._failed(stopped.error) from None
        except ClusterError as e:
            self.done = True
            raise self._failed(e) from None
        self.steps.append(done)
        log.debug("sync step", extra={"step": done.name, "wave": done.wave,
                                      "detail": done.detail, **self._context})
        return done

    def run(self) -> SyncResult:
        """Step to the end."""
        while self.step() is not None:
            pass
        return self.result()

    def result(self) -> SyncResult:
        return SyncResult(self.observed, tuple(self.applied), tuple(self.pruned),
                          self.observed.changes.of(Action.SKIP), dict(self.live))

    def close(self) -> None:
        """Abandon the run: no further step; the Lease, if held, is released."""
        self.done = True
        self._steps.close()

    # --- the steps -----------------------------------------------------------------------

    def _all_steps(self) -> Generator[Step, None, None]:
        changes = self.observed.changes
        if self.options.dry_run:
            return
        _refuse_blocked(changes)
        pending = self._preflight()
        yield Step("dry-run", detail=f"{len(changes.of(Action.CREATE, Action.UPDATE))} "
                                     "changes checked")
        self._inventory_namespace()
        with ChannelLock(self.books, self.observed.discovery, channel=self._channel,
                         namespace=self.options.inventory_namespace,
                         clock=self.clock.now) as lock:
            self._lock = lock
            self._refuse_if_changed()
            self._record_intent()
            self._writing = True
            yield Step("lock")
            discovery = yield from self._waves(pending)
            yield from self._prunes(discovery)
            self._record(discovery)
            yield Step("record", detail=f"release {self.observed.loaded.release.seq}")

    def _waves(self, pending: list[Change]) -> Generator[Step, None, Discovery]:
        """Apply wave by wave up to the last wave with changes; before a later wave, wait
        until every object of the wave is healthy, those left unchanged included (a Job
        that failed before fails still)."""
        discovery = self.observed.discovery
        by_wave = _by_wave([c for c in self.observed.changes.changes
                            if c.action in _IN_PLACE and c.desired is not None])
        last = max((i for i, (_, wave) in enumerate(by_wave) if _writes(wave)), default=-1)
        for index, (wave, wave_changes) in enumerate(by_wave[:last + 1]):
            for tier in _tiers([c for c in wave_changes if c.action in _WRITES]):
                self._in_tier(tier, partial(self._apply_one, discovery=discovery),
                              self.applied)
                yield Step("apply", wave, f"{len(tier)} {tier[0].ref.kind}")
                if _defines(tier):
                    discovery = yield from self._after_definitions(tier, discovery, pending)
            if index < last or self.options.wait:
                yield from self._healthy(wave, wave_changes, discovery)
        return discovery

    def _after_definitions(self, tier: Sequence[Change], discovery: Discovery,
                           pending: list[Change]) -> Generator[Step, None, Discovery]:
        """After Namespaces or CRDs: wait for the CRDs, then dry-run what waited for them."""
        crds = [c.ref for c in tier if (c.ref.group, c.ref.kind) == plan.CRD]
        if crds:
            self._wait_established(crds, discovery)
            discovery = self.cluster.discover()
            yield Step("established", detail=f"{len(crds)} CRDs")
        made = {c.ref.name for c in self.applied if (c.ref.group, c.ref.kind) == plan.NAMESPACE}
        unmade = new_namespaces(self.observed.changes) - made
        ready = [c for c in pending if can_dry_run(c, discovery, unmade)]
        if ready:
            self._dry_run(ready, discovery, self._tick)
            pending[:] = [c for c in pending if c not in ready]
            yield Step("dry-run", detail=f"{len(ready)} changes that waited for their "
                                         "Namespace or CRD")
        return discovery

    def _healthy(self, wave: int, changes: Sequence[Change],
                 discovery: Discovery) -> Generator[Step, None, None]:
        """Poll the wave's objects until all are Healthy; UnhealthyError on Degraded or at
        the deadline."""
        deadline = self.clock.monotonic() + self.options.health_timeout
        for change in changes:  # unchanged objects as read before the sync
            if change.ref not in self.live and change.live is not None:
                self.live[change.ref] = change.live
        watched = [c.ref for c in changes if c.ref in self.live]
        while True:
            found = {ref: health.of(self.live[ref]) for ref in watched}
            waiting = _judge(found, wave)
            if not waiting:
                yield Step("health", wave, f"{len(watched)} objects healthy")
                return
            if self.clock.monotonic() >= deadline:
                ref, seen = waiting[0]
                raise UnhealthyError(f"still {seen.status.value} after "
                                     f"{self.options.health_timeout:g}s: {seen.reason}; "
                                     f"the waves after {wave} were not applied",
                                     where=str(ref))
            yield Step("health", wave, f"{len(waiting)} of {len(watched)} objects "
                                       "progressing")
            self._pause(self.options.poll)
            self._reread([ref for ref, _ in waiting], discovery)

    def _prunes(self, discovery: Discovery) -> Generator[Step, None, None]:
        for tier in _tiers(self.observed.changes.of(Action.PRUNE)):
            self._in_tier(tier, partial(self._prune_one, discovery=discovery), self.pruned)
            yield Step("prune", detail=f"{len(tier)} {tier[0].ref.kind}")

    # --- calls ---------------------------------------------------------------------------

    def _preflight(self) -> list[Change]:
        """Dry-run every change the server can check now; the rest (in a Namespace or of a
        CRD this release creates) is returned, to be dry-run once those exist."""
        changes = self.observed.changes
        discovery = self.observed.discovery
        unmade = new_namespaces(changes)
        todo = changes.of(Action.CREATE, Action.UPDATE)
        now = [c for c in todo if can_dry_run(c, discovery, unmade)]
        try:
            self._dry_run(now, discovery)
        except workpool.Stopped as stopped:
            raise stopped.error from None
        return [c for c in todo if c not in now]

    def _dry_run(self, changes: Sequence[Change], discovery: Discovery,
                 tick: Callable[[], None] = lambda: None) -> None:
        workpool.run([partial(self.cluster.apply, c.desired, discovery.of(c.ref), dry_run=True)
                      for c in changes if c.desired is not None],
                     workers=self.options.workers, tick=tick)

    def _in_tier(self, tier: Sequence[Change], call: Callable[[Change], None],
                 done: list[Change]) -> None:
        """`call` each change of one tier on the pool; `done` gets each one that passed."""
        try:
            workpool.run([partial(call, c) for c in tier], workers=self.options.workers,
                         tick=self._tick)
        except workpool.Stopped as stopped:
            done.extend(tier[i] for i in sorted(stopped.done))
            raise
        done.extend(tier)

    def _tick(self) -> None:
        """Between calls: renew the Lease; stop if told to."""
        if self._lock is not None:
            self._lock.renew()
        if self.stop.is_set():
            raise SyncStoppedError("the sync was told to stop", where=self._where)

    def _apply_one(self, change: Change, *, discovery: Discovery) -> None:
        assert change.desired is not None
        after = self.cluster.apply(change.desired, discovery.of(change.ref))
        self.live[change.ref] = after
        log_takeovers(change.ref, change.live, after)
        log.info("applied", extra={"object": str(change.ref), "action": change.action.value,
                                   **self._context})

    def _prune_one(self, change: Change, *, discovery: Discovery) -> None:
        ref = change.ref
        self.cluster.delete(discovery.of(ref), namespace=ref.namespace, name=ref.name)
        log.info("pruned", extra={"object": str(ref), "action": "prune", **self._context})

    def _wait_established(self, crds: list[ObjectRef], discovery: Discovery) -> None:
        deadline = self.clock.monotonic() + self.options.crd_timeout
        for ref in crds:
            while not _established(self._get(ref, discovery)):
                if self.clock.monotonic() > deadline:
                    raise ClusterError("not Established in time", where=str(ref))
                self._pause(min(self.options.poll, 0.2))

    def _pause(self, seconds: float) -> None:
        """Wait, renewing the Lease; SyncStoppedError if told to stop meanwhile."""
        self._tick()
        if self.clock.wait(seconds, self.stop):
            raise SyncStoppedError("the sync was told to stop", where=self._where)
        self._tick()

    def _reread(self, refs: Sequence[ObjectRef], discovery: Discovery) -> None:
        """Read `refs` again into `live`: one LIST of the channel's objects per kind and
        namespace, a GET where only one object of its kind and namespace is waited on."""
        for _, place in itertools.groupby(sorted(refs, key=_place), key=_place):
            found = list(place)
            if len(found) == 1:
                self.live[found[0]] = self._get(found[0], discovery) or self.live[found[0]]
                continue
            listed = self.cluster.list_objects(discovery.of(found[0]),
                                               namespace=found[0].namespace,
                                               selector=f"{LABEL_CHANNEL}={self._channel}")
            fresh = {ObjectRef.of(o): o for o in listed}
            for ref in found:
                self.live[ref] = fresh.get(ref, self.live[ref])

    def _get(self, ref: ObjectRef, discovery: Discovery) -> Obj | None:
        return self.cluster.get(discovery.of(ref), namespace=ref.namespace, name=ref.name)

    # --- the inventory ---------------------------------------------------------------------

    def _refuse_if_changed(self) -> None:
        """Another sync may have written between this one's reading and its lock."""
        now = read_inventory(self.books, self.observed.discovery, channel=self._channel,
                             namespace=self.options.inventory_namespace)
        if now != self.observed.inventory:
            seq = f"release {now.seq}" if now else "a release"
            raise LockedError(f"another sync applied {seq} while this one was reading; "
                              "nothing was applied: sync again", where=self._where)

    def _record_intent(self) -> None:
        """The old record plus what is about to be applied, under the old release's name."""
        release, old = self.observed.loaded.release, self.observed.inventory
        old = old or inv.Inventory(release.channel, 0, "", "", ())
        coming = {inv.Entry.of(c.desired) for c in self.observed.changes.of(Action.CREATE,
                                                                            Action.UPDATE)
                  if c.desired is not None}
        if coming <= set(old.entries):
            return
        record = inv.Inventory(old.channel, old.seq, old.blob_id, old.commit,
                               tuple(sorted(coming | set(old.entries))))
        self._write_inventory(record, self.observed.discovery)

    def _record(self, discovery: Discovery) -> None:
        """The inventory of the release now applied."""
        release = self.observed.loaded.release
        objects = [*self.observed.desired, *plan.kept(self.observed.changes)]
        record = inv.Inventory(release.channel, release.seq, release.blob_id, release.commit,
                               tuple(sorted({inv.Entry.of(o) for o in objects})))
        self._write_inventory(record, discovery)

    def _inventory_namespace(self) -> None:
        """Create the inventory namespace if it is missing. A create, not an apply: an
        apply would take the Namespace's fields (and drop the labels the install gave it);
        a 409 says it exists, and a 403 that it is the install's (whose syncer may not
        write Namespaces, and needs none written)."""
        namespace = {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": self.options.inventory_namespace}}
        with contextlib.suppress(ConflictError, ForbiddenError):
            self.books.create(namespace, self.observed.discovery.require("", "Namespace"))

    def _write_inventory(self, record: inv.Inventory, discovery: Discovery) -> None:
        configmap = inv.to_configmap(record, namespace=self.options.inventory_namespace)
        self.books.apply(configmap, discovery.require("", "ConfigMap"))

    # --- failures ------------------------------------------------------------------------

    def _failed(self, error: BaseException) -> BaseException:
        """The error the sync stops with, naming what it wrote (a bug is raised as is)."""
        if not isinstance(error, ClusterError) or not self._writing:
            return error
        planned = len(self.observed.changes.of(Action.CREATE, Action.UPDATE, Action.PRUNE))
        return error.stopped_sync(applied=tuple(c.ref for c in self.applied),
                                  pruned=tuple(c.ref for c in self.pruned), planned=planned)

    @property
    def _context(self) -> dict[str, object]:
        """What every log line of this sync carries."""
        release = self.observed.loaded.release
        return {"channel": release.channel, "seq": release.seq, "blob_id": release.blob_id}

    @property
    def _channel(self) -> str:
        return self.observed.loaded.release.channel

    @property
    def _where(self) -> str:
        return f"channel {self._channel}"


def read_inventory(cluster: Cluster, discovery: Discovery, *, channel: str,
                   namespace: str) -> inv.Inventory | None:
    """The channel's inventory as recorded in the cluster; None before its first sync."""
    cm = discovery.require("", "ConfigMap")
    found = cluster.get(cm, namespace=namespace, name=inv.configmap_name(channel))
    return inv.from_configmap(found) if found else None


def _by_wave(changes: Sequence[Change]) -> list[tuple[int, list[Change]]]:
    """The changes by wave, lower first, each wave in apply order."""
    keyed = sorted(changes, key=lambda c: (_wave(c), plan.apply_order(c.ref)))
    return [(wave, list(group)) for wave, group in itertools.groupby(keyed, key=_wave)]


_WRITES = (Action.CREATE, Action.UPDATE)
_IN_PLACE = (Action.CREATE, Action.UPDATE, Action.UNCHANGED, Action.SKIP)
"""What a sync writes; what stands in the cluster after it (and counts for a wave's health)."""


def _writes(changes: Sequence[Change]) -> bool:
    return any(c.action in _WRITES for c in changes)


def _place(ref: ObjectRef) -> tuple[str, str, str]:
    return ref.group, ref.kind, ref.namespace


def _wave(change: Change) -> int:
    return waves.wave_of(change.desired) if change.desired is not None else 0


def _tiers(changes: Sequence[Change]) -> list[list[Change]]:
    """Consecutive changes of one kind tier (`plan.apply_order`), in the given order."""
    return [list(g) for _, g in itertools.groupby(changes,
                                                  key=lambda c: plan.apply_order(c.ref)[:2])]


def _defines(tier: Sequence[Change]) -> bool:
    """Whether the tier holds Namespaces or CRDs, which other objects may wait for."""
    return any((c.ref.group, c.ref.kind) in (plan.NAMESPACE, plan.CRD) for c in tier)


def _judge(found: Mapping[ObjectRef, health.Health], wave: int
           ) -> list[tuple[ObjectRef, health.Health]]:
    """The objects still progressing; UnhealthyError for the first Degraded one."""
    for ref, seen in found.items():
        if seen.status is health.Status.DEGRADED:
            raise UnhealthyError(f"Degraded: {seen.reason}; the waves after {wave} were not "
                                 "applied", where=str(ref))
    return [(ref, seen) for ref, seen in found.items()
            if seen.status is health.Status.PROGRESSING]


def _refuse_blocked(changes: ChangeSet) -> None:
    """A release holding an object that is not this channel's is refused whole."""
    blocked = changes.of(Action.BLOCKED)
    if blocked:
        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        raise OwnershipError(f"{blocked[0].reason}{more}; nothing was applied",
                             where=str(blocked[0].ref))


def can_dry_run(change: Change, discovery: Discovery, unmade: frozenset[str]) -> bool:
    """Whether the server can check `change` now: its namespace exists (is not among the
    `unmade` ones this release creates) and its kind is served."""
    ref = change.ref
    return ref.namespace not in unmade and discovery.find(ref.group, ref.kind) is not None


def new_namespaces(changes: ChangeSet) -> frozenset[str]:
    """The Namespaces this change set creates."""
    return frozenset(c.ref.name for c in changes.of(Action.CREATE)
                     if (c.ref.group, c.ref.kind) == plan.NAMESPACE)


def _established(crd: Obj | None) -> bool:
    conditions = ((crd or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in conditions)
