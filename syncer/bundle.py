"""Bundles: the deterministic archive of one commit's deploy sources, and its safe unpacking.

A bundle is an uncompressed POSIX (pax) tar. Its first entry is `syncer-manifest.json`
(commit, tree, author, message, and every file's path, size and SHA-256); the files follow
sorted by path. Every entry has mtime 0, uid/gid 0, no user or group names and mode 0644, so
the same commit always gives the same bytes, hence the same Walrus blob ID. No compression:
deflate output is not promised to be identical across zlib versions.

Unpacking happens in memory, never on disk, and refuses anything a hostile archive could use:
absolute paths, `..`, links, devices, duplicate names, entries the manifest does not list or
whose SHA-256 differs, and sizes past the caps.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath

from syncer.errors import BundleError, UnsafeArchiveError

__all__ = [
    "MANIFEST_NAME",
    "Bundle",
    "CommitInfo",
    "FileEntry",
    "Limits",
    "Manifest",
    "build",
    "sha256_hex",
    "unpack",
]

MANIFEST_NAME = "syncer-manifest.json"
FORMAT = "syncer-bundle/1"


@dataclass(frozen=True)
class Limits:
    """Caps on what a bundle may hold; reads from outside are always capped."""

    max_bytes: int = 64 * 1024 * 1024
    max_files: int = 5_000
    max_file_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class CommitInfo:
    """The metadata of the commit a bundle is made from."""

    commit: str
    tree: str
    author: str
    author_email: str
    authored_at: int
    message: str


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What `syncer-manifest.json` says: the commit and every file of the bundle."""

    format: str
    source: CommitInfo
    files: tuple[FileEntry, ...]

    def to_json(self) -> bytes:
        data = {"format": self.format, "source": asdict(self.source),
                "files": [asdict(f) for f in self.files]}
        return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            files = tuple(FileEntry(**f) for f in data["files"])
            return cls(data["format"], CommitInfo(**data["source"]), files)
        except (ValueError, KeyError, TypeError) as e:
            raise BundleError("manifest is malformed", where=MANIFEST_NAME) from e


@dataclass(frozen=True)
class Bundle:
    """An unpacked bundle: its manifest and the files, by repository path."""

    manifest: Manifest
    files: Mapping[str, bytes]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(source: CommitInfo, files: Mapping[str, bytes], *, limits: Limits = Limits()) -> bytes:
    """The archive of `files` (repository path → bytes) made from commit `source`."""
    paths = sorted(files)
    for path in paths:
        _check_path(path)
    _check_sizes(len(paths), {p: len(files[p]) for p in paths}, limits)
    entries = tuple(FileEntry(p, len(files[p]), sha256_hex(files[p])) for p in paths)
    manifest = Manifest(FORMAT, source, entries)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, MANIFEST_NAME, manifest.to_json())
        for path in paths:
            _add(tar, path, files[path])
    return out.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def unpack(data: bytes, *, limits: Limits = Limits()) -> Bundle:
    """Read a bundle in memory, refusing unsafe or inconsistent archives."""
    if len(data) > limits.max_bytes:
        raise UnsafeArchiveError(f"archive is {len(data)} bytes, over the cap of "
                                 f"{limits.max_bytes}", where="bundle")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            raw = _read_members(tar, limits)
    except tarfile.TarError as e:
        raise UnsafeArchiveError(f"not a readable tar archive ({e})", where="bundle") from e
    if MANIFEST_NAME not in raw:
        raise BundleError("archive has no manifest", where=MANIFEST_NAME)
    manifest = Manifest.from_json(raw.pop(MANIFEST_NAME))
    _check_against_manifest(manifest, raw)
    return Bundle(manifest, raw)


def _read_members(tar: tarfile.TarFile, limits: Limits) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    for member in tar:
        _check_member(member, limits)
        if member.name in out:
            raise UnsafeArchiveError("duplicate entry", where=f"bundle entry {member.name}")
        if len(out) >= limits.max_files + 1:
            raise UnsafeArchiveError(f"more than {limits.max_files} files", where="bundle")
        total += member.size
        if total > limits.max_bytes:
            raise UnsafeArchiveError(f"content over the cap of {limits.max_bytes} bytes",
                                     where="bundle")
        out[member.name] = _read(tar, member)
    return out


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise UnsafeArchiveError("entry has no content", where=f"bundle entry {member.name}")
    return handle.read(member.size)


def _check_member(member: tarfile.TarInfo, limits: Limits) -> None:
    where = f"bundle entry {member.name}"
    if member.issym() or member.islnk():
        raise UnsafeArchiveError("links are not allowed", where=where)
    if member.isdev() or member.isfifo():
        raise UnsafeArchiveError("device and fifo entries are not allowed", where=where)
    if not member.isreg():
        raise UnsafeArchiveError("only regular files are allowed", where=where)
    _check_path(member.name, unsafe=True)
    if member.size > limits.max_file_bytes:
        raise UnsafeArchiveError(f"{member.size} bytes, over the per-file cap of "
                                 f"{limits.max_file_bytes}", where=where)


def _check_path(path: str, *, unsafe: bool = False) -> None:
    error: type[BundleError] = UnsafeArchiveError if unsafe else BundleError
    where = f"bundle entry {path}" if unsafe else path
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or path.startswith("/"):
        raise error("absolute or empty paths are not allowed", where=where)
    if ".." in pure.parts or "\\" in path or "\x00" in path:
        raise error("path leaves the bundle ('..', '\\' or NUL)", where=where)
    if str(pure) != path:
        raise error("path is not in normal form", where=where)


def _check_sizes(count: int, sizes: Mapping[str, int], limits: Limits) -> None:
    if count > limits.max_files:
        raise BundleError(f"{count} files, over the cap of {limits.max_files}", where="bundle")
    for path, size in sizes.items():
        if size > limits.max_file_bytes:
            raise BundleError(f"{size} bytes, over the per-file cap of "
                              f"{limits.max_file_bytes}", where=path)
    if sum(sizes.values()) > limits.max_bytes:
        raise BundleError(f"sources over the cap of {limits.max_bytes} bytes", where="bundle")


def _check_against_manifest(manifest: Manifest, files: Mapping[str, bytes]) -> None:
    listed = {f.path: f for f in manifest.files}
    for path in sorted(set(files) | set(listed)):
        if path not in listed:
            raise UnsafeArchiveError("entry is not listed in the manifest",
                                     where=f"bundle entry {path}")
        if path not in files:
            raise BundleError("file listed in the manifest is missing", where=path)
        if sha256_hex(files[path]) != listed[path].sha256:
            raise BundleError("SHA-256 does not match the manifest", where=path)

