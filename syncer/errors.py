"""The one error tree of syncer.

Every error a user can meet is a `SyncerError`. Adapters translate library errors at the
boundary (`raise X(...) from e`) and add context: the file, object, field, blob ID or release
seq concerned. `str(err)` is the one line the CLI prints; it never carries payloads, Secret
values or credentials.

    SyncerError
    ├── ConfigError             syncer.yaml, values files, keys, $SYNCER_HOME
    ├── GitError                the repository or commit cannot be read
    ├── BundleError             a bundle cannot be built
    │   └── UnsafeArchiveError  unpack refused: traversal, link, device, size
    ├── RenderError             template syntax, undefined value, bad YAML, duplicate object
    ├── PolicyError             a release breaks a rule (e.g. a plaintext Secret)
    │   └── CelError            a policy's CEL expression does not compile or evaluate
    ├── DecryptionError         an encrypted (SOPS) object cannot be opened
    │   ├── DecryptionKeyError  no age identity given opens its data key (no value read)
    │   └── DecryptionIntegrityError  malformed SOPS metadata or value, a value or MAC
    │                             that does not verify: the release can never decrypt
    ├── BlobStoreError          a blob cannot be stored or read
    │   ├── BlobNotFoundError
    │   └── BlobIntegrityError  bytes do not match the blob ID or the SHA-256
    ├── LedgerError             the ledger cannot be read or written
    │   ├── RuleViolationError  the contract's rules refuse a release
    │   └── LedgerTamperedError a signature or the hash chain does not verify
    └── ClusterError            the Kubernetes API refused or failed a request
        ├── ApiError            an error answer (status, reason), or none (status 0)
        │   ├── NotFoundError         404: the object, its namespace or its kind is not there
        │   ├── ConflictError         409: the object exists, or changed since it was read
        │   ├── ForbiddenError        403: RBAC or an admission rule refused the request
        │   ├── InvalidError          422: the object is invalid; `causes` (field, message)
        │   ├── TooManyRequestsError  429, still, after the retries
        │   ├── ServerError           5xx but 504, still, after the retries
        │   ├── ApiTimeoutError       504, or no answer in time (connect or read)
        │   └── ApiConnectionError    no connection, or one cut mid-request; TLS refused
        ├── GroupUnavailableError an object's API group failed discovery (a broken
        │                         aggregated API): not applied, listed or pruned
        ├── UnsafePruneError    a prune the syncer will not do (read error, empty release)
        ├── OwnershipError      an object another channel or tool owns: no takeover
        ├── LockedError         another sync of the channel holds its lock
        ├── UnhealthyError      a wave did not become healthy: the later waves wait
        └── SyncStoppedError    the sync was told to stop (SIGTERM, leadership lost)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "BlobIntegrityError",
    "BlobNotFoundError",
    "BlobStoreError",
    "BundleError",
    "CelError",
    "ClusterError",
    "ConfigError",
    "ConflictError",
    "DecryptionError",
    "DecryptionIntegrityError",
    "DecryptionKeyError",
    "ForbiddenError",
    "GitError",
    "GroupUnavailableError",
    "InvalidError",
    "LedgerError",
    "LedgerTamperedError",
    "LockedError",
    "NotFoundError",
    "OwnershipError",
    "PolicyError",
    "RenderError",
    "RuleViolationError",
    "ServerError",
    "SyncStoppedError",
    "SyncerError",
    "TooManyRequestsError",
    "UnhealthyError",
    "UnsafeArchiveError",
    "UnsafePruneError",
]

_MAX_DETAIL = 300


def _cut(text: str, limit: int = _MAX_DETAIL) -> str:
    """Cut a message taken from outside to one short line."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class SyncerError(Exception):
    """Base of every syncer error; `where` names the file, object, field or record."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = _cut(message, 2 * _MAX_DETAIL)
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ConfigError(SyncerError):
    """syncer.yaml, a values file, a key or local state is missing or invalid."""


class GitError(SyncerError):
    """The git repository or the commit cannot be read."""


class BundleError(SyncerError):
    """A bundle cannot be built or read."""


class UnsafeArchiveError(BundleError):
    """An archive holds an entry that unpacking refuses."""


class RenderError(SyncerError):
    """A template or manifest cannot be turned into objects."""


class PolicyError(SyncerError):
    """A release breaks a rule the syncer enforces."""


class CelError(PolicyError):
    """A policy's CEL expression does not compile or cannot be evaluated."""


class DecryptionError(SyncerError):
    """An encrypted (SOPS) object of a release cannot be opened. Messages name the object
    and the field path, never a value or a key."""


class DecryptionKeyError(DecryptionError):
    """No age identity given opens the object's data key: a key is missing (retried: adding
    the key fixes it without a new release)."""


class DecryptionIntegrityError(DecryptionError):
    """The SOPS metadata or an encrypted value is malformed, or a value or the MAC does not
    verify with the data key: the release can never decrypt as it is."""


class BlobStoreError(SyncerError):
    """A blob cannot be stored or read."""


class BlobNotFoundError(BlobStoreError):
    """No blob with that ID is stored."""


class BlobIntegrityError(BlobStoreError):
    """The bytes of a blob do not match its blob ID or the SHA-256 of its release."""


class LedgerError(SyncerError):
    """The ledger cannot be read or written."""


class RuleViolationError(LedgerError):
    """The contract's acceptance rules refuse a release or a channel change."""


class LedgerTamperedError(LedgerError):
    """A ledger entry's signature or hash chain does not verify."""


class ClusterError(SyncerError):
    """The Kubernetes API refused or failed a request.

    When it stops a sync midway, `applied` and `pruned` name (`Kind/ns/name`) what that sync
    wrote before, and the message says how far it got (`stopped_sync`).
    """

    applied: tuple[str, ...] = ()
    pruned: tuple[str, ...] = ()

    def stopped_sync(self, *, applied: tuple[object, ...], pruned: tuple[object, ...],
                     planned: int) -> ClusterError:
        """This error, recording what the sync it stopped had written (of `planned`)."""
        self.applied = tuple(str(r) for r in applied)
        self.pruned = tuple(str(r) for r in pruned)
        written = len(self.applied) + len(self.pruned)
        self.message += (f" (the sync stopped there: {written} of {planned} changes written;"
                         " the next sync resumes)")
        self.args = (str(self),)
        return self


class ApiError(ClusterError):
    """The API server answered a request with an error, or did not answer (`status` 0).

    `status` and `reason` are the server's (`reason` from its Status body, "" if none);
    `attempts` counts the requests made, retries included; `retry_after` is the server's
    Retry-After in seconds, if it sent one.
    """

    def __init__(self, message: str, *, where: str | None = None, status: int = 0,
                 reason: str = "", attempts: int = 1, retry_after: float | None = None) -> None:
        super().__init__(message, where=where)
        self.status, self.reason = status, reason
        self.attempts, self.retry_after = attempts, retry_after


class NotFoundError(ApiError):
    """A 404: the object, its namespace or its resource type does not exist."""


class ConflictError(ApiError):
    """A 409: the object already exists, or changed since it was read."""


class ForbiddenError(ApiError):
    """A 403: the credentials may not do this (RBAC), or an admission rule refused it."""


class InvalidError(ApiError):
    """A 422: the server refused the object; `causes` holds its (field, message) pairs."""

    def __init__(self, message: str, *, causes: tuple[tuple[str, str], ...] = (),
                 **context: Any) -> None:
        super().__init__(message, **context)
        self.causes = causes


class TooManyRequestsError(ApiError):
    """A 429 that lasted through every retry: the server sheds load."""


class ServerError(ApiError):
    """A 5xx (other than 504) that lasted through every retry."""


class ApiTimeoutError(ApiError):
    """No answer in time: a connect or read timeout of the client, or a 504 of the server.
    `sent` says whether the request had gone out (then the server may have acted on it)."""

    def __init__(self, message: str, *, sent: bool = True, **context: Any) -> None:
        super().__init__(message, **context)
        self.sent = sent


class ApiConnectionError(ApiError):
    """No connection (refused, unresolvable, TLS refused), or one cut mid-request. `sent`
    says whether the request had gone out (then the server may have acted on it)."""

    def __init__(self, message: str, *, sent: bool = True, **context: Any) -> None:
        super().__init__(message, **context)
        self.sent = sent


class GroupUnavailableError(ClusterError):
    """An object's API group version could not be discovered (an aggregated API whose
    service is down, a 5xx, a timeout): its kinds are neither applied, listed nor pruned."""

    def __init__(self, message: str, *, where: str | None = None, group_version: str = "",
                 cause: str = "") -> None:
        super().__init__(message, where=where)
        self.group_version, self.cause = group_version, cause


class UnsafePruneError(ClusterError):
    """A prune that would be unsafe: after a read error, or one that empties the channel."""


class OwnershipError(ClusterError):
    """The release holds an object that exists but is not this channel's to change."""


class LockedError(ClusterError):
    """Another sync of the channel holds its lock: two syncs never write at once."""


class UnhealthyError(ClusterError):
    """An object a wave applied turned Degraded, or stayed Progressing past the deadline:
    the later waves are not applied."""


class SyncStoppedError(ClusterError):
    """The sync stopped between two steps because it was told to (the process is shutting
    down, or this replica lost the leader Lease); what it wrote is in the inventory."""


def cut(text: str, limit: int = _MAX_DETAIL) -> str:
    """Public form of the cutter, for adapters quoting a message from outside."""
    return _cut(text, limit)
