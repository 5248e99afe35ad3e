"""Opt-in tests against the real Walrus and Sui networks: skipped unless configured.

For NET in TESTNET, MAINNET, set any of:
  SYNCER_E2E_<NET>_PUBLISHER and SYNCER_E2E_<NET>_AGGREGATOR   store and read a small blob
  SYNCER_E2E_<NET>_GRAPHQL, _PACKAGE and _REGISTRY             read a channel's registry
  SYNCER_E2E_<NET>_PUBLISHER, _AGGREGATOR and _GRAPHQL         read a new blob's lifetime
(e.g. the endpoints of the built-in `testnet` profile, `syncer --profile testnet ...`).
"""

from __future__ import annotations

import os
import time

import pytest

from syncer.blobstore import blob_id_of
from syncer.blobstore.walrus import WalrusBlobStore, WalrusOptions
from syncer.blobstore.walrus_lifetime import WalrusLifetime
from syncer.bundle import sha256_hex
from syncer.keys import generate
from syncer.ledger import rules
from syncer.ledger.sui import SuiLedger, SuiOptions
from syncer.profiles import MAINNET_STAKING, TESTNET_STAKING

pytestmark = pytest.mark.e2e
NETWORKS = ("TESTNET", "MAINNET")
STAKING = {"TESTNET": TESTNET_STAKING, "MAINNET": MAINNET_STAKING}


def _env(net: str, *names: str) -> list[str]:
    values = [os.environ.get(f"SYNCER_E2E_{net}_{n}", "") for n in names]
    if not all(values):
        pytest.skip(f"set SYNCER_E2E_{net}_{{{','.join(names)}}} to run against {net.lower()}")
    return values


@pytest.mark.parametrize("net", NETWORKS)
def test_store_and_read_a_small_blob(net: str) -> None:
    publisher, aggregator = _env(net, "PUBLISHER", "AGGREGATOR")
    data = f"syncer e2e {time.time_ns()}\n".encode()
    with WalrusBlobStore(WalrusOptions(publisher, (aggregator,), epochs=1)) as store:
        stored = store.put(data)
        assert stored.blob_id == blob_id_of(data) and stored.end_epoch
        assert store.get(stored.blob_id, sha256=sha256_hex(data)) == data


@pytest.mark.parametrize("net", NETWORKS)
def test_read_a_registry(net: str) -> None:
    graphql, package, registry = _env(net, "GRAPHQL", "PACKAGE", "REGISTRY")
    options = SuiOptions(graphql_url=graphql, package=package, registries={"e2e": registry})
    with SuiLedger(options) as ledger:
        history = ledger.history("e2e")
        head = ledger.head("e2e")
    assert (head is None) == (not history)
    for release in history:
        rules.check_blob_id("e2e", release.blob_id)
    assert [r.seq for r in history] == list(range(1, len(history) + 1))


@pytest.mark.parametrize("net", NETWORKS)
def test_read_the_epoch_and_the_lifetime_of_a_new_blob(net: str) -> None:
    """Checks the Staking and Blob layouts that `walrus_lifetime` expects on the real chain."""
    publisher, aggregator, graphql = _env(net, "PUBLISHER", "AGGREGATOR", "GRAPHQL")
    owner = generate().address
    data = f"syncer e2e lifetime {time.time_ns()}\n".encode()
    options = WalrusOptions(publisher, (aggregator,), epochs=2, send_object_to=owner)
    with WalrusBlobStore(options) as store:
        stored = store.put(data)
    reader = WalrusLifetime(graphql, STAKING[net])
    epoch = reader.epoch()
    assert epoch.duration_ms > 0 and epoch.epoch > 0
    lifetime = reader.blob(stored.blob_id, owners=[owner])
    assert lifetime is not None and lifetime.end_epoch == stored.end_epoch
    assert epoch.epoch < lifetime.end_epoch <= epoch.epoch + 2
