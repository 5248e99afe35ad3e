"""A sync stepped wave by wave, against the Kubernetes stand-in over real HTTP.

No kube-apiserver runs here, and a control plane without nodes never runs a Job: as kwok
does, the tests write the Job's status through its status subresource, as the Job
controller would (field manager `kube-controller-manager`). Time is a `ManualClock`: the
sync's waits advance it instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from controlled import MIGRATE, job_status, with_migration
from fakeclock import ManualClock
from helpers import commit_and_push, edit
from syncer_standins.kubeapi import KubeApiServer

from syncer.blobstore.local import LocalBlobStore
from syncer.cluster import KubeCluster, connect
from syncer.errors import SyncStoppedError, UnhealthyError
from syncer.ledger.local import LocalLedger
from syncer.reconcile import Loaded, Reconciler, SyncOptions, load
from syncer.syncrun import SyncRun, read_inventory


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    return connect(kubeconfig=tmp_path / "kubeconfig")


def migrating(pushed: Path, home: Path) -> Loaded:
    """The example app with a migration Job in wave -1 (and its Namespace with it)."""
    with_migration(pushed, home)
    head = LocalLedger(home / "ledger.sqlite").head("shop-dev")
    assert head is not None
    return load(head, blobs=LocalBlobStore(home / "blobs"))


def start(cluster: KubeCluster, loaded: Loaded, clock: ManualClock, *,
          stop: threading.Event | None = None, **options: float) -> SyncRun:
    rec = Reconciler(cluster, options=SyncOptions(workers=2, **options),  # type: ignore[arg-type]
                     clock=clock)
    return rec.start(rec.observe(loaded), stop=stop)


def step_to(run: SyncRun, name: str, wave: int | None = None) -> None:
    while (done := run.step()) is not None:
        if done.name == name and (wave is None or done.wave == wave):
            return
    raise AssertionError(f"no step {name} (wave {wave}): {run.steps}")




def exists(cluster: KubeCluster, group: str, kind: str, name: str) -> bool:
    found = cluster.get(cluster.discover().require(group, kind), namespace="shop-dev",
                        name=name)
    return found is not None


def test_a_failed_wave_job_stops_the_next_wave_and_says_why(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    loaded = migrating(pushed, home)
    run = start(cluster, loaded, ManualClock())
    step_to(run, "health", -1)
    assert run.steps[-1].detail == "1 of 2 objects progressing"  # the Job; its Namespace is
    assert exists(cluster, "batch", "Job", "migrate")
    assert not exists(cluster, "apps", "Deployment", "web")

    job_status(cluster, "Failed", "BackoffLimitExceeded", "Job has reached the specified "
                                                          "backoff limit")
    with pytest.raises(UnhealthyError) as caught:
        run.run()
    assert caught.value.where == "Job/shop-dev/migrate"
    assert "Degraded" in str(caught.value) and "BackoffLimitExceeded" in str(caught.value)
    assert "the waves after -1 were not applied" in str(caught.value)
    assert "the sync stopped there: 2 of" in str(caught.value)
    assert set(caught.value.applied) == {"Namespace/shop-dev", "Job/shop-dev/migrate"}
    assert not exists(cluster, "apps", "Deployment", "web")
    assert not exists(cluster, "", "ConfigMap", "shop-config")


def test_a_completed_wave_job_lets_the_next_wave_roll(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    loaded = migrating(pushed, home)
    run = start(cluster, loaded, ManualClock())
    step_to(run, "health", -1)
    job_status(cluster, "Complete", "CompletionsReached", "Reached expected number of "
                                                          "succeeded pods")
    result = run.run()
    names = [str(c.ref) for c in result.applied]
    assert names.index("Job/shop-dev/migrate") < names.index("Deployment/shop-dev/web")
    assert [s.name for s in run.steps if s.wave == -1][-1] == "health"
    assert run.steps[-1].name == "record"
    assert exists(cluster, "apps", "Deployment", "web")


def test_a_wave_progressing_past_its_deadline_stops_the_sync(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    loaded = migrating(pushed, home)
    clock = ManualClock()
    run = start(cluster, loaded, clock, health_timeout=30.0, poll=5.0)
    with pytest.raises(UnhealthyError, match="still Progressing after 30s"):
        run.run()
    assert sum(clock.waits) >= 30.0  # the clock's time, not the machine's
    assert not exists(cluster, "apps", "Deployment", "web")


def test_a_stop_between_steps_ends_the_sync_releases_the_lock_and_keeps_the_record(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    loaded = migrating(pushed, home)
    stop = threading.Event()
    run = start(cluster, loaded, ManualClock(), stop=stop)
    step_to(run, "apply", -1)
    stop.set()
    with pytest.raises(SyncStoppedError, match="told to stop") as caught:
        run.step()
    assert "Namespace/shop-dev" in caught.value.applied
    discovery = cluster.discover()
    leases = discovery.require("coordination.k8s.io", "Lease")
    assert cluster.get(leases, namespace="syncer-system", name="syncer-lock-shop-dev") is None
    record = read_inventory(cluster, discovery, channel="shop-dev", namespace="syncer-system")
    assert record is not None  # the intent: everything the stopped sync was about to apply
    assert {e.name for e in record.entries} >= {"migrate", "web", "shop-config"}
    assert run.step() is None  # a stopped run stays stopped


def test_a_stop_during_a_health_wait_cuts_the_wait_short(
        pushed: Path, home: Path, cluster: KubeCluster) -> None:
    loaded = migrating(pushed, home)
    stop = threading.Event()
    clock = ManualClock()
    run = start(cluster, loaded, clock, stop=stop)
    step_to(run, "health", -1)
    stop.set()
    with pytest.raises(SyncStoppedError):
        run.run()
    assert not exists(cluster, "apps", "Deployment", "web")


def test_one_wave_waits_for_nothing_and_the_last_wave_only_when_asked(
        pushed: Path, home: Path, cluster: KubeCluster, api: KubeApiServer) -> None:
    head = LocalLedger(home / "ledger.sqlite").head("shop-dev")
    assert head is not None
    loaded = load(head, blobs=LocalBlobStore(home / "blobs"))
    run = start(cluster, loaded, ManualClock())
    run.run()
    assert "health" not in [s.name for s in run.steps]

    edit(pushed / "values" / "dev.yaml", "replicas: 1", "replicas: 2")
    commit_and_push(pushed, home, "Two replicas")
    head = LocalLedger(home / "ledger.sqlite").head("shop-dev")
    assert head is not None
    run = start(cluster, load(head, blobs=LocalBlobStore(home / "blobs")), ManualClock(),
                wait=True)
    run.run()
    # the wave waits on all its objects, the three left unchanged too
    assert run.steps[-2].name == "health" and run.steps[-2].detail == "4 objects healthy"


def test_a_wave_waiting_on_several_objects_of_a_kind_reads_them_with_one_list(
        pushed: Path, home: Path, cluster: KubeCluster,
        caplog: pytest.LogCaptureFixture) -> None:
    (pushed / "templates" / "migrate-2.yaml").write_text(
        MIGRATE.replace("name: migrate\n", "name: migrate-2\n"))
    loaded = migrating(pushed, home)
    run = start(cluster, loaded, ManualClock())
    step_to(run, "health", -1)
    assert run.steps[-1].detail == "2 of 3 objects progressing"  # two Jobs, one Namespace
    for name in ("migrate", "migrate-2"):
        job_status(cluster, "Complete", "CompletionsReached", "Reached expected number of "
                   "succeeded pods", name=name)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="syncer.cluster"):
        step_to(run, "health", -1)
    paths = [r.__dict__["path"] for r in caplog.records if r.getMessage() == "api request"]
    assert paths == ["/apis/batch/v1/namespaces/shop-dev/jobs"]  # one LIST, no GET per Job
    assert run.steps[-1].detail == "3 objects healthy"
    run.run()
    assert exists(cluster, "apps", "Deployment", "web")
