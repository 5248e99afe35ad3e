"""The controller's scenarios end to end, in-process: `Controller.pass_once` driven by the
test against the Kubernetes API stand-in over real HTTP (no kube-apiserver runs here; the
stand-in's own tests replay transcripts of a real one), with releases published by the git
hook to the local ledger and blob store: drift healed, a wave's failed Job, API errors,
suspend and reconcile requests, refused releases.

Time is a `ManualClock`: a test advances it and runs one pass at a time; the health waits
of a sync advance it too. A test that must act during such a wait gives the controller a
`HookClock`, whose `wait()` first calls the test's hook. A Job never runs on the stand-in
(no nodes): as kwok does, a test writes its status through the status subresource as the
Job controller would. The API client's retry waits are injected (`connect(sleep=...)`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    job_status,
    with_migration,
)
from fakeclock import ManualClock
from helpers import commit_and_push, edit
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer import channelres, channelspec
from syncer.cli import main
from syncer.cluster import KubeCluster, Resource, connect
from syncer.controller import Controller
from syncer.metrics import Metrics
from syncer.model import Obj
from syncer.syncrun import read_inventory

INTERVAL = 30.0
RESYNC = 300.0
APP = "shop-dev"
READY = "Ready"


class HookClock(ManualClock):
    """A manual clock that calls `hook(seconds)` at each wait, before time moves."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: Callable[[float], None] = lambda _seconds: None

    def wait(self, seconds: float, stop: Any = None) -> bool:
        self.hook(seconds)
        return super().wait(seconds, stop)


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    return found


def resource(cluster: KubeCluster, group: str, kind: str) -> Resource:
    return cluster.discover().require(group, kind)


def get(cluster: KubeCluster, kind: str, name: str, *, group: str = "",
        namespace: str = APP) -> Obj | None:
    return get_object(cluster, kind, name, group=group, namespace=namespace)


def events(cluster: KubeCluster, reason: str) -> list[Obj]:
    return channel_events(cluster, reason)


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"channel": APP, **labels})


def by_hand(cluster: KubeCluster, name: str, data: dict[str, str]) -> None:
    """A ConfigMap of the app's namespace applied by someone with kubectl."""
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": name, "namespace": APP}, "data": data},
                  resource(cluster, "", "ConfigMap"), manager="kubectl")


def settle(loop: Controller, clock: ManualClock, cluster: KubeCluster) -> None:
    """The head applied, then healthy at the next poll (the stand-in reports a
    Deployment's rollout a little later)."""
    loop.pass_once()
    clock.advance(INTERVAL)
    loop.pass_once()
    assert condition(channel(cluster), READY)["status"] == "True"


def config(cluster: KubeCluster, key: str) -> str:
    """A value of the app's ConfigMap shop-config, as it is in the cluster."""
    live = get(cluster, "ConfigMap", "shop-config")
    assert live is not None
    return str(live["data"].get(key, ""))


def log_level(cluster: KubeCluster) -> str:
    return config(cluster, "LOG_LEVEL")


def inventory_seq(cluster: KubeCluster) -> int:
    found = read_inventory(cluster, cluster.discover(), channel=APP, namespace=NS)
    assert found is not None
    return found.seq


# --- 1. drift --------------------------------------------------------------------------------

def test_a_managed_object_changed_by_hand_is_restored_at_the_next_resync(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    apply_channel(cluster)
    clock, metrics = ManualClock(), Metrics()
    loop = controller_with(cluster, home, clock, metrics=metrics)
    settle(loop, clock, cluster)
    assert sample(metrics, "syncer_drift_objects") == 0
    live = get(cluster, "ConfigMap", "shop-config")
    assert live is not None and live["data"]["LOG_LEVEL"] == "info"
    by_hand(cluster, "shop-config", {"LOG_LEVEL": "trace"})
    by_hand(cluster, "by-hand", {"LOG_LEVEL": "trace"})

    clock.advance(INTERVAL)
    loop.pass_once()  # a poll: the head has not moved, nothing is read or repaired
    assert log_level(cluster) == "trace"
    assert events(cluster, "DriftRepaired") == []

    clock.advance(RESYNC)
    loop.pass_once()
    assert log_level(cluster) == "info"
    other = get(cluster, "ConfigMap", "by-hand")  # of the same kind, not the channel's
    assert other is not None and other["data"] == {"LOG_LEVEL": "trace"}
    assert "syncer.io/channel" not in (other["metadata"].get("labels") or {})
    [repaired] = events(cluster, "DriftRepaired")
    assert repaired["type"] == "Normal" and "release 1" in repaired["message"]
    assert sample(metrics, "syncer_drift_objects") == 1
    assert condition(channel(cluster), READY)["status"] == "True"
    assert len(events(cluster, "ReleaseApplied")) == 1

    clock.advance(RESYNC * 1.2)
    loop.pass_once()  # nothing drifted since: the gauge goes back to 0, no new Event
    assert sample(metrics, "syncer_drift_objects") == 0
    assert len(events(cluster, "DriftRepaired")) == 1


# --- 2. a wave's Job fails -------------------------------------------------------------------






def fail_the_job_once(cluster: KubeCluster) -> Callable[[float], None]:
    """A hook for the first health wait: the Job fails meanwhile."""
    done: list[bool] = []

    def hook(_seconds: float) -> None:
        if not done and get(cluster, "Job", "migrate", group="batch") is not None:
            done.append(True)
            job_status(cluster, "Failed", "BackoffLimitExceeded",
                       "Job has reached the specified backoff limit")
    return hook


def test_a_failed_job_in_an_early_wave_stops_the_later_wave_until_it_completes(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    with_migration(pushed, home)
    apply_channel(cluster)
    clock, metrics = HookClock(), Metrics()
    clock.hook = fail_the_job_once(cluster)
    loop = controller_with(cluster, home, clock, metrics=metrics)
    loop.pass_once()
    assert get(cluster, "Job", "migrate", group="batch") is not None
    assert get(cluster, "Deployment", "web", group="apps") is None
    assert get(cluster, "ConfigMap", "shop-config") is None
    status = channel(cluster)["status"]
    ready = condition(channel(cluster), READY)
    assert (ready["status"], ready["reason"]) == ("False", "ReleaseFailed")
    assert "Job/shop-dev/migrate" in ready["message"]
    assert "Degraded" in ready["message"] and "BackoffLimitExceeded" in ready["message"]
    assert (status["history"][0]["seq"], status["history"][0]["outcome"]) == (2, "Failed")
    assert "lastApplied" not in status
    assert len(events(cluster, "ReleaseFailed")) == 1
    # one health poll (2s on the clock) before the Job was seen Failed
    assert sample(metrics, "syncer_reconcile_duration_seconds_sum", outcome="failed") == 2.0
    assert sample(metrics, "syncer_apply_errors_total", reason="unhealthy") == 1

    clock.advance(4.0)  # the backoff (5s) has not passed: nothing is tried
    loop.pass_once()
    assert len(events(cluster, "ReleaseFailed")) == 1

    job_status(cluster, "Complete", "CompletionsReached", "Reached expected number of "
                                                          "succeeded pods")
    clock.advance(2.0)  # past the backoff
    loop.pass_once()
    assert get(cluster, "Deployment", "web", group="apps") is not None
    assert get(cluster, "ConfigMap", "shop-config") is not None
    status = channel(cluster)["status"]
    assert status["lastApplied"]["seq"] == 2
    assert [(h["seq"], h["outcome"]) for h in status["history"]] == [(2, "Progressing")]
    clock.advance(INTERVAL)
    loop.pass_once()  # the Deployment's rollout reported: Ready
    ready = condition(channel(cluster), READY)
    assert (ready["status"], ready["reason"]) == ("True", "ReleaseApplied")
    assert [(h["seq"], h["outcome"]) for h in channel(cluster)["status"]["history"]] == [
        (2, "Applied")]  # settled


def test_a_retry_does_not_roll_the_later_wave_while_the_early_job_is_still_failed(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    with_migration(pushed, home)
    apply_channel(cluster)
    clock = HookClock()
    clock.hook = fail_the_job_once(cluster)
    loop = controller_with(cluster, home, clock)
    loop.pass_once()
    assert get(cluster, "Deployment", "web", group="apps") is None
    clock.advance(6.0)  # past the first backoff (5s); nobody fixed the Job
    loop.pass_once()
    assert condition(channel(cluster), READY)["status"] == "False"
    assert get(cluster, "Deployment", "web", group="apps") is None


# --- 3. API errors during an apply -----------------------------------------------------------

WRITE = "/namespaces/shop-dev/configmaps/shop-config$"


def release_2(pushed: Path, home: Path) -> None:
    """Release 2: shop-config changes, and a new ConfigMap comes with it."""
    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    (pushed / "templates" / "zz-extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: zz-extra}\ndata: {a: '1'}\n")
    commit_and_push(pushed, home, "Debug logs and an extra ConfigMap")


@pytest.mark.parametrize(("fault", "waited"), [
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=500, times=2), None),
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=429, reason="TooManyRequests",
           retry_after=7, times=2), [7.0, 7.0]),
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=503, reason="ServiceUnavailable",
           times=3), None),
    (Fault(method="PATCH", path=WRITE, dry_run=False, delay=1.0, times=1), None),
], ids=["500", "429-retry-after", "503", "timeout"])
def test_transient_api_errors_during_an_apply_are_retried_and_converge(
        pushed: Path, home: Path, api: KubeApiServer, tmp_path: Path, fault: Fault,
        waited: list[float] | None) -> None:
    sleeps: list[float] = []
    cluster = connect(kubeconfig=tmp_path / "kubeconfig", sleep=sleeps.append, timeout=0.5)
    install_crd(cluster)
    apply_channel(cluster)
    clock, metrics = ManualClock(), Metrics()
    loop = controller_with(cluster, home, clock, metrics=metrics)
    settle(loop, clock, cluster)
    release_2(pushed, home)
    sleeps.clear()
    api.faults.add(fault)
    clock.advance(INTERVAL)
    loop.pass_once()
    assert fault.seen > fault.times  # failed, then passed on a retry, in this pass
    assert log_level(cluster) == "debug"
    assert get(cluster, "ConfigMap", "zz-extra") is not None
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 2
    assert condition(channel(cluster), READY)["status"] == "True"
    assert len(sleeps) == fault.times  # the client's waits, injected: none slept for real
    if waited is not None:
        assert sleeps == waited  # the server's Retry-After
    assert sample(metrics, "syncer_apply_errors_total", reason="server") is None
    assert events(cluster, "ReleaseFailed") == []


def test_a_failure_that_outlasts_the_retries_is_reported_once_and_retried_with_backoff(
        pushed: Path, home: Path, api: KubeApiServer, cluster: KubeCluster) -> None:
    apply_channel(cluster)
    clock, metrics = ManualClock(), Metrics()
    loop = controller_with(cluster, home, clock, metrics=metrics)
    settle(loop, clock, cluster)
    release_2(pushed, home)
    broken = api.faults.add(Fault(method="PATCH", path=WRITE, dry_run=False, status=500,
                                  times=1000))
    clock.advance(INTERVAL)
    loop.pass_once()
    seen = broken.seen
    assert seen == 5  # one request and four retries by the client
    ready = condition(channel(cluster), READY)
    assert (ready["status"], ready["reason"]) == ("False", "ReleaseFailed")
    assert ready["message"].startswith("ConfigMap/shop-dev/shop-config: ")
    assert "HTTP 500" in ready["message"]
    history = channel(cluster)["status"]["history"]
    assert (history[0]["seq"], history[0]["outcome"]) == (2, "Failed")
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 1
    assert log_level(cluster) == "info"
    assert sample(metrics, "syncer_apply_errors_total", reason="server") == 1

    clock.advance(4.0)  # within the backoff (5s): not tried
    loop.pass_once()
    assert broken.seen == seen
    for backoff, failures in ((5.0, 2), (10.0, 3), (20.0, 4)):
        clock.advance(backoff - 4.0 if failures == 2 else backoff)
        loop.pass_once()
        assert broken.seen > seen, f"retry {failures} not made"
        seen = broken.seen
        assert loop.schedules[f"Channel/{NS}/{APP}"].failures == failures
        assert sample(metrics, "syncer_apply_errors_total", reason="server") == failures
    assert len(events(cluster, "ReleaseFailed")) == 1  # one failure, said once
    assert condition(channel(cluster), READY)["status"] == "False"

    api.faults.clear()
    clock.advance(40.0)
    loop.pass_once()
    assert log_level(cluster) == "debug"
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 2
    assert condition(channel(cluster), READY)["status"] == "True"
    assert loop.schedules[f"Channel/{NS}/{APP}"].failures == 0
    assert len(events(cluster, "ReleaseFailed")) == 1


# --- 4. suspend, resume, reconcile now -------------------------------------------------------

def test_a_suspended_channel_applies_nothing_until_resumed(
        pushed: Path, home: Path, cluster: KubeCluster, api: KubeApiServer) -> None:
    apply_channel(cluster)
    clock, metrics = ManualClock(), Metrics()
    loop = controller_with(cluster, home, clock, metrics=metrics)
    settle(loop, clock, cluster)
    channelres.set_suspend(cluster, cluster.discover(), NS, APP, True)
    release_2(pushed, home)
    by_hand(cluster, "shop-config", {"GREETING": "hand-made"})
    writes = api.faults.add(Fault(method="PATCH", path="/namespaces/shop-dev/", times=0))
    for _ in range(3):
        clock.advance(RESYNC)  # past every poll and resync
        loop.pass_once()
    assert writes.seen == 0  # not even a dry run in the app's namespace
    assert log_level(cluster) == "info" and get(cluster, "ConfigMap", "zz-extra") is None
    assert config(cluster, "GREETING") == "hand-made"
    assert inventory_seq(cluster) == 1
    ready = condition(channel(cluster), READY)
    assert (ready["status"], ready["reason"]) == ("Unknown", "Suspended")
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 1
    assert sample(metrics, "syncer_channel_suspended") == 1

    channelres.set_suspend(cluster, cluster.discover(), NS, APP, False)
    loop.pass_once()
    assert log_level(cluster) == "debug" and get(cluster, "ConfigMap", "zz-extra") is not None
    assert config(cluster, "GREETING") == "Welcome to the shop"
    assert inventory_seq(cluster) == 2
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 2
    assert condition(channel(cluster), READY)["status"] == "True"
    assert sample(metrics, "syncer_channel_suspended") == 0


def test_a_requested_reconcile_runs_at_the_next_pass_without_waiting_for_the_poll(
        pushed: Path, home: Path, cluster: KubeCluster,
        capsys: pytest.CaptureFixture[str]) -> None:
    apply_channel(cluster)
    clock = ManualClock()
    loop = controller_with(cluster, home, clock)
    settle(loop, clock, cluster)
    release_2(pushed, home)
    loop.pass_once()  # the clock has not moved: no poll is due
    assert log_level(cluster) == "info"

    at = "2026-12-01T10:00:00.123456Z"
    channelres.request_reconcile(cluster, cluster.discover(), NS, APP, at=at)
    loop.pass_once()  # the same instant: the request alone makes it reconcile
    assert log_level(cluster) == "debug"
    status = channel(cluster)["status"]
    assert status["lastApplied"]["seq"] == 2
    assert status["lastHandledReconcileAt"] == at

    edit(pushed / "values" / "dev.yaml", "logLevel: debug", "logLevel: warn")
    commit_and_push(pushed, home, "Quieter logs")
    assert main(["reconcile", APP, "-n", NS]) == 0
    requested = channel(cluster)["metadata"]["annotations"][channelspec.ANNOTATION_RECONCILE]
    assert requested != at
    capsys.readouterr()
    loop.pass_once()
    assert log_level(cluster) == "warn"
    assert channel(cluster)["status"]["lastHandledReconcileAt"] == requested
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 3
    loop.pass_once()  # handled: not again
    assert len(events(cluster, "ReleaseApplied")) == 3


# --- 5. refused releases ---------------------------------------------------------------------

def namespaces_by_hand(cluster: KubeCluster, *names: str) -> None:
    """Namespaces an administrator made: a lane with namespaces cannot hold one."""
    for name in names:
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                      resource(cluster, "", "Namespace"), manager="kubectl")


def test_a_release_writing_outside_the_channels_namespaces_is_refused_and_the_last_stays(
        pushed: Path, home: Path, cluster: KubeCluster, api: KubeApiServer) -> None:
    (pushed / "templates" / "namespace.yaml.j2").unlink()
    commit_and_push(pushed, home, "The namespace is the administrator's")  # release 2
    namespaces_by_hand(cluster, APP, "other")
    apply_channel(cluster, allowedNamespaces=[APP])
    clock, metrics = ManualClock(), Metrics()
    loop = controller_with(cluster, home, clock, metrics=metrics)
    settle(loop, clock, cluster)
    assert channel(cluster)["status"]["lastApplied"]["seq"] == 2

    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    # syncer.yaml lets the release reach `other` (publish's namespace policy passes); the
    # Channel's lane, set by the cluster's administrator, does not
    edit(pushed / "syncer.yaml", "    namespace: shop-dev\n",
         "    namespace: shop-dev\n    namespaces: [other]\n")
    (pushed / "templates" / "elsewhere.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: elsewhere, namespace: other}\n"
        "data: {a: '1'}\n")
    commit_and_push(pushed, home, "Debug logs, and a ConfigMap in another namespace")
    writes = api.faults.add(Fault(method="PATCH", path="/namespaces/(shop-dev|other)/",
                                  times=0))
    clock.advance(INTERVAL)
    loop.pass_once()
    assert writes.seen == 0  # nothing written, not even dry-run
    assert get(cluster, "ConfigMap", "elsewhere", namespace="other") is None
    assert log_level(cluster) == "info" and inventory_seq(cluster) == 2
    status = channel(cluster)["status"]
    stalled, ready = condition(channel(cluster), "Stalled"), condition(channel(cluster), READY)
    assert (stalled["status"], ready["status"], ready["reason"]) == ("True", "False",
                                                                    "ReleaseRefused")
    assert "ConfigMap/other/elsewhere" in ready["message"]
    assert "namespace other is not in this channel's allowed namespaces" in ready["message"]
    assert (status["head"]["seq"], status["lastApplied"]["seq"]) == (3, 2)
    assert (status["history"][0]["seq"], status["history"][0]["outcome"]) == (3, "Refused")
    [refused] = events(cluster, "ReleaseRefused")
    assert refused["type"] == "Warning" and "release 3 refused" in refused["message"]
    assert sample(metrics, "syncer_release_seq") == 2

    for _ in range(3):  # polls: the refused head is not tried again
        clock.advance(INTERVAL)
        loop.pass_once()
    assert len(events(cluster, "ReleaseRefused")) == 1

    by_hand(cluster, "shop-config", {"LOG_LEVEL": "trace"})
    clock.advance(RESYNC)
    loop.pass_once()  # a resync heals the last good release, release 2
    assert log_level(cluster) == "info" and inventory_seq(cluster) == 2
    assert get(cluster, "ConfigMap", "elsewhere", namespace="other") is None
    assert len(events(cluster, "DriftRepaired")) == 1
    assert len(events(cluster, "ReleaseRefused")) == 1
    assert sample(metrics, "syncer_release_seq") == 2
    status = channel(cluster)["status"]
    assert (status["head"]["seq"], status["lastApplied"]["seq"]) == (3, 2)
    stalled, ready = condition(channel(cluster), "Stalled"), condition(channel(cluster), READY)
    assert (stalled["status"], ready["status"]) == ("True", "False")  # the head stays refused
    assert "release 3 refused" in ready["message"] and "release 2" in ready["message"]


def test_a_head_whose_bytes_do_not_verify_is_refused_and_the_last_good_is_resynced(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    apply_channel(cluster)
    clock = ManualClock()
    loop = controller_with(cluster, home, clock)
    settle(loop, clock, cluster)
    release_2(pushed, home)
    blob = blob_path(home, 2)
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")  # altered where it is stored
    clock.advance(INTERVAL)
    loop.pass_once()
    assert log_level(cluster) == "info" and get(cluster, "ConfigMap", "zz-extra") is None
    assert inventory_seq(cluster) == 1
    status = channel(cluster)["status"]
    stalled, ready = condition(channel(cluster), "Stalled"), condition(channel(cluster), READY)
    assert (stalled["status"], ready["status"], ready["reason"]) == ("True", "False",
                                                                    "ReleaseRefused")
    assert "release 2 refused" in ready["message"] and "SHA-256" in ready["message"]
    assert "the last good release stays: release 1 in place" in ready["message"]
    assert (status["head"]["seq"], status["lastApplied"]["seq"]) == (2, 1)
    assert (status["history"][0]["seq"], status["history"][0]["outcome"]) == (2, "Refused")
    [refused] = events(cluster, "ReleaseRefused")
    assert f"blob {blob.name}" in refused["message"]

    by_hand(cluster, "shop-config", {"LOG_LEVEL": "trace"})
    clock.advance(RESYNC)
    loop.pass_once()
    assert log_level(cluster) == "info"  # release 1, healed
    assert inventory_seq(cluster) == 1
    assert len(events(cluster, "DriftRepaired")) == 1
    assert len(events(cluster, "ReleaseRefused")) == 1
    assert condition(channel(cluster), "Stalled")["status"] == "True"
    assert condition(channel(cluster), READY)["status"] == "False"
    assert channel(cluster)["status"]["health"] == "Healthy"  # release 1's

    restarted = controller_with(cluster, home, clock)  # knows nothing of the refusal
    restarted.pass_once()
    assert len(events(cluster, "ReleaseRefused")) == 1  # found in the status history
    assert inventory_seq(cluster) == 1 and log_level(cluster) == "info"
    assert condition(channel(cluster), "Stalled")["status"] == "True"


def test_a_failure_of_the_last_good_release_is_about_it_not_the_refused_head(
        pushed: Path, home: Path, cluster: KubeCluster, api: KubeApiServer) -> None:
    apply_channel(cluster)
    clock = ManualClock()
    loop = controller_with(cluster, home, clock)
    settle(loop, clock, cluster)
    release_2(pushed, home)
    blob = blob_path(home, 2)
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    clock.advance(INTERVAL)
    loop.pass_once()  # release 2 refused
    by_hand(cluster, "shop-config", {"LOG_LEVEL": "trace"})
    api.faults.add(Fault(method="PATCH", path=WRITE, dry_run=False, status=500, times=1000))
    clock.advance(RESYNC)
    loop.pass_once()  # the resync of release 1 fails
    status = channel(cluster)["status"]
    ready = condition(channel(cluster), READY)
    assert (ready["status"], ready["reason"]) == ("False", "ReleaseFailed")
    assert [(h["seq"], h["outcome"]) for h in status["history"]] == [
        (1, "Failed"), (2, "Refused")]  # the head's refusal stays on record
    assert (status["head"]["seq"], status["lastApplied"]["seq"]) == (2, 1)
    [failed] = events(cluster, "ReleaseFailed")
    assert failed["message"].startswith("ConfigMap/shop-dev/shop-config: ")

    api.faults.clear()
    clock.advance(6.0)
    loop.pass_once()  # retried: release 1 healed, and the head still refused
    assert log_level(cluster) == "info"
    assert condition(channel(cluster), "Stalled")["status"] == "True"
    newest = channel(cluster)["status"]["history"][0]
    assert (newest["seq"], newest["outcome"]) == (2, "Refused")
