"""Values as Sui holds them, shared by every reader of the chain.  [pure]

- A Sui address (and an object ID) is `0x` + 64 lowercase hex digits; `canonical_address`
  pads and lowercases the short forms users type.
- A Walrus blob ID travels on chain as a `u256`: the 32 bytes of the blob ID read
  little-endian, as Walrus stores them; `blob_id_to_u256` and `u256_to_blob_id` convert.
- `u64_bcs` is a u64's BCS encoding in Base64, which names a `Table` entry keyed by u64.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

__all__ = ["blob_id_to_u256", "canonical_address", "u64_bcs", "u256_to_blob_id"]

_BLOB_BYTES: Final = 32
_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{1,64}")


def blob_id_to_u256(blob_id: str) -> int:
    """The u256 a Walrus blob ID is on chain: its 32 bytes, little-endian."""
    try:
        raw = base64.urlsafe_b64decode(blob_id + "=" * (-len(blob_id) % 4))
    except (binascii.Error, ValueError) as e:
        raise ValueError("blob ID is not base64url") from e
    if len(raw) != _BLOB_BYTES:
        raise ValueError("blob ID is not 32 bytes")
    return int.from_bytes(raw, "little")


def u256_to_blob_id(value: int) -> str:
    """The Walrus blob ID (unpadded base64url) of a u256 read from chain."""
    raw = value.to_bytes(_BLOB_BYTES, "little")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def canonical_address(address: str) -> str:
    """`0x` + 64 lowercase hex digits; ValueError for anything else."""
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not a Sui address: {address[:70]!r}")
    return "0x" + address[2:].lower().rjust(64, "0")


def u64_bcs(value: int) -> str:
    """Base64 of a u64's BCS bytes (the name of a table entry)."""
    return base64.b64encode(value.to_bytes(8, "little")).decode()
