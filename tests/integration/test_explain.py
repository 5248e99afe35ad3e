"""`syncer explain`: a live object in the Kubernetes API stand-in followed back to its
release, commit, blob and approvals on the embedded ledger and blob store."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import kubernetes
import pytest
from helpers import one_line, run
from syncer_standins.kubeapi import KubeApiServer

from syncer.config import Home
from syncer.ledger.local import LocalLedger


def test_a_synced_object_shows_its_release_commit_blob_approvals_and_field_owners(
        pushed: Path, home: Path, api: KubeApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    release = LocalLedger(Home(home).ledger).release("shop-dev", 1)
    code, out, err = run(capsys, "explain", "configmap/shop-dev/shop-config")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:7] == [
        "ConfigMap/shop-dev/shop-config",
        "  channel:    shop-dev",
        f"  release:    1, published {lines[2].split('published ')[1].split(' by ')[0]} by "
        f"{release.publisher}",
        f"  commit:     {release.commit}",
        "  author:     Ada Lovelace <ada@example.com>",
        "  message:    Initial shop deployment",
        f"  blob:       {release.blob_id} verifies (SHA-256 and blob ID)"]
    recorded = lines[7].removeprefix("  recorded:   local ledger entry ")
    with closing(sqlite3.connect(Home(home).ledger)) as db:  # release 1 is the last entry
        (head_hash,) = db.execute("SELECT head_hash FROM channels").fetchone()
    assert recorded == head_hash
    assert lines[8] == "  approvals:  none (0 of 0 required)"
    assert lines[9] == "  fields:"
    assert lines[10].startswith("    syncer (Apply, ") and "data." in lines[10]
    assert "metadata.labels" in lines[10]


def test_a_cluster_scoped_object_and_a_link_that_does_not_hold(
        pushed: Path, api: KubeApiServer, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    code, out, _ = run(capsys, "explain", "Namespace/shop-dev")
    assert code == 0 and out.splitlines()[:2] == ["Namespace/shop-dev",
                                                  "  channel:    shop-dev"]
    code, _, err = run(capsys, "explain", "namespaces/shop-dev/shop-dev")
    assert code == 2 and "cluster-scoped" in one_line(err)

    core.patch_namespaced_config_map("shop-config", "shop-dev", {"metadata": {
        "annotations": {"syncer.io/release": "9"}}})
    code, out, _ = run(capsys, "explain", "configmaps/shop-dev/shop-config")
    assert code == 1
    assert out.splitlines()[-1] == ("  problem:    the ledger has no such release: channel "
                                    "shop-dev: no release seq 9")


def test_an_object_syncer_did_not_write_is_a_finding_and_a_missing_one_an_error(
        pushed: Path, api: KubeApiServer, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "by-hand"},
                                                  "data": {"a": "1"}})
    code, out, _ = run(capsys, "explain", "configmaps/default/by-hand")
    assert code == 1
    assert out.splitlines()[0] == ("ConfigMap/default/by-hand: not managed by syncer (no "
                                   "syncer.io/channel label)")
    code, out, err = run(capsys, "explain", "ConfigMap/default/nothing-here")
    assert code == 2 and out == ""
    assert one_line(err) == ("syncer: error: ConfigMap/default/nothing-here: not found in the "
                             "cluster")
    for bad in ("configmap", "Widget/default/x", "ConfigMap/default/Not_A_Name"):
        code, _, err = run(capsys, "explain", bad)
        assert code == 2 and one_line(err)
