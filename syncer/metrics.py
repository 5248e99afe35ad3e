"""What `syncer run` tells Prometheus and the kubelet: its metrics, `/healthz` and `/readyz`.

`Metrics` owns its own `CollectorRegistry`, never prometheus_client's global one, so that
tests and several controllers in one process do not collide. Its methods are named for what
happened; the controller calls them and nothing else touches the metrics:

    syncer_reconcile_duration_seconds{channel, outcome}   histogram  `reconciled`
        outcome: applied (a new release, or drift repaired, was written), unchanged
        (nothing differed), failed (could not be applied this time), refused (must never
        be applied as it is); one observation per reconcile of a channel
    syncer_release_seq{channel}                           gauge      `release_applied`
        the seq of the release last applied (or re-applied) in full
    syncer_last_success_timestamp_seconds{channel}        gauge      `release_applied`
        when that was, seconds since the epoch
    syncer_drift_objects{channel}                         gauge      `drift`
        objects whose live state differed from the release at the last check
    syncer_apply_errors_total{channel, reason}            counter    `apply_error`
        reconciles whose apply failed, by `reason`: a small closed set (`REASONS`, see
        `error_reason`), never an object's name, so that the series stay few
    syncer_channel_suspended{channel}                     gauge      `suspended`
        1 while the Channel's spec says `suspend: true`
    syncer_leader                                         gauge      `leader`
        1 while this replica holds the leader Lease

`forget(channel)` removes every series of a channel, when its Channel is deleted.

`MetricsServer` serves `GET /metrics` (the text exposition format), `GET /healthz` (200
"ok" while `alive()`, else 500) and `GET /readyz` (200 "ok" when `ready()` says so, else
503 with its reason) on one port. It is the standard library's `ThreadingHTTPServer` in a
daemon thread rather than prometheus_client's `start_http_server` or WSGI app: those serve
the metrics on every path and have no place for the probes, so a dispatcher would be needed
around them anyway; here the three routes sit in one function, `generate_latest` does the
exposition, requests are logged through `logging` at DEBUG instead of to stderr, and
`close()` stops the server and joins its thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final, Literal, get_args
from urllib.parse import urlsplit

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from syncer.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    ConflictError,
    ForbiddenError,
    GroupUnavailableError,
    InvalidError,
    LockedError,
    NotFoundError,
    OwnershipError,
    ServerError,
    TooManyRequestsError,
    UnhealthyError,
    UnsafePruneError,
    cut,
)

__all__ = ["OUTCOMES", "REASONS", "Metrics", "MetricsServer", "Outcome", "Reason",
           "error_reason"]

_log = logging.getLogger(__name__)

Outcome = Literal["applied", "unchanged", "failed", "refused"]
Reason = Literal["forbidden", "invalid", "conflict", "not_found", "throttled", "server",
                 "timeout", "connection", "ownership", "group_unavailable", "unsafe_prune",
                 "locked", "unhealthy", "other"]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)
REASONS: Final[tuple[Reason, ...]] = get_args(Reason)

_REASON_OF: Final[dict[type[BaseException], Reason]] = {
    ForbiddenError: "forbidden", InvalidError: "invalid", ConflictError: "conflict",
    NotFoundError: "not_found", TooManyRequestsError: "throttled", ServerError: "server",
    ApiTimeoutError: "timeout", ApiConnectionError: "connection", OwnershipError: "ownership",
    GroupUnavailableError: "group_unavailable", UnsafePruneError: "unsafe_prune",
    LockedError: "locked", UnhealthyError: "unhealthy",
}

# From a no-op reconcile (tens of ms) to a release waiting on slow rollouts (minutes).
_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def error_reason(error: BaseException) -> Reason:
    """The `reason` label of an error that stopped an apply: its class's, else "other"."""
    for kind in type(error).__mro__:
        if kind in _REASON_OF:
            return _REASON_OF[kind]
    return "other"


def _check(value: str, allowed: tuple[str, ...], label: str) -> None:
    if value not in allowed:
        raise ValueError(f"{label} {value!r} is not one of {', '.join(allowed)}")


class Metrics:
    """The controller's metrics, in a registry of their own (`registry`); module docs."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._duration = Histogram(
            "syncer_reconcile_duration_seconds", "Time taken by one reconcile of a channel.",
            ["channel", "outcome"], buckets=_BUCKETS, registry=r)
        self._seq = Gauge("syncer_release_seq", "Seq of the release last applied.",
                          ["channel"], registry=r)
        self._success = Gauge("syncer_last_success_timestamp_seconds",
                              "When a release was last applied, seconds since the epoch.",
                              ["channel"], registry=r)
        self._drift = Gauge("syncer_drift_objects",
                            "Objects whose live state differed at the last check.",
                            ["channel"], registry=r)
        self._errors = Counter("syncer_apply_errors_total", "Reconciles whose apply failed.",
                               ["channel", "reason"], registry=r)
        self._suspended = Gauge("syncer_channel_suspended", "1 while the channel is suspended.",
                                ["channel"], registry=r)
        self._leader = Gauge("syncer_leader", "1 while this replica holds the leader Lease.",
                             registry=r)

    def reconciled(self, channel: str, *, seconds: float, outcome: Outcome) -> None:
        """One reconcile of `channel` ended with `outcome` after `seconds`."""
        _check(outcome, OUTCOMES, "outcome")
        self._duration.labels(channel, outcome).observe(max(seconds, 0.0))

    def release_applied(self, channel: str, seq: int, *, at: float) -> None:
        """Release `seq` of `channel` was applied in full at `at` (seconds since the epoch)."""
        self._seq.labels(channel).set(seq)
        self._success.labels(channel).set(at)

    def drift(self, channel: str, objects: int) -> None:
        """The last check of `channel` found `objects` objects drifted (0: none)."""
        self._drift.labels(channel).set(objects)

    def apply_error(self, channel: str, reason: Reason) -> None:
        """An apply of `channel` failed, for `reason` (`error_reason` of its error)."""
        _check(reason, REASONS, "reason")
        self._errors.labels(channel, reason).inc()

    def suspended(self, channel: str, suspended: bool) -> None:
        """Whether `channel`'s Channel says `suspend: true`."""
        self._suspended.labels(channel).set(1 if suspended else 0)

    def leader(self, holding: bool) -> None:
        """Whether this replica holds the leader Lease."""
        self._leader.set(1 if holding else 0)

    def forget(self, channel: str) -> None:
        """Remove every series of `channel`: its Channel was deleted."""
        for gauge in (self._seq, self._success, self._drift, self._suspended):
            _remove(gauge, channel)
        for outcome in OUTCOMES:
            _remove(self._duration, channel, outcome)
        for reason in REASONS:
            _remove(self._errors, channel, reason)

    def exposition(self) -> bytes:
        """Every sample, in the text format that `/metrics` serves."""
        return generate_latest(self.registry)


def _remove(metric: Gauge | Histogram | Counter, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # prometheus_client < 0.22 raises on an absent one
        metric.remove(*labels)


Alive = Callable[[], bool]
Ready = Callable[[], tuple[bool, str]]
_TEXT: Final = "text/plain; charset=utf-8"


def _alive(alive: Alive) -> tuple[int, str, bytes]:
    try:
        ok = alive()
    except Exception:
        _log.warning("the liveness check failed", exc_info=True)
        ok = False
    return (200, _TEXT, b"ok") if ok else (500, _TEXT, b"not alive")


def _ready(ready: Ready) -> tuple[int, str, bytes]:
    try:
        ok, reason = ready()
    except Exception:
        _log.warning("the readiness check failed", exc_info=True)
        ok, reason = False, "the readiness check failed"
    if ok:
        return 200, _TEXT, b"ok"
    return 503, _TEXT, cut(reason or "not ready").encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: Metrics, alive: Alive,
                 ready: Ready) -> None:
        super().__init__(address, _Handler)
        self.metrics, self.alive, self.ready = metrics, alive, ready

    def answer(self, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for a GET of `path`."""
        route = urlsplit(path).path
        if route == "/metrics":
            return 200, CONTENT_TYPE_LATEST, self.metrics.exposition()
        if route == "/healthz":
            return _alive(self.alive)
        if route == "/readyz":
            return _ready(self.ready)
        return 404, _TEXT, b"not found"

    def handle_error(self, request: object, client_address: object) -> None:
        # the default prints a traceback to stderr (a client gone mid-answer, mostly)
        _log.debug("metrics server: request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "syncer"
    sys_version = ""
    timeout = 10  # a client that sends nothing (or one byte a minute) lets go of its thread

    def do_GET(self) -> None:
        status, content_type, body = self.server.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        _log.debug("metrics server: " + format, *args)


class MetricsServer:
    """`/metrics`, `/healthz` and `/readyz` on `host:port` (port 0: any free one, then read
    `port`), served from a daemon thread from construction until `close()` (module docs).

    `alive()` says whether the controller's loop is alive; `ready()` whether it is ready,
    with the reason why not. Both are called on every probe, from the server's threads.
    """

    def __init__(self, metrics: Metrics, *, alive: Alive, ready: Ready,
                 host: str = "0.0.0.0", port: int = 8080) -> None:
        self._server = _Server((host, port), metrics, alive, ready)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="syncer-metrics", daemon=True)
        self._thread.start()
        _log.info("serving metrics and probes", extra={"address": f"{host}:{self.port}"})

    @property
    def port(self) -> int:
        """The port bound: the one asked for, or the one chosen for port 0."""
        return int(self._server.server_address[1])

    def close(self) -> None:
        """Stop serving, free the port and join the thread; a second call does nothing."""
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
