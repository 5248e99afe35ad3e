"""Finding and loading the Sui GraphQL schema the stand-in serves.

The schema is not copied into the stand-in: it is read at run time from the `sui/` folder of
the reference data (`specs`): `schema.graphql`, the public SDL of Sui's GraphQL service
(MystenLabs/sui, `crates/sui-indexer-alt-graphql/schema.graphql`), and
`live-extensions.graphql`, the fields the live service adds that pysui 1.5.1 selects.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Final

import graphql

from syncer_standins import specs

__all__ = ["FILES", "SchemaNotFoundError", "load_schema", "missing", "schema_dir"]

FILES: Final = ("schema.graphql", "live-extensions.graphql")


class SchemaNotFoundError(RuntimeError):
    """The Sui GraphQL schema files are not where the stand-in looks for them."""


def schema_dir() -> Path | None:
    """The folder holding both schema files, or None when it cannot be found."""
    return specs.find("sui", *FILES)


def missing() -> str:
    """Why `schema_dir()` is None, in one line."""
    return specs.missing("sui", *FILES)


@functools.cache
def _build(folder: Path) -> graphql.GraphQLSchema:
    text = "".join((folder / name).read_text(encoding="utf-8") for name in FILES)
    return graphql.build_schema(text)


def load_schema() -> graphql.GraphQLSchema:
    """The schema plus the live extensions, built once; SchemaNotFoundError if absent."""
    folder = schema_dir()
    if folder is None:
        raise SchemaNotFoundError(f"Sui GraphQL schema not found: {missing()}")
    return _build(folder)
