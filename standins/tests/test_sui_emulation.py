"""The Sui stand-in's pure parts: encodings, paging, pure arguments, and the registry
module's emulation called directly (no HTTP, no transaction)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from graphql import GraphQLError
from hypothesis import given
from hypothesis import strategies as st
from syncer_standins.sui import encoding, views
from syncer_standins.sui.chain import Chain, SuiObject
from syncer_standins.sui.inputs import decode_pure
from syncer_standins.sui.registry import CallContext, MoveAbort, RegistryModule

PACKAGE = "0x" + "ee" * 32
ALICE = "0x" + "a1" * 32
BOB = "0x" + "b0" * 32
COMMIT = "6ff87c4664981e4397625791c8ea3bbb5f2279a3"


# --- encodings ---------------------------------------------------------------------------

@given(st.binary(max_size=40))
def test_base58_round_trip(data: bytes) -> None:
    assert encoding.base58_decode(encoding.base58_encode(data)) == data


def test_base58_known_values() -> None:
    assert encoding.base58_encode(b"\0\0\1") == "112"
    assert encoding.base58_encode(b"hello world") == "StV1DL6CwTryKyV"
    with pytest.raises(ValueError, match="Base58"):
        encoding.base58_decode("0OIl")


def test_addresses_and_types() -> None:
    assert encoding.canonical("0x6") == "0x" + "0" * 63 + "6"
    assert encoding.canonical_type("0x2::coin::Coin<0x2::sui::SUI>") == (
        f"{encoding.SUI_FRAMEWORK}::coin::Coin<{encoding.SUI_FRAMEWORK}::sui::SUI>")
    coin = encoding.canonical_type("0x2::coin::Coin<0x2::sui::SUI>")
    for wanted in ("0x2", "0x2::coin", "0x2::coin::Coin", "0x2::coin::Coin<0x2::sui::SUI>"):
        assert encoding.type_matches(coin, wanted)
    assert not encoding.type_matches(coin, "0x2::coin::CoinMetadata")
    assert not encoding.type_matches(coin, "0x3")
    with pytest.raises(ValueError, match="not a Sui address"):
        encoding.canonical("0xzz")


def test_transaction_digest_and_created_ids() -> None:
    digest = encoding.transaction_digest(b"tx")
    assert encoding.base58_decode(digest) == hashlib.blake2b(
        b"TransactionData::tx", digest_size=32).digest()
    assert encoding.derive_id(digest, 0) != encoding.derive_id(digest, 1)


# --- paging ------------------------------------------------------------------------------

def page(items: list[int], **args: Any) -> tuple[list[int], dict[str, Any]]:
    found = views.connection(items, lambda i: {"i": i}, **args)
    return [n["i"] for n in found["nodes"]], found["pageInfo"]


def test_paging_forward_and_backward() -> None:
    items = list(range(45))
    first, info = page(items)
    assert first == list(range(20)) and info["hasNextPage"] and not info["hasPreviousPage"]
    second, info = page(items, first=20, after=info["endCursor"])
    assert second == list(range(20, 40))
    third, info = page(items, after=info["endCursor"])
    assert third == list(range(40, 45)) and not info["hasNextPage"]
    last, info = page(items, last=3)
    assert last == [42, 43, 44] and info["hasPreviousPage"]
    before, _ = page(items, last=2, before=info["startCursor"])
    assert before == [40, 41]


def test_paging_limits() -> None:
    with pytest.raises(GraphQLError, match="Page size is too large"):
        page(list(range(3)), first=51)
    with pytest.raises(GraphQLError, match="Invalid cursor"):
        page(list(range(3)), after="!!!")
    assert page([], first=5)[0] == []


# --- pure arguments --------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "data", "value"), [
    ("u64", (7).to_bytes(8, "little"), 7),
    ("u256", (2**255).to_bytes(32, "little"), 2**255),
    ("address", bytes(31) + b"\6", "0x" + "0" * 63 + "6"),
    ("String", b"\x03abc", "abc"),
    ("vector<u8>", b"\x02\xff\x00", b"\xff\x00"),
    ("vector<address>", b"\x01" + bytes(32), ["0x" + "0" * 64]),
])
def test_decode_pure(kind: str, data: bytes, value: Any) -> None:
    assert decode_pure(kind, data) == value


@pytest.mark.parametrize(("kind", "data"), [
    ("u64", bytes(7)), ("u64", bytes(9)), ("String", b"\x05abc"), ("vector<u8>", b"\x80"),
])
def test_decode_pure_refuses_other_lengths(kind: str, data: bytes) -> None:
    with pytest.raises(ValueError, match="too short|trailing"):
        decode_pure(kind, data)


# --- the registry module -----------------------------------------------------------------

class Module:
    """The module over a chain, with one registry; calls run as `sender`."""

    def __init__(self) -> None:
        self.chain = Chain(clock=lambda: 1_800_000_000_000)
        self.module = RegistryModule(self.chain, PACKAGE)
        ids = [self.chain.mint_id() for _ in range(3)]
        registry, self.state = self.module.new_registry(
            "shop-prod", object_id=ids[0], table_ids=(ids[1], ids[2]), version=1, tx="T")
        self.registry = self.chain.put(registry)
        self.admin = self.cap("AdminCap", ALICE)
        self.count = 0

    def cap(self, struct: str, owner: str, registry: str | None = None) -> SuiObject:
        obj = self.module.new_cap(struct, object_id=self.chain.mint_id(),
                                  registry=registry or self.registry.id, owner=owner,
                                  version=1, tx="T")
        return self.chain.put(obj)

    def call(self, function: str, *args: Any, sender: str = ALICE) -> CallContext:
        def new_id() -> str:
            self.count += 1
            return encoding.derive_id("T", self.count)
        ctx = CallContext(self.chain, sender, new_id)
        self.module.call(ctx, function, list(args))
        return ctx

    def listed_cap(self, owner: str) -> SuiObject:
        ctx = self.call("add_publisher", self.admin, self.registry, owner)
        (cap,) = ctx.created
        return self.chain.put(cap)

    def publish(self, cap: SuiObject, *, sha: bytes = bytes(32), commit: str = COMMIT,
                blob: int = 1, sender: str = BOB) -> CallContext:
        clock = self.chain.objects[encoding.CLOCK_ID]
        return self.call("publish", cap, self.registry, blob, sha, commit, clock, sender=sender)


def abort_code(call: Any) -> int:
    with pytest.raises(MoveAbort) as aborted:
        call()
    return aborted.value.code


def test_publish_appends_and_emits() -> None:
    m = Module()
    cap = m.listed_cap(BOB)
    ctx = m.publish(cap)
    assert m.state.seq == 1 and m.state.head is not None
    assert m.state.head.publisher == BOB
    assert [name for name, _ in ctx.events] == ["Published"]
    assert m.registry.contents["seq"] == "1"
    assert m.registry.contents["head"]["commit"] == COMMIT


def test_publish_of_the_head_is_a_no_op() -> None:
    m = Module()
    cap = m.listed_cap(BOB)
    m.publish(cap)
    ctx = m.publish(cap, sha=bytes([1]) * 32)
    assert (m.state.seq, ctx.events, ctx.mutated) == (1, [], set())


def test_publish_aborts() -> None:
    m = Module()
    cap = m.listed_cap(BOB)
    foreign = m.cap("PublisherCap", BOB, registry="0x" + "99" * 32)
    unlisted = m.cap("PublisherCap", BOB)
    assert abort_code(lambda: m.publish(foreign)) == 1
    assert abort_code(lambda: m.publish(unlisted)) == 2
    assert abort_code(lambda: m.publish(cap, sha=bytes(31))) == 4
    assert abort_code(lambda: m.publish(cap, commit="HEAD")) == 5
    m.call("revoke_publisher", m.admin, m.registry, cap.id)
    assert abort_code(lambda: m.publish(cap)) == 3
    assert m.state.seq == 0


def test_admin_functions() -> None:
    m = Module()
    stranger_admin = m.cap("AdminCap", BOB, registry="0x" + "99" * 32)
    assert abort_code(lambda: m.call("add_publisher", stranger_admin, m.registry, BOB)) == 6
    assert abort_code(lambda: m.call("revoke_publisher", m.admin, m.registry, "0x1")) == 2
    assert abort_code(lambda: m.call("set_approvers", m.admin, m.registry, [BOB], 2)) == 7
    with pytest.raises(MoveAbort) as duplicate:
        m.call("set_approvers", m.admin, m.registry, [BOB, BOB], 1)
    assert (duplicate.value.module, duplicate.value.code) == ("vec_set", 0)
    assert abort_code(lambda: m.call("create", "shop/prod")) == 11
    created = m.call("create", "shop-dev").created
    assert [o.type.rsplit("::", 1)[1] for o in created] == ["Registry", "AdminCap"]


def test_approvals() -> None:
    m = Module()
    m.publish(m.listed_cap(BOB))
    clock = m.chain.objects[encoding.CLOCK_ID]
    m.call("set_approvers", m.admin, m.registry, [ALICE, BOB], 2)
    assert abort_code(lambda: m.call("approve", m.registry, 1, clock, sender="0x1")) == 8
    assert abort_code(lambda: m.call("approve", m.registry, 2, clock)) == 9
    ctx = m.call("approve", m.registry, 1, clock)
    assert ctx.events[0][1]["approvals"] == "1"
    assert abort_code(lambda: m.call("approve", m.registry, 1, clock)) == 10
    m.call("approve", m.registry, 1, clock, sender=BOB)
    assert m.state.approvals == {1: [ALICE, BOB]}
