"""The demo flow with the real backends' protocols: bundles on Walrus, releases on Sui.

Neither Walrus nor Sui can run here, so the profile `chain-here` points at stand-ins on
127.0.0.1: `syncer_standins.walrus` (publisher and aggregator, following Walrus's OpenAPI documents)
and `syncer_standins.sui` (Sui's published GraphQL schema, with the registry
module emulated, and the Walrus network's Staking and Blob objects; the client is pysui's
real GqlProtocolClient). The cluster is the Kubernetes API stand-in. Channels are
registered by `syncer init` through real signed transactions, and the pre-push hook
publishes through them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml
from helpers import commit_and_push, edit, git, run
from syncer_standins.sui import SuiGraphQLServer, schema
from syncer_standins.sui.schema import schema_dir
from syncer_standins.walrus import WalrusServer

from syncer import keys
from syncer.backends import open_backends, select_profile
from syncer.cli import main
from syncer.config import Home

pytestmark = pytest.mark.skipif(schema_dir() is None, reason=schema.missing())


@pytest.fixture
def chain(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SuiGraphQLServer]:
    """Walrus and Sui stand-ins, a funded publisher key, and the profile naming them."""
    key = keys.generate()
    keys.save(key, home / "keys" / "publisher.key")
    with WalrusServer() as walrus, SuiGraphQLServer() as sui:
        sui.fund(key.address)
        staking = sui.add_walrus(walrus.network)
        (home / "profiles.yaml").write_text(yaml.safe_dump({"profiles": {"chain-here": {
            "blobstore": {"kind": "walrus", "publisher": walrus.url,
                          "aggregators": [walrus.url], "epochs": 53,
                          "staking_object": staking},
            "ledger": {"kind": "sui", "graphql": sui.url, "package": sui.package}}}}))
        monkeypatch.setenv("SYNCER_PROFILE", "chain-here")
        yield sui


@pytest.fixture
def pushed_on_chain(chain: SuiGraphQLServer, app_repo: Path, home: Path, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.chdir(app_repo)
    monkeypatch.setenv("SYNCER_CHANNEL", "shop-dev")
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(tmp_path / "remote.git"))
    git(app_repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    assert main(["init"]) == 0
    assert "Registry 0x" in capsys.readouterr().out
    assert main(["hooks", "install"]) == 0
    git(app_repo, "push", "-q", "origin", "main", env={"SYNCER_HOME": str(home)})
    return app_repo


def test_flow_on_walrus_and_sui(
        pushed_on_chain: Path, home: Path, chain: SuiGraphQLServer,
        core: kubernetes.client.CoreV1Api, capsys: pytest.CaptureFixture[str]) -> None:
    registries = yaml.safe_load((home / "profiles.yaml").read_text())["profiles"][
        "chain-here"]["ledger"]["registries"]
    assert set(registries) == {"shop-dev", "shop-prod"}
    assert chain.registry(registries["shop-dev"]).seq == 1
    assert not (home / "ledger.sqlite").exists() and not (home / "blobs").exists()

    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "release 1 of shop-dev" in out and "4 created" in out
    edit(pushed_on_chain / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    commit_and_push(pushed_on_chain, home, "Debug logging")
    assert chain.registry(registries["shop-dev"]).seq == 2
    code, out, _ = run(capsys, "diff")
    assert code == 1 and "-  LOG_LEVEL: info\n+  LOG_LEVEL: debug" in out
    assert run(capsys, "sync")[0] == 0
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "debug"
    code, out, _ = run(capsys, "history")
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == 2 and "Ada Lovelace" in rows[0] and "Grace Hopper" in rows[1]
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    assert f"ok    sui {chain.url}: answers" in out
    assert "release 2 of shop-dev: blob" in out and "stored for 53.0 days" in out


def test_revoked_publisher_cannot_push(
        pushed_on_chain: Path, home: Path, chain: SuiGraphQLServer) -> None:
    registries = yaml.safe_load((home / "profiles.yaml").read_text())["profiles"][
        "chain-here"]["ledger"]["registries"]
    key = keys.load(home / "keys" / "publisher.key")
    backends = open_backends(select_profile(None, home=Home(home)), home=Home(home))
    backends.ledger.revoke_publisher("shop-dev", admin=key, public_key=key.public_key)
    edit(pushed_on_chain / "values" / "dev.yaml", "replicas: 1", "replicas: 2")
    with pytest.raises(Exception) as caught:
        commit_and_push(pushed_on_chain, home, "Two replicas")
    assert "revoked" in str(getattr(caught.value, "stderr", ""))
    assert chain.registry(registries["shop-dev"]).seq == 1


def test_an_unapproved_release_waits_for_its_approval_on_sui(
        pushed_on_chain: Path, chain: SuiGraphQLServer, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`syncer channel set-approvers`, `syncer approve` (the registry's approve call, signed
    by the approver's key) and the gate of `syncer sync`, on the Sui stand-in."""
    approver = keys.generate()
    chain.fund(approver.address)
    assert run(capsys, "channel", "set-approvers", approver.address, "--threshold", "1")[0] == 0
    code, out, _ = run(capsys, "channel", "show", "-o", "json")
    shown = json.loads(out)
    assert (code, shown["approvers"], shown["threshold"]) == (0, [approver.address], 1)
    assert shown["record"].startswith("0x") and shown["head"]["seq"] == 1
    code, out, _ = run(capsys, "sync")
    assert (code, out.strip()) == (0, "release 1 waits for 1 more approval (0/1) on shop-dev: "
                                      "no approved release to apply")
    assert not core.list_namespaced_config_map("shop-dev").items

    monkeypatch.setenv("SYNCER_KEY", approver.to_suiprivkey())
    code, out, _ = run(capsys, "approve", "1")
    assert (code, out.strip()) == (0, f"release 1 of shop-dev approved by {approver.address}: "
                                      "approvals 1/1, enough to apply")
    code, _, err = run(capsys, "approve", "1")
    assert code == 2 and "already approved" in err
    monkeypatch.delenv("SYNCER_KEY")
    code, out, _ = run(capsys, "sync")
    assert code == 0 and out.startswith("release 1 of shop-dev") and "4 created" in out
    assert "1/1 (" in run(capsys, "history")[1].splitlines()[1]
