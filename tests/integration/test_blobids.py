"""Verified (SHA-256, blob ID) pairs: a blob ID computed here is recorded, a read it confirms
skips the RedStuff encoding, and nothing a pair (or a damaged pair file) says lets bad bytes
through. The encodings are counted from the `blob ID computed` log line of
`syncer.blobstore`, never timed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from syncer_standins.walrus import WalrusServer

from syncer.blobstore import blob_id_of
from syncer.blobstore.blobids import KnownBlobIds
from syncer.blobstore.local import LocalBlobStore
from syncer.blobstore.walrus import WalrusBlobStore, WalrusOptions
from syncer.bundle import sha256_hex
from syncer.errors import BlobIntegrityError

DATA = b"a bundle: deterministic tar bytes\n" * 40
SHA = sha256_hex(DATA)


Counter = Callable[[], int]


@pytest.fixture
def encodings(caplog: pytest.LogCaptureFixture) -> Counter:
    """How many blob IDs were computed so far in the test."""
    caplog.set_level(logging.DEBUG, logger="syncer.blobstore")
    return lambda: sum(r.getMessage() == "blob ID computed" for r in caplog.records)


@pytest.fixture
def known(tmp_path: Path) -> KnownBlobIds:
    return KnownBlobIds(tmp_path / "cache" / "blob-ids")


@pytest.fixture
def stored(tmp_path: Path, known: KnownBlobIds) -> tuple[LocalBlobStore, str]:
    """A local store holding DATA, put through the pair cache: (store, blob ID)."""
    blobs = LocalBlobStore(tmp_path / "blobs", known=known)
    return blobs, blobs.put(DATA).blob_id


def test_a_put_records_the_pair_and_a_read_skips_the_encoding(
        stored: tuple[LocalBlobStore, str], known: KnownBlobIds,
        encodings: Counter) -> None:
    blobs, blob_id = stored
    assert known.confirms(SHA, blob_id)
    before = encodings()
    assert blobs.get(blob_id, sha256=SHA) == DATA
    assert blobs.get(blob_id, sha256=SHA) == DATA
    assert encodings() == before  # no encoding at either read


def test_a_put_always_encodes(stored: tuple[LocalBlobStore, str],
                              encodings: Counter) -> None:
    blobs, blob_id = stored
    before = encodings()
    assert blobs.put(DATA).blob_id == blob_id
    assert encodings() == before + 1  # a name on the ledger is never looked up


def test_a_tampered_blob_is_caught_though_its_pair_is_known(
        stored: tuple[LocalBlobStore, str], tmp_path: Path) -> None:
    blobs, blob_id = stored
    path = tmp_path / "blobs" / blob_id
    path.write_bytes(DATA.replace(b"deterministic", b"Deterministic"))
    with pytest.raises(BlobIntegrityError, match="SHA-256 of the bytes is"):
        blobs.get(blob_id, sha256=SHA)


def test_the_bytes_under_another_blob_id_are_caught(
        stored: tuple[LocalBlobStore, str], tmp_path: Path) -> None:
    blobs, blob_id = stored
    other = blob_id_of(b"other bytes")
    (tmp_path / "blobs" / other).write_bytes(DATA)  # the right SHA-256, not this blob ID
    with pytest.raises(BlobIntegrityError, match="do not encode to this blob ID"):
        blobs.get(other, sha256=SHA)
    assert blobs.get(blob_id, sha256=SHA) == DATA


def test_a_pair_naming_another_blob_id_is_ignored_and_written_again(
        stored: tuple[LocalBlobStore, str], known: KnownBlobIds,
        encodings: Counter) -> None:
    blobs, blob_id = stored
    wrong = blob_id_of(b"other bytes")
    known.record(SHA, wrong)
    before = encodings()
    assert blobs.get(blob_id, sha256=SHA) == DATA
    assert encodings() == before + 1
    assert known.confirms(SHA, blob_id) and not known.confirms(SHA, wrong)
    blobs.get(blob_id, sha256=SHA)
    assert encodings() == before + 1


@pytest.mark.parametrize("content", [b"", b"garbage", b"0" * 64 + b"\n" + b"A" * 43])
def test_a_damaged_pair_file_is_ignored_and_written_again(
        stored: tuple[LocalBlobStore, str], known: KnownBlobIds, content: bytes,
        encodings: Counter) -> None:
    blobs, blob_id = stored
    (known.root / SHA).write_bytes(content)
    before = encodings()
    assert blobs.get(blob_id, sha256=SHA) == DATA
    assert encodings() == before + 1
    assert known.confirms(SHA, blob_id)


def test_without_the_cache_every_read_encodes(
        stored: tuple[LocalBlobStore, str], tmp_path: Path,
        encodings: Counter) -> None:
    _, blob_id = stored
    plain = LocalBlobStore(tmp_path / "blobs")
    before = encodings()
    plain.get(blob_id, sha256=SHA)
    assert encodings() == before + 1


def test_walrus_reads_confirmed_by_a_pair_skip_the_encoding(
        known: KnownBlobIds, encodings: Counter) -> None:
    with WalrusServer() as walrus, WalrusBlobStore(
            WalrusOptions(walrus.url, (walrus.url,)), known=known) as store:
        blob_id = store.put(DATA).blob_id
        before = encodings()
        assert store.get(blob_id, sha256=SHA) == DATA
        assert encodings() == before
        walrus.faults.corrupt = True  # the last byte flipped
        with pytest.raises(BlobIntegrityError, match="bad bytes from"):
            store.get(blob_id, sha256=SHA)
