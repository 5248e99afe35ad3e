"""Fields another field manager owned before an apply and syncer owns after: a takeover,
which server-side apply with `force` does silently, so it is logged. Pure but for the log.

`managedFields` says who owns what: each entry's `fieldsV1` is a tree of field paths. A
path the manager owned before the apply and no longer owns after was taken over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from syncer.model import FIELD_MANAGER, Obj, ObjectRef

__all__ = ["log_takeovers", "owned"]

log = logging.getLogger(__name__)
_SHOWN = 10  # field paths named in one warning


def log_takeovers(ref: ObjectRef, before: Obj | None, after: Obj) -> None:
    """Log, per other manager, the fields it owned in `before` and lost in `after`."""
    old = owned(before)
    new = owned(after)
    for manager, fields in sorted(old.items()):
        if manager == FIELD_MANAGER:
            continue
        lost = sorted(fields - new.get(manager, set()))
        if lost:
            log.warning("took over fields from another manager",
                        extra={"object": str(ref), "manager": manager,
                               "fields": ", ".join(lost[:_SHOWN])})


def owned(obj: Obj | None) -> dict[str, set[str]]:
    """The field paths each manager owns, from `metadata.managedFields`."""
    found: dict[str, set[str]] = {}
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        paths = found.setdefault(str(entry.get("manager")), set())
        paths.update(_leaves(entry.get("fieldsV1") or {}, ""))
    return found


def _leaves(tree: Mapping[str, object], prefix: str) -> Iterator[str]:
    for key, sub in tree.items():
        path = f"{prefix}/{key}" if prefix else key
        if isinstance(sub, Mapping) and sub:
            yield from _leaves(sub, path)
        elif key != ".":
            yield path
