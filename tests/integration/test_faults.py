"""Faults around a sync and a publish (issue 8): an API server answering 500, 409 or 429
mid-apply, answering late, or dying; the ledger unreadable; the disk full while a blob is
stored; publish killed at any point. Each time: one line, exit 2, nothing lost, and the
next run converges.

The API server is the Kubernetes stand-in with its fault knobs (`Fault`): a real server
does these things when it is overloaded, restarting or broken.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, edit, git, one_line, run
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.blobstore.local import LocalBlobStore
from syncer.cluster import connect
from syncer.errors import ApiTimeoutError
from syncer.ledger.local import LocalLedger
from syncer.reconcile import Reconciler, load

WRITE = "/namespaces/shop-dev/configmaps/shop-config$"


def changed_release(pushed: Path, home: Path) -> None:
    """Release 2: shop-config changes, and a new ConfigMap comes after it."""
    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    (pushed / "templates" / "zz-extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: zz-extra}\ndata: {a: '1'}\n")
    commit_and_push(pushed, home, "Debug logs and an extra ConfigMap")


@pytest.mark.parametrize(("fault", "words"), [
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=500, times=9),
     "injected fault (HTTP 500, 5 attempts)"),
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=409, reason="Conflict", times=9),
     "injected fault"),
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=429, reason="TooManyRequests",
           retry_after=1, times=9), "injected fault (HTTP 429, 5 attempts)"),
    (Fault(method="PATCH", path=WRITE, dry_run=False, cut=True, times=9),
     "PATCH failed: connection lost"),
    (Fault(method="PATCH", path=WRITE, dry_run=False, dies=True),
     "PATCH failed: connection lost"),
], ids=["500", "409", "429", "cut", "dies"])
def test_a_write_refused_mid_apply(pushed: Path, home: Path, api: KubeApiServer,
                                   core: kubernetes.client.CoreV1Api, fault: Fault,
                                   words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    changed_release(pushed, home)
    api.faults.add(fault)
    code, _, err = run(capsys, "sync")
    line = one_line(err)
    assert code == 2 and line.startswith("syncer: error: ConfigMap/shop-dev/shop-config: ")
    assert words in line  # the object that failed, not the inventory write or the lock
    api.faults.clear()
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "info"  # nothing lost: the old value stands
    if fault.dies:  # the dead server kept the lock; a new syncer process would take it at
        leases = kubernetes.client.CoordinationV1Api(core.api_client)  # once (its holder,
        leases.delete_namespaced_lease("syncer-lock-shop-dev", "syncer-system")  # gone)
    code, _, err = run(capsys, "sync")
    assert code == 0, err
    assert core.read_namespaced_config_map("zz-extra", "shop-dev").data == {"a": "1"}
    assert run(capsys, "diff")[0] == 0


def test_an_api_server_answering_late(pushed: Path, home: Path, api: KubeApiServer,
                                      tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    changed_release(pushed, home)
    late = api.faults.add(Fault(method="PATCH", path=WRITE, dry_run=False, delay=2.0,
                                times=2))  # a read timeout is retried once only
    ledger, blobs = LocalLedger(home / "ledger.sqlite"), LocalBlobStore(home / "blobs")
    head = ledger.head("shop-dev")
    assert head is not None
    reconciler = Reconciler(connect(kubeconfig=tmp_path / "kubeconfig", timeout=0.5))
    with pytest.raises(ApiTimeoutError, match=r"PATCH failed: no answer within 0.5s \(2 "):
        reconciler.sync(reconciler.observe(load(head, blobs=blobs)))
    assert late.seen == 2
    time.sleep(2.0)  # the late answers come and go
    assert run(capsys, "sync")[0] == 0
    assert run(capsys, "diff")[0] == 0


def test_an_unreadable_ledger(pushed: Path, home: Path, api: KubeApiServer,
                              capsys: pytest.CaptureFixture[str]) -> None:
    ledger = home / "ledger.sqlite"
    kept = ledger.read_bytes()
    ledger.unlink()
    ledger.mkdir()
    code, _, err = run(capsys, "sync")
    assert code == 2 and "ledger" in one_line(err)
    ledger.rmdir()
    ledger.write_bytes(kept)
    assert run(capsys, "sync")[0] == 0


def no_bigger_files_than(size: int) -> None:
    """In the child: writes past `size` bytes fail with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_a_full_disk_while_storing_the_blob(pushed: Path, home: Path) -> None:
    (pushed / "templates" / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {blob: '"
        + "x" * 200_000 + "'}\n")
    git(pushed, "add", "-A")
    git(pushed, "commit", "-qm", "A big ConfigMap")
    env = {**os.environ, "SYNCER_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "syncer", "publish"], cwd=pushed, env=env,
                          capture_output=True, text=True, check=False,
                          preexec_fn=lambda: no_bigger_files_than(100_000))
    assert done.returncode == 2, done.stderr
    assert "cannot store the blob: File too large" in one_line(done.stderr)
    assert [r.seq for r in LocalLedger(home / "ledger.sqlite").history("shop-dev")] == [1]
    assert not [p for p in (home / "blobs").iterdir() if p.name.startswith(".tmp-")]
    done = subprocess.run([sys.executable, "-m", "syncer", "publish"], cwd=pushed, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr  # room again: it goes through


def test_publish_killed_at_any_point(pushed: Path, home: Path, api: KubeApiServer,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    env = {**os.environ, "SYNCER_HOME": str(home)}
    chance = random.Random(7)
    for attempt in range(4):
        edit(pushed / "values" / "dev.yaml", f"replicas: {1 + attempt}",
             f"replicas: {2 + attempt}")
        git(pushed, "commit", "-qam", f"Replicas {2 + attempt}")
        process = subprocess.Popen([sys.executable, "-m", "syncer", "publish"], cwd=pushed,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(chance.uniform(0.2, 2.5))
        process.send_signal(signal.SIGKILL)
        process.communicate()
    code, out, err = run(capsys, "history")  # the ledger verifies, every bundle too
    assert code == 0, out + err
    assert run(capsys, "publish")[0] == 0  # and the last commit goes through
    assert run(capsys, "sync")[0] == 0
