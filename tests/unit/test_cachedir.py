"""The cache directory under $SYNCER_HOME/cache: whole entries or none, bad entries ignored
and removed, concurrent writers, bounds by count and bytes (least recently used go first)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from syncer.cachedir import CacheDir

A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_an_entry_reads_back_as_written(tmp_path: Path) -> None:
    cache = CacheDir(tmp_path / "c")
    assert cache.read(A) is None  # no directory yet
    cache.write(A, b"payload")
    assert cache.read(A) == b"payload"
    assert [p.name for p in (tmp_path / "c").iterdir()] == [A]  # no temporary file left


@pytest.mark.parametrize("damage", [
    lambda raw: raw[:-1],                      # torn write
    lambda raw: raw[:-1] + b"X",               # a flipped byte
    lambda raw: b"",                           # empty
    lambda raw: b"not a checksum\n" + raw,     # garbage in front
    lambda raw: raw.replace(b"\n", b" ", 1),   # no header line
])
def test_a_damaged_entry_is_ignored_removed_and_written_again(tmp_path: Path,
                                                              damage: object) -> None:
    cache = CacheDir(tmp_path)
    cache.write(A, b"payload")
    path = tmp_path / A
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.read(A) is None
    assert not path.exists()
    cache.write(A, b"payload")
    assert cache.read(A) == b"payload"


def test_an_entry_too_large_is_neither_written_nor_read(tmp_path: Path) -> None:
    cache = CacheDir(tmp_path, max_bytes=400)  # entries up to 100 bytes
    cache.write(A, b"x" * 101)
    assert not (tmp_path / A).exists()
    CacheDir(tmp_path, max_bytes=4000).write(A, b"x" * 101)
    assert cache.read(A) is None


def test_names_are_hex_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a cache entry name"):
        CacheDir(tmp_path).write("../escape", b"x")


def test_the_least_recently_used_entries_go_first(tmp_path: Path) -> None:
    cache = CacheDir(tmp_path, max_entries=2)
    cache.write(A, b"1")
    cache.write(B, b"2")
    _age(tmp_path / A, 20)
    _age(tmp_path / B, 10)
    assert cache.read(A) == b"1"  # a read makes A the most recent
    cache.write(C, b"3")
    assert sorted(p.name for p in tmp_path.iterdir()) == [A, C]


def test_the_directory_is_bounded_in_bytes(tmp_path: Path) -> None:
    cache = CacheDir(tmp_path, max_bytes=1000)  # each entry 65 + 200 bytes
    for n, name in enumerate((A, B, C)):
        cache.write(name, b"x" * 200)
        _age(tmp_path / name, 30 - n)
    cache.write("d" * 64, b"x" * 200)
    assert sorted(p.name for p in tmp_path.iterdir()) == [B, C, "d" * 64]


def test_stale_temporary_files_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".tmp-stale", tmp_path / ".tmp-fresh"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    _age(stale, 7200)
    CacheDir(tmp_path).write(A, b"x")
    assert not stale.exists() and fresh.exists()


def test_concurrent_writers_and_readers_see_whole_entries(tmp_path: Path) -> None:
    cache = CacheDir(tmp_path, max_entries=8)
    names = [f"{n:064x}" for n in range(16)]
    seen: list[bytes | None] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for n in range(200):
                name = names[(n + offset) % len(names)]
                cache.write(name, name.encode() * 50)
                seen.append(cache.read(names[(n * 7 + offset) % len(names)]))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(s is None or s == s[:64] * 50 for s in seen)
    assert any(s is not None for s in seen)
    left = [p for p in tmp_path.iterdir()]
    assert not [p for p in left if p.name.startswith(".tmp-")]
    assert all(cache.read(p.name) == p.name.encode() * 50 for p in left)


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))
