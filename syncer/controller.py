"""The in-cluster loop (`syncer run`): every Channel followed, applied, healed and reported.

`Controller.run` ticks until told to stop. Each tick (`pass_once`) lists the `Channel`
resources (`channelres`) and, for each, decides from its `Schedule` what is due:

- `requested`: its `syncer.io/reconcile-requested-at` annotation changed: reconcile now;
- `poll`: every `interval` (jittered): read the head on the ledger, one request there and
  none to the API server; reconcile only when the head moved, or the last apply is still
  Progressing;
- `resync`: every `resync`: reconcile the applied release again, to repair drift;
- `retry`: after a failure, with exponential backoff (`Backoff`).

A pass with nothing due makes one request, the LIST of Channels (discovery is kept for
`discovery_ttl`, and read afresh by a pass that reconciles). A reconcile (`ChannelSync`,
in `channelsync`) loads the release through the rendered-release
cache (verified bytes are not fetched or rendered again), checks the channel's lane, plans
against the live objects read as the channel's ServiceAccount, and steps a `SyncRun`,
stopping between steps on SIGTERM or when this replica loses the leader Lease. A release
that does not verify, render or pass policy is Refused: recorded, never retried, and the
last good release stays applied (and is resynced). Status, Events, metrics and
notifications follow each outcome.

With leader election, only the holder of the Lease reconciles; the others keep their
probes answering and wait.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from syncer import channelres
from syncer.backends import Backends
from syncer.channelspec import ChannelSpec
from syncer.channelstatus import OutcomeKind
from syncer.channelsync import ChannelSync, SyncSettings
from syncer.clock import Clock, SystemClock
from syncer.cluster import Cluster, Discovery
from syncer.errors import ClusterError, ConfigError
from syncer.leader import LeaderElector
from syncer.metrics import Metrics
from syncer.notify import Notifier
from syncer.releasecache import ReleaseCache

__all__ = ["Backoff", "Controller", "ControllerOptions", "Schedule"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Waits after consecutive failures: `base` doubling up to `cap`, with up to `jitter`
    of it added at random so that replicas and channels do not retry in step."""

    base: float = 5.0
    cap: float = 300.0
    jitter: float = 0.1

    def after(self, failures: int, rand: float) -> float:
        wait = min(self.base * 2.0 ** max(failures - 1, 0), self.cap)
        return wait * (1 + self.jitter * rand)


@dataclass
class Schedule:
    """When each kind of work is next due for one channel (monotonic seconds)."""

    next_poll: float = 0.0
    next_resync: float = 0.0
    retry_at: float = 0.0
    failures: int = 0

    def due(self, now: float, *, requested: bool) -> str:
        """What to do now: requested, retry, resync, poll, or "" for nothing."""
        if requested:
            return "requested"
        if self.failures:
            return "retry" if now >= self.retry_at else ""
        if now >= self.next_resync:
            return "resync"
        return "poll" if now >= self.next_poll else ""

    def polled(self, now: float, interval: float, rand: float) -> None:
        self.next_poll = now + interval * (1 + 0.1 * rand)

    def succeeded(self, now: float, resync: float, rand: float) -> None:
        self.failures, self.retry_at = 0, 0.0
        self.next_resync = now + resync * (1 + 0.1 * rand)

    def failed(self, now: float, backoff: Backoff, rand: float) -> float:
        self.failures += 1
        wait = backoff.after(self.failures, rand)
        self.retry_at = now + wait
        return wait


@dataclass(frozen=True)
class ControllerOptions:
    namespace: str | None = "syncer-system"  # where Channels are read; None: every one
    tick: float = 1.0  # seconds between two passes over the channels
    discovery_ttl: float = 300.0  # how long discovery serves to list Channels; a pass that
    # reconciles reads it afresh
    backoff: Backoff = field(default_factory=Backoff)
    sync: SyncSettings = field(default_factory=SyncSettings)


class Controller:
    """The loop over every Channel; see the module docs."""

    def __init__(self, cluster: Cluster, *, backends: Callable[[str], Backends],
                 cache: ReleaseCache | None, options: ControllerOptions | None = None,
                 clock: Clock | None = None, metrics: Metrics | None = None,
                 notifier: Notifier | None = None, elector: LeaderElector | None = None,
                 impersonate: Callable[[str], Cluster] | None = None,
                 rand: Callable[[], float] = random.random) -> None:
        self.cluster, self.options = cluster, options or ControllerOptions()
        self.clock = clock or SystemClock()
        self.metrics = metrics or Metrics()
        self.elector, self.rand = elector, rand
        self.stop = threading.Event()
        self.sync = ChannelSync(cluster, backends=backends, cache=cache,
                                settings=self.options.sync, clock=self.clock,
                                metrics=self.metrics, notifier=notifier,
                                impersonate=impersonate)
        if elector is not None:  # a sync in progress stops at its next call, not step
            elector.on_stopped_leading(self.sync.stop_current)
        self.schedules: dict[str, Schedule] = {}
        self.heartbeat = self.clock.monotonic()
        self.listed: tuple[bool, str] = (False, "Channels not listed yet")
        self._discovery: Discovery | None = None
        self._discovered_at = 0.0
        self._bad: set[str] = set()

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Pass over the channels every `tick` until `shutdown`."""
        log.info("controller started", extra={"namespace": self.options.namespace or "*"})
        while not self.stop.is_set():
            self.pass_once()
            self.clock.wait(self.options.tick, self.stop)
        log.info("controller stopped")

    def shutdown(self) -> None:
        """Stop the loop; a sync in progress stops at its next step (SIGTERM)."""
        self.stop.set()
        self.sync.stop_current()

    def close(self) -> None:
        """After the loop: send the notifications still queued."""
        self.sync.close()

    def pass_once(self) -> list[str]:
        """One pass: list the Channels, and do for each what is due. The Channels whose
        reconcile in this pass Failed or was Refused (`syncer run --once` exits 1 then)."""
        self.heartbeat = self.clock.monotonic()
        self.sync.last.clear()
        if not self._leading():
            return []
        self._pass()
        return sorted(ref for ref, kind in self.sync.last.items()
                      if kind in (OutcomeKind.FAILED, OutcomeKind.REFUSED))

    def _pass(self) -> None:
        try:
            known, just_read = self._known()
            specs, bad = channelres.list_channels(self.cluster, known,
                                                  namespace=self.options.namespace)
        except (ClusterError, ConfigError) as e:
            self._discovery = None  # a CRD removed or reinstalled: read it again
            self.listed = (False, f"cannot list Channels: {e}")
            log.warning("cannot list Channels", extra={"error": str(e)})
            return
        self.listed = (True, "")
        self._report_bad(bad)
        self._forget_gone({s.ref for s in specs})
        # a discovery read for the listing just now serves the reconciles of this pass too
        fresh = [known] if just_read else []
        for spec in specs:
            if self.stop.is_set() or not self._leading():
                return
            self._one(spec, known, partial(self._fresh, fresh))
            self.heartbeat = self.clock.monotonic()

    def _known(self) -> tuple[Discovery, bool]:
        """Discovery as last read, read again once it is `discovery_ttl` old (and whether it
        was read now): enough to list the Channels and write their status, so that a pass
        with nothing due makes one request (the LIST of Channels), not one per API group."""
        now = self.clock.monotonic()
        if self._discovery is None or now - self._discovered_at >= self.options.discovery_ttl:
            self._discovery, self._discovered_at = self.cluster.discover(), now
            return self._discovery, True
        return self._discovery, False

    def _fresh(self, memo: list[Discovery]) -> Discovery:
        """Discovery read now, once per pass, for the reconciles of that pass."""
        if not memo:
            memo.append(self.cluster.discover())
            self._discovery, self._discovered_at = memo[0], self.clock.monotonic()
        return memo[0]

    # --- probes --------------------------------------------------------------------------

    def alive(self) -> bool:
        """The loop has ticked lately (a sync's steps tick it too)."""
        limit = max(60.0, 3 * self.options.tick) + self.options.sync.health_timeout
        return self.clock.monotonic() - max(self.heartbeat, self.sync.heartbeat) < limit

    def ready(self) -> tuple[bool, str]:
        """Ready once the Channels could be listed (a standby replica is ready too)."""
        if self.elector is not None and not self.elector.is_leader:
            return True, ""
        return self.listed

    # --- one channel ---------------------------------------------------------------------

    def _one(self, spec: ChannelSpec, discovery: Discovery,
             fresh: Callable[[], Discovery]) -> None:
        now = self.clock.monotonic()
        schedule = self.schedules.setdefault(spec.ref, Schedule())
        self.metrics.suspended(spec.channel, spec.suspend)
        if spec.suspend:
            self.sync.suspended(spec, discovery)
            return
        why = schedule.due(now, requested=spec.reconcile_pending)
        if not why:
            return
        if why == "poll":
            schedule.polled(now, spec.interval_s, self.rand())
            if not self.sync.head_moved(spec, discovery):
                return
        ok = self.sync.reconcile(spec, fresh(), why=why, stop=self._stop_for_sync)
        now = self.clock.monotonic()
        schedule.polled(now, spec.interval_s, self.rand())
        if ok:
            schedule.succeeded(now, spec.resync_s, self.rand())
        else:
            wait = schedule.failed(now, self.options.backoff, self.rand())
            log.info("reconcile failed; retrying later", extra={
                "channel": spec.channel, "failures": schedule.failures,
                "retry_in_s": round(wait, 1)})

    def _stop_for_sync(self) -> bool:
        """Whether a sync in progress must stop: shutdown, or leadership lost."""
        return self.stop.is_set() or (self.elector is not None and not self.elector.check())

    def _leading(self) -> bool:
        if self.elector is None:
            return True
        leading = self.elector.is_leader
        self.metrics.leader(leading)
        return leading

    def _report_bad(self, bad: list[ConfigError]) -> None:
        """Log each invalid Channel once (until it changes)."""
        for error in bad:
            if str(error) not in self._bad:
                log.error("Channel ignored: invalid", extra={"error": str(error)})
        self._bad = {str(e) for e in bad}

    def _forget_gone(self, present: set[str]) -> None:
        for ref in set(self.schedules) - present:
            del self.schedules[ref]
            self.sync.forget(ref)
