"""The release pipeline with bundles on Walrus: push → hook → store on Walrus → sync.

Walrus cannot run here, so a stand-in publisher and two aggregators
(`syncer_standins.walrus`, following Walrus's OpenAPI documents and computing
real blob IDs) serve the profile `walrus-here`, defined in $SYNCER_HOME/profiles.yaml. The
ledger stays the embedded one; the cluster is the Kubernetes API stand-in. Blob lifetimes
live on Sui: for the doctor's checks, the Sui GraphQL stand-in keeps the Walrus network's
books (`books`).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml
from helpers import commit_and_push, edit, run
from syncer_standins.sui import SuiGraphQLServer, schema
from syncer_standins.sui.schema import schema_dir
from syncer_standins.sui.walrus import DAY_MS
from syncer_standins.walrus import WalrusNetwork, WalrusServer

from syncer import keys

Walrus = tuple[WalrusServer, WalrusServer, WalrusServer]


@pytest.fixture
def network() -> WalrusNetwork:
    return WalrusNetwork()


@pytest.fixture
def walrus(home: Path, network: WalrusNetwork,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Walrus]:
    """A publisher and two aggregators of one Walrus network, named by a profile."""
    with WalrusServer(network=network) as publisher, WalrusServer(network=network) as first, \
            WalrusServer(network=network) as second:
        home.mkdir(parents=True, exist_ok=True)
        (home / "profiles.yaml").write_text(
            "profiles:\n  walrus-here:\n"
            f"    blobstore: {{kind: walrus, publisher: '{publisher.url}', epochs: 5,\n"
            f"      aggregators: ['{first.url}', '{second.url}'], read_deadline: 10}}\n"
            "    ledger: {kind: local}\n")
        monkeypatch.setenv("SYNCER_PROFILE", "walrus-here")
        yield publisher, first, second


@pytest.fixture
def books(walrus: Walrus, network: WalrusNetwork, home: Path) -> Iterator[SuiGraphQLServer]:
    """The Sui stand-in keeping the network's books (Staking and Blob objects; epochs last a
    day), named by the profile so that `syncer doctor` reads blob lifetimes from it."""
    if schema_dir() is None:
        pytest.skip(schema.missing())
    with SuiGraphQLServer() as sui:
        staking = sui.add_walrus(network, epoch_duration_ms=DAY_MS)
        profiles = yaml.safe_load((home / "profiles.yaml").read_text())
        profiles["profiles"]["walrus-here"]["blobstore"].update(
            staking_object=staking, graphql=sui.url, expiry_warning_days=3)
        (home / "profiles.yaml").write_text(yaml.safe_dump(profiles))
        yield sui


def test_flow_with_bundles_on_walrus(
        walrus: Walrus, pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    publisher, first, _ = walrus
    assert not (home / "blobs").exists()
    assert any(r.method == "PUT" for r in publisher.requests)
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "4 created" in out
    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    commit_and_push(pushed, home, "Debug logging")
    code, out, _ = run(capsys, "diff")
    assert code == 1 and "+  LOG_LEVEL: debug" in out
    assert run(capsys, "sync")[0] == 0
    code, out, _ = run(capsys, "history")
    assert code == 0 and "Grace Hopper" in out and "Ada Lovelace" in out
    assert first.reads()


def test_one_aggregator_serving_altered_bytes_is_skipped(
        walrus: Walrus, pushed: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    _, first, _ = walrus
    first.faults.corrupt = True
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "4 created" in out
    assert any(first.url in str(vars(r).get("aggregator", "")) for r in caplog.records)


def test_all_aggregators_altered_refuses_the_release_and_changes_nothing(
        walrus: Walrus, pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, first, second = walrus
    assert run(capsys, "sync")[0] == 0
    before = core.read_namespaced_config_map("shop-config", "shop-dev").metadata \
        .resource_version
    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    commit_and_push(pushed, home, "Debug logging")
    first.faults.corrupt = second.faults.corrupt = True
    code, _, err = run(capsys, "sync")
    errors = [line for line in err.splitlines() if line.startswith("syncer: error: ")]
    assert code == 2 and len(errors) == 1
    assert first.url in errors[0] and second.url in errors[0]
    after = core.read_namespaced_config_map("shop-config", "shop-dev")
    assert after.metadata.resource_version == before and after.data["LOG_LEVEL"] == "info"


def test_published_blob_objects_go_to_the_publisher(
        walrus: Walrus, pushed: Path, home: Path) -> None:
    publisher, _, _ = walrus
    (store,) = [r for r in publisher.requests if r.method == "PUT"]
    address = keys.load(home / "keys" / "publisher.key").address
    assert store.query["send_object_to"] == address


def test_doctor_warns_before_the_head_blob_expires_and_refresh_extends_it(
        walrus: Walrus, books: SuiGraphQLServer, pushed: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    publisher, _, _ = walrus
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    assert "ok    release 1 of shop-dev: blob" in out and "stored for 5.0 days" in out
    publisher.epoch += 3
    code, out, _ = run(capsys, "doctor")
    (line,) = [x for x in out.splitlines() if "expires in" in x]
    assert code == 1 and line.startswith("warn  release 1 of shop-dev: blob")
    assert "(end epoch 6, epoch now 4): run `syncer publish --refresh 1 --channel shop-dev`" in line
    code, out, err = run(capsys, "publish", "--refresh", "1")
    assert code == 0, err
    assert "refreshed blob" in out and "release 1 of shop-dev" in out
    assert f"until epoch {publisher.epoch + 5}" in out
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    assert "release 1 of shop-dev: blob" in out and "fetched and verified" in out
    assert "(end epoch 9, epoch now 4)" in out


def test_an_expired_head_blob_is_reported_and_rebuilt_from_its_commit(
        walrus: Walrus, books: SuiGraphQLServer, pushed: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    publisher, _, _ = walrus
    publisher.epoch += 5
    code, out, _ = run(capsys, "doctor")
    assert code == 1
    assert "has expired (end epoch 6, epoch now 6): run `syncer publish --refresh 1 --channel " \
        "shop-dev` in a clone holding commit" in out
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "publish", "--refresh", "1")
    (error,) = [line for line in err.splitlines() if line.startswith("syncer: error: ")]
    assert code == 2 and "cannot be rebuilt here" in error
    monkeypatch.chdir(pushed)
    code, out, err = run(capsys, "publish", "--refresh", "1")
    assert code == 0, err
    assert "until epoch 11 (rebuilt from its commit)" in out
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    code, out, err = run(capsys, "sync")
    assert code == 0 and "4 created" in out, err


def test_doctor_says_when_it_cannot_check_lifetimes(
        walrus: Walrus, pushed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor")
    assert code == 1
    assert "warn  walrus epochs: blob lifetimes not checked: set blobstore.staking_object" in out


def test_bad_walrus_profile_is_one_line(home: Path, app_repo: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    home.mkdir(parents=True)
    (home / "profiles.yaml").write_text(
        "profiles:\n  broken:\n    blobstore: {kind: walrus, aggregators: [], epochs: 9}\n"
        "    ledger: {kind: local}\n")
    monkeypatch.chdir(app_repo)
    code, _, err = run(capsys, "--profile", "broken", "history", "--channel", "shop-dev")
    assert code == 2 and "profile broken: blobstore.aggregators: is not set" in err


def test_doctor_reports_each_endpoint(walrus: Walrus, books: SuiGraphQLServer, pushed: Path,
                                      home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    publisher, first, second = walrus
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    for server in (publisher, first, second):
        assert f"ok    walrus {server.url}: answers" in out
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    profiles = (home / "profiles.yaml").read_text().replace(second.url, dead)
    (home / "profiles.yaml").write_text(profiles)
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and f"error walrus {dead}: does not answer" in out

