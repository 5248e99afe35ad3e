"""Where bundles live. `BlobStore` is the protocol; `local` is the embedded default.

Blobs are named by their real Walrus blob ID, computed from the bytes with Walrus's own
RedStuff encoding (1000 shards, as on Mainnet and Testnet), so a bundle has the same name in
the local store and on Walrus. Every read is verified twice before use: against the SHA-256
recorded on the ledger and against the blob ID recomputed from the bytes, unless this machine
already saw bytes with that SHA-256 encode to that blob ID (`blobids`: the encoding takes about
a second whatever the size, and SHA-256 binds the bytes).
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pysui_fastcrypto

from syncer.bundle import sha256_hex
from syncer.errors import BlobIntegrityError

if TYPE_CHECKING:
    from syncer.blobstore.blobids import KnownBlobIds

__all__ = ["N_SHARDS", "BlobStore", "StoredBlob", "blob_id_of", "verify_blob"]

N_SHARDS = 1000

log = logging.getLogger(__name__)


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


def blob_id_of(data: bytes, *, known: KnownBlobIds | None = None) -> str:
    """The Walrus blob ID of `data`: base64url without padding of 32 bytes. Always computed
    (never looked up); recorded in `known` for later verifications."""
    started = time.monotonic()
    raw = bytes(pysui_fastcrypto.redstuff_encode(data, N_SHARDS).blob_id)
    blob_id = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    log.debug("blob ID computed", extra={"blob_id": blob_id, "bytes": len(data),
                                         "seconds": round(time.monotonic() - started, 3)})
    if known is not None:
        known.record(sha256_hex(data), blob_id)
    return blob_id


def verify_blob(data: bytes, *, blob_id: str, sha256: str,
                known: KnownBlobIds | None = None) -> None:
    """Refuse bytes whose SHA-256 or blob ID differ from what the ledger records. The blob
    ID is not recomputed when `known` confirms that bytes with this SHA-256 encode to it."""
    actual_sha = sha256_hex(data)
    if actual_sha != sha256:
        raise BlobIntegrityError(
            f"SHA-256 of the bytes is {actual_sha[:16]}…, the release records {sha256[:16]}…",
            where=f"blob {blob_id}")
    if known is not None and known.confirms(actual_sha, blob_id):
        log.debug("blob ID confirmed by a verified pair", extra={"blob_id": blob_id})
        return
    if blob_id_of(data, known=known) != blob_id:
        raise BlobIntegrityError("the bytes do not encode to this blob ID",
                                 where=f"blob {blob_id}")
