"""Rendered releases, cached under $SYNCER_HOME/cache/releases, so that a release this
machine already loaded is neither fetched nor rendered again.

`load_cached` is `reconcile.load` with a memory: after a load (fetch, verify, unpack, render,
policy) it keeps the bundle's bytes and the rendered objects in one entry, keyed by the blob
ID, the SHA-256 the ledger records, the channel and a fingerprint of the code that renders
(syncer's version and the SHA-256 of its sources, Jinja2's and PyYAML's versions). A later
load of the same release takes the entry instead, after these checks, any failure of which
makes it a miss (the full load runs, and reports any error as it always does):

- the entry's checksum matches (`cachedir`) and it names the same blob, digest and channel;
- the bundle bytes in it hash to the SHA-256 the ledger records: SHA-256 binds them, so they
  are the published bytes, with no download and no blob-ID encoding;
- they unpack (every archive check again), are of the commit the release records, and hold a
  syncer.yaml with the release's channel;
- the objects are a list of mappings, no Secret among them carries plain values, and their
  wave annotations are valid. The policies themselves (CEL, about 0.1 s for a small release
  and 4 s per 1,000 objects) are not evaluated again: the entry was written only after they
  admitted the release, and the fingerprint covers everything their verdict depends on
  besides the bundle (syncer's sources and its default policies, the CEL engine's version).

What the checks cannot prove is that the objects are what those bytes render to: that is why
the key holds everything that changes the rendering (a change of syncer's code, even without a
new version, makes new keys). An entry is as trustworthy as $SYNCER_HOME itself, like the
publisher key and the local ledger kept there.

Secrets: policy refuses Secrets that carry `data` or `stringData` in plain text, so rendered
objects hold no secret values (bundles are public on Walrus); a SOPS-encrypted Secret is
cached as the bundle holds it, encrypted (`reconcile.load` never decrypts: that happens later,
in memory, in `Reconciler.observe`). Should a release ever render a Secret with plain values,
it is not cached at all: no secret value is written to the cache.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import jinja2
import yaml

import syncer
from syncer import waves
from syncer.blobstore import BlobStore, StoredBlob
from syncer.bundle import sha256_hex, unpack
from syncer.cachedir import CacheDir
from syncer.config import CONFIG_FILE, Home, parse_config
from syncer.errors import SyncerError
from syncer.model import Obj, Release
from syncer.policy import reads_as_secret
from syncer.policyfiles import DEFAULTS_DIR
from syncer.reconcile import Loaded, load
from syncer.sops import is_encrypted

__all__ = ["FORMAT", "ReleaseCache", "fingerprint", "load_cached"]

log = logging.getLogger(__name__)

FORMAT: Final = "syncer-release-cache/1"


def load_cached(release: Release, *, blobs: BlobStore, cache: ReleaseCache | None) -> Loaded:
    """`reconcile.load(release, blobs=blobs)`, through `cache` when there is one."""
    if cache is None or not _fingerprinted():
        return load(release, blobs=blobs)
    hit = cache.get(release)
    if hit is not None:
        return hit
    kept = _Kept(blobs)
    loaded = load(release, blobs=kept)
    if kept.data is not None:
        cache.put(loaded, kept.data)
    return loaded


@dataclass(frozen=True)
class ReleaseCache:
    """Entries of rendered releases in `root`, at most `max_entries` and `max_bytes`."""

    root: Path
    max_entries: int = 64
    max_bytes: int = 256 * 1024 * 1024

    @classmethod
    def under(cls, home: Home) -> ReleaseCache:
        return cls(home.cache / "releases")

    def get(self, release: Release) -> Loaded | None:
        """The loaded release from its entry, if there is a good one."""
        payload = self._dir.read(_name(release))
        entry = _parse(payload, release) if payload is not None else None
        loaded = _loaded(entry, release) if entry is not None else None
        context = {"channel": release.channel, "seq": release.seq, "blob_id": release.blob_id}
        if loaded is None:
            log.debug("release not in the cache", extra=context)
            return None
        log.info("release loaded from the cache", extra=context)
        return loaded

    def put(self, loaded: Loaded, data: bytes) -> None:
        """Keep `loaded` with its verified bundle bytes `data`, unless it holds Secret values
        or objects that JSON cannot carry exactly."""
        release = loaded.release
        context = {"channel": release.channel, "seq": release.seq, "blob_id": release.blob_id}
        if sha256_hex(data) != release.sha256 or _holds_secret_values(loaded.objects):
            log.debug("release not cached", extra=context)
            return
        objects = _exact_json(loaded.objects)
        if objects is None:
            log.debug("release not cached: objects JSON cannot carry", extra=context)
            return
        entry = {**_key(release), "bundle": base64.b64encode(data).decode("ascii"),
                 "objects": objects}
        self._dir.write(_name(release), json.dumps(entry, ensure_ascii=False).encode())
        log.info("rendered release cached", extra=context)

    @property
    def _dir(self) -> CacheDir:
        return CacheDir(self.root, max_entries=self.max_entries, max_bytes=self.max_bytes)


@functools.cache
def fingerprint() -> str:
    """What changes the rendering and the policies' verdicts besides the bundle: syncer's
    version, sources and default policies, the versions of Jinja2, PyYAML and the CEL
    engine."""
    digest = hashlib.sha256()
    for part in (syncer.__version__, jinja2.__version__, yaml.__version__, _cel_version()):
        digest.update(part.encode() + b"\0")
    package = Path(syncer.__file__).parent
    sources = [*package.rglob("*.py"), *(package / "data" / DEFAULTS_DIR).rglob("*.y*ml")]
    for path in sorted(sources):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _cel_version() -> str:
    try:
        return metadata.version("common-expression-language")
    except metadata.PackageNotFoundError:
        return "unknown"


def _fingerprinted() -> bool:
    """Whether syncer's sources can be read for the fingerprint (else nothing is cached)."""
    try:
        fingerprint()
    except OSError as e:
        log.debug("release cache off: the sources cannot be read", extra={"error": str(e)})
        return False
    return True


def _key(release: Release) -> dict[str, str]:
    return {"format": FORMAT, "fingerprint": fingerprint(), "blob_id": release.blob_id,
            "sha256": release.sha256, "channel": release.channel}


def _name(release: Release) -> str:
    return hashlib.sha256(json.dumps(_key(release), sort_keys=True).encode()).hexdigest()


def _parse(payload: bytes, release: Release) -> dict[str, Any] | None:
    """The entry, if it is a JSON mapping made for this release's key."""
    try:
        entry = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(entry, dict) or any(entry.get(k) != v for k, v in _key(release).items()):
        return None
    return entry


def _loaded(entry: dict[str, Any], release: Release) -> Loaded | None:
    """The release as `load` would return it, from a parsed entry; None if a check fails."""
    data, objects = _bundle_bytes(entry.get("bundle")), _objects(entry.get("objects"))
    if data is None or objects is None or sha256_hex(data) != release.sha256:
        return None
    where = f"release {release.seq} of {release.channel}"
    try:
        bundle = unpack(data)
        config = parse_config(bundle.files[CONFIG_FILE], where=f"{CONFIG_FILE} of {where}")
        channel = config.channel(release.channel)
        waves.check(objects)
    except (SyncerError, KeyError):
        return None
    if _holds_secret_values(objects):
        return None
    if bundle.manifest.source.commit != release.commit:
        return None
    return Loaded(release, bundle, channel, tuple(objects))


def _bundle_bytes(text: object) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None


def _objects(value: object) -> list[Obj] | None:
    if isinstance(value, list) and all(isinstance(o, dict) for o in value):
        return value
    return None


def _exact_json(objects: Sequence[Obj]) -> list[Any] | None:
    """The objects as JSON values, if JSON carries them exactly (no dates, bytes, sets,
    non-string keys or non-finite numbers, which YAML can produce)."""
    try:
        text = json.dumps(list(objects), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None
    back: list[Any] = json.loads(text)
    return back if back == list(objects) else None


def _holds_secret_values(objects: Sequence[Obj]) -> bool:
    """Whether any object whose kind reads as Secret carries `data` or `stringData` that
    is not SOPS-encrypted (`sops.is_encrypted`)."""
    return any(reads_as_secret(o) and ("data" in o or "stringData" in o)
               and not is_encrypted(o) for o in objects)


class _Kept:
    """A blob store that keeps the bytes of its last read: what `load` fetched and verified."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.data: bytes | None = None

    def get(self, blob_id: str, *, sha256: str) -> bytes:
        self.data = self.inner.get(blob_id, sha256=sha256)
        return self.data

    def put(self, data: bytes) -> StoredBlob:
        return self.inner.put(data)

    def refresh(self, data: bytes, *, blob_id: str | None = None) -> StoredBlob:
        return self.inner.refresh(data, blob_id=blob_id)
