"""Two replicas of the controller, each with its own connections, clock, metrics and
`LeaderElector` on the same leader Lease: only the holder applies, and when it dies (or
loses the Lease in the middle of a sync) the other takes over and converges.

In-process, against the Kubernetes API stand-in over real HTTP (no kube-apiserver runs
here; the stand-in's own tests replay transcripts of a real one), with releases published
by the git hook to the local ledger. Each replica's time is a `ManualClock` of its own: a
test steps each replica's election (`try_acquire_or_renew`, as its election thread would
every retry period) and its controller's passes (`pass_once`) by hand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import kubernetes
import pytest
from controlled import NS, apply_channel, channel, controller, install_crd
from fakeclock import ManualClock
from helpers import commit_and_push, edit
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.cluster import KubeCluster, RetryPolicy, connect
from syncer.leader import ElectionConfig, LeaderElector
from syncer.metrics import Metrics

LEADER_LEASE = "/namespaces/syncer-system/leases/syncer-leader$"
CHANNEL_LABEL = "syncer.io/channel"


class ElectionClock(ManualClock):
    """A replica's clock. While a sync of its controller waits (for a wave's health), its
    election thread would go on stepping every retry period: each wait steps the election
    too."""

    def __init__(self) -> None:
        super().__init__()
        self.elector: LeaderElector | None = None

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        stopped = super().wait(seconds, stop)
        if self.elector is not None:
            self.elector.try_acquire_or_renew()
        return stopped


class Replica:
    """One replica: a controller and an elector, each with its own connection."""

    def __init__(self, kubeconfig: Path, home: Path, identity: str) -> None:
        self.clock = ElectionClock()
        # the elector's requests are not retried: its next step is the retry (syncer run)
        election = connect(kubeconfig=kubeconfig, retry=RetryPolicy(attempts=1))
        self.elector = self.clock.elector = LeaderElector(
            election, election.discover(),
            ElectionConfig(namespace=NS, identity=identity), clock=self.clock)
        self.metrics = Metrics()
        self.controller = controller(connect(kubeconfig=kubeconfig, sleep=lambda _: None),
                                     home, self.clock, metrics=self.metrics,
                                     elector=self.elector)

    def step(self, after: float = 0.0) -> bool:
        """`after` seconds later, one step of the election: whether it leads."""
        self.clock.advance(after)
        return self.elector.try_acquire_or_renew()

    def leader_metric(self) -> float | None:
        return self.metrics.registry.get_sample_value("syncer_leader")


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    apply_channel(found, interval="2s")  # polled at each step of the elections
    return found


@pytest.fixture
def a(pushed: Path, home: Path, tmp_path: Path, cluster: KubeCluster) -> Replica:
    return Replica(tmp_path / "kubeconfig", home, "a")


@pytest.fixture
def b(pushed: Path, home: Path, tmp_path: Path, cluster: KubeCluster) -> Replica:
    return Replica(tmp_path / "kubeconfig", home, "b")


def greeting(core: kubernetes.client.CoreV1Api) -> str | None:
    """The shop's greeting as applied; None before the first apply."""
    found = core.list_namespaced_config_map("shop-dev", field_selector="metadata.name="
                                            "shop-config").items
    return found[0].data["GREETING"] if found else None


def version(cluster: KubeCluster) -> str:
    """The Channel's resourceVersion: any status a replica writes changes it."""
    return str(channel(cluster)["metadata"]["resourceVersion"])


def release(repo: Path, home: Path, words: str) -> None:
    """A release whose greeting is `words`."""
    values = repo / "values" / "common.yaml"
    old = next(line for line in values.read_text().splitlines() if "greeting" in line)
    edit(values, old, f"greeting: {words!r}")
    commit_and_push(repo, home, words)


def requests(caplog: pytest.LogCaptureFixture, replica: Replica) -> list[str]:
    """The API requests made by one pass of `replica`'s controller (`KubeCluster` logs
    each at DEBUG)."""
    caplog.set_level(logging.DEBUG, logger="syncer.cluster")
    caplog.clear()
    replica.controller.pass_once()
    return [f"{getattr(r, 'method', '')} {getattr(r, 'path', '')}" for r in caplog.records
            if r.getMessage() == "api request"]


def applied(cluster: KubeCluster) -> int:
    return int(channel(cluster)["status"]["lastApplied"]["seq"])


def test_only_the_holder_applies_and_the_follower_takes_over_when_it_dies(
        pushed: Path, home: Path, cluster: KubeCluster, core: kubernetes.client.CoreV1Api,
        a: Replica, b: Replica, caplog: pytest.LogCaptureFixture) -> None:
    assert a.step() and not b.step()
    assert requests(caplog, b) == []  # a follower's pass asks nothing, writes nothing
    assert greeting(core) is None
    a.controller.pass_once()
    assert applied(cluster) == 1 and greeting(core) is not None
    assert (a.leader_metric(), b.leader_metric()) == (1, 0)

    release(pushed, home, "Second")  # and a dies: it neither renews nor passes any more
    for _ in range(7):  # 14 s on b's clock since it saw the Lease change
        assert not b.step(after=2)
        assert requests(caplog, b) == []
    assert greeting(core) != "Second" and applied(cluster) == 1
    assert b.step(after=2)  # 16 s: a's term ran out
    b.controller.pass_once()
    assert applied(cluster) == 2 and greeting(core) == "Second"
    assert b.leader_metric() == 1

    a.clock.advance(16)  # a wakes up: its renew deadline has passed
    assert requests(caplog, a) == [] and a.leader_metric() == 0
    assert not a.step() and a.elector.leader() == "b"
    newest = channel(cluster)["status"]["history"][0]
    assert (newest["seq"], newest["outcome"]) == (2, "Applied")


CLAIM = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"""
LATER = ("{% for i in range(5) %}\n---\napiVersion: v1\nkind: ConfigMap\n"
         "metadata:\n  name: later-{{ i }}\n  annotations: {syncer.io/wave: '1'}\n"
         "data: {n: '{{ i }}'}\n{% endfor %}\n")


def later(core: kubernetes.client.CoreV1Api) -> list[str]:
    """The ConfigMaps of wave 1 applied so far."""
    found = core.list_namespaced_config_map("shop-dev", label_selector=CHANNEL_LABEL).items
    return sorted(c.metadata.name for c in found if c.metadata.name.startswith("later-"))


def bind(core: kubernetes.client.CoreV1Api) -> None:
    """What the volume controller would do: the claim is Bound."""
    claim = core.read_namespaced_persistent_volume_claim("data", "shop-dev")
    claim.status = kubernetes.client.V1PersistentVolumeClaimStatus(phase="Bound")
    core.replace_namespaced_persistent_volume_claim_status("data", "shop-dev", claim)


def test_a_leader_losing_the_lease_mid_sync_stops_between_steps_and_the_new_one_converges(
        pushed: Path, home: Path, api: KubeApiServer, cluster: KubeCluster,
        core: kubernetes.client.CoreV1Api, a: Replica, b: Replica,
        caplog: pytest.LogCaptureFixture) -> None:
    assert a.step() and not b.step()
    a.controller.pass_once()
    assert applied(cluster) == 1
    # release 2: a claim in wave 0, that no volume binds yet, and ConfigMaps in wave 1
    (pushed / "templates" / "claim.yaml").write_text(CLAIM)
    (pushed / "templates" / "later.yaml.j2").write_text(LATER)
    commit_and_push(pushed, home, "A claim, then five ConfigMaps")
    assert a.step(after=2) and not b.step(after=2)

    # From now on a's renewals fail. Its sync waits for the claim, its election stepping
    # every 2 s; at the renew deadline a stops leading, and its sync stops at its next step.
    api.faults.add(Fault(path=LEADER_LEASE, status=500, times=1000))
    caplog.set_level(logging.INFO, logger="syncer")
    before = version(cluster)
    a.controller.pass_once()
    assert not a.elector.is_leader and a.elector.lost.is_set()
    assert "reconcile stopped" in caplog.messages
    assert version(cluster) == before  # no Failed status (nor any other) was written
    assert core.read_namespaced_persistent_volume_claim("data", "shop-dev")
    assert later(core) == []  # wave 1 was never applied
    leases = kubernetes.client.CoordinationV1Api(core.api_client)
    assert [lease.metadata.name for lease in leases.list_namespaced_lease(NS).items] == [
        "syncer-leader"]  # the stopped sync released the channel's lock
    assert requests(caplog, a) == [] and a.leader_metric() == 0

    api.faults.clear()
    assert not b.step(after=14)  # b saw the Lease change 14 s ago: a's term still runs
    assert b.step(after=2)
    bind(core)
    b.controller.pass_once()
    assert later(core) == [f"later-{i}" for i in range(5)]
    status = channel(cluster)["status"]
    assert status["lastApplied"]["seq"] == 2 and status["health"] == "Healthy"
    assert [h["outcome"] for h in status["history"] if h["seq"] == 2] == ["Applied"]
    assert (a.leader_metric(), b.leader_metric()) == (0, 1)


BULK = ("{% for i in range(60) %}\n---\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: bulk-{{ i }}}\ndata: {n: '{{ i }}'}\n{% endfor %}\n")


def bulk(core: kubernetes.client.CoreV1Api) -> int:
    found = core.list_namespaced_config_map("shop-dev", label_selector=CHANNEL_LABEL).items
    return sum(1 for c in found if c.metadata.name.startswith("bulk-"))


def until(what: Callable[[], bool], running: threading.Thread) -> None:
    """Poll `what` while `running` runs, with a generous deadline."""
    deadline = time.monotonic() + 60
    while not what():
        assert running.is_alive() and time.monotonic() < deadline, "never came to pass"
        time.sleep(0.001)


def test_a_leader_losing_the_lease_in_the_middle_of_a_tier_stops_there(
        pushed: Path, home: Path, api: KubeApiServer, cluster: KubeCluster,
        core: kubernetes.client.CoreV1Api, a: Replica, b: Replica,
        caplog: pytest.LogCaptureFixture) -> None:
    """A tier of many objects may take longer than the lease duration less the renew
    deadline: a leader that lost its term must not go on writing until the tier's end,
    while another replica may already be applying."""
    assert a.step() and not b.step()
    a.controller.pass_once()
    (pushed / "templates" / "bulk.yaml.j2").write_text(BULK)
    commit_and_push(pushed, home, "60 ConfigMaps")  # one tier, applied two at a time
    assert a.step(after=2) and not b.step(after=2)
    caplog.set_level(logging.INFO, logger="syncer")
    before = version(cluster)
    passing = threading.Thread(target=a.controller.pass_once)
    passing.start()
    until(lambda: "channel lock taken" in caplog.messages, passing)
    api.faults.latency = 0.04  # each request waits from now on: the tier takes a while
    until(lambda: bulk(core) > 0, passing)
    # the renewals fail from now on; the election's next step, past the renew deadline,
    # ends the term
    api.faults.add(Fault(path=LEADER_LEASE, status=500, times=1000))
    a.clock.advance(10)
    assert not a.elector.try_acquire_or_renew()
    passing.join(timeout=60)
    api.faults.latency = 0.0
    assert not passing.is_alive()
    assert bulk(core) < 60  # stopped between two calls of the tier
    assert "reconcile stopped" in caplog.messages and version(cluster) == before

    api.faults.clear()
    assert b.step(after=16)
    b.controller.pass_once()
    assert bulk(core) == 60 and applied(cluster) == 2
