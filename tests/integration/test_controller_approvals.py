"""The approval gate in the controller, on the kube-apiserver stand-in and the embedded
ledger: an unapproved head is not applied, the Channel's status reports it pending (with
what applying it would change) and `syncer status` shows it, one ApprovalPending Event per
seq, and the release is applied at the first poll after its approvals are in."""

from __future__ import annotations

from pathlib import Path

import pytest
from controlled import (
    apply_channel,
    channel,
    channel_events,
    condition,
    controller,
    get_object,
    install_crd,
    local_backends,
)
from fakeclock import ManualClock
from helpers import commit_and_push, edit, run
from syncer_standins.kubeapi import KubeApiServer

from syncer import keys
from syncer.cluster import KubeCluster, connect
from syncer.config import Home
from syncer.controller import Controller

ALICE, BOB = keys.generate(), keys.generate()
INTERVAL = 30.0


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    return found


def test_the_controller_applies_a_release_once_approved(
        pushed: Path, home: Path, cluster: KubeCluster, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ledger = local_backends(home).ledger
    admin = keys.load(Home(home).key_file)
    ledger.set_approvers("shop-dev", admin=admin, approvers=[ALICE.address, BOB.address],
                         threshold=2)
    apply_channel(cluster)
    clock = ManualClock()
    loop = controller(cluster, home, clock)

    loop.pass_once()
    status = channel(cluster)["status"]
    pending = status["pending"]
    assert {k: pending[k] for k in ("seq", "approvals", "threshold", "approvedBy")} == {
        "seq": 1, "approvals": 0, "threshold": 2, "approvedBy": []}
    assert pending["message"] == "release 1 waits for 2 more approvals (0/2)"
    assert pending["diff"] == {"create": 4, "update": 0, "delete": 0, "objects": [
        "create Namespace/shop-dev", "create ConfigMap/shop-dev/shop-config",
        "create Service/shop-dev/web", "create Deployment/shop-dev/web"]}
    ready = condition(channel(cluster), "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "ApprovalPending")
    assert "lastApplied" not in status
    assert get_object(cluster, "ConfigMap", "shop-config") is None

    ledger.approve("shop-dev", 1, key=ALICE)
    clock.advance(INTERVAL)
    loop.pass_once()
    pending = channel(cluster)["status"]["pending"]
    assert (pending["approvals"], pending["approvedBy"]) == (1, [ALICE.address])
    assert get_object(cluster, "ConfigMap", "shop-config") is None
    assert len(channel_events(cluster, "ApprovalPending")) == 1  # once per seq

    code, out, _ = run(capsys, "status", "--kubeconfig", str(tmp_path / "kubeconfig"))
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:5] == ["NAME", "CHANNEL", "HEAD", "APPLIED", "PENDING"]
    assert row.split()[:6] == ["shop-dev", "shop-dev", "1", "-", "1", "(1/2)"]

    ledger.approve("shop-dev", 1, key=BOB)
    clock.advance(INTERVAL)
    loop.pass_once()
    status = channel(cluster)["status"]
    assert "pending" not in status and status["lastApplied"]["seq"] == 1
    assert "Welcome to the shop" in str(live_config(cluster))
    assert len(channel_events(cluster, "ApprovalPending")) == 1
    a_later_head_waits(pushed, home, cluster, loop, clock)


def a_later_head_waits(pushed: Path, home: Path, cluster: KubeCluster, loop: Controller,
                       clock: ManualClock) -> None:
    """Release 1 applied, release 2 unapproved: 1 stays and 2 is pending, until approved."""
    ledger = local_backends(home).ledger
    edit(pushed / "values" / "common.yaml", "Welcome to the shop", "Welcome back")
    commit_and_push(pushed, home, "A warmer greeting")  # release 2, unapproved
    ledger.approve("shop-dev", 2, key=BOB)
    clock.advance(INTERVAL)
    loop.pass_once()
    status = channel(cluster)["status"]
    assert (status["pending"]["seq"], status["pending"]["approvedBy"]) == (2, [BOB.address])
    assert status["pending"]["diff"] == {"create": 0, "update": 1, "delete": 0,
                                         "objects": ["update ConfigMap/shop-dev/shop-config"]}
    assert (status["head"]["seq"], status["lastApplied"]["seq"]) == (2, 1)
    assert condition(channel(cluster), "Ready")["message"].startswith(
        "release 2 waits for 1 more approval (1/2); release 1 ")
    assert "Welcome to the shop" in str(live_config(cluster))
    assert len(channel_events(cluster, "ApprovalPending")) == 2

    ledger.approve("shop-dev", 2, key=ALICE)
    clock.advance(INTERVAL)
    loop.pass_once()
    assert "Welcome back" in str(live_config(cluster))
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 2


def live_config(cluster: KubeCluster) -> object:
    found = get_object(cluster, "ConfigMap", "shop-config")
    return None if found is None else found["data"]
