"""The Sui GraphQL stand-in over HTTP: what pysui's client needs, and how transactions are
verified before they run (signature, sender, object versions, replays)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pysui import PysuiConfiguration
from pysui.sui.sui_common.config.confgroup import NetworkType
from pysui.sui.sui_pgql.pgql_clients import GqlProtocolClient
from syncer_standins.sui import SuiGraphQLServer, schema
from syncer_standins.sui.schema import schema_dir
from syncer_standins.sui.server import RPC_VERSION

from syncer import keys
from syncer.keys import Keypair

pytestmark = pytest.mark.skipif(schema_dir() is None, reason=schema.missing())

COMMIT = "6ff87c4664981e4397625791c8ea3bbb5f2279a3"
OBJECT = '{ object(address: "%s") { asMoveObject { contents { json } } } }'
EXECUTE = """mutation { executeTransaction(transactionDataBcs: "%s", signatures: [%s]) {
  errors effects { digest status executionError { abortCode message } } } }"""


@pytest.fixture
def sui() -> Iterator[SuiGraphQLServer]:
    with SuiGraphQLServer() as server:
        yield server


def graphql(sui: SuiGraphQLServer, query: str) -> dict[str, Any]:
    response = httpx.post(sui.url, json={"query": query}, timeout=10)
    assert response.status_code == 200
    assert response.headers["x-sui-rpc-version"] == RPC_VERSION
    body: dict[str, Any] = response.json()
    return body


def client_for(sui: SuiGraphQLServer, key: Keypair) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        config = PysuiConfiguration.initialize_config(
            in_folder=Path(folder), init_groups=[{"name": "t", "make_active": True}])
    config.new_profile(profile_name="t", url=sui.url, network_type=NetworkType.LOCAL,
                       make_active=True, persist=False)
    config.add_keys(key_block=[{"key_string": key.to_suiprivkey(), "alias": "k"}],
                    persist=False)
    return GqlProtocolClient(pysui_config=config)


class Publisher:
    """A funded key with a listed cap, and signed publish transactions on demand."""

    def __init__(self, sui: SuiGraphQLServer) -> None:
        self.sui = sui
        self.key = keys.generate()
        self.registry, _ = sui.create_registry("shop-prod", keys.generate().address)
        self.cap = sui.mint_publisher_cap(self.registry, self.key.address)
        sui.fund(self.key.address)
        self.loop = asyncio.new_event_loop()
        self.client = client_for(sui, self.key)

    def signed(self, n: int = 1) -> dict[str, Any]:
        async def build() -> dict[str, Any]:
            txn = await self.client.transaction(initial_sender=self.key.address)
            await txn.move_call(
                target=f"{self.sui.package}::registry::publish",
                arguments=[self.cap, self.registry, n, hashlib.sha256(bytes([n])).digest(),
                           COMMIT[:-1] + str(n % 10), "0x6"])
            signed: dict[str, Any] = await txn.build_and_sign(gas_budget=10_000_000)
            return signed
        return self.loop.run_until_complete(build())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture
def publisher(sui: SuiGraphQLServer) -> Iterator[Publisher]:
    ready = Publisher(sui)
    yield ready
    ready.close()


def execute(sui: SuiGraphQLServer, tx_bytes: str, signatures: list[str]) -> dict[str, Any]:
    quoted = ", ".join(f'"{s}"' for s in signatures)
    result: dict[str, Any] = graphql(sui, EXECUTE % (tx_bytes, quoted))["data"][
        "executeTransaction"]
    return result


def signature_by(key: Keypair, tx_bytes: str) -> str:
    digest = hashlib.blake2b(bytes([0, 0, 0]) + base64.b64decode(tx_bytes),
                             digest_size=32).digest()
    raw = base64.b64decode(key.sign(digest))
    public = base64.b64decode(key.public_key)[1:]
    return base64.b64encode(b"\0" + raw + public).decode()


def test_pysui_client_starts_against_the_stand_in(sui: SuiGraphQLServer) -> None:
    client = client_for(sui, keys.generate())
    assert client.chain_id() == "4c78adac"
    assert client.current_gas_price == 1000
    assert client.schema_version() == RPC_VERSION


def test_introspection_and_unknown_fields(sui: SuiGraphQLServer) -> None:
    types = graphql(sui, "{ __schema { queryType { name } mutationType { name } } }")
    assert types["data"]["__schema"]["mutationType"] == {"name": "Mutation"}
    unknown = graphql(sui, "{ nope }")
    assert "Cannot query field 'nope'" in unknown["errors"][0]["message"]


def test_objects_by_owner_and_type(sui: SuiGraphQLServer) -> None:
    owner = keys.generate().address
    registry, admin_cap = sui.create_registry("shop-prod", owner)
    coin = sui.fund(owner, 5)
    query = ('{ objects(filter: {owner: "%s", type: "%s"}) { nodes { address '
             "asMoveObject { contents { type { repr } json } } } } }")
    caps = graphql(sui, query % (owner, f"{sui.package}::registry::AdminCap"))
    (node,) = caps["data"]["objects"]["nodes"]
    assert node["address"] == admin_cap
    assert node["asMoveObject"]["contents"]["json"] == {"id": admin_cap, "registry": registry}
    coins = graphql(sui, query % (owner, "0x2::coin::Coin<0x2::sui::SUI>"))
    (node,) = coins["data"]["objects"]["nodes"]
    assert (node["address"], node["asMoveObject"]["contents"]["json"]["balance"]) == (coin, "5")
    assert graphql(sui, '{ object(address: "0x1234") { address } }')["data"] == {"object": None}


def test_events_cannot_filter_by_type_and_module(sui: SuiGraphQLServer) -> None:
    query = '{ events(filter: {type: "0x2::a::B", module: "0x2::a"}) { nodes { timestamp } } }'
    assert "not supported" in graphql(sui, query)["errors"][0]["message"]


def test_a_signed_transaction_runs_once(sui: SuiGraphQLServer, publisher: Publisher) -> None:
    signed = publisher.signed()
    first = execute(sui, signed["tx_bytestr"], signed["sig_array"])
    again = execute(sui, signed["tx_bytestr"], signed["sig_array"])
    assert first["effects"]["status"] == "SUCCESS"
    assert again == first
    assert sui.registry(publisher.registry).seq == 1


def test_signature_by_another_key_is_rejected(sui: SuiGraphQLServer,
                                              publisher: Publisher) -> None:
    signed = publisher.signed()
    forged = signature_by(keys.generate(), signed["tx_bytestr"])
    result = execute(sui, signed["tx_bytestr"], [forged])
    assert result["effects"] is None
    assert "does not match the transaction's sender" in result["errors"][0]
    assert sui.transactions == []


def test_tampered_bytes_are_rejected(sui: SuiGraphQLServer, publisher: Publisher) -> None:
    signed = publisher.signed()
    raw = bytearray(base64.b64decode(signed["tx_bytestr"]))
    raw[-9] ^= 1  # inside the gas budget
    result = execute(sui, base64.b64encode(bytes(raw)).decode(), signed["sig_array"])
    assert result["errors"] == ["signature does not verify against the transaction bytes"]
    assert execute(sui, signed["tx_bytestr"], [])["errors"] == [
        "expected 1 signature (the sender's), got 0"]


def test_stale_object_versions_are_rejected(sui: SuiGraphQLServer,
                                            publisher: Publisher) -> None:
    one, two = publisher.signed(1), publisher.signed(2)  # both name the same versions
    assert execute(sui, one["tx_bytestr"], one["sig_array"])["effects"]["status"] == "SUCCESS"
    result = execute(sui, two["tx_bytestr"], two["sig_array"])
    assert "the reference is stale" in result["errors"][0]
    assert sui.registry(publisher.registry).seq == 1


def test_failed_transaction_charges_gas_and_changes_nothing(sui: SuiGraphQLServer,
                                                           publisher: Publisher) -> None:
    state = sui.registry(publisher.registry)
    state.revoked.append(state.publishers.pop())
    signed = publisher.signed()
    result = execute(sui, signed["tx_bytestr"], signed["sig_array"])
    assert result["effects"]["status"] == "FAILURE"
    assert result["effects"]["executionError"]["abortCode"] == "3"
    assert "MoveAbort(MoveLocation" in result["effects"]["executionError"]["message"]
    (tx,) = sui.transactions
    coin = next(after for oid, _, after in tx.changes if oid == tx.gas_coin)
    assert coin is not None and int(coin.contents["balance"]) < 10_000_000_000
    assert (state.seq, sui.chain.events) == (0, [])


def test_runs_as_a_program() -> None:
    owner = keys.generate().address
    process = subprocess.Popen(
        [sys.executable, "-m", "syncer_standins.sui", "--registry", f"shop-dev={owner}",
         "--publisher", f"shop-dev={owner}", "--fund", owner],
        stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        registry = started["registries"]["shop-dev"]
        body = httpx.post(started["url"], json={"query": OBJECT % registry}, timeout=10).json()
        contents = body["data"]["object"]["asMoveObject"]["contents"]["json"]
        assert (contents["name"], len(contents["publishers"]["contents"])) == ("shop-dev", 1)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
