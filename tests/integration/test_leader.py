"""Leader election: two replicas (two electors, two connections, a clock each) sharing one
API stand-in, which takes Lease writes as kube-apiserver does (409 on a create that exists
or a stale resourceVersion, MicroTimes with six digits). Time moves only when a test
advances a replica's clock."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import pytest
from fakeclock import ManualClock
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.cluster import KubeCluster, RetryPolicy, connect
from syncer.errors import ConfigError
from syncer.leader import ElectionConfig, LeaderElector
from syncer.microtime import micro
from syncer.model import Obj

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "syncer-system"}}
LEASE = "/namespaces/syncer-system/leases/syncer-leader$"
LEASES = "/namespaces/syncer-system/leases(/syncer-leader)?$"
MICROTIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Replica:
    """One replica: its own connection, clock and elector."""

    def __init__(self, kubeconfig: Path, identity: str, *, start: float = 1_800_000_000.0
                 ) -> None:
        # The elector's requests are not retried: its next step is the retry.
        self.cluster = connect(kubeconfig=kubeconfig, retry=RetryPolicy(attempts=1))
        self.clock = ManualClock(start)
        self.elector = LeaderElector(
            self.cluster, self.cluster.discover(),
            ElectionConfig(namespace="syncer-system", identity=identity), clock=self.clock)

    def step(self, after: float = 0.0) -> bool:
        self.clock.advance(after)
        return self.elector.try_acquire_or_renew()


@pytest.fixture
def kubeconfig(api: KubeApiServer, tmp_path: Path) -> Path:
    cluster = connect(kubeconfig=tmp_path / "kubeconfig")
    cluster.apply(NS, cluster.discover().require("", "Namespace"))
    return tmp_path / "kubeconfig"


@pytest.fixture
def a(kubeconfig: Path) -> Replica:
    return Replica(kubeconfig, "replica-a")


@pytest.fixture
def b(kubeconfig: Path) -> Replica:
    return Replica(kubeconfig, "replica-b")


def lease(cluster: KubeCluster) -> Obj:
    leases = cluster.discover().require("coordination.k8s.io", "Lease")
    found = cluster.get(leases, namespace="syncer-system", name="syncer-leader")
    assert found is not None
    return found


def test_the_first_acquires_the_second_follows(a: Replica, b: Replica) -> None:
    assert a.step() and not b.step()
    assert a.elector.is_leader and not b.elector.is_leader
    assert a.elector.leader() == b.elector.leader() == "replica-a"
    spec = lease(a.cluster)["spec"]
    assert spec == {"holderIdentity": "replica-a", "leaseDurationSeconds": 15,
                    "acquireTime": micro(a.clock.now()), "renewTime": micro(a.clock.now()),
                    "leaseTransitions": 0}  # every field client-go writes, and only those
    assert MICROTIME.match(spec["acquireTime"]) and MICROTIME.match(spec["renewTime"])


def test_the_leader_renews_and_the_follower_keeps_following(a: Replica, b: Replica) -> None:
    a.step()
    acquired = lease(a.cluster)["spec"]["acquireTime"]
    for _ in range(30):  # a minute: four lease durations
        assert a.step(after=2) and not b.step(after=2)
    spec = lease(a.cluster)["spec"]
    assert spec["renewTime"] == micro(a.clock.now()) and spec["acquireTime"] == acquired
    assert spec["holderIdentity"] == "replica-a" and spec["leaseTransitions"] == 0


def test_a_dead_leader_is_replaced_after_a_lease_duration_on_the_followers_clock(
        kubeconfig: Path, b: Replica) -> None:
    # The leader's clock is an hour behind: its renewTime looks long expired to b's clock.
    # b does not trust it, and waits a lease duration from when it saw the Lease change.
    a = Replica(kubeconfig, "replica-a", start=b.clock.now() - 3600)
    assert a.step()
    assert not b.step()
    assert not b.step(after=14.9)  # a is dead: the Lease has not changed for 14.9 s
    assert b.step(after=0.2)
    assert b.elector.is_leader and b.elector.leader() == "replica-b"
    spec = lease(b.cluster)["spec"]
    assert spec["holderIdentity"] == "replica-b" and spec["leaseTransitions"] == 1
    assert spec["acquireTime"] == spec["renewTime"] == micro(b.clock.now())
    # a wakes up 16 s later: its term ended at the renew deadline; the Lease is b's now
    a.clock.advance(16)
    term = a.elector.lost
    assert not a.elector.is_leader and term.is_set()
    assert not a.step() and a.elector.leader() == "replica-b"
    assert b.step(after=2) and lease(b.cluster)["spec"]["holderIdentity"] == "replica-b"


def test_a_renewing_leader_is_never_replaced(a: Replica, b: Replica) -> None:
    assert a.step() and not b.step()
    for _ in range(10):
        assert a.step(after=14) and not b.step(after=14)  # b sees a change every 14 s


def test_release_lets_the_follower_take_over_at_once(a: Replica, b: Replica) -> None:
    assert a.step() and not b.step()
    term = a.elector.lost
    assert a.elector.release()
    assert not a.elector.is_leader and term.is_set() and a.elector.leader() == ""
    spec = lease(a.cluster)["spec"]
    assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1
    assert spec["leaseTransitions"] == 0
    assert b.step()  # no time passed
    assert lease(b.cluster)["spec"]["leaseTransitions"] == 1
    assert b.elector.release() and b.elector.release()  # the second: not ours, nothing to do


def test_a_failed_release_still_ends_the_term(api: KubeApiServer, a: Replica,
                                              b: Replica) -> None:
    assert a.step() and not b.step()
    api.faults.add(Fault(method="PUT", path=LEASE, status=500))
    assert not a.elector.release()
    assert not a.elector.is_leader and a.elector.lost.is_set()
    assert lease(a.cluster)["spec"]["holderIdentity"] == "replica-a"  # runs out by itself
    assert not b.step(after=14.9) and b.step(after=0.2)


def test_another_holder_seen_ends_the_term_at_once(a: Replica, b: Replica) -> None:
    assert a.step()
    found = lease(a.cluster)  # someone else writes the Lease (say, an operator)
    found["spec"]["holderIdentity"] = "intruder"
    a.cluster.replace(found, a.elector.resource)
    term = a.elector.lost
    assert not a.step(after=2)  # the optimistic renewal met 409; the read saw the intruder
    assert not a.elector.is_leader and term.is_set() and a.elector.leader() == "intruder"


def test_a_follower_has_nothing_to_release(a: Replica, b: Replica) -> None:
    a.step()
    b.step()
    assert b.elector.release()
    assert lease(a.cluster)["spec"]["holderIdentity"] == "replica-a"


def test_a_failed_request_is_not_fatal(api: KubeApiServer, a: Replica) -> None:
    assert a.step()
    api.faults.add(Fault(method="PUT", path=LEASE, status=500))
    assert a.step(after=2)  # the optimistic renewal failed; the slow path renewed
    api.faults.add(Fault(path=LEASE, status=500, times=2))  # the PUT, then the GET
    assert not a.step(after=2)
    assert a.elector.is_leader and not a.elector.lost.is_set()
    assert a.step(after=2) and lease(a.cluster)["spec"]["renewTime"] == micro(a.clock.now())


def test_renewals_failing_past_the_deadline_lose_leadership(
        api: KubeApiServer, a: Replica, b: Replica) -> None:
    assert a.step()
    term = a.elector.lost
    api.faults.add(Fault(path=LEASE, status=500, times=1000))
    for _ in range(4):  # 2, 4, 6, 8 s after the last renewal
        assert not a.step(after=2)
        assert a.elector.is_leader and not term.is_set()
    assert not a.step(after=2)  # 10 s: the renew deadline
    assert not a.elector.is_leader and term.is_set()
    api.faults.clear()
    assert not b.step()  # b only now sees the Lease: it waits a whole lease duration
    assert a.step(after=2)  # still a's: a new term
    assert a.elector.lost is not term and not a.elector.lost.is_set() and term.is_set()
    assert lease(a.cluster)["spec"]["leaseTransitions"] == 0


def test_the_deadline_is_seen_without_a_step(a: Replica) -> None:
    """A step stuck in a request does not keep leadership: an apply asking `is_leader`
    between its own steps sees the deadline pass."""
    a.step()
    a.clock.advance(9.9)
    assert a.elector.is_leader
    a.clock.advance(0.1)
    assert not a.elector.check() and a.elector.lost.is_set()


def lease_requests(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int]]:
    """(method, status) of each request about the leader Lease, as `KubeCluster` logs it."""
    return [(getattr(r, "method", ""), getattr(r, "status", 0)) for r in caplog.records
            if r.getMessage() == "api request" and re.search(LEASES, getattr(r, "path", ""))]


def test_two_replicas_racing_the_same_create(api: KubeApiServer, a: Replica, b: Replica,
                                             caplog: pytest.LogCaptureFixture) -> None:
    # Both read the Lease as absent, so both create it: the API server takes the first
    # create (201) and refuses the second (409), which loses this step.
    caplog.set_level(logging.DEBUG, logger="syncer.cluster")
    api.faults.add(Fault(method="GET", path=LEASE, status=404, reason="NotFound", times=2))
    assert a.step()
    assert not b.step()
    assert lease_requests(caplog) == [("GET", 404), ("POST", 201), ("GET", 404), ("POST", 409)]
    assert a.elector.is_leader and not b.elector.is_leader
    assert lease(a.cluster)["spec"]["holderIdentity"] == "replica-a"
    assert not b.step() and b.elector.leader() == "replica-a"


def test_two_replicas_racing_a_takeover(a: Replica, kubeconfig: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    replicas = [Replica(kubeconfig, f"replica-{n}") for n in range(4)]
    a.step()
    for replica in replicas:
        assert not replica.step()
        replica.clock.advance(15)  # a died: every follower may take over now
    start = threading.Barrier(len(replicas))
    won: list[bool] = []

    def race(replica: Replica) -> None:
        start.wait()
        won.append(replica.step())

    caplog.set_level(logging.DEBUG, logger="syncer.cluster")
    threads = [threading.Thread(target=race, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, False, False, True]
    puts = [status for method, status in lease_requests(caplog) if method == "PUT"]
    # the losers met 409, or read the Lease once the winner had written it
    assert puts.count(200) == 1 and set(puts) <= {200, 409}
    spec = lease(a.cluster)["spec"]
    assert spec["leaseTransitions"] == 1
    assert [r.elector.is_leader for r in replicas].count(True) == 1


class StopAfter(ManualClock):
    """A clock that sets `stop` at its n-th wait, noting whether `elector` led each time."""

    def __init__(self, n: int, stop: threading.Event) -> None:
        super().__init__()
        self.n, self.stop = n, stop
        self.elector: LeaderElector | None = None
        self.leading: list[bool] = []

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self.leading.append(self.elector is not None and self.elector.is_leader)
        if len(self.waits) + 1 == self.n:
            self.stop.set()
        return super().wait(seconds, stop)


def test_run_steps_on_the_clock_and_releases_when_stopped(a: Replica, b: Replica) -> None:
    stop = threading.Event()
    clock = StopAfter(5, stop)
    clock.elector = elector = LeaderElector(
        a.cluster, a.cluster.discover(),
        ElectionConfig(namespace="syncer-system", identity="replica-a"), clock=clock)
    elector.run(stop)
    assert clock.leading == [True] * 5 and clock.waits == [2.0] * 5
    assert not elector.is_leader and elector.lost.is_set()
    assert lease(a.cluster)["spec"]["holderIdentity"] == ""  # released on the way out
    assert b.step()


def test_leader_changes_are_logged(a: Replica, b: Replica,
                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="syncer.leader")
    a.step()
    b.step()
    a.elector.release()
    b.step()
    said = [(r.name, r.getMessage(), getattr(r, "identity", None), getattr(r, "holder", None))
            for r in caplog.records if r.name == "syncer.leader"]
    assert said == [
        ("syncer.leader", "leading: this replica holds the leader Lease", "replica-a",
         "replica-a"),
        ("syncer.leader", "leader changed", "replica-b", "replica-a"),
        ("syncer.leader", "stopped leading", "replica-a", None),
        ("syncer.leader", "leader Lease free", "replica-a", ""),
        ("syncer.leader", "leading: this replica holds the leader Lease", "replica-b",
         "replica-b"),
    ]
    assert {getattr(r, "lease", None) for r in caplog.records} == {"syncer-system/syncer-leader"}


@pytest.mark.parametrize("timings", [
    {"lease_s": 10, "renew_deadline_s": 10}, {"renew_deadline_s": 2}, {"retry_s": 0}])
def test_timings_that_cannot_work_are_refused(timings: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="0 < retry_s < renew_deadline_s < lease_s"):
        ElectionConfig(namespace="syncer-system", **timings)  # type: ignore[arg-type]
