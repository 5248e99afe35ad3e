"""The approval gate: which release a channel that needs approvals may apply.  [pure]

A channel's `ApprovalPolicy` (on Sui the Registry's `approvers` and `threshold`, locally the
ledger's last `approvers` entry) says how many distinct approvers must approve a release
before any syncer applies it. With threshold 0 there is no gate: the head is applied, as
before approvals existed. With threshold K > 0 the release to apply is the highest one above
the applied one that has at least K approvals (`gate`); releases in between that lack them
are skipped, never applied. An unapproved head is `Pending`: reported (seq, approvals n/K, who
approved) until it has enough approvals or a later release is approved past it.

An approval counts whether or not its approver is still listed, as the Move contract's
`is_approved` counts it. `DiffSummary` is what a pending release would change in the cluster
(counts and the first object refs, from the plan a sync would dry-run: never a value).
Nothing here reads the ledger or the cluster: callers pass what they read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from syncer.model import Action, ChangeSet

__all__ = ["SHOWN_REFS", "ApprovalPolicy", "DiffSummary", "Gate", "Pending", "gate", "ratio",
           "summarize"]

SHOWN_REFS: Final = 10
"""How many object refs a pending diff summary names."""


@dataclass(frozen=True)
class ApprovalPolicy:
    """Who may approve a channel's releases (addresses, in the order set), and how many
    approvals a release needs (0: none)."""

    approvers: tuple[str, ...] = ()
    threshold: int = 0

    @property
    def gated(self) -> bool:
        return self.threshold > 0


@dataclass(frozen=True)
class Pending:
    """The head, waiting for approvals: who approved it so far, of `threshold` needed."""

    seq: int
    approvals: tuple[str, ...]
    threshold: int

    @property
    def missing(self) -> int:
        return max(self.threshold - len(self.approvals), 0)

    def line(self) -> str:
        """`release 3 waits for 1 more approval (1/2)`."""
        more = self.missing
        return (f"release {self.seq} waits for {more} more approval{'s' * (more != 1)} "
                f"({ratio(len(self.approvals), self.threshold)})")


@dataclass(frozen=True)
class Gate:
    """What the gate lets through: `target` the seq to apply (None: nothing approved above
    what is applied, and nothing applied), `pending` the head when it lacks approvals."""

    target: int | None
    pending: Pending | None = None


def ratio(count: int, threshold: int) -> str:
    """`2/3`: approvals of the threshold."""
    return f"{count}/{threshold}"


def gate(*, head_seq: int, applied_seq: int, threshold: int,
         approvals: Callable[[int], Sequence[str]]) -> Gate:
    """The release to apply, and the pending head; `approvals(seq)` gives who approved it.

    Threshold 0: the head. Else the highest seq in (applied_seq, head_seq] with at least
    `threshold` approvals, else the applied seq itself (kept in place), else None. Only the
    seqs above the applied one down to the first approved one are asked about.
    """
    if head_seq < 1:
        return Gate(None)
    if threshold <= 0:
        return Gate(head_seq)
    pending: Pending | None = None
    for seq in range(head_seq, applied_seq, -1):
        who = tuple(approvals(seq))
        if len(who) >= threshold:
            return Gate(seq, pending)
        if seq == head_seq:
            pending = Pending(seq, who, threshold)
    return Gate(applied_seq if applied_seq >= 1 else None, pending)


@dataclass(frozen=True)
class DiffSummary:
    """What applying a release would do: objects created, updated, deleted (pruned), and the
    first of them as `Kind/ns/name`."""

    create: int
    update: int
    delete: int
    refs: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.create} to create, {self.update} to update, {self.delete} to delete"


def summarize(changes: ChangeSet, *, shown: int = SHOWN_REFS) -> DiffSummary:
    """The summary of a plan: counts per action and the first `shown` refs that change."""
    changing = changes.of(Action.CREATE, Action.UPDATE, Action.PRUNE)
    return DiffSummary(len(changes.of(Action.CREATE)), len(changes.of(Action.UPDATE)),
                       len(changes.of(Action.PRUNE)),
                       tuple(f"{c.action.value} {c.ref}" for c in changing[:shown]))
