"""The sides of `syncer diff` read and compared: releases from the ledger and blob store,
commits and the work tree through `preview` (publish's path, nothing stored), the live
cluster through the reconciler's server-side dry run. Two sides that are not live need no
cluster; sides that are no release need no ledger."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from syncer import preview
from syncer.commands import common
from syncer.errors import ConfigError, SyncerError
from syncer.gitsource import commit_id, merge_base, open_repo
from syncer.model import Action
from syncer.review import Finding, Pair, Review, pair_objects, review
from syncer.reviewtext import ChannelReport
from syncer.sides import Kind, Range, Side

if TYPE_CHECKING:
    import git

    from syncer.backends import Backends
    from syncer.reconcile import Loaded

__all__ = ["Compared", "Reader", "pr_reports"]


@dataclass(frozen=True)
class Compared:
    """A review and what each side was: a title for people, details for machines."""

    review: Review
    title: str
    sides: dict[str, Any]


class Reader:
    """Reads the sides named on the command line, opening only what they need."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.fields = args.output != "text"  # only the machine form shows changed fields

    @cached_property
    def repo(self) -> git.Repo:
        return open_repo(self.args.repo)

    @cached_property
    def backends(self) -> Backends:
        return common.backends(self.args)

    def compare(self, first: Side, second: Side) -> Compared:
        """The review from `first` to `second` (one of them may be live)."""
        channel = self._channel(first, second)
        loaded = {s: self.load(s, channel) for s in (first, second) if not s.live}
        under_review = loaded[first if second.live else second]
        findings = preview.policy_findings(under_review)
        if first.live or second.live:
            item = self._against_live(under_review, swap=second.live, findings=findings)
        else:
            pairs = pair_objects(preview.placed(loaded[first]), preview.placed(loaded[second]))
            item = review(pairs, labels=(str(first), str(second)),
                          channel=under_review.channel.name, findings=findings,
                          fields=self.fields)
        described = {str(s): _describe(s, loaded.get(s)) for s in (first, second)}
        title = f"{described[str(first)]['title']} -> {described[str(second)]['title']}"
        return Compared(item, title, {"from": described[str(first)],
                                      "to": described[str(second)]})

    def _channel(self, *sides: Side) -> str | None:
        """--channel; else, with a release side, the one `common.pick_channel` finds; else
        None (the only channel of the side's syncer.yaml)."""
        if any(s.kind is Kind.RELEASE for s in sides):
            return common.pick_channel(self.args.channel, self.backends.ledger)
        return str(self.args.channel) if self.args.channel else None

    def load(self, side: Side, channel: str | None) -> Loaded:
        if side.kind is Kind.RELEASE:
            assert channel is not None  # _channel picks one when a side is a release
            ledger = self.backends.ledger
            release = (ledger.release(channel, side.seq) if side.seq is not None
                       else ledger.head(channel))
            if release is None:
                raise ConfigError("has no release yet: publish one first",
                                  where=f"channel {channel}")
            return common.load(self.args, release, self.backends)
        if side.kind is Kind.WORKTREE:
            return preview.work_tree(self.repo).loaded(channel)
        return preview.commit(self.repo, side.rev).loaded(channel)

    def _against_live(self, loaded: Loaded, *, swap: bool,
                      findings: tuple[Finding, ...]) -> Review:
        """live -> `loaded` as a sync would change it (the server's dry run); swapped,
        `loaded` -> live."""
        reconciler = common.reconciler(self.args, dry_run=True)
        observed = reconciler.observe(loaded)
        diffs = reconciler.diff(observed)
        blocked = {d.change.ref: d.change.reason for d in diffs
                   if d.change.action is Action.BLOCKED}
        pairs = [Pair(d.change.ref, d.before, d.after, blocked.get(d.change.ref, ""))
                 for d in diffs]
        shown = {d.change.ref for d in diffs}
        same = [c.ref for c in observed.changes.changes if c.ref not in shown]
        labels = ("live", "desired")
        if swap:
            pairs, labels = [p.swapped() for p in pairs], ("desired", "live")
        return review(pairs, labels=labels, channel=loaded.channel.name, unchanged=same,
                      findings=findings, fields=self.fields)


def _describe(side: Side, loaded: Loaded | None) -> dict[str, Any]:
    """What a side was: its spec and, read, its channel, release and commit."""
    if loaded is None:
        return {"side": str(side), "title": "live"}
    release = loaded.release
    out: dict[str, Any] = {"side": str(side), "channel": release.channel}
    if side.kind is not Kind.WORKTREE:
        out["commit"] = release.commit
    if side.kind is Kind.RELEASE:
        out["seq"] = release.seq
        out["title"] = (f"release {release.seq} of {release.channel} "
                        f"(commit {release.commit[:12]})")
    elif side.kind is Kind.WORKTREE:
        out["title"] = "the work tree"
    else:
        out["title"] = f"{side.rev} (commit {release.commit[:12]})"
    return out


# --------------------------------------------------------------------------- --pr


def pr_reports(args: argparse.Namespace, span: Range) -> tuple[list[ChannelReport], str]:
    """One report per channel (--channel, else every channel of either commit) of the
    range, and its title. A channel whose side fails to read carries the error."""
    repo = open_repo(args.repo)
    head = commit_id(repo, span.head)
    base = merge_base(repo, span.base, head) if span.merge_base else commit_id(repo, span.base)
    names = ([args.channel] if args.channel else
             sorted(set(preview.channels_at(repo, base)) | set(preview.channels_at(repo, head))))
    sources = _PrSources(repo, base, head, fields=args.output != "text")
    title = f"syncer diff {span}: {base[:12]} → {head[:12]}"
    return [sources.report(name) for name in names], title


class _PrSources:
    def __init__(self, repo: git.Repo, base: str, head: str, *, fields: bool) -> None:
        self.repo, self.base, self.head, self.fields = repo, base, head, fields

    @cached_property
    def before(self) -> preview.Source | None:
        return preview.commit(self.repo, self.base) if preview.channels_at(
            self.repo, self.base) else None

    @cached_property
    def after(self) -> preview.Source | None:
        return preview.commit(self.repo, self.head) if preview.channels_at(
            self.repo, self.head) else None

    def report(self, channel: str) -> ChannelReport:
        try:
            old = _objects(self.before, channel)
            new = _loaded(self.after, channel)
            findings = preview.policy_findings(new) if new is not None else ()
            pairs = pair_objects(old, preview.placed(new) if new is not None else [])
            labels = (self.base[:12], self.head[:12])
            return ChannelReport(channel, review(pairs, labels=labels, channel=channel,
                                                 findings=findings, fields=self.fields))
        except SyncerError as e:
            return ChannelReport(channel, error=str(e))


def _loaded(source: preview.Source | None, channel: str) -> Loaded | None:
    if source is None or channel not in source.config.channels:
        return None
    return source.loaded(channel)


def _objects(source: preview.Source | None, channel: str) -> list[Any]:
    loaded = _loaded(source, channel)
    return preview.placed(loaded) if loaded is not None else []
