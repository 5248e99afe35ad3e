"""`syncer audit` on the embedded ledger and blob store, against real git repositories: a
clean history (with a rollback) passes; a tampered blob, a missing blob, a broken chain and a
bundle not built from its commit are each flagged, naming the release."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from helpers import commit_and_push, edit, git, one_line, run

from syncer import keys
from syncer.blobstore.local import LocalBlobStore
from syncer.bundle import build
from syncer.config import Home
from syncer.gitsource import open_repo, read_commit
from syncer.ledger.local import LocalLedger


def ledger(home: Path) -> LocalLedger:
    return LocalLedger(Home(home).ledger)


def test_a_clean_history_with_a_rollback_passes_then_altered_and_missing_blobs_fail(
        pushed: Path, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(pushed / "values" / "common.yaml", "Welcome to the shop", "Welcome back")
    commit_and_push(pushed, home, "A warmer greeting")  # release 2
    assert run(capsys, "rollback", "1")[0] == 0  # release 3: release 1's bundle again
    code, out, err = run(capsys, "audit", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["channel"] == "shop-dev", err
    assert report["ledger"] == {"status": "ok",
                                "detail": "3 releases; signatures and links verify"}
    assert [r["seq"] for r in report["releases"]] == [1, 2, 3]
    third = report["releases"][2]
    assert third["commit"] == report["releases"][0]["commit"] and third["ok"] is True
    assert list(third["checks"]) == ["chain", "blob", "sha256", "blob-id", "commit", "files",
                                     "lifetime"]
    assert [c["status"] for c in third["checks"].values()] == ["ok"] * 6 + ["skip"]
    assert third["checks"]["files"]["detail"] == ("the bundle built again is the blob, byte "
                                                  "for byte")

    second, first = ledger(home).release("shop-dev", 2), ledger(home).release("shop-dev", 1)
    blob = Home(home).blobs / second.blob_id
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    (Home(home).blobs / first.blob_id).unlink()
    code, out, _ = run(capsys, "audit")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == ["SEQ", "COMMIT", "PUBLISHER", "PUBLISHED", "(UTC)", "CHAIN",
                                "BLOB", "SHA256", "BLOB-ID", "COMMIT", "FILES", "LIFETIME"]
    assert [line.split()[5:] for line in lines[1:4]] == [
        ["ok", "FAIL", "-", "-", "ok", "-", "-"], ["ok", "ok", "FAIL", "-", "ok", "-", "-"],
        ["ok", "FAIL", "-", "-", "ok", "-", "-"]]
    failures = [line for line in lines if line.startswith("FAIL")]
    assert failures[0].startswith("FAIL release 1 (blob): missing: ")
    assert failures[1].startswith("FAIL release 2 (sha256): ")
    assert failures[2].startswith("FAIL release 3 (blob): missing: ")
    assert len(failures) == 3 and lines[-1] == "shop-dev: 3 releases audited, FAILED"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    git(elsewhere, "init", "-q", "-b", "main")
    git(elsewhere, "commit", "-q", "--allow-empty", "-m", "unrelated")
    code, out, _ = run(capsys, "audit", "--json", "--repo", str(elsewhere))
    checks = [r["checks"]["commit"] for r in json.loads(out)["releases"]]
    assert code == 1 and [c["status"] for c in checks] == ["fail"] * 3
    assert checks[0]["detail"] == f"commit {first.commit[:12]} is not in the repository"


def test_a_broken_chain_is_reported_against_its_entry(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with closing(sqlite3.connect(Home(home).ledger)) as db, db:
        db.execute('UPDATE entries SET "commit" = ? WHERE seq = 1', ("f" * 40,))
    code, out, err = run(capsys, "audit", "--json")
    report = json.loads(out)
    assert code == 1 and "Traceback" not in err
    assert report["ok"] is False and report["releases"] == []
    assert report["ledger"]["status"] == "fail"
    assert report["ledger"]["detail"] == ("ledger entry seq 1 of channel shop-dev: signature "
                                          "does not verify")
    code, out, _ = run(capsys, "audit")
    assert code == 1 and ("FAIL ledger of channel shop-dev: ledger entry seq 1 of channel "
                          "shop-dev: signature does not verify") in out.splitlines()


def test_a_bundle_not_built_from_its_commit_fails(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A publisher (holding the key) records the head commit with a bundle whose files are
    not the commit's: a ConfigMap value changed after the commit was made."""
    info, files = read_commit(open_repo(pushed), "HEAD", sources=("templates", "values"))
    files["values/common.yaml"] = files["values/common.yaml"].replace(b"Welcome", b"Hacked")
    stored = LocalBlobStore(Home(home).blobs).put(build(info, files))
    ledger(home).publish("shop-dev", blob_id=stored.blob_id, sha256=stored.sha256,
                         commit=info.commit, key=keys.load(Home(home).key_file))
    code, out, _ = run(capsys, "audit")
    assert code == 1
    (failure,) = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failure == (f"FAIL release 2 (files): the bundle differs from commit "
                       f"{info.commit[:12]}: values/common.yaml has another SHA-256")



def test_bad_input_is_one_line_and_exit_2(
        pushed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", "--repo", str(tmp_path / "nowhere"))
    assert code == 2 and "nowhere" in one_line(err)
    code, _, err = run(capsys, "audit", "--channel", "nope")
    assert code == 2 and "nope" in one_line(err)
