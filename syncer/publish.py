"""The write path: commit → bundle → blob store → ledger.

Everything is checked before anything is stored: the commit's own syncer.yaml (read from the
commit, not the work tree), and every target channel's render and policy. Then the bundle is
stored (a no-op when the same bytes are already there) and one release is recorded per
channel (a no-op when the channel's head already is this commit). `refresh` stores a
release's bundle again so that Walrus keeps it longer; when Walrus no longer serves it,
`rebuild` makes it again from its commit. `rollback` records a new release pointing at an
earlier release's bundle: history only grows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from syncer.blobstore import BlobStore, StoredBlob, verify_blob
from syncer.bundle import build, unpack
from syncer.config import CONFIG_FILE, ChannelConfig, RepoConfig, parse_config
from syncer.errors import (
    BlobIntegrityError,
    BlobStoreError,
    BundleError,
    ConfigError,
    GitError,
    PolicyError,
    RenderError,
    RuleViolationError,
)
from syncer.gitsource import open_repo, read_commit
from syncer.keys import Keypair
from syncer.kinds import check_names, offline_scope
from syncer.ledger import Ledger
from syncer.model import Obj, Release
from syncer.plan import place
from syncer.policy import enforce
from syncer.policyfiles import release_policies
from syncer.render import render_channel

__all__ = ["PublishOptions", "Published", "Refreshed", "commit_config", "publish", "rebuild",
           "refresh", "rollback", "target_channels"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishOptions:
    rev: str = "HEAD"
    channels: tuple[str, ...] = ()
    branch: str | None = None
    allow_empty: bool = False


@dataclass(frozen=True)
class Published:
    """The outcome for one channel: its release, and whether it is new."""

    release: Release
    created: bool
    blob: StoredBlob


@dataclass(frozen=True)
class Refreshed:
    """The outcome of a refresh: the release, the store's answer, whether it was rebuilt."""

    release: Release
    stored: StoredBlob
    rebuilt: bool


def target_channels(config: RepoConfig, options: PublishOptions) -> list[ChannelConfig]:
    """Named channels, else those following `branch`; at least one."""
    if options.channels:
        return [config.channel(name) for name in options.channels]
    if options.branch is None:
        return [config.channel(None)]
    found = config.channels_for_branch(options.branch)
    if not found:
        raise ConfigError(f"no channel follows branch {options.branch!r}; "
                          "name one with --channel", where=CONFIG_FILE)
    return found


def publish(repo: git.Repo, *, key: Keypair, blobs: BlobStore, ledger: Ledger,
            options: PublishOptions = PublishOptions()) -> list[Published]:
    """Publish commit `options.rev` to its channels."""
    commit, config = commit_config(repo, options.rev)
    info, files = read_commit(repo, commit, sources=config.sources)
    targets = target_channels(config, options)
    for channel in targets:
        objects = render_channel(files, config=config, channel=channel)
        _check_release(objects, channel=channel, commit=info.commit, options=options,
                       files=files)
        _check_publisher(ledger, channel.name, key)
    stored = blobs.put(build(info, files))
    return [_record(ledger, channel.name, stored=stored, commit=info.commit, key=key)
            for channel in targets]


def rollback(release: Release, *, key: Keypair, blobs: BlobStore, ledger: Ledger) -> Published:
    """A new release of `release`'s channel pointing at `release`'s bundle (same blob ID,
    SHA-256 and commit): its bytes fetched and verified, then rendered and checked as a
    publish checks a commit, before anything is recorded. When the head already points at
    that bundle, nothing is written (`Published.created` is False)."""
    _check_publisher(ledger, release.channel, key)
    where = f"release {release.seq} of {release.channel}"
    bundle = unpack(blobs.get(release.blob_id, sha256=release.sha256))
    if CONFIG_FILE not in bundle.files:
        raise BundleError("bundle has no syncer.yaml", where=where)
    config = parse_config(bundle.files[CONFIG_FILE], where=f"{CONFIG_FILE} of {where}")
    channel = config.channel(release.channel)
    objects = render_channel(bundle.files, config=config, channel=channel)
    _check_release(objects, channel=channel, commit=release.commit, options=PublishOptions(),
                   files=bundle.files)
    stored = StoredBlob(release.blob_id, release.sha256, created=False)
    return _record(ledger, release.channel, stored=stored, commit=release.commit, key=key)


def rebuild(repo: git.Repo, release: Release) -> bytes:
    """The bundle of `release`, built again from its commit: bundles are deterministic, so
    these are the bytes that were published, checked against the ledger's SHA-256 and blob ID."""
    commit, config = commit_config(repo, release.commit)
    info, files = read_commit(repo, commit, sources=config.sources)
    data = build(info, files)
    verify_blob(data, blob_id=release.blob_id, sha256=release.sha256)
    return data


def refresh(release: Release, *, blobs: BlobStore, repo: Path) -> Refreshed:
    """Store `release`'s bundle again (same bytes, same blob ID) so that it lives longer.
    Bytes the store no longer serves are rebuilt from the release's commit in `repo`."""
    try:
        data, rebuilt = blobs.get(release.blob_id, sha256=release.sha256), False
    except BlobStoreError as e:
        data, rebuilt = _rebuild_at(repo, release, unreadable=e), True
    return Refreshed(release, blobs.refresh(data, blob_id=release.blob_id), rebuilt)


def _rebuild_at(path: Path, release: Release, *, unreadable: BlobStoreError) -> bytes:
    """`rebuild` in the repository at `path`, each failure said in terms of the refresh."""
    log.warning("the blob cannot be read; rebuilding it from its commit",
                extra={"blob_id": release.blob_id, "seq": release.seq, "error": str(unreadable)})
    try:
        return rebuild(open_repo(path), release)
    except GitError as e:
        raise BlobStoreError(f"{unreadable.message}; and it cannot be rebuilt here ({e}): run "
                             f"this in a clone holding commit {release.commit[:12]}",
                             where=unreadable.where) from e
    except BlobIntegrityError as e:
        raise BlobIntegrityError(f"commit {release.commit[:12]} builds other bytes than the "
                                 f"release records ({e.message})", where=e.where) from e


def commit_config(repo: git.Repo, rev: str) -> tuple[str, RepoConfig]:
    """The commit's full ID and its own syncer.yaml."""
    info, files = read_commit(repo, rev, sources=())
    where = f"{CONFIG_FILE} at {info.commit[:12]}"
    return info.commit, parse_config(files[CONFIG_FILE], where=where)


def _check_release(objects: Sequence[Obj], *, channel: ChannelConfig, commit: str,
                   options: PublishOptions, files: Mapping[str, bytes]) -> None:
    """Every check that needs no cluster: a release that could never sync is refused
    here, before anything is stored."""
    where = f"channel {channel.name} at {commit[:12]}"
    if not objects and not options.allow_empty:
        raise PolicyError("the release renders no objects; a sync would prune everything "
                          "(pass --allow-empty to publish it anyway)", where=where)
    try:
        placed = place(objects, scope=offline_scope(objects), namespace=channel.namespace)
        check_names(placed)
    except RenderError as e:
        raise RenderError(e.message, where=f"{where}: {e.where}") from e
    enforce(objects, where=where, policies=release_policies(files), channel=channel)


def _check_publisher(ledger: Ledger, channel: str, key: Keypair) -> None:
    """Refuse before anything is stored: a refused release must leave no blob behind."""
    if key.address not in ledger.publishers(channel):
        raise RuleViolationError(f"publisher {key.address} is not allowed to publish",
                                 where=f"channel {channel}")


def _record(ledger: Ledger, channel: str, *, stored: StoredBlob, commit: str,
            key: Keypair) -> Published:
    before = ledger.head(channel)
    release = ledger.publish(channel, blob_id=stored.blob_id, sha256=stored.sha256,
                             commit=commit, key=key)
    created = before is None or release.seq != before.seq
    log.info("release recorded" if created else "release already the head",
             extra={"channel": channel, "seq": release.seq, "blob_id": stored.blob_id})
    return Published(release, created, stored)
