"""`syncer sync`: one reconcile of a release into the cluster."""

from __future__ import annotations

import argparse

from syncer import output
from syncer.commands import common
from syncer.errors import ClusterError
from syncer.model import ChangeSet

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("sync", help="apply a release to the cluster once",
                       description="One reconcile: read the release from the ledger, fetch and "
                       "verify its bundle, render, check the rules, compare with the live "
                       "objects of the channel, apply what changed with server-side apply "
                       "(Namespaces and CRDs first), prune what the release dropped, and "
                       "record the inventory. Every change is dry-run on the server before "
                       "anything is written.")
    common.release_args(p)
    p.add_argument("--dry-run", action="store_true", help="plan only; change nothing")
    p.add_argument("--allow-empty", action="store_true",
                   help="allow a release with no objects to prune everything")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    backends = common.backends(args)
    release = common.pick_release(args, backends.ledger)
    loaded = common.load(args, release, backends)
    reconciler = common.reconciler(args, dry_run=args.dry_run)
    observed = reconciler.observe(loaded)
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


def _print_written(changes: ChangeSet, written: set[str]) -> None:
    done = ChangeSet(tuple(c for c in changes.changes if str(c.ref) in written))
    for line in output.change_lines(done):
        print(line)
