"""What the controller tells the outside, end to end: `/metrics` scraped over HTTP and
webhooks POSTed to a receiver on 127.0.0.1, while `Controller.pass_once`, driven by the
test, reconciles against the Kubernetes API stand-in over real HTTP (no kube-apiserver runs
here; the stand-in's own tests replay transcripts of a real one). Releases are published by
the git hook to the local ledger and blob store; time is a `ManualClock`, advanced by the
test (each reconcile's duration is the clock's time, 0 when it waited for nothing).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from controlled import (
    apply_channel,
    blob_path,
    channel,
    condition,
    controller_with,
    install_crd,
    local_backends,
)
from fakeclock import ManualClock
from helpers import commit_and_push, edit
from prometheus_client.parser import text_string_to_metric_families
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.channelsync import SyncSettings
from syncer.cluster import KubeCluster, connect
from syncer.controller import Controller
from syncer.metrics import Metrics, MetricsServer
from syncer.notify import Notifier

INTERVAL = 30.0
RESYNC = 300.0
APP = "shop-dev"
WRITE = "/namespaces/shop-dev/configmaps/shop-config$"


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    return found


def settle(loop: Controller, clock: ManualClock, cluster: KubeCluster) -> None:
    """The head applied, then healthy at the next poll."""
    loop.pass_once()
    clock.advance(INTERVAL)
    loop.pass_once()
    assert condition(channel(cluster), "Ready")["status"] == "True"


def release_2(pushed: Path, home: Path) -> None:
    """Release 2: shop-config changes, and a new ConfigMap comes with it."""
    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    (pushed / "templates" / "zz-extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: zz-extra}\ndata: {a: '1'}\n")
    commit_and_push(pushed, home, "Debug logs and an extra ConfigMap")


def by_hand(cluster: KubeCluster, name: str, data: dict[str, str]) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": name, "namespace": APP}, "data": data},
                  cluster.discover().require("", "ConfigMap"), manager="kubectl")


class Hooks(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1: answers 200 and keeps each JSON body POSTed."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def outcomes(self) -> list[tuple[str, int]]:
        with self.lock:
            return [(r["outcome"], r["seq"]) for r in self.received]


class _HookHandler(BaseHTTPRequestHandler):
    server: Hooks

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    server = Hooks()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


# --- /metrics --------------------------------------------------------------------------------

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: MetricsServer) -> Samples:
    response = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
    assert response.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples if not s.name.endswith(("_created", "_bucket"))}


def of_channel(samples: Samples) -> dict[str, float]:
    """The channel's samples, named `name` or `name{label=value}` past the channel."""
    out = {}
    for (name, labels), value in samples.items():
        rest = [f"{k}={v}" for k, v in labels if k != "channel"]
        if ("channel", APP) in labels:
            out[f"{name}{{{','.join(rest)}}}" if rest else name] = value
    return out


def test_metrics_show_what_the_controller_did(
        pushed: Path, home: Path, cluster: KubeCluster, api: KubeApiServer) -> None:
    apply_channel(cluster)
    clock, metrics = ManualClock(), Metrics()
    loop = controller_with(cluster, home, clock, metrics=metrics)
    duration = "syncer_reconcile_duration_seconds"
    with MetricsServer(metrics, alive=loop.alive, ready=loop.ready, host="127.0.0.1",
                       port=0) as server:
        loop.pass_once()  # release 1 written, its Deployment progressing
        assert of_channel(scrape(server)) == {
            f"{duration}_count{{outcome=applied}}": 1, f"{duration}_sum{{outcome=applied}}": 0,
            "syncer_drift_objects": 0, "syncer_channel_suspended": 0}
        clock.advance(INTERVAL)
        loop.pass_once()  # healthy now: release 1 is applied in full
        settled = clock.now()
        assert of_channel(scrape(server)) == {
            f"{duration}_count{{outcome=applied}}": 1, f"{duration}_sum{{outcome=applied}}": 0,
            f"{duration}_count{{outcome=unchanged}}": 1,
            f"{duration}_sum{{outcome=unchanged}}": 0,
            "syncer_release_seq": 1, "syncer_last_success_timestamp_seconds": settled,
            "syncer_drift_objects": 0, "syncer_channel_suspended": 0}

        by_hand(cluster, "shop-config", {"LOG_LEVEL": "trace"})
        by_hand(cluster, "zz-by-hand", {"LOG_LEVEL": "trace"})  # not the channel's
        cluster.delete(cluster.discover().require("", "Service"), namespace=APP, name="web")
        clock.advance(RESYNC)
        loop.pass_once()  # two managed objects drifted (one changed, one deleted)
        got = of_channel(scrape(server))
        assert got["syncer_drift_objects"] == 2
        assert got[f"{duration}_count{{outcome=applied}}"] == 2
        assert got["syncer_last_success_timestamp_seconds"] == clock.now()

        release_2(pushed, home)
        api.faults.add(Fault(method="PATCH", path=WRITE, dry_run=False, status=500,
                             times=1000))
        clock.advance(INTERVAL)
        loop.pass_once()
        clock.advance(6.0)
        loop.pass_once()  # retried once after its backoff
        got = of_channel(scrape(server))
        assert got["syncer_apply_errors_total{reason=server}"] == 2
        assert got[f"{duration}_count{{outcome=failed}}"] == 2
        assert got["syncer_release_seq"] == 1
        last_success = got["syncer_last_success_timestamp_seconds"]
        assert last_success < clock.now()

        api.faults.clear()
        clock.advance(11.0)
        loop.pass_once()
        got = of_channel(scrape(server))
        assert got["syncer_release_seq"] == 2
        assert got["syncer_last_success_timestamp_seconds"] == clock.now()
        assert got["syncer_drift_objects"] == 0
        assert got["syncer_apply_errors_total{reason=server}"] == 2
        assert httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5).text == "ok"
        assert httpx.get(f"http://127.0.0.1:{server.port}/readyz", timeout=5).text == "ok"

        channels = cluster.discover().require("syncer.io", "Channel")
        cluster.delete(channels, namespace="syncer-system", name=APP)
        loop.pass_once()  # the Channel is gone: so are its series
        assert of_channel(scrape(server)) == {}


# --- notifications ---------------------------------------------------------------------------

def test_each_release_is_notified_once_per_outcome(
        pushed: Path, home: Path, cluster: KubeCluster, api: KubeApiServer,
        hooks: Hooks) -> None:
    apply_channel(cluster, notify=[{"url": hooks.url, "format": "json"}])
    clock = ManualClock()
    loop = controller_with(cluster, home, clock, notifier=Notifier(),
                           settings=SyncSettings(workers=2, cluster_name="test"))
    settle(loop, clock, cluster)
    for _ in range(2):  # resyncs with nothing to do: nothing to tell
        clock.advance(RESYNC * 1.2)
        loop.pass_once()

    release_2(pushed, home)
    api.faults.add(Fault(method="PATCH", path=WRITE, dry_run=False, status=500, times=1000))
    clock.advance(INTERVAL)
    loop.pass_once()
    for backoff in (6.0, 11.0, 21.0):
        clock.advance(backoff)
        loop.pass_once()
    api.faults.clear()
    clock.advance(41.0)
    loop.pass_once()
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 2

    edit(pushed / "values" / "dev.yaml", "logLevel: debug", "logLevel: warn")
    commit_and_push(pushed, home, "Quieter logs")  # release 3, altered in the blob store
    blob = blob_path(home, 3)
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    for _ in range(3):
        clock.advance(INTERVAL)
        loop.pass_once()
    clock.advance(RESYNC)
    loop.pass_once()
    loop.close()
    assert hooks.outcomes() == [("applied", 1), ("failed", 2), ("applied", 2), ("refused", 3)]
    release = local_backends(home).ledger.release(APP, 3)
    refused = hooks.received[-1]
    assert refused == {
        "source": "syncer", "channel": APP, "outcome": "refused", "reason": "ReleaseRefused",
        "seq": 3, "blobId": release.blob_id, "sha256": release.sha256,
        "commit": release.commit, "message": refused["message"],
        "time": refused["time"], "cluster": "test"}
    assert refused["message"].startswith("release 3 refused: blob ")
    assert "ConfigMap/shop-dev/shop-config" in hooks.received[1]["message"]
