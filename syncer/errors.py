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
    ├── BlobStoreError          a blob cannot be stored or read
    │   ├── BlobNotFoundError
    │   └── BlobIntegrityError  bytes do not match the blob ID or the SHA-256
    ├── LedgerError             the ledger cannot be read or written
    │   ├── RuleViolationError  the contract's rules refuse a release
    │   └── LedgerTamperedError a signature or the hash chain does not verify
    └── ClusterError            the Kubernetes API refused or failed a request
        ├── NotFoundError       a 404: the object, its namespace or its kind is not there
        ├── ConflictError       a 409: the object exists, or changed since it was read
        ├── UnsafePruneError    a prune the syncer will not do (read error, empty release)
        ├── OwnershipError      an object another channel or tool owns: no takeover
        └── LockedError         another sync of the channel holds its lock
"""

from __future__ import annotations

__all__ = [
    "BlobIntegrityError",
    "BlobNotFoundError",
    "BlobStoreError",
    "BundleError",
    "ClusterError",
    "ConfigError",
    "ConflictError",
    "GitError",
    "LedgerError",
    "LedgerTamperedError",
    "LockedError",
    "NotFoundError",
    "OwnershipError",
    "PolicyError",
    "RenderError",
    "RuleViolationError",
    "SyncerError",
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
    """The Kubernetes API refused or failed a request."""


class NotFoundError(ClusterError):
    """A 404: the object, its namespace or its resource type does not exist."""


class ConflictError(ClusterError):
    """A 409: the object already exists, or changed since it was read."""


class UnsafePruneError(ClusterError):
    """A prune that would be unsafe: after a read error, or one that empties the channel."""


class OwnershipError(ClusterError):
    """The release holds an object that exists but is not this channel's to change."""


class LockedError(ClusterError):
    """Another sync of the channel holds its lock: two syncs never write at once."""


def cut(text: str, limit: int = _MAX_DETAIL) -> str:
    """Public form of the cutter, for adapters quoting a message from outside."""
    return _cut(text, limit)
