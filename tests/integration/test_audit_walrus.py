"""`syncer audit` with bundles on Walrus (stand-in publisher and aggregator) and blob
lifetimes read from Sui (the GraphQL stand-in keeping the Walrus network's books): a blob
that Walrus keeps passes with its epochs left; once its end epoch has come, the release is
flagged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import run
from syncer_standins.sui import SuiGraphQLServer, schema
from syncer_standins.sui.schema import schema_dir
from syncer_standins.sui.walrus import DAY_MS
from syncer_standins.walrus import WalrusNetwork, WalrusServer


@pytest.fixture
def publisher(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WalrusServer]:
    """A Walrus publisher and aggregator (one stand-in) whose books the Sui stand-in keeps,
    named by the profile `walrus-books` with the Staking object and the GraphQL endpoint."""
    if schema_dir() is None:
        pytest.skip(schema.missing())
    network = WalrusNetwork()
    with WalrusServer(network=network) as walrus, SuiGraphQLServer() as sui:
        staking = sui.add_walrus(network, epoch_duration_ms=DAY_MS)
        blobstore = {"kind": "walrus", "publisher": walrus.url, "aggregators": [walrus.url],
                     "epochs": 5, "staking_object": staking, "graphql": sui.url}
        home.mkdir(parents=True, exist_ok=True)
        (home / "profiles.yaml").write_text(yaml.safe_dump({"profiles": {"walrus-books": {
            "blobstore": blobstore, "ledger": {"kind": "local"}}}}))
        monkeypatch.setenv("SYNCER_PROFILE", "walrus-books")
        yield walrus


def test_a_blob_past_its_end_epoch_is_flagged(
        publisher: WalrusServer, pushed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "--json")
    lifetime = json.loads(out)["releases"][0]["checks"]["lifetime"]
    assert code == 0, out + err
    assert lifetime["status"] == "ok" and lifetime["detail"].startswith("5 epochs left (end ")

    publisher.epoch += 5
    code, out, _ = run(capsys, "audit")
    failures = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert code == 1, out
    assert failures[0].startswith("FAIL release 1 (blob): missing: ")
    assert failures[1:] == ["FAIL release 1 (lifetime): expired on Walrus (end epoch 6, epoch "
                            "now 6)"]
