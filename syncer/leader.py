"""Leader election: one replica of the controller applies at a time.

Two replicas of `syncer run` may run for availability; only the holder of a
`coordination.k8s.io/v1` Lease (`ElectionConfig.name`, default `syncer-leader`, in
`ElectionConfig.namespace`) applies. This follows client-go's `tools/leaderelection` with
its Lease lock, and writes the Lease as it does: `holderIdentity`, `leaseDurationSeconds`,
`acquireTime`, `renewTime` (MicroTimes, six fractional digits) and `leaseTransitions`.

One step, `LeaderElector.try_acquire_or_renew`, made every `retry_s` (2 s) by whoever
drives the election (`run`, or the controller's own loop):

- the leader first renews optimistically, a PUT of the Lease it last wrote (conditional on
  its resourceVersion); if that fails it falls back to the slow path below;
- the slow path reads the Lease: absent, it creates it (a 409 means another replica created
  it first: this step is lost); held by another replica whose term has not run out, the
  step is lost (we follow); else it is taken over (or renewed, if ours) by a PUT
  conditional on the resourceVersion read (a 409 means another replica won the race).

A term runs out `leaseDurationSeconds` after the Lease was *last seen to change*, on the
observer's own monotonic clock, never by comparing the holder's `renewTime` with our clock:
the replicas' clocks may disagree, only their rates need to be close. Taking over adds one
to `leaseTransitions` and sets `acquireTime`; a renewal keeps both.

The leader loses leadership when no renewal has succeeded for `renew_deadline_s` (10 s,
counted from the start of the last step that renewed), or as soon as a step sees another
holder: then `is_leader` turns False and the term's `lost` Event is set. A failed request
is not fatal by itself: the next step tries again. Since a follower waits `lease_s` (15 s)
from the last renewal it saw, the old leader has `lease_s - renew_deadline_s` (5 s) to stop
between two steps of its apply. `release` (on graceful shutdown, once the work has stopped)
empties `holderIdentity` and sets `leaseDurationSeconds` to 1, so that another replica takes
over at its next step, as client-go's `ReleaseOnCancel` does.

`lost` is set (and the `on_stopped_leading` callbacks called) by whichever call first
notices the end of the term: a step, `check()` or `is_leader` (both cheap, no request). A
step stuck in a slow request does not notice, so an apply should ask `check()` between its
steps; and the elector's own requests should be bounded: give it a connection of its own,
`connect(timeout=retry_s, retry=RetryPolicy(attempts=1))` (its next step is its retry).

How the controller drives it:

    elector = LeaderElector(cluster, cluster.discover(), ElectionConfig(namespace=ns),
                            clock=clock)
    threading.Thread(target=elector.run, args=(stop_election,)).start()
    while not stop_work.is_set():                  # the controller's own loop
        if elector.is_leader:
            term = elector.lost                    # this term's Event
            reconcile(..., stop=term)              # stops between steps once it is set
        clock.wait(interval, stop_work)
    # SIGTERM: set stop_work and let the apply in progress finish or stop between its
    # steps; then set stop_election: `run` releases the Lease and returns.

A controller with a loop of its own may call `try_acquire_or_renew()` every `retry_s`
instead of `run`, then `release()` when its work has stopped.

Leader changes are logged at INFO with `lease`, `identity` and `holder`; a lost term at
WARNING. Time comes from the injected `Clock`; nothing here sleeps by itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from syncer.clock import Clock
from syncer.cluster import Cluster, Discovery, Resource
from syncer.errors import ClusterError, ConfigError, ConflictError
from syncer.microtime import holder_identity, micro
from syncer.model import Obj

__all__ = ["ElectionConfig", "LeaderElector"]

log = logging.getLogger(__name__)
_GROUP = "coordination.k8s.io"


@dataclass(frozen=True)
class ElectionConfig:
    """Which Lease, who we are, and the timings (client-go's defaults)."""

    namespace: str
    name: str = "syncer-leader"
    identity: str = field(default_factory=holder_identity)
    lease_s: int = 15  # a follower takes over this long after the Lease last changed
    renew_deadline_s: float = 10.0  # the leader gives up when no renewal succeeded for this
    retry_s: float = 2.0  # how often a step is made

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise ConfigError(problem, where=f"leader election {self.namespace}/{self.name}")


def _problem(config: ElectionConfig) -> str:
    if not (config.namespace and config.name and config.identity):
        return "namespace, name and identity must not be empty"
    if not 0 < config.retry_s < config.renew_deadline_s < config.lease_s:
        return "the timings must be 0 < retry_s < renew_deadline_s < lease_s"
    return ""


@dataclass(frozen=True)
class _Record:
    """The election record: what the Lease's spec says."""

    holder: str = ""
    duration_s: int = 0
    acquire: str = ""
    renew: str = ""
    transitions: int = 0

    @staticmethod
    def of(lease: Obj) -> _Record:
        spec = lease.get("spec") or {}
        return _Record(str(spec.get("holderIdentity") or ""),
                       int(spec.get("leaseDurationSeconds") or 0),
                       str(spec.get("acquireTime") or ""), str(spec.get("renewTime") or ""),
                       int(spec.get("leaseTransitions") or 0))

    def spec(self) -> Obj:
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.duration_s,
                "acquireTime": self.acquire, "renewTime": self.renew,
                "leaseTransitions": self.transitions}


class LeaderElector:
    """The election of one replica; see the module docs for how to drive it.

    `try_acquire_or_renew` and `release` may be called from one thread at a time (they are
    serialized); `is_leader`, `check`, `lost` and `leader` from any thread.
    """

    def __init__(self, cluster: Cluster, discovery: Discovery, config: ElectionConfig, *,
                 clock: Clock) -> None:
        self.cluster, self.config, self.clock = cluster, config, clock
        self.resource: Resource = discovery.require(_GROUP, "Lease")
        self._lease: Obj | None = None  # as last read or written: its resourceVersion
        self._observed = _Record()
        self._observed_at = self.clock.monotonic()  # when _observed last changed
        self._reported = ""
        self._leading = False
        self._renewed_at = 0.0  # the start of the last step that renewed
        self._lost = threading.Event()
        self._state = threading.Lock()  # _leading, _renewed_at, _lost
        self._step = threading.Lock()  # one step or release at a time
        self._on_stopped: list[Callable[[], None]] = []

    @property
    def is_leader(self) -> bool:
        """Whether we lead now: the same as `check()`."""
        return self.check()

    @property
    def lost(self) -> threading.Event:
        """The current (or last) term's Event, set when that term ends: the renew deadline
        passed, another holder was seen, or `release`. Each new term gets a new, unset Event,
        so an apply keeps the one it read when it started and stops once it is set."""
        return self._lost

    def on_stopped_leading(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time a term ends, as client-go's OnStoppedLeading: from the
        thread that noticed (the election's, at the renew deadline), so that work done as
        leader can stop before its next write rather than at its next check. It must be
        quick and must not raise (setting an Event is the use)."""
        self._on_stopped.append(callback)

    def leader(self) -> str:
        """The holder's identity as last observed; "" when there is none (or not seen yet)."""
        return self._observed.holder

    def check(self) -> bool:
        """Whether we lead, after ending the term if no renewal has succeeded within
        `renew_deadline_s`; cheap (no request), so an apply may call it between steps."""
        with self._state:
            if self._leading and self.clock.monotonic() - self._renewed_at >= \
                    self.config.renew_deadline_s:
                self._end_term("no renewal succeeded within the renew deadline")
            return self._leading

    def try_acquire_or_renew(self) -> bool:
        """One step of the election (module docs): whether we lead after it. Failed requests
        are logged and make the step lost, never raised."""
        with self._step:
            started = self.clock.monotonic()
            self.check()
            won = self._renew_optimistically(started) or self._acquire_or_renew(started)
            self._report()
            return won and self.check()  # not if this step outlasted the renew deadline

    def release(self) -> bool:
        """Stop leading and give the Lease up if it names us (graceful shutdown, once the
        work has stopped): `holderIdentity` empty, `leaseDurationSeconds` 1, so another
        replica takes over at its next step. The term ends whatever happens; whether the
        Lease is left free or not ours (False: the write failed, logged; it runs out)."""
        with self._step:
            with self._state:
                self._end_term("released", level=logging.INFO)
            if self._lease is None or self._observed.holder != self.config.identity:
                return True
            return self._free(self._lease)

    def _free(self, lease: Obj) -> bool:
        now = micro(self.clock.now())
        freed = replace(self._observed, holder="", duration_s=1, acquire=now, renew=now)
        try:
            self._observe(self.cluster.replace(self._with(lease, freed), self.resource))
        except ClusterError as e:
            log.warning("leader Lease not released; it runs out by itself",
                        extra=self._extra(error=e.message))
            return False
        self._report()
        return True

    def run(self, stop: threading.Event) -> None:
        """Step every `retry_s` until `stop` is set, then `release` and return: for a thread
        of its own. Set `stop` only once the work done as leader has stopped."""
        while not stop.is_set():
            self.try_acquire_or_renew()
            if self.clock.wait(self.config.retry_s, stop):
                break
        self.release()

    def _renew_optimistically(self, started: float) -> bool:
        """The leader's fast path: rewrite the Lease it last wrote, without reading it."""
        if not self._leading or self._lease is None or not self._valid():
            return False
        renewed = replace(self._observed, renew=micro(self.clock.now()))
        try:
            written = self.cluster.replace(self._with(self._lease, renewed), self.resource)
        except ClusterError as e:
            log.info("optimistic renewal of the leader Lease failed; reading it",
                     extra=self._extra(error=e.message))
            return False
        return self._won(written, started)

    def _acquire_or_renew(self, started: float) -> bool:
        try:
            found = self.cluster.get(self.resource, namespace=self.config.namespace,
                                     name=self.config.name)
        except ClusterError as e:
            return self._failed("cannot read the leader Lease", e)
        if found is None:
            return self._write(self._fresh(), started, create=True)
        self._observe(found)
        held = self._observed.holder
        if held and held != self.config.identity and self._valid():
            with self._state:
                self._end_term(f"the Lease is held by {held}")
            return False
        return self._write(self._with(found, self._next()), started, create=False)

    def _write(self, lease: Obj, started: float, *, create: bool) -> bool:
        try:
            written = (self.cluster.create if create else self.cluster.replace)(
                lease, self.resource)
        except ConflictError:
            log.debug("another replica wrote the leader Lease first", extra=self._extra())
            return False
        except ClusterError as e:
            return self._failed("cannot write the leader Lease", e)
        return self._won(written, started)

    def _won(self, written: Obj, started: float) -> bool:
        self._observe(written)
        with self._state:
            if not self._leading:
                self._start_term()
            self._renewed_at = started
        return True

    def _failed(self, what: str, error: ClusterError) -> bool:
        log.warning(what, extra=self._extra(error=error.message))
        self.check()
        return False

    def _start_term(self) -> None:
        if self._lost.is_set():
            self._lost = threading.Event()
        self._leading = True
        log.info("leading: this replica holds the leader Lease",
                 extra=self._extra(holder=self.config.identity))

    def _end_term(self, why: str, *, level: int = logging.WARNING) -> None:
        if not self._leading:
            return
        self._leading = False
        self._lost.set()
        log.log(level, "stopped leading", extra=self._extra(reason=why))
        for callback in self._on_stopped:
            callback()

    def _observe(self, lease: Obj) -> None:
        """Keep the Lease (for its resourceVersion); restart the term's count when the
        record changed."""
        self._lease = lease
        record = _Record.of(lease)
        if record != self._observed:
            self._observed, self._observed_at = record, self.clock.monotonic()

    def _valid(self) -> bool:
        """Whether the observed term still runs, on our clock since we saw it change."""
        return self.clock.monotonic() < self._observed_at + self._observed.duration_s

    def _next(self) -> _Record:
        """The record that renews the observed one if ours, or takes it over."""
        now = micro(self.clock.now())
        old = self._observed
        if old.holder == self.config.identity:
            return replace(old, duration_s=self.config.lease_s, renew=now)
        return _Record(self.config.identity, self.config.lease_s, now, now,
                       old.transitions + 1)

    def _fresh(self) -> Obj:
        now = micro(self.clock.now())
        record = _Record(self.config.identity, self.config.lease_s, now, now, 0)
        return {"apiVersion": f"{_GROUP}/v1", "kind": "Lease",
                "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                "spec": record.spec()}

    def _with(self, lease: Obj, record: _Record) -> Obj:
        """`lease` with its spec made of `record` alone, as client-go writes it."""
        return {**lease, "spec": record.spec()}

    def _report(self) -> None:
        """Log a new holder once, as client-go's OnNewLeader is called."""
        holder = self._observed.holder
        if holder == self._reported:
            return
        self._reported = holder
        if holder != self.config.identity:
            log.info("leader changed" if holder else "leader Lease free",
                     extra=self._extra(holder=holder))

    def _extra(self, **more: object) -> dict[str, object]:
        return {"lease": f"{self.config.namespace}/{self.config.name}",
                "identity": self.config.identity, **more}
