"""The audit of a channel: every release checked again from the ledger, the blob store and git.

For each release (`audit`):

- **chain**: the ledger's own verification (`Ledger.history`: on the local ledger every
  signature, hash link and rule is replayed; on Sui the chain is the record) and a check of
  the history as a whole: seqs 1..N in order, timestamps never going back. A local ledger that
  does not verify is reported against the entry it names, and nothing else can be trusted;
- **blob**: the bundle can be fetched (missing is a failure);
- **sha256**: its bytes hash to the SHA-256 the release records;
- **blob-id**: its Walrus blob ID, computed again from the bytes (never taken from the cache
  of known pairs), is the one the release records;
- **commit**: the release's commit exists in the git repository;
- **files**: the commit's deploy sources, read as publish reads them, are the bundle's files
  (same paths, same SHA-256s), the manifest names that commit and its tree; ideally the
  bundle built again is byte for byte the blob;
- **lifetime**: on Walrus, with the Staking object configured, the blob has not expired.

Blobs and commits shared by several releases (a rollback points at an earlier bundle) are
checked once. Blobs are fetched and verified on a bounded pool of threads (`workpool`).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import git

from syncer import workpool
from syncer.blobstore import BlobStore, blob_id_of
from syncer.bundle import CommitInfo, Manifest, build, sha256_hex, unpack
from syncer.errors import (
    BlobIntegrityError,
    BlobNotFoundError,
    LedgerTamperedError,
    SyncerError,
)
from syncer.gitsource import read_commit
from syncer.ledger import Ledger
from syncer.model import Release
from syncer.publish import commit_config

if TYPE_CHECKING:  # the Walrus lifetime reader (httpx) is loaded only on Walrus
    from syncer.blobstore.walrus_lifetime import WalrusEpoch, WalrusLifetime

__all__ = ["CHECKS", "AuditOptions", "AuditReport", "Check", "ReleaseAudit", "Status", "audit",
           "chain_checks", "files_check", "report_json", "report_lines"]

log = logging.getLogger(__name__)

CHECKS: Final = ("chain", "blob", "sha256", "blob-id", "commit", "files", "lifetime")
_SHOWN_DIFFERENCES: Final = 3


class Status(enum.Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "-"  # not checked: not applicable, or an earlier check failed


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str = ""


def _ok(name: str, detail: str = "") -> Check:
    return Check(name, Status.OK, detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, Status.FAIL, detail)


def _skip(name: str, detail: str = "") -> Check:
    return Check(name, Status.SKIP, detail)


@dataclass(frozen=True)
class ReleaseAudit:
    """One release and the outcome of every check, in `CHECKS` order."""

    release: Release
    checks: tuple[Check, ...]

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status is Status.FAIL)


@dataclass(frozen=True)
class AuditReport:
    """A channel's audit: the ledger as a whole, then each release."""

    channel: str
    ledger: Check
    releases: tuple[ReleaseAudit, ...] = ()

    @property
    def ok(self) -> bool:
        return self.ledger.status is not Status.FAIL and not any(
            r.failures for r in self.releases)


@dataclass(frozen=True)
class AuditOptions:
    workers: int = 4
    lifetime: WalrusLifetime | None = None  # None: not on Walrus, or epochs not configured
    owners: tuple[str, ...] = ()  # who else may hold a blob's Blob object (send_object_to)
    now_ms: Callable[[], int] = field(default=lambda: time.time_ns() // 1_000_000)


@dataclass(frozen=True)
class _BlobResult:
    checks: tuple[Check, ...]  # blob, sha256, blob-id, lifetime
    manifest: Manifest | None = None
    data: bytes | None = None


def audit(channel: str, *, ledger: Ledger, blobs: BlobStore, repo: git.Repo,
          options: AuditOptions = AuditOptions()) -> AuditReport:
    """Check every release of `channel`; a failure is a finding, never an exception (but an
    unknown channel or an unreadable ledger, which are errors of the input)."""
    try:
        releases = ledger.history(channel)
    except LedgerTamperedError as e:
        log.warning("the ledger does not verify", extra={"channel": channel, "error": str(e)})
        return AuditReport(channel, _fail("chain", str(e)))
    chains = chain_checks(releases)
    blob_results = _blobs(releases, blobs, options)
    sources = _Sources(repo)
    audited = tuple(_release_audit(r, chains[i], blob_results[(r.blob_id, r.sha256)], sources)
                    for i, r in enumerate(releases))
    ledger_check = _ok("chain", f"{len(releases)} releases; signatures and links verify")
    return AuditReport(channel, ledger_check, audited)


def _release_audit(release: Release, chain: Check, blob: _BlobResult,
                   sources: _Sources) -> ReleaseAudit:
    commit, files = sources.checks(release, blob)
    blob_checks = {c.name: c for c in blob.checks}
    ordered = [chain, *(blob_checks[n] for n in ("blob", "sha256", "blob-id")), commit, files,
               blob_checks["lifetime"]]
    return ReleaseAudit(release, tuple(ordered))


# --- the chain ------------------------------------------------------------------------------

def chain_checks(releases: Sequence[Release]) -> list[Check]:
    """Per release: its seq follows the one before and its time does not go back."""
    out: list[Check] = []
    previous: Release | None = None
    for index, release in enumerate(releases):
        if release.seq != index + 1:
            out.append(_fail("chain", f"seq {release.seq} where {index + 1} was expected"))
        elif previous is not None and release.timestamp_ms < previous.timestamp_ms:
            out.append(_fail("chain", f"published before release {previous.seq}"))
        else:
            out.append(_ok("chain"))
        previous = release
    return out


# --- the blobs ------------------------------------------------------------------------------

def _blobs(releases: Sequence[Release], blobs: BlobStore,
           options: AuditOptions) -> dict[tuple[str, str], _BlobResult]:
    """Each distinct blob of `releases` fetched and verified, on the pool."""
    first: dict[tuple[str, str], Release] = {}
    for release in releases:
        first.setdefault((release.blob_id, release.sha256), release)
    epoch = _epoch(options.lifetime)
    tasks = [partial(_blob, r, blobs, options, epoch) for r in first.values()]
    results = workpool.run(tasks, workers=options.workers) if tasks else []
    return dict(zip(first, results, strict=True))


def _epoch(lifetime: WalrusLifetime | None) -> WalrusEpoch | str | None:
    """The current Walrus epoch; why not, as text, when it cannot be read."""
    if lifetime is None:
        return None
    try:
        return lifetime.epoch()
    except SyncerError as e:
        return str(e)


def _blob(release: Release, blobs: BlobStore, options: AuditOptions,
          epoch: WalrusEpoch | str | None) -> _BlobResult:
    lifetime = _lifetime_check(release, options, epoch)
    try:
        data = blobs.get(release.blob_id, sha256=release.sha256)
    except BlobNotFoundError as e:
        return _BlobResult((_fail("blob", f"missing: {e}"), _skip("sha256"), _skip("blob-id"),
                            lifetime))
    except BlobIntegrityError as e:
        return _BlobResult((_ok("blob"), *_integrity_failure(e), lifetime))
    except SyncerError as e:
        return _BlobResult((_fail("blob", str(e)), _skip("sha256"), _skip("blob-id"),
                            lifetime))
    return _verified(release, data, lifetime)


def _integrity_failure(error: BlobIntegrityError) -> tuple[Check, Check]:
    """The store refused the bytes: on their SHA-256 (then the blob ID is moot) or their ID."""
    if error.message.startswith("SHA-256"):
        return _fail("sha256", str(error)), _skip("blob-id", "the bytes are not the release's")
    return _ok("sha256"), _fail("blob-id", str(error))


def _verified(release: Release, data: bytes, lifetime: Check) -> _BlobResult:
    """Bytes the store returned: hashed and encoded again here, whatever the store did."""
    if sha256_hex(data) != release.sha256:
        return _BlobResult((_ok("blob"), _fail("sha256", "the bytes hash to another SHA-256"),
                            _skip("blob-id"), lifetime))
    actual = blob_id_of(data)
    if actual != release.blob_id:
        return _BlobResult((_ok("blob"), _ok("sha256"),
                            _fail("blob-id", f"the bytes encode to {actual}"), lifetime))
    try:
        manifest = unpack(data).manifest
    except SyncerError as e:
        return _BlobResult((_fail("blob", f"does not unpack: {e}"), _ok("sha256"),
                            _ok("blob-id"), lifetime))
    return _BlobResult((_ok("blob"), _ok("sha256"), _ok("blob-id"), lifetime), manifest, data)


def _lifetime_check(release: Release, options: AuditOptions,
                    epoch: WalrusEpoch | str | None) -> Check:
    if epoch is None or options.lifetime is None:
        return _skip("lifetime", "not on Walrus, or its epochs are not configured")
    if isinstance(epoch, str):
        return _fail("lifetime", epoch)
    from syncer.blobstore.walrus_lifetime import expiry  # noqa: PLC0415

    owners = [release.publisher, *options.owners]
    try:
        found = options.lifetime.blob(release.blob_id, owners=owners)
    except SyncerError as e:
        return _fail("lifetime", str(e))
    if found is None:
        return _skip("lifetime", "no certified Blob object held by its publisher: unknown")
    left = expiry(found, epoch, now_ms=options.now_ms())
    span = f"end epoch {found.end_epoch}, epoch now {epoch.epoch}"
    if left.expired:
        return _fail("lifetime", f"expired on Walrus ({span})")
    return _ok("lifetime", f"{left.epochs_left} epochs left ({span})")


# --- the commits ----------------------------------------------------------------------------

class _Sources:
    """The release's commit in the repository, and its deploy sources, read once per commit."""

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo
        self._read: dict[str, tuple[CommitInfo, dict[str, bytes]] | SyncerError | None] = {}

    def checks(self, release: Release, blob: _BlobResult) -> tuple[Check, Check]:
        source = self._source(release.commit)
        if source is None:
            return (_fail("commit", f"commit {release.commit[:12]} is not in the repository"),
                    _skip("files"))
        if isinstance(source, SyncerError):
            return _ok("commit"), _fail("files", f"cannot be read as publish reads it: {source}")
        if blob.manifest is None or blob.data is None:
            return _ok("commit"), _skip("files", "no verified bundle to compare with")
        info, files = source
        return _ok("commit"), files_check(blob.manifest, blob.data, commit=info, files=files,
                                          release=release)

    def _source(self, commit: str) -> tuple[CommitInfo, dict[str, bytes]] | SyncerError | None:
        if commit not in self._read:
            self._read[commit] = self._load(commit)
        return self._read[commit]

    def _load(self, commit: str) -> tuple[CommitInfo, dict[str, bytes]] | SyncerError | None:
        try:
            self.repo.commit(commit)
        except (git.BadName, ValueError):
            return None
        try:
            full, config = commit_config(self.repo, commit)
            return read_commit(self.repo, full, sources=config.sources)
        except SyncerError as e:
            return e


def files_check(manifest: Manifest, data: bytes, *, commit: CommitInfo,
                files: Mapping[str, bytes], release: Release) -> Check:
    """Whether the bundle holds exactly the commit's deploy sources (pure)."""
    if manifest.source.commit != release.commit:
        return _fail("files", f"the bundle is of commit {manifest.source.commit[:12]}, the "
                     f"release records {release.commit[:12]}")
    try:
        if build(commit, files) == data:
            return _ok("files", "the bundle built again is the blob, byte for byte")
    except SyncerError as e:
        return _fail("files", f"the commit's sources cannot be bundled: {e}")
    differences = _differences({f.path: f.sha256 for f in manifest.files},
                               {p: sha256_hex(b) for p, b in files.items()})
    if differences:
        shown = "; ".join(differences[:_SHOWN_DIFFERENCES])
        more = len(differences) - _SHOWN_DIFFERENCES
        return _fail("files", f"the bundle differs from commit {release.commit[:12]}: {shown}"
                     + (f" (and {more} more)" if more > 0 else ""))
    if manifest.source.tree != commit.tree:
        return _fail("files", f"the manifest names tree {manifest.source.tree[:12]}, the "
                     f"commit has tree {commit.tree[:12]}")
    return _ok("files", "same files and SHA-256s (the archive bytes differ from a rebuild)")


def _differences(bundled: Mapping[str, str], committed: Mapping[str, str]) -> list[str]:
    out = []
    for path in sorted(set(bundled) | set(committed)):
        if path not in committed:
            out.append(f"{path} is in the bundle, not in the commit")
        elif path not in bundled:
            out.append(f"{path} is in the commit, not in the bundle")
        elif bundled[path] != committed[path]:
            out.append(f"{path} has another SHA-256")
    return out


# --- presentation ---------------------------------------------------------------------------

def report_lines(report: AuditReport) -> list[str]:
    """The table, one row per release, then one line per failure naming release and reason."""
    header = ("SEQ", "COMMIT", "PUBLISHER", "PUBLISHED (UTC)", *(c.upper() for c in CHECKS))
    rows = [_cells(r) for r in report.releases]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [header, *rows]]
    if report.ledger.status is Status.FAIL:
        lines.append(f"FAIL ledger of channel {report.channel}: {report.ledger.detail}")
    for item in report.releases:
        for check in item.failures:
            lines.append(f"FAIL release {item.release.seq} ({check.name}): {check.detail}")
    verdict = "clean" if report.ok else "FAILED"
    lines.append(f"{report.channel}: {len(report.releases)} releases audited, {verdict}")
    return lines


def _cells(item: ReleaseAudit) -> tuple[str, ...]:
    release = item.release
    publisher = f"{release.publisher[:8]}…{release.publisher[-4:]}"
    return (str(release.seq), release.commit[:12], publisher, _time(release.timestamp_ms),
            *(c.status.value for c in item.checks))


def _time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def report_json(report: AuditReport) -> dict[str, Any]:
    return {"channel": report.channel, "ok": report.ok, "ledger": _check_json(report.ledger),
            "releases": [_release_json(r) for r in report.releases]}


def _release_json(item: ReleaseAudit) -> dict[str, Any]:
    r = item.release
    return {"seq": r.seq, "commit": r.commit, "publisher": r.publisher,
            "timestamp_ms": r.timestamp_ms, "blob_id": r.blob_id, "sha256": r.sha256,
            "ok": not item.failures, "checks": {c.name: _check_json(c) for c in item.checks}}


def _check_json(check: Check) -> dict[str, str]:
    return {"status": check.status.name.lower(), "detail": check.detail}
