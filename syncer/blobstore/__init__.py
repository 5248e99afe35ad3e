"""Where bundles live. `BlobStore` is the protocol; `local` is the embedded default.

Blobs are named by their real Walrus blob ID, computed from the bytes with Walrus's own
RedStuff encoding (1000 shards, as on Mainnet and Testnet), so a bundle has the same name in
the local store and on Walrus. Every read is verified twice before use: against the SHA-256
recorded on the ledger and against the blob ID recomputed from the bytes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Protocol

import pysui_fastcrypto

from syncer.bundle import sha256_hex
from syncer.errors import BlobIntegrityError

__all__ = ["N_SHARDS", "BlobStore", "StoredBlob", "blob_id_of", "verify_blob"]

N_SHARDS = 1000


@dataclass(frozen=True)
class StoredBlob:
    """The outcome of a store: the blob's name, its SHA-256, and whether it was new."""

    blob_id: str
    sha256: str
    created: bool
    end_epoch: int | None = None


class BlobStore(Protocol):
    def put(self, data: bytes) -> StoredBlob:
        """Store `data`; storing bytes already stored is a no-op (created=False)."""
        ...

    def get(self, blob_id: str, *, sha256: str) -> bytes:
        """The verified bytes of `blob_id`; BlobIntegrityError if they do not match."""
        ...

    def refresh(self, data: bytes, *, blob_id: str | None = None) -> StoredBlob:
        """Store `data` again so that it lives longer (same blob ID); refuse other bytes."""
        ...


def blob_id_of(data: bytes) -> str:
    """The Walrus blob ID of `data`: base64url without padding of 32 bytes."""
    raw = bytes(pysui_fastcrypto.redstuff_encode(data, N_SHARDS).blob_id)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def verify_blob(data: bytes, *, blob_id: str, sha256: str) -> None:
    """Refuse bytes whose SHA-256 or blob ID differ from what the ledger records."""
    actual_sha = sha256_hex(data)
    if actual_sha != sha256:
        raise BlobIntegrityError(
            f"SHA-256 of the bytes is {actual_sha[:16]}…, the release records {sha256[:16]}…",
            where=f"blob {blob_id}")
    if blob_id_of(data) != blob_id:
        raise BlobIntegrityError("the bytes do not encode to this blob ID",
                                 where=f"blob {blob_id}")
