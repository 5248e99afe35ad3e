"""Where policies come from: the default set shipped in the package (`syncer/data/policies`),
always applied, and a repository's `policies/*.yaml`, which add to it.

Reading the package's own files is this module's only I/O; a repository's policies are
read from the bundle's files (a mapping of path to bytes), so a sync checks exactly what
was published. `policies/tests/` holds `syncer policy test` files, not policies.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Final

from syncer import vap, yamlsafe
from syncer.errors import PolicyError

__all__ = ["DEFAULTS_DIR", "REPO_DIR", "defaults", "from_files", "release_policies"]

DEFAULTS_DIR: Final = "policies"  # under syncer/data
REPO_DIR: Final = "policies"


@functools.cache
def defaults() -> vap.PolicySet:
    """The default set shipped in the package, read once."""
    folder = resources.files("syncer").joinpath("data", DEFAULTS_DIR)
    files = {f"syncer/data/{DEFAULTS_DIR}/{entry.name}": entry.read_bytes()
             for entry in folder.iterdir() if entry.name.endswith((".yaml", ".yml"))}
    return from_files(files, prefix=f"syncer/data/{DEFAULTS_DIR}/")


def from_files(files: Mapping[str, bytes], *, prefix: str = f"{REPO_DIR}/") -> vap.PolicySet:
    """The policies of the `*.yaml` files directly under `prefix` (not in subdirectories)."""
    documents = []
    for path in sorted(files):
        rest = path[len(prefix):] if path.startswith(prefix) else None
        if rest and "/" not in rest and rest.endswith((".yaml", ".yml")):
            for doc in yamlsafe.load_all(files[path], where=path, error=PolicyError):
                documents.append((path, doc))
    return vap.parse(documents)


def release_policies(files: Mapping[str, bytes]) -> vap.PolicySet:
    """The defaults and a bundle's own `policies/`."""
    return defaults() + from_files(files)
