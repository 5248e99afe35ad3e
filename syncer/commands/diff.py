"""`syncer diff`: what a sync would change, as unified diffs; exit 1 when anything would."""

from __future__ import annotations

import argparse
import sys

from syncer.commands import common

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("diff", help="show what a sync would change, as unified diffs",
                       description="Compare a release (default: the head) with the live "
                       "cluster and print a unified diff per object, as `kubectl diff` does: "
                       "the live object against what the API server would make of the "
                       "release's object (server-side dry run). Secret values are masked. "
                       "Exit 0 when there is no difference, 1 when there is, 2 on error.")
    common.release_args(p)
    p.add_argument("--allow-empty", action="store_true",
                   help="show a release with no objects pruning everything")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    backends = common.backends(args)
    loaded = common.load(args, common.pick_release(args, backends.ledger), backends)
    reconciler = common.reconciler(args, dry_run=True)
    diffs = reconciler.diff(reconciler.observe(loaded))
    for item in diffs:
        sys.stdout.write(item.text)
    return 1 if any(d.text for d in diffs) else 0
