"""Checks a transaction passes before it runs: BCS, signature, inputs, gas.

A failure here is a rejection (`Rejected`): Sui refuses such a transaction outright, nothing
is executed and no gas is charged. The transaction decodes with pysui's BCS
(`TransactionData.deserialize`); its one signature must be an Ed25519 signature, by the
sender's key, over BLAKE2b-256 of the intent `[0, 0, 0]` followed by the bytes. Owned inputs
must be the sender's at exactly the version and digest given; shared inputs must name the
version they were shared at; the Clock may only be read (`Mutable = false`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Final

import pysui_fastcrypto
from pysui.sui.sui_bcs import bcs

from syncer_standins.sui.chain import GAS_COIN_TYPE, REFERENCE_GAS_PRICE, Chain, SuiObject
from syncer_standins.sui.encoding import CLOCK_ID, blake2b256, canonical, ed25519_address

__all__ = [
    "MIN_GAS_BUDGET",
    "GasPayment",
    "Input",
    "Rejected",
    "decode_pure",
    "decode_transaction",
    "resolve_gas",
    "resolve_inputs",
    "verify_signatures",
]

MIN_GAS_BUDGET: Final = 1000 * REFERENCE_GAS_PRICE
_INTENT: Final = bytes([0, 0, 0])
_ED25519_SIG_LEN: Final = 1 + 64 + 32
_ED25519_FLAG: Final = 0x00  # Sui's signature scheme flag for Ed25519
_ED25519_SCHEME: Final = 0  # fastcrypto's SignatureScheme.ED25519


class Rejected(Exception):
    """Sui refuses the transaction before executing it; the message says why."""


@dataclass(frozen=True)
class Input:
    """One resolved input: pure bytes, or an object with how it was passed."""

    pure: bytes | None = None
    obj: SuiObject | None = None
    mutable: bool = False


@dataclass(frozen=True)
class GasPayment:
    coins: tuple[SuiObject, ...]
    price: int
    budget: int


def decode_transaction(tx_b64: str) -> tuple[bytes, Any]:
    """The raw bytes and the decoded `TransactionDataV1`; Rejected if they do not decode."""
    try:
        raw = base64.b64decode(tx_b64, validate=True)
        data = bcs.TransactionData.deserialize(raw)
    except Exception as e:  # canoser raises assorted errors on malformed input
        raise Rejected(f"transaction bytes do not decode as TransactionData: {e}") from e
    if data.enum_name != "V1" or data.value.TransactionKind.enum_name != "ProgrammableTransaction":
        raise Rejected("only programmable transactions are supported")
    return raw, data.value


def verify_signatures(raw: bytes, signatures: list[str], sender: str) -> None:
    """Exactly one signature, Ed25519, by the sender's key, over the intent message."""
    if len(signatures) != 1:
        raise Rejected(f"expected 1 signature (the sender's), got {len(signatures)}")
    try:
        sig = base64.b64decode(signatures[0], validate=True)
    except (binascii.Error, ValueError) as e:
        raise Rejected("signature is not base64") from e
    if len(sig) != _ED25519_SIG_LEN or sig[0] != _ED25519_FLAG:
        raise Rejected("signature is not flag 0x00 + Ed25519 signature + public key")
    public_key = sig[65:]
    if ed25519_address(public_key) != sender:
        raise Rejected(f"signer's address does not match the transaction's sender {sender}")
    message = base64.b64encode(blake2b256(_INTENT + raw)).decode()
    if not _ed25519_verifies(public_key, message, base64.b64encode(sig[1:65]).decode()):
        raise Rejected("signature does not verify against the transaction bytes")


def _ed25519_verifies(public_key: bytes, message_b64: str, signature_b64: str) -> bool:
    """fastcrypto's Ed25519 verification, as Sui's validators run it."""
    try:
        return bool(pysui_fastcrypto.verify_pubk(_ED25519_SCHEME, public_key, message_b64,
                                                 signature_b64))
    except ValueError:
        return False


def resolve_inputs(chain: Chain, ptb: Any, sender: str) -> list[Input]:
    """Every input of the programmable transaction, checked."""
    resolved: list[Input] = []
    for call_arg in ptb.Inputs:
        if call_arg.enum_name == "Pure":
            resolved.append(Input(pure=bytes(call_arg.value)))
        elif call_arg.enum_name == "Object":
            resolved.append(_object_input(chain, call_arg.value, sender))
        else:
            raise Rejected(f"input kind {call_arg.enum_name} is not supported by the stand-in")
    return resolved


def _object_input(chain: Chain, object_arg: Any, sender: str) -> Input:
    ref = object_arg.value
    object_id = canonical(ref.ObjectID.to_address_str())
    obj = chain.get(object_id)
    if obj is None:
        raise Rejected(f"object {object_id} does not exist")
    if object_arg.enum_name == "SharedObject":
        return _shared_input(obj, ref)
    if object_arg.enum_name == "ImmOrOwnedObject":
        _check_owned(obj, ref, sender)
        return Input(obj=obj, mutable=obj.owner.kind == "AddressOwner")
    raise Rejected(f"object input kind {object_arg.enum_name} is not supported by the stand-in")


def _shared_input(obj: SuiObject, ref: Any) -> Input:
    if obj.owner.kind != "Shared":
        raise Rejected(f"object {obj.id} is not shared but was passed as a shared object")
    if ref.SequenceNumber != obj.owner.initial_version:
        raise Rejected(
            f"shared object {obj.id} was shared at version {obj.owner.initial_version}, "
            f"not {ref.SequenceNumber}"
        )
    if obj.id == CLOCK_ID and ref.Mutable:
        raise Rejected("the Clock object (0x6) can only be passed immutably")
    return Input(obj=obj, mutable=bool(ref.Mutable))


def _check_owned(obj: SuiObject, ref: Any, sender: str) -> None:
    if obj.owner.kind == "Shared":
        raise Rejected(f"object {obj.id} is shared but was passed as an owned object")
    if obj.owner.kind == "AddressOwner" and obj.owner.address != sender:
        raise Rejected(
            f"object {obj.id} is owned by {obj.owner.address}, not by the sender {sender}"
        )
    if ref.SequenceNumber != obj.version or ref.ObjectDigest.to_digest_str() != obj.digest:
        raise Rejected(
            f"object {obj.id} is at version {obj.version}, the transaction names version "
            f"{ref.SequenceNumber} (or another digest): the reference is stale"
        )


def resolve_gas(chain: Chain, gas_data: Any, sender: str, inputs: list[Input]) -> GasPayment:
    """The gas coins, price and budget, checked as Sui checks them before execution."""
    owner = canonical(gas_data.Owner.to_address_str())
    if owner != sender:
        raise Rejected("sponsored transactions are not supported by the stand-in")
    used = {i.obj.id for i in inputs if i.obj is not None}
    coins = tuple(_gas_coin(chain, ref, sender, used) for ref in gas_data.Payment)
    if not coins:
        raise Rejected("no gas coin given")
    if gas_data.Price < REFERENCE_GAS_PRICE:
        raise Rejected(f"gas price {gas_data.Price} is below the reference {REFERENCE_GAS_PRICE}")
    if gas_data.Budget < MIN_GAS_BUDGET:
        raise Rejected(f"gas budget {gas_data.Budget} is below the minimum {MIN_GAS_BUDGET}")
    balance = sum(int(c.contents["balance"]) for c in coins)
    if balance < gas_data.Budget:
        raise Rejected(f"gas balance {balance} is less than the budget {gas_data.Budget}")
    return GasPayment(coins, gas_data.Price, gas_data.Budget)


def _gas_coin(chain: Chain, ref: Any, sender: str, used: set[str]) -> SuiObject:
    object_id = canonical(ref.ObjectID.to_address_str())
    coin = chain.get(object_id)
    if coin is None or coin.type != GAS_COIN_TYPE:
        raise Rejected(f"gas object {object_id} is not a SUI coin")
    if object_id in used:
        raise Rejected(f"gas coin {object_id} is also an input of the transaction")
    _check_owned(coin, ref, sender)
    return coin


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("too short")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uleb128(self) -> int:
        value = shift = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7


def decode_pure(kind: str, data: bytes) -> Any:
    """A pure argument of Move type `kind`; ValueError if the bytes are not exactly one."""
    reader = _Reader(data)
    value = _read(kind, reader)
    if reader.pos != len(data):
        raise ValueError("trailing bytes")
    return value


def _read(kind: str, reader: _Reader) -> Any:
    widths = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "u128": 16, "u256": 32}
    if kind in widths:
        return int.from_bytes(reader.take(widths[kind]), "little")
    if kind in ("address", "ID"):
        return "0x" + reader.take(32).hex()
    if kind == "String":
        return reader.take(reader.uleb128()).decode("utf-8")
    if kind == "vector<u8>":
        return reader.take(reader.uleb128())
    if kind.startswith("vector<") and kind.endswith(">"):
        return [_read(kind[7:-1], reader) for _ in range(reader.uleb128())]
    raise ValueError(f"no pure decoding for {kind}")
