"""Finding and loading the Sui GraphQL schema the stand-in serves.

The schema is not copied into syncer: it is read at run time from `shared/specs/sui/`, the
folder beside the repository (`schema.graphql`, the public SDL, and
`live-extensions.graphql`, the fields the live service adds that pysui 1.5.1 selects). Set
`SYNCER_SUI_SCHEMA_DIR` to read it from elsewhere.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Final

import graphql

import syncer

__all__ = ["ENV_VAR", "SchemaNotFoundError", "load_schema", "schema_dir"]

ENV_VAR: Final = "SYNCER_SUI_SCHEMA_DIR"
_FILES: Final = ("schema.graphql", "live-extensions.graphql")


class SchemaNotFoundError(RuntimeError):
    """The Sui GraphQL schema files are not where the stand-in looks for them."""


def schema_dir() -> Path | None:
    """The folder holding both schema files, or None when it cannot be found."""
    configured = os.environ.get(ENV_VAR)
    folder = Path(configured) if configured else (
        Path(syncer.__file__).resolve().parents[2] / "shared" / "specs" / "sui")
    return folder if all((folder / name).is_file() for name in _FILES) else None


@functools.cache
def _build(folder: Path) -> graphql.GraphQLSchema:
    text = "".join((folder / name).read_text(encoding="utf-8") for name in _FILES)
    return graphql.build_schema(text)


def load_schema() -> graphql.GraphQLSchema:
    """The schema plus the live extensions, built once; SchemaNotFoundError if absent."""
    folder = schema_dir()
    if folder is None:
        raise SchemaNotFoundError(
            f"Sui GraphQL schema not found: put schema.graphql and live-extensions.graphql in "
            f"shared/specs/sui beside the repository, or set {ENV_VAR}"
        )
    return _build(folder)
