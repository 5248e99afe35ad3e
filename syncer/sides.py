"""The sides `syncer diff` compares, as written on its command line.  [pure]

    live                 the objects in the cluster (server-side dry run of the other side)
    worktree             the app repository's files on disk, committed or not
    @N, seq:N            release N of the channel; @head, seq:head: its head release
    REV, git:REV         a git commit: HEAD~1, a branch, a tag, a sha (git: when REV could
                         be read as one of the words above)

`syncer diff` with no side compares live with the head release; with one side X, live with
X; with two, the first with the second (`-` lines are the first side's). `--pr BASE..HEAD`
takes a git range (`BASE...HEAD`: from the merge base, as a pull request shows it).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from syncer.errors import ConfigError

__all__ = ["HEAD", "Kind", "Range", "Side", "pair", "parse", "parse_range"]

HEAD = "head"
_SEQ = re.compile(r"(?:@|seq:)(\d{1,18}|head)")
_MAX_REV = 256


class Kind(enum.Enum):
    LIVE = "live"
    WORKTREE = "worktree"
    RELEASE = "release"
    COMMIT = "commit"


@dataclass(frozen=True)
class Side:
    """One side: its kind and, for a release its seq (None: the head), for a commit its rev."""

    kind: Kind
    rev: str = ""
    seq: int | None = None

    def __str__(self) -> str:
        if self.kind is Kind.RELEASE:
            return f"@{HEAD if self.seq is None else self.seq}"
        if self.kind is Kind.COMMIT:
            return self.rev
        return str(self.kind.value)

    @property
    def live(self) -> bool:
        return self.kind is Kind.LIVE


LIVE = Side(Kind.LIVE)


def parse(text: str) -> Side:
    """The side `text` names; ConfigError for what cannot be a side."""
    text = text.strip()
    if text in ("live", "worktree"):
        return Side(Kind(text))
    found = _SEQ.fullmatch(text)
    if found:
        seq = found.group(1)
        return Side(Kind.RELEASE, seq=None if seq == HEAD else int(seq))
    rev = text.removeprefix("git:")
    _check_rev(rev, text)
    return Side(Kind.COMMIT, rev=rev)


def _check_rev(rev: str, text: str) -> None:
    """Refuse what git would read as an option or that no revision can be."""
    bad = not rev or len(rev) > _MAX_REV or rev.startswith("-") or any(
        c.isspace() or ord(c) < 32 for c in rev)
    if bad:
        raise ConfigError(f"{text[:80]!r} is not a side: use live, worktree, @N (a release), "
                          "or a git revision", where="syncer diff")


def pair(sides: list[str], *, seq: int | None = None) -> tuple[Side, Side]:
    """The two sides of `syncer diff [FROM] [TO] [--seq N]`: no side, live against the
    release (`seq`, else the head); one, live against it; two, the first against the second."""
    if seq is not None and sides:
        raise ConfigError("give either sides or --seq, not both (--seq N is the side @N)",
                          where="syncer diff")
    if len(sides) > 2:
        raise ConfigError(f"at most two sides, got {len(sides)}", where="syncer diff")
    parsed = [parse(s) for s in sides]
    if not parsed:
        parsed = [Side(Kind.RELEASE, seq=seq)]
    first, second = (LIVE, parsed[0]) if len(parsed) == 1 else (parsed[0], parsed[1])
    if first.live and second.live:
        raise ConfigError("both sides are live: compare live with a release, a commit or "
                          "the work tree", where="syncer diff")
    return first, second


@dataclass(frozen=True)
class Range:
    """`BASE..HEAD` (or `BASE...HEAD`, from their merge base): two git revisions."""

    base: str
    head: str
    merge_base: bool = False

    def __str__(self) -> str:
        return f"{self.base}{'...' if self.merge_base else '..'}{self.head}"


def parse_range(text: str) -> Range:
    """A git range as pull requests name them; an empty end is HEAD, as in git."""
    three = "..." in text
    base, sep, head = text.partition("..." if three else "..")
    if not sep:
        raise ConfigError(f"{text[:80]!r} is not a range: write BASE..HEAD, e.g. main..HEAD",
                          where="--pr")
    base, head = base.strip() or "HEAD", head.strip() or "HEAD"
    for rev in (base, head):
        _check_rev(rev, text)
    return Range(base, head, merge_base=three)
