"""Where the stand-ins and their tests find the reference data that fixes how real services
answer: the transcripts recorded against a real kube-apiserver, the Sui GraphQL schema and
the Walrus OpenAPI documents.

That data is not part of this distribution. `$SYNCER_SPECS_DIR` names the folder holding one
sub-folder per service (`kubernetes/`, `sui/`, `walrus/`); syncer's test suite sets it for
its own checkout. Without it, what needs a file is skipped, and `missing()` says which file,
so that the reason tells the reader what to provide.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

__all__ = ["ENV_VAR", "find", "missing"]

ENV_VAR: Final = "SYNCER_SPECS_DIR"


def find(service: str, *files: str) -> Path | None:
    """`$SYNCER_SPECS_DIR/service` when it holds every one of `files` (or exists, if none
    are named); None otherwise."""
    configured = os.environ.get(ENV_VAR)
    if not configured:
        return None
    folder = Path(configured) / service
    if not folder.is_dir() or not all((folder / name).is_file() for name in files):
        return None
    return folder


def missing(service: str, *files: str) -> str:
    """One line naming what `find(service, *files)` did not find, and how to provide it."""
    wanted = ", ".join(files) if files else "the folder"
    configured = os.environ.get(ENV_VAR)
    where = f"{configured}/{service}" if configured else f"${ENV_VAR}/{service} (unset)"
    return f"needs the {service} reference data ({wanted}) in {where}"
