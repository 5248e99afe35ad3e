"""The channel lock: a Lease per channel, against the Kubernetes API stand-in (which takes
Lease writes as kube-apiserver does: 409 on a create that exists or a stale
resourceVersion, MicroTime with six digits)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from syncer_standins.kubeapi import KubeApiServer

from syncer.cluster import KubeCluster, connect
from syncer.errors import LockedError
from syncer.lock import ChannelLock, holder_identity

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "syncer-system"}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig")
    found.apply(NS, found.discover().require("", "Namespace"))
    return found


def lock(cluster: KubeCluster, clock: Clock, holder: str) -> ChannelLock:
    return ChannelLock(cluster, cluster.discover(), channel="shop-dev",
                       namespace="syncer-system", duration_s=60, holder=holder, clock=clock)


def lease(cluster: KubeCluster) -> dict[str, object] | None:
    leases = cluster.discover().require("coordination.k8s.io", "Lease")
    return cluster.get(leases, namespace="syncer-system", name="syncer-lock-shop-dev")


def test_one_holder_at_a_time_then_released(cluster: KubeCluster) -> None:
    clock = Clock()
    with lock(cluster, clock, "a-host-1-aaaaaa"):
        with pytest.raises(LockedError, match=r"being synced by a-host-1-aaaaaa \(lock held "
                                              r"until"), lock(cluster, clock, "b-host-2-bbbbbb"):
            pass
        assert lease(cluster) is not None
    assert lease(cluster) is None
    with lock(cluster, clock, "b-host-2-bbbbbb"):
        pass


def test_an_expired_lock_is_taken_over_and_the_old_holder_loses_it(
        cluster: KubeCluster) -> None:
    clock = Clock()
    old = lock(cluster, clock, "a-host-1-aaaaaa").__enter__()
    clock.now += 61
    with lock(cluster, clock, "b-host-2-bbbbbb"):
        with pytest.raises(LockedError, match="took over the channel's lock"):
            old.renew()
        old.__exit__(None, None, None)  # not its Lease any more: left alone
        assert lease(cluster) is not None
    assert lease(cluster) is None


def test_renewal_moves_the_end(cluster: KubeCluster) -> None:
    clock = Clock()
    with lock(cluster, clock, "a-host-1-aaaaaa") as held:
        clock.now += 30
        held.renew()
        clock.now += 50  # 80 s after taking it, 50 after renewing
        with pytest.raises(LockedError), lock(cluster, clock, "b-host-2-bbbbbb"):
            pass


def test_a_lock_left_by_a_dead_process_of_this_host_is_taken_at_once(
        cluster: KubeCluster) -> None:
    clock = Clock()
    dead = f"{socket.gethostname()[:40]}-999999-cccccc"  # no such pid
    lock(cluster, clock, dead).__enter__()
    with lock(cluster, clock, "b-host-2-bbbbbb"):
        assert (lease(cluster) or {}).get("spec", {})["holderIdentity"] == "b-host-2-bbbbbb"


def test_a_lock_left_by_an_earlier_process_with_this_pid_is_taken_at_once(
        cluster: KubeCluster) -> None:
    """A restarted container's syncer is pid 1 again, on the same host name: a holder with
    this host and this pid that this process never issued was the process before it."""
    clock = Clock()
    earlier = f"{socket.gethostname()[:40]}-{os.getpid()}-dddddd"
    lock(cluster, clock, earlier).__enter__()
    with lock(cluster, clock, "b-host-2-bbbbbb"):
        assert (lease(cluster) or {}).get("spec", {})["holderIdentity"] == "b-host-2-bbbbbb"


def test_a_lock_this_process_holds_is_not_taken_from_it(cluster: KubeCluster) -> None:
    clock = Clock()
    with lock(cluster, clock, holder_identity()), pytest.raises(LockedError, match="being "
                                                                               "synced by"):
        lock(cluster, clock, "b-host-2-bbbbbb").__enter__()
