"""What a resync costs the controller, in-process (`Controller.pass_once` driven by the
test) against the Kubernetes API stand-in over real HTTP (no kube-apiserver runs here; the
stand-in's own tests replay transcripts of a real one): the API requests of a resync with
nothing to do, counted from syncer.cluster's DEBUG `api request` record (one per request,
retries included), do not grow with the release's objects; and a release verified once is
loaded from the rendered-release cache, not fetched (nor rendered) again. Time is a
`ManualClock`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from controlled import (
    NS,
    apply_channel,
    blob_path,
    channel,
    channel_events,
    condition,
    controller_with,
    get_object,
    install_crd,
)
from fakeclock import ManualClock
from helpers import commit_and_push
from syncer_standins.kubeapi import KubeApiServer

from syncer.cluster import KubeCluster, connect
from syncer.config import Home
from syncer.controller import Controller
from syncer.metrics import Metrics
from syncer.releasecache import ReleaseCache

INTERVAL = 30.0
RESYNC = 300.0
APP = "shop-dev"


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    return found


def extra_configmaps(pushed: Path, home: Path, count: int) -> None:
    """The next release: the app and `count` more ConfigMaps."""
    for old in (pushed / "templates").glob("extra-*.yaml"):
        old.unlink()
    for i in range(count):
        (pushed / "templates" / f"extra-{i:02}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra-{i:02}}}\n"
            f"data: {{n: '{i}'}}\n")
    commit_and_push(pushed, home, f"{count} extra ConfigMaps")


def requests_of_a_resync(loop: Controller, clock: ManualClock,
                         caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(method, path) of each API request of the next pass, a resync."""
    clock.advance(RESYNC * 1.2)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="syncer.cluster"):
        loop.pass_once()
    return [(r.__dict__["method"], r.__dict__["path"]) for r in caplog.records
            if r.name == "syncer.cluster" and r.getMessage() == "api request"]


def test_a_no_op_resync_makes_as_many_requests_for_50_objects_as_for_5(
        pushed: Path, home: Path, cluster: KubeCluster,
        caplog: pytest.LogCaptureFixture) -> None:
    apply_channel(cluster)
    clock, metrics = ManualClock(), Metrics()
    loop = controller_with(cluster, home, clock, metrics=metrics)
    counted = {}
    for count in (5, 50):
        extra_configmaps(pushed, home, count)
        clock.advance(INTERVAL)
        loop.pass_once()  # applied
        clock.advance(INTERVAL)
        loop.pass_once()  # healthy
        assert get_object(cluster, "ConfigMap", f"extra-{count - 1:02}") is not None
        counted[count] = requests_of_a_resync(loop, clock, caplog)
        assert condition(channel(cluster), "Ready")["status"] == "True"
        assert metrics.registry.get_sample_value("syncer_drift_objects",
                                                 {"channel": APP}) == 0
    assert channel_events(cluster, "DriftRepaired") == []
    assert counted[5]  # the records were seen
    assert sorted(counted[5]) == sorted(counted[50])  # the same requests, as many
    writes = [(m, p) for m, p in counted[50] if m != "GET"]
    assert writes == [("PATCH", f"/apis/syncer.io/v1alpha1/namespaces/{NS}/channels/{APP}"
                                "/status")]  # the status only: no apply, no dry run, no Event
    lists = [p for m, p in counted[50] if p.startswith(f"/api/v1/namespaces/{APP}/")]
    assert sorted(lists) == [f"/api/v1/namespaces/{APP}/configmaps",
                             f"/api/v1/namespaces/{APP}/services"]  # one LIST per kind
    assert [p for _, p in counted[50] if p == "/apis"] == ["/apis"]  # discovery once a pass


def test_a_verified_release_is_not_fetched_again(
        pushed: Path, home: Path, cluster: KubeCluster,
        caplog: pytest.LogCaptureFixture) -> None:
    apply_channel(cluster)
    clock = ManualClock()
    cache = ReleaseCache.under(Home(home))
    loop = controller_with(cluster, home, clock, cache=cache)
    with caplog.at_level(logging.INFO, logger="syncer.releasecache"):
        loop.pass_once()
        clock.advance(INTERVAL)
        loop.pass_once()
    assert [r.getMessage() for r in caplog.records if r.name == "syncer.releasecache"] == [
        "rendered release cached",  # fetched, verified and rendered once
        "release loaded from the cache"]  # the poll that saw the rollout through
    blob_path(home, 1).unlink()  # gone from the blob store: only the cache has it
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "shop-config", "namespace": APP},
                   "data": {"LOG_LEVEL": "trace"}},
                  cluster.discover().require("", "ConfigMap"), manager="kubectl")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="syncer.releasecache"):
        clock.advance(RESYNC)
        loop.pass_once()
    live = get_object(cluster, "ConfigMap", "shop-config")
    assert live is not None and live["data"]["LOG_LEVEL"] == "info"  # healed, from the cache
    assert condition(channel(cluster), "Ready")["status"] == "True"
    assert [r.getMessage() for r in caplog.records if r.name == "syncer.releasecache"] == \
        ["release loaded from the cache"]

    again = controller_with(cluster, home, clock, cache=cache)  # a restart: the cache is
    again.pass_once()                                           # on disk
    assert condition(channel(cluster), "Ready")["status"] == "True"
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 1

    uncached = controller_with(cluster, home, clock)
    uncached.pass_once()  # without the cache the release must be fetched: it is gone
    ready = condition(channel(cluster), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ReleaseFailed")
    assert "not in the local blob store" in ready["message"]
