"""The embedded blob store: a directory of files named by their Walrus blob ID."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

from syncer.blobstore import StoredBlob, blob_id_of, verify_blob
from syncer.blobstore.blobids import KnownBlobIds
from syncer.bundle import sha256_hex
from syncer.errors import BlobIntegrityError, BlobNotFoundError, BlobStoreError

__all__ = ["LocalBlobStore"]

log = logging.getLogger(__name__)
_BLOB_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class LocalBlobStore:
    """Blobs as files under `root`; writes are atomic (temporary file, then rename). With
    `known`, blob IDs computed here are recorded and reads they confirm are not re-encoded."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 known: KnownBlobIds | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.known = known

    def put(self, data: bytes) -> StoredBlob:
        return self._store(data, blob_id_of(self._capped(data), known=self.known),
                           replace_altered=False)

    def refresh(self, data: bytes, *, blob_id: str | None = None) -> StoredBlob:
        """Local blobs never expire: this stores them again if they went missing, and puts
        the verified bytes back over a file whose bytes were altered."""
        actual = blob_id_of(self._capped(data), known=self.known)
        if blob_id is not None and actual != blob_id:
            raise BlobIntegrityError("the bytes to refresh do not encode to this blob ID",
                                     where=f"blob {blob_id}")
        return self._store(data, actual, replace_altered=True)

    def _capped(self, data: bytes) -> bytes:
        if len(data) > self.max_bytes:
            raise BlobStoreError(f"{len(data)} bytes, over the cap of {self.max_bytes}",
                                 where="blob store")
        return data

    def _store(self, data: bytes, blob_id: str, *, replace_altered: bool) -> StoredBlob:
        path, sha = self._path(blob_id), sha256_hex(data)
        if path.exists() and (not replace_altered or self._holds(path, data)):
            log.info("blob already stored", extra={"blob_id": blob_id})
            return StoredBlob(blob_id, sha, created=False)
        self._write(path, data)
        log.info("blob stored", extra={"blob_id": blob_id, "bytes": len(data)})
        return StoredBlob(blob_id, sha, created=True)

    @staticmethod
    def _holds(path: Path, data: bytes) -> bool:
        """Whether the file at `path` holds exactly `data` (its size is checked first)."""
        return path.stat().st_size == len(data) and path.read_bytes() == data

    def get(self, blob_id: str, *, sha256: str) -> bytes:
        path = self._path(blob_id)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise BlobStoreError(f"{size} bytes, over the cap of {self.max_bytes}",
                                     where=f"blob {blob_id}")
            data = path.read_bytes()
        except FileNotFoundError as e:
            raise BlobNotFoundError("not in the local blob store",
                                    where=f"blob {blob_id}") from e
        except OSError as e:
            raise BlobStoreError(f"cannot read it: {e.strerror}", where=str(path)) from e
        verify_blob(data, blob_id=blob_id, sha256=sha256, known=self.known)
        return data

    def _path(self, blob_id: str) -> Path:
        if not _BLOB_ID.match(blob_id):
            raise BlobStoreError("not a Walrus blob ID (43 base64url characters)",
                                 where=f"blob {blob_id!r}")
        return self.root / blob_id

    def _write(self, path: Path, data: bytes) -> None:
        try:
            self._replace(path, data)
        except OSError as e:
            raise BlobStoreError(f"cannot store the blob: {e.strerror}", where=str(path)) from e

    def _replace(self, path: Path, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
