"""The approval gate through the command line, on the embedded ledger and blob store,
synced into the Kubernetes API stand-in: `syncer channel`, `syncer approve`, `syncer sync`,
`syncer history`."""

from __future__ import annotations

from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, edit, one_line, run
from syncer_standins.kubeapi import KubeApiServer

from syncer import keys
from syncer.ledger.local import LocalLedger

ALICE, BOB, STRANGER = keys.generate(), keys.generate(), keys.generate()


def approve(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            key: keys.Keypair, seq: str) -> tuple[int, str, str]:
    """`syncer approve SEQ` signed with `key` ($SYNCER_KEY only for this command: the
    pre-push hook must go on publishing with the publisher key)."""
    monkeypatch.setenv("SYNCER_KEY", key.to_suiprivkey())
    try:
        return run(capsys, "approve", seq)
    finally:
        monkeypatch.delenv("SYNCER_KEY")


def greeting(core: kubernetes.client.CoreV1Api) -> str | None:
    try:
        return str(core.read_namespaced_config_map("shop-config", "shop-dev").data)
    except kubernetes.client.ApiException as e:
        assert e.status == 404
        return None


def test_an_unapproved_release_waits_until_its_approvals_are_in(
        pushed: Path, home: Path, api: KubeApiServer, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "channel", "set-approvers", ALICE.address, BOB.public_key,
                       "--threshold", "2")
    assert (code, out.strip()) == (0, f"channel shop-dev: approvers {ALICE.address}, "
                                      f"{BOB.address}, threshold 2")
    code, out, _ = run(capsys, "sync")
    assert (code, out.strip()) == (0, "release 1 waits for 2 more approvals (0/2) on "
                                      "shop-dev: no approved release to apply")
    assert greeting(core) is None

    code, _, err = approve(capsys, monkeypatch, STRANGER, "1")
    assert code == 2 and f"{STRANGER.address} is not an approver" in one_line(err)
    code, out, _ = approve(capsys, monkeypatch, ALICE, "1")
    assert (code, out.strip()) == (0, f"release 1 of shop-dev approved by {ALICE.address}: "
                                      "approvals 1/2, waits for 1 more")
    code, _, err = approve(capsys, monkeypatch, ALICE, "1")
    assert code == 2 and "has already approved seq 1" in one_line(err)
    code, _, err = run(capsys, "sync", "--seq", "1")
    assert code == 2 and "release 1 has approvals 1/2" in one_line(err)
    assert greeting(core) is None

    assert approve(capsys, monkeypatch, BOB, "1")[1].endswith("approvals 2/2, enough to apply\n")
    code, out, _ = run(capsys, "sync")
    assert code == 0 and out.startswith("release 1 of shop-dev:")
    assert "Welcome to the shop" in str(greeting(core))

    edit(pushed / "values" / "common.yaml", "Welcome to the shop", "Welcome back")
    commit_and_push(pushed, home, "A warmer greeting")  # release 2, unapproved
    approve(capsys, monkeypatch, BOB, "2")
    code, out, _ = run(capsys, "sync")
    assert code == 0
    assert out.splitlines()[0] == ("release 2 waits for 1 more approval (1/2) on shop-dev: "
                                   "applying release 1, the highest approved")
    assert "Welcome to the shop" in str(greeting(core))
    approve(capsys, monkeypatch, ALICE, "2")
    assert run(capsys, "sync")[1].startswith("release 2 of shop-dev:")
    assert "Welcome back" in str(greeting(core))

    code, out, _ = run(capsys, "history")
    header, first, second = out.splitlines()
    assert "APPROVALS" in header
    short = [f"{k.address[:8]}…{k.address[-4:]}" for k in (ALICE, BOB)]
    assert f"2/2 ({short[0]}, {short[1]})" in first
    assert f"2/2 ({short[1]}, {short[0]})" in second


def test_channel_admin_commands(pushed: Path, home: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    admin = LocalLedger(home / "ledger.sqlite").admin("shop-dev")
    code, out, err = run(capsys, "channel", "create", "shop-qa", "--publisher", BOB.public_key)
    assert (code, out.strip(), err) == (0, f"channel shop-qa: registered (admin {admin})", "")
    assert run(capsys, "channel", "add-publisher", ALICE.public_key, "--channel",
               "shop-qa")[1].strip() == f"channel shop-qa: publisher {ALICE.address} added"
    assert run(capsys, "channel", "revoke-publisher", BOB.public_key, "--channel",
               "shop-qa")[0] == 0
    code, _, err = run(capsys, "channel", "add-publisher", BOB.public_key, "--channel",
                       "shop-qa")
    assert code == 2 and "was revoked and cannot be added again" in one_line(err)
    code, _, err = run(capsys, "channel", "set-approvers", ALICE.address, "--threshold", "2",
                       "--channel", "shop-qa")
    assert code == 2 and "threshold 2 must be between 0 and the number of approvers (1)" in \
        one_line(err)
    assert run(capsys, "channel", "set-approvers", ALICE.address, "--threshold", "1",
               "--channel", "shop-qa")[0] == 0
    code, out, _ = run(capsys, "channel", "show", "--channel", "shop-qa")
    assert (code, out.splitlines()) == (0, [
        "channel:    shop-qa", f"admin:      {admin}", f"publishers: {ALICE.address}",
        f"approvers:  {ALICE.address}", "threshold:  1", "head:       no release yet"])
    code, _, err = run(capsys, "channel", "create", "shop-qa")
    assert code == 2 and "channel already exists" in one_line(err)
