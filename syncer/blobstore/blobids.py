"""Verified (SHA-256, blob ID) pairs: the blob IDs this machine already computed, by the
SHA-256 of their bytes, under $SYNCER_HOME/cache/blob-ids.

Computing a Walrus blob ID RedStuff-encodes the whole blob, about a second whatever its size.
Whenever bytes are encoded here (a store names a new blob, a read verifies one) the pair is
recorded, and a later verification of bytes with that SHA-256 against that same blob ID skips
the encoding (`verify_blob`).

Why skipping is sound: SHA-256 binds the bytes. A verification always hashes the bytes first
and compares the digest with the SHA-256 the ledger records; only then is a pair consulted,
and the pair only says which blob ID those exact bytes encoded to before (the encoding is a
function of the bytes alone). A pair is only used to confirm the blob ID the caller expects:
an entry that names another ID, or cannot be read, is ignored, the bytes are encoded, and the
entry is written again. Blob IDs that name new blobs (`put`, `refresh`) are always computed,
never looked up. Entries are as trustworthy as $SYNCER_HOME itself: whoever can write there
can at most make bytes whose SHA-256 matches the signed ledger record skip the blob-ID check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from syncer.cachedir import CacheDir

__all__ = ["KnownBlobIds"]

_BLOB_ID: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class KnownBlobIds:
    """Blob IDs by the SHA-256 of their bytes: one small file per pair, at most
    `max_entries` of them (the least recently used go first)."""

    root: Path
    max_entries: int = 4096
    _dir: CacheDir = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_dir", CacheDir(self.root, max_entries=self.max_entries,
                                                  max_bytes=self.max_entries * 256))

    def confirms(self, sha256: str, blob_id: str) -> bool:
        """Whether bytes with digest `sha256` were seen to encode to `blob_id`."""
        if not _SHA256.match(sha256):
            return False
        payload = self._dir.read(sha256)
        return payload is not None and payload.decode("ascii", "replace") == blob_id

    def record(self, sha256: str, blob_id: str) -> None:
        """Bytes with digest `sha256` encode to `blob_id` (just computed by the caller)."""
        if _SHA256.match(sha256) and _BLOB_ID.match(blob_id):
            self._dir.write(sha256, blob_id.encode("ascii"))
