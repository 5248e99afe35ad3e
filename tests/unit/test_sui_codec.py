"""The Sui ledger's pure half: blob IDs as u256, registry and release records, aborts,
queries, and keys from a keystore file or the environment."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer import keys
from syncer.errors import ConfigError, LedgerError, RuleViolationError
from syncer.ledger import _sui_codec as codec
from syncer.ledger import rules
from syncer.ledger.sui import (
    blob_id_to_u256,
    key_from_env,
    key_from_keystore,
    u256_to_blob_id,
)
from syncer.suivalues import u64_bcs

REGISTRY = "0x" + "ab" * 32
TABLE = "0x" + "cd" * 32
PUBLISHER = "0x" + "12" * 32
RELEASE = {
    "seq": "1", "blob_id": str(2**255 + 7), "sha256": base64.b64encode(bytes(range(32))).decode(),
    "commit": "6ff87c4664981e4397625791c8ea3bbb5f2279a3", "publisher": PUBLISHER,
    "timestamp_ms": "1767225600000",
}


def registry_json(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": REGISTRY, "name": "shop-prod", "seq": "1", "head": RELEASE,
        "releases": {"id": TABLE, "size": "1"}, "publishers": {"contents": ["0x1"]},
        "revoked": {"contents": []}, "approvers": {"contents": []}, "threshold": "0",
        "approvals": {"id": TABLE, "size": "0"}, "version": "1",
    }
    body.update(changes)
    return body


# --- blob IDs: little-endian u256, as Walrus ----------------------------------------------

def test_blob_id_bytes_are_read_little_endian() -> None:
    raw = bytes([1]) + bytes(31)
    blob_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert blob_id_to_u256(blob_id) == 1
    assert u256_to_blob_id(1) == blob_id
    assert u256_to_blob_id(2**248) == base64.urlsafe_b64encode(bytes(31) + b"\1").decode()[:43]


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_u256_round_trip(value: int) -> None:
    blob_id = u256_to_blob_id(value)
    rules.check_blob_id("c", blob_id)
    assert blob_id_to_u256(blob_id) == value


@given(st.binary(min_size=32, max_size=32))
def test_blob_id_round_trip(raw: bytes) -> None:
    blob_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert u256_to_blob_id(blob_id_to_u256(blob_id)) == blob_id
    assert blob_id_to_u256(blob_id).to_bytes(32, "little") == raw


@pytest.mark.parametrize("bad", ["", "AAAA", "A" * 44, "!" * 43])
def test_malformed_blob_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="blob ID"):
        blob_id_to_u256(bad)


# --- records ---------------------------------------------------------------------------

def test_registry_view() -> None:
    view = codec.RegistryView.parse(REGISTRY, registry_json())
    assert (view.name, view.seq, view.threshold) == ("shop-prod", 1, 0)
    assert view.publishers == ("0x" + "0" * 63 + "1",)
    assert view.releases_table == TABLE


def test_registry_view_of_something_else() -> None:
    with pytest.raises(LedgerError, match="not a registry::Registry object"):
        codec.RegistryView.parse(REGISTRY, {"id": REGISTRY, "registry": REGISTRY})


def test_release_of_a_record() -> None:
    release = codec.release_of("shop-prod", RELEASE)
    assert release.blob_id == u256_to_blob_id(2**255 + 7)
    assert release.sha256 == bytes(range(32)).hex()
    assert (release.seq, release.publisher, release.timestamp_ms) == (1, PUBLISHER, 1767225600000)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sha256", base64.b64encode(bytes(31)).decode(), "sha256 must be 64"),
    ("commit", "HEAD", "commit must be 40 or 64"),
    ("blob_id", str(2**256), "malformed release"),
    ("seq", "one", "malformed release"),
    ("publisher", "nobody", "malformed release"),
])
def test_release_that_breaks_a_rule(field: str, value: str, message: str) -> None:
    with pytest.raises(LedgerError, match=message) as raised:
        codec.release_of("shop-prod", {**RELEASE, field: value})
    assert not isinstance(raised.value, RuleViolationError)


# --- aborts ----------------------------------------------------------------------------

DESCRIPTION = (
    "MoveAbort(MoveLocation { module: ModuleId { address: " + "ab" * 32 + ", name: "
    'Identifier("registry") }, function: 4, instruction: 13, function_name: Some("publish") '
    "}, 3) in command 0"
)


@pytest.mark.parametrize(("code", "words"), sorted(codec.ABORTS.items()))
def test_every_registry_abort_has_words(code: int, words: str) -> None:
    error = {"abortCode": str(code), "module": {"name": "registry"},
             "function": {"name": "publish"}, "message": "..."}
    refused = codec.abort_error("shop-prod", error, digest="D")
    assert isinstance(refused, RuleViolationError)
    assert str(refused) == (f"channel shop-prod: {words} "
                            f"(refused on chain: abort {code} in registry::publish)")


def test_abort_read_from_the_description_alone() -> None:
    refused = codec.abort_error("shop-prod", {"message": DESCRIPTION}, digest="D")
    assert isinstance(refused, RuleViolationError)
    assert refused.message.startswith("publisher cap revoked")


def test_other_failures_stay_ledger_errors() -> None:
    other = DESCRIPTION.replace('"registry"', '"vec_set"')
    failed = codec.abort_error("shop-prod", {"message": other}, digest="D1")
    assert type(failed) is LedgerError
    assert "transaction D1 failed: MoveAbort" in str(failed)
    failed = codec.abort_error("shop-prod", {"message": "InsufficientGas"}, digest="D2")
    assert str(failed) == "channel shop-prod: transaction D2 failed: InsufficientGas"


# --- queries ---------------------------------------------------------------------------

def test_queries_carry_canonical_addresses_and_checked_cursors() -> None:
    query = codec.caps_query("0x1", "0x2::registry::PublisherCap", first=2, after="YzE=")
    assert '"0x' + "0" * 63 + '1"' in query
    assert 'first: 2, after: "YzE="' in query
    with pytest.raises(LedgerError, match="malformed page cursor"):
        codec.events_query("0x2::registry::Published", after='") { x }')
    with pytest.raises(ValueError, match="not a Sui address"):
        codec.object_query('0x1") { evil')
    assert u64_bcs(1) == base64.b64encode(bytes([1, 0, 0, 0, 0, 0, 0, 0])).decode()


# --- keys ------------------------------------------------------------------------------

def keystore_entry(key: keys.Keypair) -> str:
    import pysui_fastcrypto as pfc  # noqa: PLC0415 - only here

    _scheme, _public, secret = pfc.decode_bech32(key.to_suiprivkey(), "suiprivkey")
    return base64.b64encode(b"\0" + bytes(secret)).decode()


def test_key_from_keystore(tmp_path: Path) -> None:
    wanted, other = keys.generate(), keys.generate()
    secp256k1 = base64.b64encode(b"\1" + bytes(range(32))).decode()
    path = tmp_path / "sui.keystore"
    path.write_text(json.dumps([keystore_entry(other), secp256k1, keystore_entry(wanted)]))
    found = key_from_keystore(path, wanted.address)
    assert (found.address, found.public_key) == (wanted.address, wanted.public_key)


def test_keystore_without_the_address(tmp_path: Path) -> None:
    present = keys.generate()
    path = tmp_path / "sui.keystore"
    path.write_text(json.dumps([keystore_entry(present)]))
    absent = keys.generate().address
    with pytest.raises(ConfigError, match=f"no Ed25519 key for {absent}") as raised:
        key_from_keystore(path, absent)
    assert keystore_entry(present) not in str(raised.value)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("text", ["{", '{"a": 1}', '["not base64!"]'])
def test_malformed_keystore(tmp_path: Path, text: str) -> None:
    path = tmp_path / "sui.keystore"
    path.write_text(text)
    with pytest.raises(ConfigError, match="not a Sui keystore"):
        key_from_keystore(path, PUBLISHER)


def test_missing_keystore(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read keystore"):
        key_from_keystore(tmp_path / "absent", PUBLISHER)


def test_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys.generate()
    monkeypatch.setenv("SUI_KEY_FOR_TEST", key.to_suiprivkey())
    assert key_from_env("SUI_KEY_FOR_TEST").address == key.address
    monkeypatch.setenv("SUI_KEY_FOR_TEST", "suiprivkey1garbage")
    with pytest.raises(ConfigError, match=r"\$SUI_KEY_FOR_TEST: not an Ed25519 key"):
        key_from_env("SUI_KEY_FOR_TEST")
    monkeypatch.delenv("SUI_KEY_FOR_TEST")
    with pytest.raises(ConfigError, match="SUI_KEY_FOR_TEST is not set"):
        key_from_env("SUI_KEY_FOR_TEST")
