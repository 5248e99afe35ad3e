"""What the commands print: change sets, history tables, manifests. Pure: text in, text out."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from syncer import yamlsafe
from syncer.bundle import Manifest
from syncer.model import Action, ChangeSet, Obj, Release

__all__ = ["HistoryRow", "change_lines", "history_table", "manifests", "release_line",
           "summary"]

_VERBS = {Action.CREATE: "created", Action.UPDATE: "updated", Action.PRUNE: "pruned",
          Action.UNCHANGED: "unchanged", Action.SKIP: "skipped", Action.BLOCKED: "blocked"}


def release_line(release: Release) -> str:
    return (f"release {release.seq} of {release.channel}: commit {release.commit[:12]}, "
            f"blob {release.blob_id}")


def change_lines(changes: ChangeSet, *, dry_run: bool = False) -> list[str]:
    """One line per object that changes or is skipped; unchanged objects are counted only."""
    lines = []
    for change in changes.changes:
        if change.action is Action.UNCHANGED:
            continue
        verb = change.action.value + (" (dry run)" if dry_run else "")
        reason = f"  ({change.reason})" if change.reason else ""
        lines.append(f"  {verb:<9} {change.ref}{reason}")
    return lines


def summary(changes: ChangeSet, *, dry_run: bool = False) -> str:
    counts = changes.counts()
    parts = [f"{counts[a.value]} {_VERBS[a]}" for a in Action]
    return ("would be: " if dry_run else "") + ", ".join(parts)


@dataclass(frozen=True)
class HistoryRow:
    release: Release
    manifest: Manifest | None
    problem: str = ""
    approvals: tuple[str, ...] = ()  # the approvers' addresses, in the order they approved


def history_table(rows: Sequence[HistoryRow], *, threshold: int | None = None) -> list[str]:
    """The rows under a header; with `threshold` (the channel has approvals) an APPROVALS
    column: `n/k` and who approved."""
    header: tuple[str, ...] = ("SEQ", "PUBLISHED (UTC)", "COMMIT", "AUTHOR", "PUBLISHER",
                               "BLOB ID")
    body: list[tuple[str, ...]] = [_history_cells(row) for row in rows]
    if threshold is not None:
        header = (*header[:-1], "APPROVALS", header[-1])
        body = [(*cells[:-1], _approvals_cell(row, threshold), cells[-1])
                for cells, row in zip(body, rows, strict=True)]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header) - 1)]
    return ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
            for r in [header, *body]]


def _history_cells(row: HistoryRow) -> tuple[str, ...]:
    rel = row.release
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(rel.timestamp_ms / 1000))
    if row.manifest is not None:
        src = row.manifest.source
        author = f"{src.author} <{src.author_email}>"
    else:
        author = f"? ({row.problem})"
    return str(rel.seq), when, rel.commit[:12], author, _short(rel.publisher), rel.blob_id


def _short(address: str) -> str:
    return f"{address[:8]}…{address[-4:]}"


def _approvals_cell(row: HistoryRow, threshold: int) -> str:
    who = ", ".join(_short(a) for a in row.approvals)
    return f"{len(row.approvals)}/{threshold}" + (f" ({who})" if who else "")


def manifests(objects: Iterable[Obj]) -> str:
    """Objects as one multi-document YAML stream."""
    docs = [yamlsafe.dump(o, default_flow_style=False, sort_keys=False) for o in objects]
    return "---\n" + "---\n".join(docs) if docs else ""
