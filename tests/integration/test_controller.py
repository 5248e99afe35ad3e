"""The controller (`syncer run`'s loop) against the Kubernetes API stand-in over real HTTP,
with releases published by the git hook to the local ledger and blob store. Time is a
`ManualClock`: a test advances it and runs one pass (`Controller.pass_once`) at a time.

No kube-apiserver runs here; the stand-in's own tests replay transcripts of a real one.
"""

from __future__ import annotations

import logging
from pathlib import Path

import kubernetes
import pytest
from controlled import apply_channel, channel, condition, controller, install_crd
from fakeclock import ManualClock
from helpers import commit_and_push, edit, git
from syncer_standins.kubeapi import KubeApiServer

from syncer.cluster import KubeCluster, connect

INTERVAL = 30.0


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    return found


def test_a_release_published_while_running_is_applied_within_two_polls(
        pushed: Path, home: Path, cluster: KubeCluster,
        core: kubernetes.client.CoreV1Api) -> None:
    apply_channel(cluster)
    clock = ManualClock()
    loop = controller(cluster, home, clock)
    loop.pass_once()
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 1
    # the stand-in's Deployment controller reports the rollout a little later: Progressing,
    # then Ready at the next poll
    assert condition(channel(cluster), "Ready")["reason"] == "Progressing"
    clock.advance(INTERVAL)
    loop.pass_once()
    assert condition(channel(cluster), "Ready")["status"] == "True"
    assert channel(cluster)["status"]["health"] == "Healthy"

    edit(pushed / "values" / "common.yaml", "Welcome to the shop", "Welcome back")
    commit_and_push(pushed, home, "A warmer greeting")
    for _ in range(2):
        clock.advance(INTERVAL)
        loop.pass_once()
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 2
    data = core.read_namespaced_config_map("shop-config", "shop-dev").data
    assert "Welcome back" in str(data)



def test_one_controller_follows_several_channels(
        pushed: Path, home: Path, cluster: KubeCluster, api: KubeApiServer) -> None:
    """Two Channels, each following its own channel of the ledger (shop-dev from main,
    shop-prod from production): one pass applies both, each into its own namespace with
    its own values, and each Channel's status records its own release."""
    git(pushed, "branch", "production")
    git(pushed, "push", "-q", "origin", "production", env={"SYNCER_HOME": str(home)})
    apply_channel(cluster, "shop-dev")
    apply_channel(cluster, "shop-prod", channel="shop-prod")
    controller(cluster, home, ManualClock()).pass_once()
    for name, replicas in (("shop-dev", 1), ("shop-prod", 3)):
        status = channel(cluster, name)["status"]
        assert status["lastApplied"]["seq"] == 1, name
        web = cluster.get(cluster.discover().require("apps", "Deployment"), namespace=name,
                          name="web")
        assert web is not None and web["spec"]["replicas"] == replicas, name


def test_a_pass_with_nothing_due_makes_one_request(
        pushed: Path, home: Path, cluster: KubeCluster,
        caplog: pytest.LogCaptureFixture) -> None:
    """The loop ticks every second for months: between polls, a pass lists the Channels and
    nothing else (no discovery, no ledger read, no status write)."""
    apply_channel(cluster)
    clock = ManualClock()
    loop = controller(cluster, home, clock)
    for _ in range(2):  # applied, then healthy
        loop.pass_once()
        clock.advance(INTERVAL)
    clock.advance(1.0)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="syncer.cluster"):
        loop.pass_once()
    requests = [(r.__dict__["method"], r.__dict__["path"]) for r in caplog.records
                if r.getMessage() == "api request"]
    assert requests == [("GET", "/apis/syncer.io/v1alpha1/namespaces/syncer-system/channels")]
