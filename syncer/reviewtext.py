"""What `syncer diff` prints for people: the summary table and the diffs as text lines (with
a style per line, for colours on a terminal), and the Markdown of a pull request comment.
[pure]

The text has no blank line and no line of the table starts with `+` or `-`, so that the
changed lines of its diffs are found as in any unified diff. Markdown cells and code fences
are escaped against what object names and file contents may hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from syncer.review import ObjectReview, Review, Verb

__all__ = ["ChannelReport", "Line", "counts_line", "lines", "markdown", "table", "text"]

_HEADER = ("KIND", "NAMESPACE", "NAME", "ACTION", "+", "-")
_VERB_STYLE = {Verb.CREATE: "create", Verb.UPDATE: "update", Verb.DELETE: "delete",
               Verb.BLOCKED: "delete"}


@dataclass(frozen=True)
class Line:
    """One line of text and the name of its style (`""` for none)."""

    text: str
    style: str = ""


def table(item: Review) -> list[Line]:
    """The changed objects, one row each: kind, namespace, name, action, lines added and
    removed."""
    rows = [_row(o) for o in item.changed]
    widths = [max(len(r[i]) for r in [_HEADER, *rows]) for i in range(len(_HEADER))]
    out = [Line(_cells(_HEADER, widths), "header")]
    out += [Line(_cells(r, widths), _VERB_STYLE[o.verb]) for r, o in zip(rows, item.changed,
                                                                          strict=True)]
    return out


def _row(item: ObjectReview) -> tuple[str, ...]:
    ref = item.ref
    return (ref.kind, ref.namespace or "-", ref.name, item.verb.value,
            str(item.added), str(item.removed))


def _cells(cells: Sequence[str], widths: Sequence[int]) -> str:
    left = [c.ljust(w) for c, w in zip(cells[:4], widths, strict=False)]
    right = [c.rjust(w) for c, w in zip(cells[4:], widths[4:], strict=True)]
    return "  ".join(left + right).rstrip()


def counts_line(item: Review) -> str:
    """`1 to create, 2 to update, 0 to delete, 3 unchanged` (and blocked ones, if any)."""
    counts = item.counts()
    parts = [f"{counts[v.value]} to {v.value}" for v in (Verb.CREATE, Verb.UPDATE, Verb.DELETE)]
    parts.append(f"{counts[Verb.UNCHANGED.value]} unchanged")
    if counts[Verb.BLOCKED.value]:
        parts.append(f"{counts[Verb.BLOCKED.value]} blocked")
    return ", ".join(parts)


def lines(item: Review, *, title: str = "") -> list[Line]:
    """Title, table, counts, policy findings, then each changed object's diff; nothing when
    nothing differs and no policy has a finding (as `kubectl diff` prints nothing)."""
    if not item.changed and not item.findings:
        return []
    out = [Line(f"# {title or f'{item.before} -> {item.after}'}", "title")]
    if item.changed:
        out += table(item)
    out.append(Line(counts_line(item), "counts"))
    out += [Line(f"policy {f.severity}: {f.message}", f.severity) for f in item.findings]
    for changed in item.changed:
        out += [Line(t, _diff_style(t)) for t in changed.diff.splitlines() if t]
    return out


def text(item: Review, *, title: str = "") -> str:
    found = lines(item, title=title)
    return "".join(f"{line.text}\n" for line in found)


def _diff_style(line: str) -> str:
    if line.startswith(("---", "+++")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("#"):
        return "delete"
    return {"+": "added", "-": "removed"}.get(line[:1], "")


# --------------------------------------------------------------------------- Markdown


@dataclass(frozen=True)
class ChannelReport:
    """One channel of a pull request report: its review, or the error that stopped it."""

    channel: str
    review: Review | None = None
    error: str = ""


def markdown(reports: Sequence[ChannelReport], *, title: str) -> str:
    """A pull request comment: per channel, the summary table, the policy results and each
    object's diff in a collapsed block."""
    out = [f"## {_escape(title)}", ""]
    for report in reports:
        out += _channel_md(report)
    return "\n".join(out).rstrip() + "\n"


def _channel_md(report: ChannelReport) -> list[str]:
    out = [f"### Channel `{_code(report.channel)}`", ""]
    if report.review is None:
        return [*out, f"**Error:** {_escape(report.error)}", ""]
    item = report.review
    if item.changed:
        out += _table_md(item)
    out += [f"{'No changes: ' if not item.changed else ''}{counts_line(item)}.", ""]
    out += _policy_md(item)
    for changed in item.changed:
        out += _details_md(changed)
    return out


def _table_md(item: Review) -> list[str]:
    out = ["| Kind | Namespace | Name | Action | + | - |", "|---|---|---|---|--:|--:|"]
    for o in item.changed:
        cells = (o.ref.kind, o.ref.namespace or "—", o.ref.name, o.verb.value)
        out.append("| " + " | ".join(_escape(c) for c in cells) +
                   f" | {o.added} | {o.removed} |")
    return [*out, ""]


def _policy_md(item: Review) -> list[str]:
    if not item.findings:
        return ["**Policy:** passed.", ""]
    denied = sum(1 for f in item.findings if f.denies)
    out = [f"**Policy:** {denied} denied, {len(item.findings) - denied} warnings.", ""]
    out += [f"- **{f.severity}**: {_escape(f.message)}" for f in item.findings]
    return [*out, ""]


def _details_md(item: ObjectReview) -> list[str]:
    summary = f"{item.ref} ({item.verb.value}, +{item.added} -{item.removed})"
    fence = "`" * max(3, _longest_run(item.diff, "`") + 1)
    return ["<details>", f"<summary>{_html(summary)}</summary>", "",
            f"{fence}diff", *item.diff.rstrip("\n").splitlines(), fence, "", "</details>", ""]


def _longest_run(body: str, char: str) -> int:
    longest = run = 0
    for c in body:
        run = run + 1 if c == char else 0
        longest = max(longest, run)
    return longest


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|~"})


def _escape(value: str) -> str:
    """Markdown text that shows `value` as it is: specials escaped, one line."""
    return " ".join(value.split()).translate(_MD_SPECIAL)


def _code(value: str) -> str:
    return value.replace("`", "'")


def _html(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
