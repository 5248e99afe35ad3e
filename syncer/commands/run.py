"""`syncer run`: the controller, in the cluster (or from a laptop), until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from syncer.commands import common
from syncer.errors import ClusterError, ConfigError

if TYPE_CHECKING:
    from syncer.backends import Backends
    from syncer.cluster import KubeCluster
    from syncer.controller import Controller
    from syncer.leader import ElectionConfig, LeaderElector
    from syncer.metrics import Metrics

__all__ = ["add_parser"]

log = logging.getLogger(__name__)


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("run", help="run the controller: follow every Channel, apply, heal",
                       description="The in-cluster controller. It reads the Channel "
                       "resources of a namespace (or of all), polls each channel's head on "
                       "its ledger, applies every new release wave by wave, repairs drift "
                       "every resync interval, and reports in each Channel's status, in "
                       "Events, on /metrics and to the channel's webhooks. /healthz and "
                       "/readyz answer on the metrics port. SIGTERM stops it between two "
                       "steps of a sync.")
    p.add_argument("-n", "--namespace", default="syncer-system",
                   help="the Channels' namespace (default syncer-system)")
    p.add_argument("-A", "--all-namespaces", action="store_true",
                   help="follow the Channels of every namespace")
    p.add_argument("--metrics-address", default="0.0.0.0",
                   help="address of /metrics, /healthz, /readyz (default 0.0.0.0)")
    p.add_argument("--metrics-port", type=int, default=8080,
                   help="their port (default 8080; 0 picks a free one)")
    p.add_argument("--leader-elect", action="store_true",
                   help="hold a Lease before applying, so that of several replicas one "
                   "applies at a time")
    p.add_argument("--lease-name", default="syncer-leader",
                   help="the leader Lease (default syncer-leader)")
    p.add_argument("--lease-duration", type=_positive(int), default=15, metavar="SECONDS",
                   help="a standby takes the leader Lease over this long after it last "
                   "changed (default 15)")
    p.add_argument("--renew-deadline", type=_positive(float), default=10.0,
                   metavar="SECONDS", help="the leader stops applying when no renewal "
                   "succeeded for this long; less than --lease-duration (default 10)")
    p.add_argument("--retry-period", type=_positive(float), default=2.0, metavar="SECONDS",
                   help="seconds between two steps of the election; less than "
                   "--renew-deadline (default 2)")
    p.add_argument("--tick", type=float, default=1.0,
                   help="seconds between two passes over the Channels (default 1)")
    p.add_argument("--health-timeout", type=float, default=300.0,
                   help="seconds a wave may stay Progressing before the sync stops "
                   "(default 300)")
    p.add_argument("--cluster-name", help="this cluster's name in notifications")
    p.add_argument("--once", action="store_true",
                   help="one pass over the Channels, then exit")
    common.cluster_args(p)  # the inventory namespace also holds the locks and the leader Lease
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer.cluster import connect  # noqa: PLC0415
    from syncer.metrics import Metrics, MetricsServer  # noqa: PLC0415

    election_config = _election_config(args)  # refused timings: before connecting
    cluster = connect(kubeconfig=args.kubeconfig, context=args.context,
                      connections=args.workers + 4)
    metrics = Metrics()
    elector = _elector(args, election_config) if election_config else None
    controller = _controller(args, cluster, metrics, elector)
    stop_election = threading.Event()
    election = threading.Thread(target=elector.run, args=(stop_election,), daemon=True,
                                name="leader-election") if elector else None
    with MetricsServer(metrics, alive=controller.alive, ready=controller.ready,
                       host=args.metrics_address, port=args.metrics_port) as server:
        log.info("serving /metrics, /healthz, /readyz", extra={"port": server.port})
        _on_signals(controller)
        if elector is not None and election is not None:
            _first_step(elector, once=args.once)
            election.start()
        try:
            if not args.once:
                controller.run()
                return 0
            return _report(controller.pass_once())
        finally:
            controller.close()
            stop_election.set()  # after the loop: the Lease is released once work stopped
            if election is not None:
                election.join(timeout=30)


def _controller(args: argparse.Namespace, cluster: KubeCluster, metrics: Metrics,
                elector: LeaderElector | None) -> Controller:
    from syncer.channelsync import SyncSettings  # noqa: PLC0415
    from syncer.controller import Controller, ControllerOptions  # noqa: PLC0415
    from syncer.notify import Notifier  # noqa: PLC0415
    from syncer.releasecache import ReleaseCache  # noqa: PLC0415

    settings = SyncSettings(inventory_namespace=args.inventory_namespace, workers=args.workers,
                            health_timeout=args.health_timeout,
                            cluster_name=args.cluster_name)
    options = ControllerOptions(namespace=None if args.all_namespaces else args.namespace,
                                tick=args.tick, sync=settings)
    home = common.home(args)
    return Controller(cluster, backends=_profiles(args), cache=ReleaseCache.under(home),
                      options=options, metrics=metrics, notifier=Notifier(),
                      elector=elector, impersonate=cluster.as_user)


def _profiles(args: argparse.Namespace) -> Callable[[str], Backends]:
    """The backends of each profile a Channel names, opened once."""
    from syncer.backends import open_backends, select_profile  # noqa: PLC0415

    home = common.home(args)
    opened: dict[str, Backends] = {}

    def backends(name: str) -> Backends:
        if name not in opened:
            opened[name] = open_backends(select_profile(name, home=home), home=home)
        return opened[name]

    return backends


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type: seconds above 0, a whole number if `kind` is int."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            whole = "whole " if kind is int else ""
            raise argparse.ArgumentTypeError(f"{text!r} is not a {whole}number of seconds "
                                             "above 0")
        return value

    return parse


def _election_config(args: argparse.Namespace) -> ElectionConfig | None:
    """The election's settings with --leader-elect (ConfigError when the timings cannot
    work), else None."""
    from syncer.leader import ElectionConfig  # noqa: PLC0415

    if not args.leader_elect:
        return None
    if not args.retry_period < args.renew_deadline < args.lease_duration:
        raise ConfigError(f"--retry-period {args.retry_period:g} < --renew-deadline "
                          f"{args.renew_deadline:g} < --lease-duration "
                          f"{args.lease_duration} does not hold", where="syncer run")
    return ElectionConfig(namespace=args.inventory_namespace, name=args.lease_name,
                          lease_s=args.lease_duration, renew_deadline_s=args.renew_deadline,
                          retry_s=args.retry_period)


def _elector(args: argparse.Namespace, config: ElectionConfig) -> LeaderElector:
    """Its own connection, with requests as short as its retry period: a step stuck on a
    request must not outlast the renew deadline."""
    from syncer.clock import SystemClock  # noqa: PLC0415
    from syncer.cluster import RetryPolicy, connect  # noqa: PLC0415
    from syncer.leader import LeaderElector  # noqa: PLC0415

    cluster = connect(kubeconfig=args.kubeconfig, context=args.context,
                      timeout=config.retry_s, retry=RetryPolicy(attempts=1))
    return LeaderElector(cluster, cluster.discover(), config, clock=SystemClock())


def _first_step(elector: LeaderElector, *, once: bool) -> None:
    """One step of the election before the first pass, so that a replica that can lead
    leads from its first pass: `--once` would otherwise pass before the election thread
    made its first step, and do nothing."""
    if elector.try_acquire_or_renew():
        return
    holder = elector.leader()
    if once and not holder:  # not another replica: the Lease could not be read or taken
        raise ClusterError("cannot take the leader Lease (the warning above says why); "
                           "nothing done", where=f"Lease/{elector.config.namespace}/"
                                                 f"{elector.config.name}")
    level = logging.WARNING if once else logging.INFO
    log.log(level, "another replica leads; this one follows" + (
        ": nothing done" if once else ""), extra={"holder": holder})


def _report(unsettled: list[str]) -> int:
    """`--once`: 1 when a Channel's reconcile Failed or was Refused (its status says why),
    each named on stderr."""
    for ref in unsettled:
        print(f"syncer: {ref} did not reach Ready (see its status)", file=sys.stderr)
    return 1 if unsettled else 0


def _on_signals(controller: Controller) -> None:
    """SIGTERM and SIGINT stop the loop; a sync in progress stops at its next step."""
    def stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        controller.shutdown()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
