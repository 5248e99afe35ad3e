"""Bundles: same commit, same bytes; unpacking refuses what a hostile archive could use."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.bundle import MANIFEST_NAME, CommitInfo, Limits, build, unpack
from syncer.errors import BundleError, UnsafeArchiveError

INFO = CommitInfo("a" * 40, "b" * 40, "Ada", "ada@example.com", 1_700_000_000, "first\n")

paths = st.lists(st.text("abcxyz_-.", min_size=1, max_size=8)
                 .filter(lambda s: s not in {".", ".."}), min_size=1, max_size=3)
file_maps = st.dictionaries(paths.map(lambda parts: "templates/" + "/".join(parts)),
                            st.binary(max_size=200), max_size=6)


@given(file_maps)
def test_same_files_same_bytes(files: dict[str, bytes]) -> None:
    assert build(INFO, files) == build(INFO, dict(reversed(list(files.items()))))


@given(file_maps)
def test_roundtrip(files: dict[str, bytes]) -> None:
    bundle = unpack(build(INFO, files))
    assert dict(bundle.files) == files
    assert bundle.manifest.source == INFO
    assert [f.path for f in bundle.manifest.files] == sorted(files)


def test_metadata_is_fixed() -> None:
    data = build(INFO, {"templates/a.yaml": b"x: 1\n"})
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [MANIFEST_NAME, "templates/a.yaml"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {
        (0, 0, 0, "", "", 0o644)}


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out.getvalue()


def _entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(("entry", "words"), [
    (_entry("../etc/passwd"), "leaves the bundle"),
    (_entry("templates/../../x"), "leaves the bundle"),
    (_entry("/etc/passwd"), "absolute"),
    (_entry("templates/link", tarfile.SYMTYPE, "/etc/passwd"), "links"),
    (_entry("templates/hard", tarfile.LNKTYPE, "templates/a"), "links"),
    (_entry("dev/null", tarfile.CHRTYPE), "device"),
    (_entry("fifo", tarfile.FIFOTYPE), "fifo"),
])
def test_unsafe_entries_refused(entry: tarfile.TarInfo, words: str) -> None:
    with pytest.raises(UnsafeArchiveError, match=words) as caught:
        unpack(_tar((entry, b"boom")))
    assert "bundle entry" in str(caught.value)


def test_oversized_archive_refused() -> None:
    data = build(INFO, {"templates/big.yaml": b"x" * 5000})
    with pytest.raises(UnsafeArchiveError, match="over the cap"):
        unpack(data, limits=Limits(max_bytes=4096))
    with pytest.raises(UnsafeArchiveError, match="per-file cap"):
        unpack(data, limits=Limits(max_file_bytes=1000))


def test_oversized_sources_refused_at_build() -> None:
    with pytest.raises(BundleError, match="per-file cap"):
        build(INFO, {"templates/big.yaml": b"x" * 5000}, limits=Limits(max_file_bytes=1000))


def test_file_not_matching_manifest_refused() -> None:
    good = unpack(build(INFO, {"templates/a.yaml": b"a: 1\n"}))
    manifest = good.manifest.to_json()
    forged = _tar((_entry(MANIFEST_NAME), manifest), (_entry("templates/a.yaml"), b"a: 2\n"))
    with pytest.raises(BundleError, match="SHA-256 does not match"):
        unpack(forged)
    extra = _tar((_entry(MANIFEST_NAME), manifest), (_entry("templates/a.yaml"), b"a: 1\n"),
                 (_entry("templates/b.yaml"), b"b: 1\n"))
    with pytest.raises(UnsafeArchiveError, match="not listed"):
        unpack(extra)


def test_not_a_tar_refused() -> None:
    with pytest.raises(BundleError):
        unpack(b"this is not a tar archive" * 40)
