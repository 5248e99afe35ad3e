"""The acceptance rules of a channel, as the Move contract asserts them.  [pure]

Both ledgers apply these before they write, and the local ledger applies them again to every
entry it reads back (a row that breaks a rule was not written by syncer). Each check raises
`RuleViolationError` with one line naming the channel and the field; none of them ever quotes a
key. The rules:

- a channel name is a valid Kubernetes label value (<= 63 characters, alphanumerics, `-`, `_`,
  `.`, starting and ending alphanumeric), because it becomes the `syncer.io/channel` label: so
  `shop-prod`, not `shop/prod`;
- `blob_id` is a Walrus blob ID: 43 characters of unpadded base64url, the canonical encoding
  of 32 bytes (a u256 on chain);
- `sha256` is 64 lowercase hex digits; `commit` is 40 (SHA-1) or 64 (SHA-256) lowercase hex;
- the publisher is on the channel's allowed list and was never revoked; revocation is final (a
  revoked key cannot be listed again: a new key must be);
- `seq` is the head's seq + 1 (the first release is seq 1: head 0 means no release);
- timestamps never decrease;
- approvals (the Move contract's `set_approvers` and `approve`): only the admin sets the
  approvers (Sui addresses, none listed twice) and the threshold, 0 <= threshold <= the number
  of approvers (0: no approval needed); only a listed approver approves, a release that exists,
  once. Setting the approvers again keeps the approvals already recorded, and a release is
  approved when it has at least `threshold` of them (`is_approved`), as on chain.

Publishing the commit and blob that are already the head is not a release at all: `is_noop`
decides it, so callers write nothing. `ChannelState` holds what the contract's Registry object
holds (admin, publishers, releases, approvers, threshold, approvals) and applies these rules
to every change of it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Final

from syncer.errors import RuleViolationError
from syncer.model import Release
from syncer.suivalues import canonical_address

__all__ = [
    "BLOB_ID_LENGTH",
    "MAX_CHANNEL_LENGTH",
    "ChannelState",
    "check_approvers",
    "check_blob_id",
    "check_channel",
    "check_commit",
    "check_new_channel",
    "check_new_publisher",
    "check_publisher",
    "check_release",
    "check_revocable",
    "check_seq",
    "check_sha256",
    "check_timestamp",
    "is_noop",
]

MAX_CHANNEL_LENGTH: Final = 63
BLOB_ID_LENGTH: Final = 43
_BLOB_ID_BYTES: Final = 32
_CHANNEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{43}")


def _refuse(channel: str, message: str) -> RuleViolationError:
    return RuleViolationError(message, where=f"channel {channel}")


def check_channel(channel: str) -> None:
    """A channel name must be a valid Kubernetes label value."""
    if not channel:
        raise RuleViolationError("channel name is empty")
    if len(channel) > MAX_CHANNEL_LENGTH:
        raise RuleViolationError(
            f"channel name {channel[:20]!r}... is longer than {MAX_CHANNEL_LENGTH} characters"
        )
    if not _CHANNEL.fullmatch(channel):
        raise RuleViolationError(
            f"channel name {channel!r} is not a Kubernetes label value: use alphanumerics, "
            "'-', '_' or '.', starting and ending alphanumeric (e.g. shop-prod, not shop/prod)"
        )


def check_new_channel(channel: str, *, existing: Collection[str]) -> None:
    """A new channel needs a valid name that no channel has yet."""
    check_channel(channel)
    if channel in existing:
        raise _refuse(channel, "channel already exists")


def check_blob_id(channel: str, blob_id: str) -> None:
    """`blob_id` must be the canonical unpadded base64url encoding of 32 bytes."""
    if not _BASE64URL.fullmatch(blob_id):
        raise _refuse(channel, f"blob_id must be {BLOB_ID_LENGTH} characters of base64url")
    try:
        raw = base64.urlsafe_b64decode(blob_id + "=")
    except (binascii.Error, ValueError) as e:
        raise _refuse(channel, "blob_id is not valid base64url") from e
    encoded = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    if len(raw) != _BLOB_ID_BYTES or encoded != blob_id:
        raise _refuse(channel, "blob_id is not the canonical encoding of 32 bytes")


def check_sha256(channel: str, sha256: str) -> None:
    """`sha256` must be 64 lowercase hex digits."""
    if not _SHA256.fullmatch(sha256):
        raise _refuse(channel, "sha256 must be 64 lowercase hex digits")


def check_commit(channel: str, commit: str) -> None:
    """`commit` must be a full git object name: 40 or 64 lowercase hex digits."""
    if not _COMMIT.fullmatch(commit):
        raise _refuse(channel, "commit must be 40 or 64 lowercase hex digits")


def check_publisher(
    channel: str, publisher: str, *, allowed: Collection[str], revoked: Collection[str] = ()
) -> None:
    """The publisher's address must be allowed on the channel and not revoked."""
    if publisher in revoked:
        raise _refuse(channel, f"publisher {publisher} has been revoked")
    if publisher not in allowed:
        raise _refuse(channel, f"publisher {publisher} is not allowed to publish")


def check_new_publisher(
    channel: str, publisher: str, *, allowed: Collection[str], revoked: Collection[str]
) -> None:
    """A publisher can be added once, and never after it was revoked."""
    if publisher in revoked:
        raise _refuse(channel, f"publisher {publisher} was revoked and cannot be added again")
    if publisher in allowed:
        raise _refuse(channel, f"publisher {publisher} is already allowed")


def check_revocable(channel: str, publisher: str, *, allowed: Collection[str]) -> None:
    """Only a publisher allowed now can be revoked."""
    if publisher not in allowed:
        raise _refuse(channel, f"publisher {publisher} is not allowed, so cannot be revoked")


def check_seq(channel: str, seq: int, *, head_seq: int) -> None:
    """`seq` must be the head's seq + 1 (head 0: no release yet)."""
    if seq != head_seq + 1:
        raise _refuse(channel, f"seq {seq} must be head + 1 = {head_seq + 1}")


def check_timestamp(channel: str, timestamp_ms: int, *, previous_ms: int) -> None:
    """Timestamps never decrease."""
    if timestamp_ms < previous_ms:
        raise _refuse(
            channel, f"timestamp_ms {timestamp_ms} is earlier than the previous {previous_ms}"
        )


def check_release(
    release: Release,
    *,
    head: Release | None,
    allowed: Collection[str],
    revoked: Collection[str] = (),
) -> None:
    """Every rule for appending `release` to a channel whose head is `head`."""
    channel = release.channel
    check_channel(channel)
    if head is not None and head.channel != channel:
        raise _refuse(channel, f"head belongs to channel {head.channel}")
    check_blob_id(channel, release.blob_id)
    check_sha256(channel, release.sha256)
    check_commit(channel, release.commit)
    check_publisher(channel, release.publisher, allowed=allowed, revoked=revoked)
    check_seq(channel, release.seq, head_seq=head.seq if head else 0)
    check_timestamp(channel, release.timestamp_ms, previous_ms=head.timestamp_ms if head else 0)


def check_approvers(channel: str, approvers: Sequence[str], threshold: int) -> list[str]:
    """The approvers as canonical addresses, each listed once, and 0 <= threshold <= count."""
    listed: list[str] = []
    for approver in approvers:
        try:
            address = canonical_address(approver)
        except ValueError as e:
            raise _refuse(channel, f"approver {approver[:70]!r} is not a Sui address") from e
        if address in listed:
            raise _refuse(channel, f"approver {address} is listed twice")
        listed.append(address)
    if not 0 <= threshold <= len(listed):
        raise _refuse(channel, f"threshold {threshold} must be between 0 and the number of "
                               f"approvers ({len(listed)})")
    return listed


def is_noop(head: Release | None, *, blob_id: str, sha256: str, commit: str) -> bool:
    """Whether publishing (`blob_id`, `commit`) would repeat the head: then nothing is written.

    The same blob_id with a different sha256 cannot be the same bundle: refused.
    """
    if head is None or head.commit != commit or head.blob_id != blob_id:
        return False
    if head.sha256 != sha256:
        raise _refuse(head.channel, f"sha256 differs from head seq {head.seq} for the same blob_id")
    return True


@dataclass
class ChannelState:
    """A channel as the contract's Registry holds it; every change goes through the rules.

    Publishers, approvers and the admin are addresses; `allowed` and `approvers` keep the
    order they were given in, and `approvals` the order each release's approvals came in.
    """

    channel: str
    admin: str
    allowed: dict[str, None] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    releases: list[Release] = field(default_factory=list)
    approvers: dict[str, None] = field(default_factory=dict)
    threshold: int = 0
    approvals: dict[int, list[str]] = field(default_factory=dict)

    @property
    def head(self) -> Release | None:
        return self.releases[-1] if self.releases else None

    @property
    def head_seq(self) -> int:
        return self.releases[-1].seq if self.releases else 0

    def add_publisher(self, publisher: str, *, by: str) -> None:
        """Allow `publisher`; only the admin (`by`) may."""
        self._check_admin(by)
        check_new_publisher(self.channel, publisher, allowed=self.allowed, revoked=self.revoked)
        self.allowed[publisher] = None

    def revoke_publisher(self, publisher: str, *, by: str) -> None:
        """Revoke `publisher` for good; only the admin (`by`) may."""
        self._check_admin(by)
        check_revocable(self.channel, publisher, allowed=self.allowed)
        del self.allowed[publisher]
        self.revoked.add(publisher)

    def set_approvers(self, approvers: Sequence[str], threshold: int, *, by: str) -> None:
        """Replace the approvers and the threshold; only the admin (`by`) may. Approvals
        already recorded are kept."""
        self._check_admin(by, what="its approvers")
        listed = check_approvers(self.channel, approvers, threshold)
        self.approvers = dict.fromkeys(listed)
        self.threshold = threshold

    def approve(self, seq: int, *, by: str) -> int:
        """Record `by`'s approval of release `seq`; the number of approvals it has now."""
        if by not in self.approvers:
            raise _refuse(self.channel, f"{by} is not an approver of this channel")
        if not 1 <= seq <= self.head_seq:
            raise _refuse(self.channel, f"no release seq {seq} to approve")
        approved = self.approvals.setdefault(seq, [])
        if by in approved:
            raise _refuse(self.channel, f"{by} has already approved seq {seq}")
        approved.append(by)
        return len(approved)

    def is_approved(self, seq: int) -> bool:
        """Whether release `seq` exists and has the approvals the threshold asks for now."""
        return 1 <= seq <= self.head_seq and len(self.approvals.get(seq, ())) >= self.threshold

    def append(self, release: Release) -> None:
        """Append `release` as the new head, if every rule accepts it."""
        check_release(release, head=self.head, allowed=self.allowed, revoked=self.revoked)
        self.releases.append(release)

    def _check_admin(self, by: str, *, what: str = "its publishers") -> None:
        if by != self.admin:
            raise _refuse(self.channel, f"only the channel's admin can change {what}")
