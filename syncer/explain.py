"""Where a live object comes from: its channel, release, commit, blob, record and approvals.

`explain` reads one object from the cluster and follows what a sync wrote on it (the label
`syncer.io/channel`, the annotations `syncer.io/release` and `syncer.io/blob-id`) back to the
ledger's release, the bundle's manifest (the commit's author and message, verified against
the release's SHA-256 and blob ID), the approvals the release received, and who owns the
object's fields (`metadata.managedFields`). An object no sync wrote is `Explanation.managed`
False: a finding, not an error. A target the cluster does not hold is an error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from syncer.blobstore import BlobStore
from syncer.bundle import Manifest, unpack
from syncer.cluster import Cluster, Discovery, Resource
from syncer.errors import ConfigError, NotFoundError, SyncerError
from syncer.ledger import Ledger
from syncer.ledger.local import LocalLedger
from syncer.model import (
    ANNOTATION_BLOB_ID,
    ANNOTATION_RELEASE,
    LABEL_CHANNEL,
    Obj,
    Release,
)

__all__ = ["Explanation", "FieldOwner", "Target", "explain", "explanation_lines",
           "field_owners", "find_resource", "parse_target"]

_NAME: Final = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SHOWN_FIELDS: Final = 6


@dataclass(frozen=True)
class Target:
    """What the user named: `kind[.group]/namespace/name`, or `kind[.group]/name`."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)


def parse_target(text: str) -> Target:
    """`Kind/ns/name` or `Kind/name`; ConfigError naming the argument otherwise."""
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError("name an object as KIND/NAMESPACE/NAME, or KIND/NAME when it is "
                          "cluster-scoped", where=repr(text))
    for part in parts[1:]:
        if not _NAME.match(part):
            raise ConfigError(f"{part!r} is not an object or namespace name", where=repr(text))
    namespace = parts[1] if len(parts) == 3 else ""
    return Target(parts[0], namespace, parts[-1])


def find_resource(discovery: Discovery, kind: str) -> Resource:
    """The served resource a user's kind names: its kind or plural, any case, optionally
    `.group`; the core group first, then the others by name."""
    wanted, _, group = kind.lower().partition(".")
    found = [r for r in discovery.by_kind.values()
             if wanted in (r.kind.lower(), r.plural.lower())
             and (not group or r.group.lower() == group)]
    if not found:
        raise ConfigError("the cluster serves no such kind", where=kind)
    return min(found, key=lambda r: (r.group != "", r.group))


@dataclass(frozen=True)
class FieldOwner:
    """One entry of `metadata.managedFields`: the manager and the fields it owns."""

    manager: str
    operation: str
    time: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    """The chain behind one live object, and what could not be followed (`problems`)."""

    target: Target
    resource: Resource
    owners: tuple[FieldOwner, ...]
    channel: str = ""
    seq: int | None = None
    blob_id: str = ""
    release: Release | None = None
    manifest: Manifest | None = None
    verified: str = ""
    recorded: str = ""
    approvals: tuple[str, ...] | None = None
    threshold: int = 0
    problems: tuple[str, ...] = field(default=())

    @property
    def managed(self) -> bool:
        return bool(self.channel)


def explain(target: Target, *, cluster: Cluster, ledger: Ledger,
            blobs: BlobStore) -> Explanation:
    """Follow `target` from the cluster to the ledger and the blob store."""
    resource = find_resource(cluster.discover(), target.kind)
    if resource.namespaced != bool(target.namespace):
        scope = "namespaced: name it KIND/NAMESPACE/NAME" if resource.namespaced else \
            "cluster-scoped: name it KIND/NAME"
        raise ConfigError(f"{resource.kind} is {scope}", where=str(target))
    obj = cluster.get(resource, namespace=target.namespace, name=target.name)
    if obj is None:
        raise NotFoundError("not found in the cluster", where=str(target), status=404,
                            reason="NotFound")
    meta = obj.get("metadata") or {}
    owners = tuple(field_owners(obj))
    channel = str((meta.get("labels") or {}).get(LABEL_CHANNEL) or "")
    if not channel:
        return Explanation(target, resource, owners)
    return _follow(Explanation(target, resource, owners, channel=channel),
                   meta.get("annotations") or {}, ledger=ledger, blobs=blobs)


def _follow(found: Explanation, annotations: Mapping[str, Any], *, ledger: Ledger,
            blobs: BlobStore) -> Explanation:
    problems: list[str] = []
    seq_text = str(annotations.get(ANNOTATION_RELEASE) or "")
    blob_id = str(annotations.get(ANNOTATION_BLOB_ID) or "")
    if not seq_text.isdigit():
        problems.append(f"annotation {ANNOTATION_RELEASE} is {seq_text or 'missing'}")
        return _with(found, blob_id=blob_id, problems=problems)
    seq = int(seq_text)
    try:
        release = ledger.release(found.channel, seq)
    except SyncerError as e:
        problems.append(f"the ledger has no such release: {e}")
        return _with(found, seq=seq, blob_id=blob_id, problems=problems)
    if blob_id and blob_id != release.blob_id:
        problems.append(f"annotation {ANNOTATION_BLOB_ID} is {blob_id}, release {seq} "
                        f"records {release.blob_id}")
    manifest, verified = _bundle(release, blobs)
    approvals, threshold = _approvals(ledger, release, problems)
    return _with(found, seq=seq, blob_id=blob_id or release.blob_id, release=release,
                 manifest=manifest, verified=verified, recorded=_record(ledger, release),
                 approvals=approvals, threshold=threshold, problems=problems)


def _with(found: Explanation, *, problems: list[str], **values: Any) -> Explanation:
    return Explanation(found.target, found.resource, found.owners, channel=found.channel,
                       problems=tuple(problems), **values)


def _bundle(release: Release, blobs: BlobStore) -> tuple[Manifest | None, str]:
    try:
        manifest = unpack(blobs.get(release.blob_id, sha256=release.sha256)).manifest
    except SyncerError as e:
        return None, f"does NOT verify: {e}"
    return manifest, "verifies (SHA-256 and blob ID)"


def _record(ledger: Ledger, release: Release) -> str:
    """What recorded the release: the local ledger's entry hash; the Sui ledger does not
    expose the transaction digest of a release."""
    if isinstance(ledger, LocalLedger):
        return f"local ledger entry {ledger.entry_hash(release.channel, release.seq)}"
    return "a transaction on Sui (its digest is not exposed by the ledger)"


def _approvals(ledger: Ledger, release: Release,
               problems: list[str]) -> tuple[tuple[str, ...] | None, int]:
    try:
        approved = tuple(ledger.approvals(release.channel, release.seq))
        return approved, ledger.approval_policy(release.channel).threshold
    except SyncerError as e:
        problems.append(f"approvals cannot be read: {e}")
        return None, 0


def field_owners(obj: Obj) -> Iterator[FieldOwner]:
    """Each managedFields entry, its fields as dotted paths two levels deep."""
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict):
            continue
        paths = sorted(set(_paths(entry.get("fieldsV1") or {}, depth=2)))
        yield FieldOwner(str(entry.get("manager", "?")), str(entry.get("operation", "?")),
                         str(entry.get("time", "")), tuple(paths))


def _paths(node: Mapping[str, Any], *, depth: int, prefix: str = "") -> Iterator[str]:
    for key, child in node.items():
        if not key.startswith("f:"):
            continue
        path = f"{prefix}.{key[2:]}" if prefix else key[2:]
        if depth > 1 and isinstance(child, dict) and any(k.startswith("f:") for k in child):
            yield from _paths(child, depth=depth - 1, prefix=path)
        else:
            yield path


# --- presentation ---------------------------------------------------------------------------

def explanation_lines(found: Explanation) -> list[str]:
    """What `syncer explain` prints: one line per link of the chain."""
    ref = f"{found.resource.kind}/{found.target.namespace + '/' if found.target.namespace else ''}"
    ref += found.target.name
    if not found.managed:
        return [f"{ref}: not managed by syncer (no {LABEL_CHANNEL} label)",
                *_owner_lines(found.owners)]
    lines = [f"{ref}", f"  channel:    {found.channel}"]
    lines += _release_lines(found)
    lines += _owner_lines(found.owners)
    lines += [f"  problem:    {p}" for p in found.problems]
    return lines


def _release_lines(found: Explanation) -> list[str]:
    if found.release is None:
        return [f"  release:    {found.seq if found.seq is not None else '?'}"]
    release, source = found.release, found.manifest.source if found.manifest else None
    lines = [f"  release:    {release.seq}, published {_time(release.timestamp_ms)} by "
             f"{release.publisher}",
             f"  commit:     {release.commit}"]
    if source is not None:
        subject = source.message.strip().splitlines()[0] if source.message.strip() else ""
        lines += [f"  author:     {source.author} <{source.author_email}>",
                  f"  message:    {subject}"]
    lines.append(f"  blob:       {release.blob_id} {found.verified}")
    lines.append(f"  recorded:   {found.recorded}")
    lines.append(f"  approvals:  {_approval_text(found)}")
    return lines


def _approval_text(found: Explanation) -> str:
    if found.approvals is None:
        return "unknown"
    who = ", ".join(found.approvals) or "none"
    return f"{who} ({len(found.approvals)} of {found.threshold} required)"


def _owner_lines(owners: tuple[FieldOwner, ...]) -> list[str]:
    lines = ["  fields:" if owners else "  fields:     no managedFields"]
    for owner in owners:
        shown = ", ".join(owner.fields[:_SHOWN_FIELDS])
        more = len(owner.fields) - _SHOWN_FIELDS
        shown += f" (+{more} more)" if more > 0 else ""
        lines.append(f"    {owner.manager} ({owner.operation}, {owner.time or 'no time'}): "
                     f"{shown}")
    return lines


def _time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))
