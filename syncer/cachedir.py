"""A directory of cache entries under $SYNCER_HOME/cache: written atomically, checked when
read, bounded in number and bytes.

Each entry is one file, `<64 hex digits of SHA-256 of the payload>\\n<payload>`, written to a
temporary file in the same directory and renamed into place, so a reader sees a whole entry
or none, and concurrent writers of one entry both leave a whole one. An entry that cannot be
read, is too large, or whose checksum does not match its payload (a torn disk write, an edit
by hand) is removed and reported as missing: the caller redoes the work and writes it again.
The checksum catches accidents, not attacks: what a cache entry may be trusted with is the
caller's business (see `blobstore.blobids` and `releasecache`).

When a write takes a directory past `max_entries` or `max_bytes`, the entries read or written
least recently go first (a read refreshes an entry's modification time). Every failure to
read, write or evict is logged at debug level and otherwise ignored: a cache never fails a
command, and a read-only $SYNCER_HOME only makes it slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["CacheDir"]

log = logging.getLogger(__name__)

_NAME: Final = re.compile(r"^[0-9a-f]{16,128}$")
_TMP_PREFIX: Final = ".tmp-"
_STALE_TMP_SECONDS: Final = 3600.0
_HEADER: Final = 65  # 64 hex digits and a newline


@dataclass(frozen=True)
class CacheDir:
    """Entries named by hex strings under `root`; see the module docstring."""

    root: Path
    max_entries: int = 1024
    max_bytes: int = 64 * 1024 * 1024

    @property
    def max_entry_bytes(self) -> int:
        """The largest payload kept: a quarter of the directory's bound."""
        return self.max_bytes // 4

    def read(self, name: str) -> bytes | None:
        """The payload of entry `name`, or None when it is missing or bad (then removed)."""
        path = self._path(name)
        try:
            with path.open("rb") as handle:
                raw = handle.read(_HEADER + self.max_entry_bytes + 1)
        except OSError:
            return None
        payload = _checked(raw, limit=self.max_entry_bytes)
        if payload is None:
            log.debug("bad cache entry removed", extra={"cache": str(path)})
            _unlink(path)
            return None
        _touch(path)
        return payload

    def write(self, name: str, payload: bytes) -> None:
        """Store `payload` as entry `name`, replacing any entry of that name."""
        path = self._path(name)
        if len(payload) > self.max_entry_bytes:
            log.debug("cache entry too large to keep", extra={"cache": str(path),
                                                              "bytes": len(payload)})
            return
        data = hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
        try:
            _replace(path, data)
        except OSError as e:
            log.debug("cache entry not written", extra={"cache": str(path), "error": str(e)})
            return
        self._evict()

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"not a cache entry name: {name[:80]!r}")
        return self.root / name

    def _evict(self) -> None:
        """Remove the least recently used entries past the bounds, and stale temporary files."""
        try:
            entries = _entries(self.root)
        except OSError as e:
            log.debug("cache not evicted", extra={"cache": str(self.root), "error": str(e)})
            return
        entries.sort(key=lambda e: e[1])  # oldest first
        count, total = len(entries), sum(size for _, _, size in entries)
        for path, _, size in entries:
            if count <= self.max_entries and total <= self.max_bytes:
                break
            _unlink(path)
            count, total = count - 1, total - size


def _checked(raw: bytes, *, limit: int) -> bytes | None:
    """The payload after the checksum line, if the checksum matches and it is not too long."""
    if len(raw) < _HEADER or raw[64:65] != b"\n" or len(raw) - _HEADER > limit:
        return None
    payload = raw[_HEADER:]
    if hashlib.sha256(payload).hexdigest().encode() != raw[:64]:
        return None
    return payload


def _entries(root: Path) -> list[tuple[Path, float, int]]:
    """(path, modification time, size) of every entry; stale temporary files are removed."""
    found = []
    now = time.time()
    with os.scandir(root) as listing:
        for item in listing:
            try:
                stat = item.stat(follow_symlinks=False)
            except OSError:
                continue
            if item.name.startswith(_TMP_PREFIX):
                if now - stat.st_mtime > _STALE_TMP_SECONDS:
                    _unlink(Path(item.path))
                continue
            if item.is_file(follow_symlinks=False) and _NAME.match(item.name):
                found.append((Path(item.path), stat.st_mtime, stat.st_size))
    return found


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        _unlink(Path(tmp))
        raise


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache still serves its entries
        os.utime(path)


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
