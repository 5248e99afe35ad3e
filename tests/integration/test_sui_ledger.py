"""The Sui ledger against the Sui GraphQL stand-in, over HTTP on 127.0.0.1.

The client under test is pysui's real `GqlProtocolClient`; every publish and approval is a
signed transaction that the stand-in decodes, verifies and runs. Attacks are crafted with
pysui directly, where the ledger would refuse to build them.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pysui import PysuiConfiguration
from pysui.sui.sui_bcs import bcs
from pysui.sui.sui_common import sui_commands
from pysui.sui.sui_common.config.confgroup import NetworkType
from pysui.sui.sui_pgql.pgql_clients import GqlProtocolClient
from syncer_standins.sui import SuiGraphQLServer, schema
from syncer_standins.sui.schema import schema_dir

from syncer import keys
from syncer.approvals import ApprovalPolicy
from syncer.errors import LedgerError, RuleViolationError
from syncer.keys import Keypair
from syncer.ledger import Ledger
from syncer.ledger._sui_codec import abort_error
from syncer.ledger.sui import SuiLedger, SuiOptions, u256_to_blob_id

pytestmark = pytest.mark.skipif(schema_dir() is None, reason=schema.missing())

CHANNEL = "shop-prod"
GAS_BUDGET = 10_000_000


def blob(i: int) -> str:
    return u256_to_blob_id(2**200 + i)


def sha(i: int) -> str:
    return hashlib.sha256(f"bundle {i}".encode()).hexdigest()


def commit(i: int) -> str:
    return hashlib.sha1(f"commit {i}".encode()).hexdigest()


@dataclass
class World:
    sui: SuiGraphQLServer
    ledger: SuiLedger
    admin: Keypair
    publisher: Keypair
    registry: str
    cap: str

    def publish(self, i: int, key: Keypair | None = None) -> Any:
        return self.ledger.publish(CHANNEL, blob_id=blob(i), sha256=sha(i), commit=commit(i),
                                   key=key or self.publisher)

    def options(self, **changes: Any) -> SuiOptions:
        return SuiOptions(self.sui.url, self.sui.package, {CHANNEL: self.registry},
                          **{"gas_budget": GAS_BUDGET, **changes})


@pytest.fixture
def sui() -> Iterator[SuiGraphQLServer]:
    with SuiGraphQLServer() as server:
        yield server


@pytest.fixture
def world(sui: SuiGraphQLServer) -> Iterator[World]:
    admin, publisher = keys.generate(), keys.generate()
    registry, _ = sui.create_registry(CHANNEL, admin.address)
    cap = sui.mint_publisher_cap(registry, publisher.address)
    sui.fund(admin.address)
    sui.fund(publisher.address)
    options = SuiOptions(sui.url, sui.package, {CHANNEL: registry}, gas_budget=GAS_BUDGET)
    with SuiLedger(options) as ledger:
        yield World(sui, ledger, admin, publisher, registry, cap)


class Crafter:
    """Builds, signs and executes a `registry` call with pysui directly."""

    def __init__(self, url: str, key: Keypair) -> None:
        with tempfile.TemporaryDirectory() as folder:
            config = PysuiConfiguration.initialize_config(
                in_folder=Path(folder), init_groups=[{"name": "t", "make_active": True}])
        config.new_profile(profile_name="t", url=url, network_type=NetworkType.LOCAL,
                           make_active=True, persist=False)
        config.add_keys(key_block=[{"key_string": key.to_suiprivkey(), "alias": "k"}],
                        persist=False)
        self.key = key
        self.loop = asyncio.new_event_loop()
        self.client = GqlProtocolClient(pysui_config=config)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()

    def signed(self, target: str, arguments: list[Any]) -> dict[str, Any]:
        async def build() -> dict[str, Any]:
            txn = await self.client.transaction(initial_sender=self.key.address)
            await txn.move_call(target=target, arguments=arguments)
            signed: dict[str, Any] = await txn.build_and_sign(gas_budget=GAS_BUDGET)
            return signed
        return self.loop.run_until_complete(build())

    def execute(self, target: str, arguments: list[Any]) -> Any:
        """pysui's own ExecuteTransaction: its parsed `ExecutedTransaction` (or None)."""
        command = sui_commands.ExecuteTransaction(**self.signed(target, arguments))
        result = self.loop.run_until_complete(self.client.execute(command=command))
        assert result.is_ok(), result.result_string
        return result.result_data


@pytest.fixture
def crafter(world: World) -> Iterator[Crafter]:
    crafter = Crafter(world.sui.url, world.publisher)
    yield crafter
    crafter.close()


def publish_args(world: World, i: int, *, cap: str | None = None,
                 clock: Any = "0x6") -> list[Any]:
    return [cap or world.cap, world.registry, 2**200 + i, bytes.fromhex(sha(i)), commit(i), clock]


def test_is_a_ledger(world: World) -> None:
    assert isinstance(world.ledger, Ledger)
    assert world.ledger.channels() == [CHANNEL]


def test_three_releases_read_back_from_events_object_and_table(world: World) -> None:
    published = [world.publish(i) for i in range(3)]
    assert [r.seq for r in published] == [1, 2, 3]
    assert world.ledger.history(CHANNEL) == published
    assert world.ledger.head(CHANNEL) == published[-1]
    assert world.ledger.release(CHANNEL, 2) == published[1]
    first = published[0]
    assert (first.blob_id, first.sha256, first.commit) == (blob(0), sha(0), commit(0))
    assert first.publisher == world.publisher.address
    assert world.sui.registry(world.registry).releases[1].blob_id == 2**200


def test_empty_channel(world: World) -> None:
    assert world.ledger.head(CHANNEL) is None
    assert world.ledger.history(CHANNEL) == []
    with pytest.raises(LedgerError, match="no release seq 1"):
        world.ledger.release(CHANNEL, 1)


def test_publishing_the_head_again_sends_nothing(world: World) -> None:
    head = world.publish(1)
    sent = len(world.sui.transactions)
    assert world.publish(1) == head
    assert len(world.sui.transactions) == sent


def test_simulated_gas_budget(world: World) -> None:
    with SuiLedger(world.options(gas_budget=None)) as ledger:
        release = ledger.publish(CHANNEL, blob_id=blob(7), sha256=sha(7), commit=commit(7),
                                 key=world.publisher)
    assert release.seq == 1


def test_history_pages_through_events_of_every_registry(world: World) -> None:
    other, _ = world.sui.create_registry("shop-dev", world.admin.address)
    world.sui.mint_publisher_cap(other, world.publisher.address)
    options = SuiOptions(world.sui.url, world.sui.package,
                         {CHANNEL: world.registry, "shop-dev": other},
                         gas_budget=GAS_BUDGET, page_size=2)
    with SuiLedger(options) as ledger:
        for i in range(5):
            ledger.publish(CHANNEL, blob_id=blob(i), sha256=sha(i), commit=commit(i),
                           key=world.publisher)
            ledger.publish("shop-dev", blob_id=blob(i), sha256=sha(i), commit=commit(i),
                           key=world.publisher)
        assert [r.seq for r in ledger.history(CHANNEL)] == [1, 2, 3, 4, 5]
        assert {r.channel for r in ledger.history("shop-dev")} == {"shop-dev"}


def test_releases_missing_from_the_event_index_are_read_from_the_table(world: World) -> None:
    published = [world.publish(i) for i in range(3)]
    with world.sui.chain.lock():
        del world.sui.chain.events[1]  # as if the indexer had pruned it
    assert world.ledger.history(CHANNEL) == published


def test_revoked_cap_is_refused_before_sending(world: World) -> None:
    world.publish(1)
    world.ledger.revoke_publisher(CHANNEL, admin=world.admin,
                                  public_key=world.publisher.public_key)
    sent = len(world.sui.transactions)
    with pytest.raises(RuleViolationError, match="publisher cap revoked"):
        world.publish(2)
    assert len(world.sui.transactions) == sent
    assert world.ledger.head(CHANNEL).seq == 1  # type: ignore[union-attr]


def test_revoked_cap_is_refused_on_chain(world: World) -> None:
    world.publish(1)
    world.ledger.revoke_publisher(CHANNEL, admin=world.admin,
                                  public_key=world.publisher.public_key)
    with SuiLedger(world.options(precheck=False)) as ledger, \
            pytest.raises(RuleViolationError) as refused:
        ledger.publish(CHANNEL, blob_id=blob(2), sha256=sha(2), commit=commit(2),
                       key=world.publisher)
    assert str(refused.value) == (
        "channel shop-prod: publisher cap revoked "
        "(refused on chain: abort 3 in registry::publish)")
    assert world.sui.transactions[-1].success is False
    assert world.sui.registry(world.registry).seq == 1
    assert world.publisher.to_suiprivkey() not in str(refused.value)


def test_cap_of_another_registry_is_refused_before_sending(world: World) -> None:
    stranger = keys.generate()
    other, _ = world.sui.create_registry("elsewhere", world.admin.address)
    world.sui.mint_publisher_cap(other, stranger.address)
    world.sui.fund(stranger.address)
    sent = len(world.sui.transactions)
    with pytest.raises(RuleViolationError, match="holds no PublisherCap of this channel"):
        world.publish(1, key=stranger)
    assert len(world.sui.transactions) == sent


def test_cap_of_another_registry_is_refused_on_chain(world: World) -> None:
    stranger = keys.generate()
    other, _ = world.sui.create_registry("elsewhere", world.admin.address)
    foreign = world.sui.mint_publisher_cap(other, stranger.address)
    world.sui.fund(stranger.address)
    crafter = Crafter(world.sui.url, stranger)
    try:
        executed = crafter.execute(f"{world.sui.package}::registry::publish",
                                   publish_args(world, 1, cap=foreign))
    finally:
        crafter.close()
    status = executed.effects.status
    assert status.success is False
    assert status.error.abort.abort_code == 1
    error = {"abortCode": "1", "module": {"name": "registry"}, "message": status.error.description}
    assert abort_error(CHANNEL, error, digest=executed.digest).message.startswith(
        "the cap belongs to another registry")
    assert world.sui.registry(world.registry).seq == 0
    assert world.ledger.history(CHANNEL) == []


def test_wrong_clock_object_is_refused(world: World, crafter: Crafter) -> None:
    impostor, _ = world.sui.create_registry("not-a-clock", world.admin.address)
    executed = crafter.execute(f"{world.sui.package}::registry::publish",
                               publish_args(world, 1, clock=impostor))
    status = executed.effects.status
    assert status.success is False
    assert "CommandArgumentError { arg_idx: 5, kind: TypeMismatch }" in status.error.description
    assert world.sui.registry(world.registry).seq == 0
    assert world.ledger.head(CHANNEL) is None


def test_clock_passed_mutably_is_rejected_outright(world: World, crafter: Crafter) -> None:
    clock = bcs.ObjectArg("SharedObject", bcs.SharedObjectReference(
        bcs.Address.from_str("0x6"), 1, True))
    executed = crafter.execute(f"{world.sui.package}::registry::publish",
                               publish_args(world, 1, clock=clock))
    assert executed is None  # pysui: no digest came back, nothing was executed
    assert world.sui.transactions == []


def test_unknown_key_is_refused_before_sending(world: World) -> None:
    nobody = keys.generate()
    with pytest.raises(RuleViolationError, match=f"{nobody.address} holds no PublisherCap"):
        world.publish(1, key=nobody)
    assert world.sui.transactions == []


def test_malformed_fields_are_refused_before_sending(world: World) -> None:
    with pytest.raises(RuleViolationError, match="commit must be 40 or 64"):
        world.ledger.publish(CHANNEL, blob_id=blob(1), sha256=sha(1), commit="HEAD",
                             key=world.publisher)
    with pytest.raises(RuleViolationError, match="blob_id"):
        world.ledger.publish(CHANNEL, blob_id="short", sha256=sha(1), commit=commit(1),
                             key=world.publisher)
    assert world.sui.transactions == []


def test_publishers_are_addresses_holding_listed_caps(world: World) -> None:
    newcomer = keys.generate()
    assert world.ledger.publishers(CHANNEL) == [world.publisher.address]
    world.ledger.add_publisher(CHANNEL, admin=world.admin, public_key=newcomer.public_key)
    assert world.ledger.publishers(CHANNEL) == [world.publisher.address, newcomer.address]
    world.ledger.revoke_publisher(CHANNEL, admin=world.admin,
                                  public_key=world.publisher.public_key)
    assert world.ledger.publishers(CHANNEL) == [newcomer.address]
    with pytest.raises(RuleViolationError, match="was revoked and cannot be added again"):
        world.ledger.add_publisher(CHANNEL, admin=world.admin,
                                   public_key=world.publisher.public_key)


def test_only_the_admin_changes_publishers(world: World) -> None:
    with pytest.raises(RuleViolationError, match="only the channel's admin"):
        world.ledger.add_publisher(CHANNEL, admin=world.publisher,
                                   public_key=keys.generate().public_key)


def test_register_a_channel_and_publish_on_it(world: World) -> None:
    world.ledger.register_channel("shop-dev", admin=world.admin,
                                  publishers=[world.publisher.public_key])
    assert world.ledger.channels() == ["shop-dev", CHANNEL]
    assert world.ledger.publishers("shop-dev") == [world.publisher.address]
    release = world.ledger.publish("shop-dev", blob_id=blob(1), sha256=sha(1),
                                   commit=commit(1), key=world.publisher)
    assert (release.channel, release.seq) == ("shop-dev", 1)
    with pytest.raises(RuleViolationError, match="already exists"):
        world.ledger.register_channel("shop-dev", admin=world.admin, publishers=[])


def test_approvals_with_a_threshold(world: World) -> None:
    first, second, outsider = keys.generate(), keys.generate(), keys.generate()
    for key in (first, second, outsider):
        world.sui.fund(key.address)
    world.publish(1)
    world.ledger.set_approvers(CHANNEL, admin=world.admin,
                               approvers=[first.address, second.address], threshold=2)
    assert world.sui.registry(world.registry).threshold == 2
    assert world.ledger.approval_policy(CHANNEL) == ApprovalPolicy(
        (first.address, second.address), 2)
    assert world.ledger.approve(CHANNEL, 1, key=first) == 1
    with pytest.raises(RuleViolationError, match="already approved"):
        world.ledger.approve(CHANNEL, 1, key=first)
    assert world.ledger.approve(CHANNEL, 1, key=second) == 2
    assert world.ledger.approvals(CHANNEL, 1) == [first.address, second.address]
    with pytest.raises(RuleViolationError, match="not an approver"):
        world.ledger.approve(CHANNEL, 1, key=outsider)
    with pytest.raises(LedgerError, match="no release seq 2"):
        world.ledger.approve(CHANNEL, 2, key=first)


def test_threshold_above_the_approvers_is_refused(world: World) -> None:
    with pytest.raises(RuleViolationError, match="threshold"):
        world.ledger.set_approvers(CHANNEL, admin=world.admin,
                                   approvers=[world.admin.address], threshold=2)
    with pytest.raises(RuleViolationError, match="is listed twice"):
        world.ledger.set_approvers(CHANNEL, admin=world.admin,
                                   approvers=[world.admin.address] * 2, threshold=1)
    outsider = keys.generate()
    world.sui.fund(outsider.address)
    with pytest.raises(RuleViolationError, match="only the channel's admin can change its "
                                                 "approvers"):
        world.ledger.set_approvers(CHANNEL, admin=outsider, approvers=[], threshold=0)
    assert world.ledger.approval_policy(CHANNEL) == ApprovalPolicy((), 0)


def test_unknown_channel(world: World) -> None:
    with pytest.raises(LedgerError, match="no such channel"):
        world.ledger.head("nope")


def test_registry_id_that_is_not_a_registry(world: World) -> None:
    options = SuiOptions(world.sui.url, world.sui.package, {CHANNEL: world.cap})
    with SuiLedger(options) as ledger, pytest.raises(LedgerError, match="no registry::Registry"):
        ledger.head(CHANNEL)


def test_unreachable_endpoint_is_a_ledger_error() -> None:
    options = SuiOptions("http://127.0.0.1:9/graphql", "0x1", {CHANNEL: "0x2"}, timeout_s=5)
    with SuiLedger(options) as ledger, pytest.raises(LedgerError, match="cannot reach Sui"):
        ledger.head(CHANNEL)
