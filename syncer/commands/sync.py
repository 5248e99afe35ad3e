"""`syncer sync`: one reconcile of a release into the cluster.

On a channel whose approval threshold is K > 0 the release is not simply the head: it is
the highest release above the one the cluster's inventory records with at least K approvals
(`syncer.approvals.gate`); an unapproved head is named in one line and left alone. `--seq`
names a release that must have its approvals too.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from syncer import output
from syncer.commands import common
from syncer.errors import ClusterError, ConfigError
from syncer.model import ChangeSet

if TYPE_CHECKING:
    from syncer.cluster import Discovery
    from syncer.ledger import Ledger
    from syncer.model import Release
    from syncer.reconcile import Reconciler

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("sync", help="apply a release to the cluster once",
                       description="One reconcile: read the release from the ledger, fetch and "
                       "verify its bundle, render, check the rules, compare with the live "
                       "objects of the channel, apply what changed with server-side apply "
                       "(Namespaces and CRDs first), prune what the release dropped, and "
                       "record the inventory. Every change is dry-run on the server before "
                       "anything is written. On a channel that needs K approvals, the release "
                       "is the highest one above the applied one that has them; an unapproved "
                       "head is named and waits.")
    common.release_args(p)
    p.add_argument("--dry-run", action="store_true", help="plan only; change nothing")
    p.add_argument("--allow-empty", action="store_true",
                   help="allow a release with no objects to prune everything")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    backends = common.backends(args)
    ledger = backends.ledger
    channel = common.pick_channel(args.channel, ledger)
    threshold = ledger.approval_policy(channel).threshold
    discovery: Discovery | None = None
    if threshold <= 0:
        release: Release | None = common.pick_release(args, ledger)
        reconciler = None
    else:
        reconciler = common.reconciler(args, dry_run=args.dry_run)
        discovery = reconciler.books.discover()
        release = _gated(args, ledger, channel=channel, threshold=threshold,
                         reconciler=reconciler, discovery=discovery)
    if release is None:
        return 0
    loaded = common.load(args, release, backends)
    reconciler = reconciler or common.reconciler(args, dry_run=args.dry_run)
    observed = reconciler.observe(loaded, discovery=discovery)
    print(output.release_line(release))
    try:
        result = reconciler.sync(observed)
    except ClusterError as e:  # what it wrote before it stopped, then the error's line
        _print_written(observed.changes, {*e.applied, *e.pruned})
        raise
    for line in output.change_lines(observed.changes, dry_run=args.dry_run):
        print(line)
    print(output.summary(result.observed.changes, dry_run=args.dry_run))
    return 0


def _gated(args: argparse.Namespace, ledger: Ledger, *, channel: str, threshold: int,
           reconciler: Reconciler, discovery: Discovery) -> Release | None:
    """The release the approval gate lets through; None when nothing approved is there to
    apply."""
    from syncer.approvals import gate, ratio  # noqa: PLC0415
    from syncer.syncrun import read_inventory  # noqa: PLC0415

    if args.seq is not None:
        count = len(ledger.approvals(channel, args.seq))
        if count < threshold:
            raise ConfigError(f"release {args.seq} has approvals {ratio(count, threshold)}: "
                              "it is applied once approved (syncer approve)",
                              where=f"channel {channel}")
        return ledger.release(channel, args.seq)
    head = common.pick_release(args, ledger)  # --seq is None: the head
    record = read_inventory(reconciler.books, discovery, channel=channel,
                            namespace=args.inventory_namespace)
    decided = gate(head_seq=head.seq, applied_seq=record.seq if record else 0,
                   threshold=threshold, approvals=lambda seq: ledger.approvals(channel, seq))
    if decided.pending is not None:
        then = f"applying release {decided.target}, the highest approved" \
            if decided.target is not None else "no approved release to apply"
        print(f"{decided.pending.line()} on {channel}: {then}")
    return ledger.release(channel, decided.target) if decided.target is not None else None


def _print_written(changes: ChangeSet, written: set[str]) -> None:
    done = ChangeSet(tuple(c for c in changes.changes if str(c.ref) in written))
    for line in output.change_lines(done):
        print(line)
