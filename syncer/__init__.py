"""syncer: GitOps for Kubernetes whose source of truth lives on Sui and Walrus.

The names below are the library's public API; anything else may change without notice.
They load on first use, so that `import syncer` stays cheap for the command line.

    import syncer

    backends = syncer.open_backends(syncer.select_profile(None, home=syncer.Home()),
                                    home=syncer.Home())
    release = backends.ledger.head("shop-dev")
    loaded = syncer.load(release, blobs=backends.blobs)        # fetched, verified, rendered
    reconciler = syncer.Reconciler(syncer.connect())
    result = reconciler.sync(reconciler.observe(loaded))        # applied, pruned, recorded

Every error is a `syncer.SyncerError` (see `syncer.errors` for the tree). Publishing is
`syncer.publish.publish(repo, key=..., blobs=..., ledger=..., options=syncer.PublishOptions())`:
its module has the function's name, so the function is not repeated here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncer.backends import Backends, open_backends, select_profile
    from syncer.blobstore import BlobStore, StoredBlob
    from syncer.cluster import Cluster, RetryPolicy, connect
    from syncer.config import Home
    from syncer.errors import (
        ApiConnectionError,
        ApiError,
        ApiTimeoutError,
        BlobIntegrityError,
        BlobNotFoundError,
        BlobStoreError,
        BundleError,
        ClusterError,
        ConfigError,
        ConflictError,
        ForbiddenError,
        GitError,
        GroupUnavailableError,
        InvalidError,
        LedgerError,
        LedgerTamperedError,
        LockedError,
        NotFoundError,
        OwnershipError,
        PolicyError,
        RenderError,
        RuleViolationError,
        ServerError,
        SyncerError,
        TooManyRequestsError,
        UnsafeArchiveError,
        UnsafePruneError,
    )
    from syncer.ledger import Ledger
    from syncer.model import Action, Change, ChangeSet, ObjectRef, Release
    from syncer.publish import Published, PublishOptions
    from syncer.reconcile import Loaded, Observed, Reconciler, SyncOptions, SyncResult, load

__version__ = "0.1.0"

_HOMES: dict[str, tuple[str, ...]] = {
    "syncer.backends": ("Backends", "open_backends", "select_profile"),
    "syncer.blobstore": ("BlobStore", "StoredBlob"),
    "syncer.cluster": ("Cluster", "RetryPolicy", "connect"),
    "syncer.config": ("Home",),
    "syncer.errors": (
        "ApiConnectionError", "ApiError", "ApiTimeoutError",
        "BlobIntegrityError", "BlobNotFoundError", "BlobStoreError", "BundleError",
        "ClusterError", "ConfigError", "ConflictError", "ForbiddenError", "GitError",
        "GroupUnavailableError", "InvalidError", "LedgerError",
        "LedgerTamperedError", "LockedError", "NotFoundError", "OwnershipError", "PolicyError",
        "RenderError", "RuleViolationError", "ServerError",
        "SyncerError", "TooManyRequestsError", "UnsafeArchiveError", "UnsafePruneError"),
    "syncer.ledger": ("Ledger",),
    "syncer.model": ("Action", "Change", "ChangeSet", "ObjectRef", "Release"),
    "syncer.publish": ("PublishOptions", "Published"),
    "syncer.reconcile": ("Loaded", "Observed", "Reconciler", "SyncOptions", "SyncResult",
                         "load"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Action", "ApiConnectionError", "ApiError", "ApiTimeoutError", "Backends",
    "BlobIntegrityError", "BlobNotFoundError", "BlobStore",
    "BlobStoreError", "BundleError", "Change", "ChangeSet", "Cluster", "ClusterError",
    "ConfigError", "ConflictError", "ForbiddenError", "GitError", "GroupUnavailableError",
    "Home", "InvalidError", "Ledger", "LedgerError",
    "LedgerTamperedError", "Loaded", "LockedError", "NotFoundError", "ObjectRef", "Observed",
    "OwnershipError", "PolicyError", "PublishOptions", "Published", "Reconciler", "Release",
    "RenderError", "RetryPolicy", "RuleViolationError", "ServerError", "StoredBlob",
    "SyncOptions", "SyncResult", "SyncerError", "TooManyRequestsError",
    "UnsafeArchiveError", "UnsafePruneError", "__version__", "connect", "load", "open_backends",
    "select_profile",
]


def __getattr__(name: str) -> Any:
    """Load a public name from the module that defines it, on first use."""
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'syncer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
