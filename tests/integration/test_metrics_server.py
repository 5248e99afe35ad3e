"""`/metrics`, `/healthz` and `/readyz` over real HTTP on 127.0.0.1 (`syncer.metrics`)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from syncer.metrics import Metrics, MetricsServer


@dataclass
class Probes:
    """What the controller's loop would say: settable by the test."""

    live: bool = True
    ready_now: bool = False
    reason: str = "no leader Lease yet"

    def alive(self) -> bool:
        return self.live

    def ready(self) -> tuple[bool, str]:
        return self.ready_now, self.reason


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def probes() -> Probes:
    return Probes()


@pytest.fixture
def server(metrics: Metrics, probes: Probes) -> Iterator[MetricsServer]:
    with MetricsServer(metrics, alive=probes.alive, ready=probes.ready,
                       host="127.0.0.1", port=0) as running:
        yield running


def get(server: MetricsServer, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", timeout=5)


def scraped(server: MetricsServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = get(server, "/metrics")
    assert response.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples if not s.name.endswith(("_created", "_bucket"))}


def test_port_zero_binds_a_free_port_and_says_which(server: MetricsServer) -> None:
    assert server.port > 0
    assert get(server, "/healthz").status_code == 200


def test_metrics_shows_what_happened(server: MetricsServer, metrics: Metrics) -> None:
    metrics.reconciled("shop-dev", seconds=1.5, outcome="applied")
    metrics.reconciled("shop-dev", seconds=0.5, outcome="applied")
    metrics.reconciled("shop-dev", seconds=0.1, outcome="refused")
    metrics.release_applied("shop-dev", 12, at=1_800_000_123.0)
    metrics.drift("shop-dev", 2)
    metrics.apply_error("shop-dev", "server")
    metrics.leader(True)
    duration = "syncer_reconcile_duration_seconds"
    dev = ("channel", "shop-dev")
    assert scraped(server) == {
        (f"{duration}_count", (dev, ("outcome", "applied"))): 2.0,
        (f"{duration}_sum", (dev, ("outcome", "applied"))): 2.0,
        (f"{duration}_count", (dev, ("outcome", "refused"))): 1.0,
        (f"{duration}_sum", (dev, ("outcome", "refused"))): 0.1,
        ("syncer_release_seq", (dev,)): 12.0,
        ("syncer_last_success_timestamp_seconds", (dev,)): 1_800_000_123.0,
        ("syncer_drift_objects", (dev,)): 2.0,
        ("syncer_apply_errors_total", (dev, ("reason", "server"))): 1.0,
        ("syncer_leader", ()): 1.0,
    }


def test_metrics_has_the_exposition_content_type(server: MetricsServer) -> None:
    response = get(server, "/metrics")
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    assert int(response.headers["content-length"]) == len(response.content)


def test_each_scrape_sees_the_values_of_its_time(server: MetricsServer,
                                                 metrics: Metrics) -> None:
    metrics.release_applied("shop-dev", 1, at=10.0)
    assert scraped(server)[("syncer_release_seq", (("channel", "shop-dev"),))] == 1.0
    metrics.release_applied("shop-dev", 2, at=20.0)
    metrics.forget("shop-dev")
    metrics.drift("shop-prod", 0)
    assert scraped(server) == {("syncer_drift_objects", (("channel", "shop-prod"),)): 0.0,
                               ("syncer_leader", ()): 0.0}


def test_readyz_says_why_not_then_ready(server: MetricsServer, probes: Probes) -> None:
    response = get(server, "/readyz")
    assert (response.status_code, response.text) == (503, "no leader Lease yet")
    probes.ready_now = True
    response = get(server, "/readyz")
    assert (response.status_code, response.text) == (200, "ok")


def test_readyz_is_503_when_the_check_itself_fails(metrics: Metrics) -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("loop state unreadable")

    with MetricsServer(metrics, alive=lambda: True, ready=broken, host="127.0.0.1",
                       port=0) as server:
        response = get(server, "/readyz")
    assert (response.status_code, response.text) == (503, "the readiness check failed")


def test_healthz_is_500_when_the_loop_is_not_alive(server: MetricsServer,
                                                   probes: Probes) -> None:
    response = get(server, "/healthz")
    assert (response.status_code, response.text) == (200, "ok")
    probes.live = False
    assert get(server, "/healthz").status_code == 500
    probes.live = True
    assert get(server, "/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/", "/metric", "/metrics/", "/healthz/x", "/favicon.ico"])
def test_any_other_path_is_404(server: MetricsServer, path: str) -> None:
    assert get(server, path).status_code == 404


def test_a_query_string_and_a_request_body_are_ignored(server: MetricsServer,
                                                       probes: Probes) -> None:
    probes.ready_now = True
    response = httpx.request("GET", f"http://127.0.0.1:{server.port}/readyz?verbose=1",
                             content=b"ignored", timeout=5)
    assert (response.status_code, response.text) == (200, "ok")


def test_requests_are_logged_at_debug_and_nothing_goes_to_stderr(
        server: MetricsServer, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # what the server itself writes, not what a handler an earlier in-process CLI run left
    # on the "syncer" logger writes
    monkeypatch.setattr(logging.getLogger("syncer"), "handlers", [])
    with caplog.at_level(logging.DEBUG, logger="syncer.metrics"):
        get(server, "/healthz")
        get(server, "/nowhere")
    lines = [r.getMessage() for r in caplog.records if r.name == "syncer.metrics"]
    assert any('"GET /nowhere HTTP/1.1" 404' in line for line in lines)
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "syncer.metrics")
    assert capfd.readouterr().err == ""


def test_close_frees_the_port_and_a_new_server_may_take_it(metrics: Metrics,
                                                           probes: Probes) -> None:
    server = MetricsServer(metrics, alive=probes.alive, ready=probes.ready,
                           host="127.0.0.1", port=0)
    port = server.port
    assert get(server, "/healthz").status_code == 200
    server.close()
    server.close()
    with pytest.raises(httpx.ConnectError):
        get(server, "/healthz")
    with MetricsServer(metrics, alive=probes.alive, ready=probes.ready,
                       host="127.0.0.1", port=port) as again:
        assert again.port == port
        assert get(again, "/healthz").status_code == 200


def test_a_port_in_use_is_an_error_at_once(metrics: Metrics, probes: Probes) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            MetricsServer(metrics, alive=probes.alive, ready=probes.ready,
                          host="127.0.0.1", port=taken.getsockname()[1])


def test_a_client_that_sends_nothing_is_let_go(server: MetricsServer) -> None:
    """A connection that never sends its request is closed by the server (after the
    handler's timeout), so idle clients cannot hold the server's threads forever."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as idle:
        assert idle.recv(1) == b""  # closed by the server (our own wait would raise)
    assert get(server, "/healthz").status_code == 200
