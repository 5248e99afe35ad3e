"""Sui's encodings, as the stand-in needs them: addresses, digests, Base58, type strings.

Addresses and object IDs are 32 bytes, written `0x` + 64 lowercase hex digits (the canonical
form GraphQL answers with). Digests (transactions, objects) are 32-byte BLAKE2b-256 hashes
written in Base58, as Sui writes them. A transaction's digest hashes the tag
`TransactionData::` and the BCS bytes; an address is the hash of a key's flag and bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

__all__ = [
    "CLOCK_ID",
    "SUI_FRAMEWORK",
    "base58_decode",
    "base58_encode",
    "blake2b256",
    "canonical",
    "canonical_type",
    "derive_id",
    "ed25519_address",
    "transaction_digest",
    "type_matches",
]

_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX: Final = {c: i for i, c in enumerate(_ALPHABET)}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{1,64}")
_ID_SCOPE: Final = 0xF1  # HashingIntentScope::RegularObjectId


def blake2b256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def canonical(address: str) -> str:
    """`0x` + 64 lowercase hex digits; ValueError for anything that is not an address."""
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not a Sui address: {address[:80]!r}")
    return "0x" + address[2:].lower().rjust(64, "0")


def canonical_type(type_str: str) -> str:
    """A Move type string with every address in canonical form (`0x2::sui::SUI` too)."""
    return _ADDRESS.sub(lambda m: canonical(m.group(0)), type_str.replace(" ", ""))


def type_matches(type_str: str, wanted: str) -> bool:
    """Whether an object or event type passes a GraphQL `type` filter.

    The filter is a package, a `package::module`, a type without its type parameters, or a
    full type, as the service accepts.
    """
    full, want = canonical_type(type_str), canonical_type(wanted)
    return full == want or full.startswith((want + "<", want + "::"))


def base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, rest = divmod(number, 58)
        text = _ALPHABET[rest] + text
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + text


def base58_decode(text: str) -> bytes:
    """The bytes of a Base58 string; ValueError for a character outside the alphabet."""
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError("not Base58")
        number = number * 58 + _INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def transaction_digest(tx_bytes: bytes) -> str:
    """The digest of a transaction, from its BCS `TransactionData` bytes."""
    return base58_encode(blake2b256(b"TransactionData::" + tx_bytes))


def derive_id(tx_digest: str, index: int) -> str:
    """The ID of the `index`-th object a transaction creates, derived as Sui derives it."""
    seed = bytes([_ID_SCOPE]) + base58_decode(tx_digest) + index.to_bytes(8, "little")
    return "0x" + blake2b256(seed).hex()


def ed25519_address(public_key: bytes) -> str:
    """The address of an Ed25519 public key: BLAKE2b-256 of flag 0x00 and the key."""
    return "0x" + blake2b256(b"\0" + public_key).hex()


SUI_FRAMEWORK: Final = canonical("0x2")
CLOCK_ID: Final = canonical("0x6")
