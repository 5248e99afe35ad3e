"""`syncer run` as its own process, against the Kubernetes API stand-in over real HTTP (no
kube-apiserver runs here; the stand-in's own tests replay transcripts of a real one):
told to stop the hard way (SIGKILL) and the polite way (SIGTERM) in the middle of an apply,
then started again; two replicas electing a leader, the leader killed; its probes and
metrics read over HTTP on the port its log names. Releases are published by the git hook to
the local ledger and blob store of the test's $SYNCER_HOME.

An apply is made slow enough to be caught in the middle by the stand-in's `faults.latency`
(every request waits before it is served, set once the process starts reconciling) and a
release of many ConfigMaps applied two at a time. The tests poll the API (or the process's
log) until the process reaches the state wanted, with a generous deadline; nothing here
measures how long anything took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes
import pytest
from controlled import NS, apply_channel, channel, install_crd, local_backends
from helpers import commit_and_push, one_line, run
from prometheus_client.parser import text_string_to_metric_families
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.cluster import KubeCluster, connect
from syncer.ledger import Ledger
from syncer.model import ANNOTATION_BLOB_ID, ANNOTATION_RELEASE

BULK = 60
BULK_TEMPLATE = ("{% for i in range(" + str(BULK) + ") %}\n---\napiVersion: v1\n"
                 "kind: ConfigMap\nmetadata: {name: bulk-{{ i }}}\n"
                 "data: {n: '{{ i }}'}\n{% endfor %}\n")
LATENCY = 0.04  # seconds the stand-in waits before serving each request
DEADLINE = 60.0  # generous: a loaded CI machine may be slow to start a Python process
LOCK = "syncer-lock-shop-dev"
LEADER = "syncer-leader"
CHANNEL_LABEL = "syncer.io/channel"
ELECTION = ("--leader-elect", "--lease-duration", "3", "--renew-deadline", "2",
            "--retry-period", "0.5")  # client-go's timings, shortened


class SyncerRun:
    """One `syncer -v --log-format json run ...` process; its log lines (JSON) are read on a
    thread as they come."""

    def __init__(self, home: Path, kubeconfig: Path, *args: str) -> None:
        env = {**os.environ, "SYNCER_HOME": str(home)}
        env.pop("SYNCER_CHANNEL", None)
        command = [sys.executable, "-m", "syncer", "-v", "--log-format", "json", "run",
                   "--kubeconfig", str(kubeconfig), "--metrics-address", "127.0.0.1",
                   "--metrics-port", "0", "--tick", "0.2", *args]
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: list[dict[str, Any]] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"message": raw.rstrip("\n"), "raw": True}
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()

    def logged(self, message: str) -> list[dict[str, Any]]:
        with self._seen:
            return [line for line in self.lines if line.get("message") == message]

    def wait_logged(self, message: str) -> dict[str, Any]:
        """The first log line saying `message`, waiting for it."""
        deadline = time.monotonic() + DEADLINE
        with self._seen:
            while not (found := [ln for ln in self.lines if ln.get("message") == message]):
                assert self.process.poll() is None or self._reader.is_alive(), self.log()
                assert time.monotonic() < deadline, f"never logged {message!r}:\n{self.log()}"
                self._seen.wait(0.1)
            return found[0]

    @property
    def port(self) -> int:
        return int(self.wait_logged("serving /metrics, /healthz, /readyz")["port"])

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait(self) -> int:
        code = self.process.wait(timeout=DEADLINE)
        self._reader.join(timeout=DEADLINE)
        return code

    def log(self) -> str:
        with self._seen:
            return "\n".join(json.dumps(line) for line in self.lines)


@pytest.fixture
def started(home: Path, tmp_path: Path) -> Iterator[Callable[..., SyncerRun]]:
    """Start `syncer run` processes; any still running at the end is killed."""
    running: list[SyncerRun] = []

    def start(*args: str) -> SyncerRun:
        running.append(SyncerRun(home, tmp_path / "kubeconfig", *args))
        return running[-1]

    yield start
    for process in (r.process for r in running):
        if process.poll() is None:
            process.kill()
        process.wait(timeout=DEADLINE)


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    return found


def until(what: Callable[[], Any], message: str) -> Any:
    """Poll `what` until it is truthy; its value."""
    deadline = time.monotonic() + DEADLINE
    while not (found := what()):
        assert time.monotonic() < deadline, message
        time.sleep(0.02)
    return found


def bulk_release(repo: Path, home: Path) -> None:
    """Release 2: the shop without its Deployment (nothing to wait for), and BULK
    ConfigMaps."""
    (repo / "templates" / "deployment.yaml.j2").unlink()
    (repo / "templates" / "bulk.yaml.j2").write_text(BULK_TEMPLATE)
    commit_and_push(repo, home, f"{BULK} ConfigMaps")


def bulk_names(core: kubernetes.client.CoreV1Api) -> list[str]:
    found = core.list_namespaced_config_map("shop-dev", label_selector=CHANNEL_LABEL)
    return [c.metadata.name for c in found.items if c.metadata.name.startswith("bulk-")]


def lock_holder(core: kubernetes.client.CoreV1Api, name: str = LOCK) -> str | None:
    """The holder of Lease `name` of syncer-system; None when there is no such Lease."""
    coordination = kubernetes.client.CoordinationV1Api(core.api_client)
    try:
        lease = coordination.read_namespaced_lease(name, NS)
    except kubernetes.client.ApiException as e:
        if e.status == 404:
            return None
        raise
    return str(lease.spec.holder_identity or "")


def assert_converged(core: kubernetes.client.CoreV1Api, cluster: KubeCluster, ledger: Ledger,
                     seq: int) -> None:
    """Every object of release `seq` once, with its annotations; the inventory and the
    Channel's status record it; the channel's lock is gone."""
    release = ledger.release("shop-dev", seq)
    found = core.list_namespaced_config_map("shop-dev", label_selector=CHANNEL_LABEL).items
    names = [c.metadata.name for c in found]
    assert len(names) == len(set(names))
    assert set(names) == {f"bulk-{i}" for i in range(BULK)} | {"shop-config"}
    for configmap in found:
        annotations = configmap.metadata.annotations
        assert annotations[ANNOTATION_RELEASE] == str(seq), configmap.metadata.name
        assert annotations[ANNOTATION_BLOB_ID] == release.blob_id, configmap.metadata.name
    inventory = core.read_namespaced_config_map("syncer-inventory-shop-dev", NS).data
    assert (inventory["release"], inventory["blobId"]) == (str(seq), release.blob_id)
    entries = {tuple(e) for e in json.loads(inventory["entries"])}
    assert {("v1", "ConfigMap", "shop-dev", n) for n in names} <= entries
    status = channel(cluster)["status"]
    assert status["lastApplied"]["seq"] == seq
    assert [h["outcome"] for h in status["history"] if h["seq"] == seq] == ["Applied"]
    assert lock_holder(core) is None


def test_killed_in_the_middle_of_an_apply_a_restart_converges(
        pushed: Path, home: Path, api: KubeApiServer, cluster: KubeCluster,
        core: kubernetes.client.CoreV1Api, started: Callable[..., SyncerRun]) -> None:
    apply_channel(cluster)
    bulk_release(pushed, home)
    first = started("--workers", "2")
    first.wait_logged("reconciling")
    api.faults.latency = LATENCY  # from here on: discovery and start-up are not slowed
    until(lambda: len(bulk_names(core)) > 0, "the apply never started")
    first.signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    api.faults.latency = 0.0
    assert 0 < len(bulk_names(core)) < BULK, "the apply was not caught in the middle"
    holder = lock_holder(core)
    assert holder is not None and f"-{first.process.pid}-" in holder  # left behind

    second = started("--once")
    assert second.wait() == 0, second.log()
    takeover = second.logged("taking over an expired channel lock")
    assert [line["holder"] for line in takeover] == [holder], second.log()
    assert_converged(core, cluster, local_backends(home).ledger, 2)


def test_sigterm_in_the_middle_of_an_apply_stops_between_steps_and_releases_both_leases(
        pushed: Path, home: Path, api: KubeApiServer, cluster: KubeCluster,
        core: kubernetes.client.CoreV1Api, started: Callable[..., SyncerRun]) -> None:
    apply_channel(cluster)
    bulk_release(pushed, home)
    first = started("--workers", "2", "--leader-elect")
    first.wait_logged("reconciling")
    api.faults.latency = LATENCY
    until(lambda: len(bulk_names(core)) > 0, "the apply never started")
    first.signal(signal.SIGTERM)
    assert first.wait() == 0, first.log()
    api.faults.latency = 0.0
    assert len(bulk_names(core)) < BULK, "the apply ran to its end"
    assert first.logged("reconcile stopped"), first.log()
    assert lock_holder(core) is None  # the channel's lock: deleted
    assert lock_holder(core, LEADER) == ""  # the leader Lease: given up
    status = channel(cluster).get("status") or {}
    assert not status.get("history"), status  # a stopped sync is no failure: nothing said

    second = started("--leader-elect", "--once")
    assert second.wait() == 0, second.log()
    assert not second.logged("taking over an expired channel lock")
    assert_converged(core, cluster, local_backends(home).ledger, 2)
    assert lock_holder(core, LEADER) == ""


def probe(syncer: SyncerRun, path: str) -> tuple[int, str]:
    answer = httpx.get(f"http://127.0.0.1:{syncer.port}{path}", timeout=5)
    return answer.status_code, answer.text


def leading(syncer: SyncerRun) -> float | None:
    """The process's syncer_leader gauge, as /metrics serves it."""
    text = probe(syncer, "/metrics")[1]
    return next((s.value for family in text_string_to_metric_families(text)
                 for s in family.samples if s.name == "syncer_leader"), None)


def test_two_replicas_one_leads_and_the_other_takes_over_once_it_is_killed(
        api: KubeApiServer, tmp_path: Path, core: kubernetes.client.CoreV1Api,
        started: Callable[..., SyncerRun]) -> None:
    bare = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    bare.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
               bare.discover().require("", "Namespace"))  # no Channel CRD yet
    replicas = [started(*ELECTION), started(*ELECTION)]
    holder = until(lambda: lock_holder(core, LEADER), "nobody took the leader Lease")
    leader, standby = sorted(replicas, key=lambda r: f"-{r.process.pid}-" not in holder)
    assert f"-{leader.process.pid}-" in holder
    until(lambda: probe(leader, "/readyz")[1].startswith("cannot list Channels"),
          leader.log())  # its first pass found no Channel CRD
    assert probe(leader, "/readyz")[0] == 503
    assert probe(standby, "/readyz") == (200, "ok")  # a standby is ready: it lists nothing
    install_crd(bare)
    for replica in replicas:
        assert probe(replica, "/healthz") == (200, "ok")
        until(lambda r=replica: probe(r, "/readyz") == (200, "ok"), replica.log())
    until(lambda: (leading(leader), leading(standby)) == (1, 0), "syncer_leader")
    assert not standby.logged("leading: this replica holds the leader Lease")
    lease = kubernetes.client.CoordinationV1Api(core.api_client).read_namespaced_lease
    assert lease(LEADER, NS).spec.lease_duration_seconds == 3

    leader.signal(signal.SIGKILL)
    leader.wait()
    until(lambda: f"-{standby.process.pid}-" in (lock_holder(core, LEADER) or ""),
          f"the standby never took over:\n{standby.log()}")
    assert lease(LEADER, NS).spec.lease_transitions == 1
    until(lambda: leading(standby) == 1, "syncer_leader")
    standby.signal(signal.SIGTERM)
    assert standby.wait() == 0, standby.log()
    assert lock_holder(core, LEADER) == ""  # released on the way out


def test_election_timings_that_cannot_work_are_refused_before_connecting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "run", "--kubeconfig", str(tmp_path / "absent"),
                       "--leader-elect", "--lease-duration", "3", "--renew-deadline", "3")
    assert code == 2
    assert one_line(err) == ("syncer: error: syncer run: --retry-period 2 < --renew-deadline "
                             "3 < --lease-duration 3 does not hold")
    for flag, value in [("--lease-duration", "1.5"), ("--lease-duration", "0"),
                        ("--renew-deadline", "-1"), ("--retry-period", "soon")]:
        with pytest.raises(SystemExit) as exited:
            run(capsys, "run", flag, value)
        assert exited.value.code == 2
        assert f"{flag}: {value!r} is not a " in capsys.readouterr().err


def test_once_exits_1_naming_a_channel_that_did_not_reach_ready(
        pushed: Path, cluster: KubeCluster, started: Callable[..., SyncerRun]) -> None:
    """`syncer run --once` in CI or from a laptop: 0 when every Channel reconciled, 1 when
    one Failed or was Refused (here: its release writes outside its allowed namespaces),
    named on stderr; the Channel's status says why."""
    apply_channel(cluster, allowedNamespaces=["elsewhere"])
    refused = started("--once")
    assert refused.wait() == 1
    said = [line["message"] for line in refused.lines if line.get("raw")]
    assert f"syncer: Channel/{NS}/shop-dev did not reach Ready (see its status)" in said
    assert channel(cluster)["status"]["history"][0]["outcome"] == "Refused"

    apply_channel(cluster, allowedNamespaces=["shop-dev"])
    assert started("--once").wait() == 0


def test_once_with_a_leader_lease_it_cannot_take_is_an_error(
        pushed: Path, api: KubeApiServer, cluster: KubeCluster,
        started: Callable[..., SyncerRun]) -> None:
    """No replica holds the Lease, yet this one cannot take it (here the server refuses the
    Lease's requests, as RBAC would): one line naming the Lease, exit 2, nothing applied;
    not 'another replica leads'."""
    apply_channel(cluster)
    for method in ("GET", "POST", "PUT"):
        api.faults.add(Fault(method=method, path="/leases", status=403, reason="Forbidden",
                             message="leases is forbidden", times=100))
    once = started("--leader-elect", "--once")
    assert once.wait() == 2
    said = [line["message"] for line in once.lines if line.get("raw")]
    assert any(m.startswith("syncer: error: Lease/syncer-system/syncer-leader: cannot take "
                            "the leader Lease") for m in said), once.log()
    assert not once.logged("another replica leads; this one follows: nothing done")
    assert "status" not in channel(cluster)
