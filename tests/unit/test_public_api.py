"""The public API is what `syncer.__all__` lists, pinned here (as httpx pins its exported
members): a name added, removed or moved to another module fails this test, so that the
change is made on purpose."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import syncer

EXPECTED = {
    "syncer.backends": {"Backends", "open_backends", "select_profile"},
    "syncer.blobstore": {"BlobStore", "StoredBlob"},
    "syncer.cluster": {"Cluster", "RetryPolicy", "connect"},
    "syncer.config": {"Home"},
    "syncer.errors": {
        "ApiConnectionError", "ApiError", "ApiTimeoutError",
        "BlobIntegrityError", "BlobNotFoundError", "BlobStoreError", "BundleError",
        "ClusterError", "ConfigError", "ConflictError", "ForbiddenError", "GitError",
        "GroupUnavailableError", "InvalidError", "LedgerError",
        "LedgerTamperedError", "LockedError", "NotFoundError", "OwnershipError", "PolicyError",
        "RenderError", "RuleViolationError", "ServerError",
        "SyncerError", "TooManyRequestsError", "UnsafeArchiveError", "UnsafePruneError"},
    "syncer.ledger": {"Ledger"},
    "syncer.model": {"Action", "Change", "ChangeSet", "ObjectRef", "Release"},
    "syncer.publish": {"PublishOptions", "Published"},
    "syncer.reconcile": {"Loaded", "Observed", "Reconciler", "SyncOptions", "SyncResult",
                         "load"},
}


def test_exported_members_are_pinned() -> None:
    exported = {name for names in EXPECTED.values() for name in names} | {"__version__"}
    assert sorted(syncer.__all__) == sorted(exported)
    assert set(dir(syncer)) >= exported


@pytest.mark.parametrize(("module", "name"), sorted(
    (module, name) for module, names in EXPECTED.items() for name in names))
def test_each_member_is_the_object_its_module_defines(module: str, name: str) -> None:
    home = importlib.import_module(module)
    assert name in home.__all__
    assert getattr(syncer, name) is getattr(home, name)


def test_every_error_is_a_syncer_error() -> None:
    errors = [getattr(syncer, name) for name in EXPECTED["syncer.errors"]]
    assert all(issubclass(error, syncer.SyncerError) for error in errors)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'testing'"):
        _ = syncer.testing


def test_importing_syncer_loads_nothing_else() -> None:
    """`import syncer` must stay cheap: the command line imports it before anything else."""
    code = ("import sys, syncer; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('syncer', 'kubernetes', 'pysui', 'git', 'httpx', 'jinja2')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "['syncer']"
