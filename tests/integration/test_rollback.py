"""`syncer rollback SEQ`: a new release pointing at an earlier release's bundle, on the
embedded ledger and blob store, synced into the Kubernetes API stand-in (no kube-apiserver
runs here)."""

from __future__ import annotations

from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, edit, one_line, run
from syncer_standins.kubeapi import KubeApiServer

from syncer.ledger.local import LocalLedger


def greeting(core: kubernetes.client.CoreV1Api) -> str:
    return str(core.read_namespaced_config_map("shop-config", "shop-dev").data)


def test_rollback_publishes_the_earlier_bundle_as_a_new_release_and_sync_applies_it(
        pushed: Path, home: Path, api: KubeApiServer, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    edit(pushed / "values" / "common.yaml", "Welcome to the shop", "Welcome back")
    commit_and_push(pushed, home, "A warmer greeting")  # release 2
    assert run(capsys, "sync")[0] == 0
    assert "Welcome back" in greeting(core)

    code, out, _ = run(capsys, "rollback", "1")
    assert code == 0
    ledger = LocalLedger(home / "ledger.sqlite")
    first, second, third = ledger.history("shop-dev")
    assert third.seq == 3 and out.strip() == (
        f"published release 3 of shop-dev: commit {first.commit[:12]}, blob {first.blob_id} "
        "(the bundle of release 1)")
    assert (third.blob_id, third.sha256, third.commit) == (first.blob_id, first.sha256,
                                                           first.commit)
    assert second.blob_id != first.blob_id  # history only grows: release 2 stays
    assert run(capsys, "show", "3")[1] == run(capsys, "show", "1")[1].replace(
        "release 1", "release 3")

    assert run(capsys, "sync")[0] == 0
    assert "Welcome to the shop" in greeting(core)
    assert run(capsys, "diff")[0] == 0


def test_rolling_back_to_the_heads_bundle_records_nothing(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rollback", "1")
    assert code == 0
    assert out.strip() == ("shop-dev: release 1, the head, already has the bundle of "
                           "release 1 (nothing to do)")
    assert len(LocalLedger(home / "ledger.sqlite").history("shop-dev")) == 1


def test_a_release_that_does_not_exist_or_whose_bytes_changed_is_refused(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "rollback", "7")
    assert code == 2 and "7" in one_line(err)
    edit(pushed / "values" / "common.yaml", "Welcome to the shop", "Welcome back")
    commit_and_push(pushed, home, "A warmer greeting")  # release 2
    first = LocalLedger(home / "ledger.sqlite").release("shop-dev", 1)
    (blob,) = [p for p in (home / "blobs").rglob("*") if p.is_file()
               and p.name == first.blob_id]
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    code, _, err = run(capsys, "rollback", "1")
    assert code == 2 and first.blob_id in one_line(err)
    assert len(LocalLedger(home / "ledger.sqlite").history("shop-dev")) == 2
