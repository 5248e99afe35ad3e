"""`syncer show SEQ`: the manifests a release renders to."""

from __future__ import annotations

import argparse
import sys

from syncer import output
from syncer.commands import common

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("show", help="print the manifests a release renders to",
                       description="Fetch and verify the bundle of release SEQ, render it for "
                       "its channel, and print the objects as YAML (before namespaces, labels "
                       "and annotations are added at sync).")
    p.add_argument("seq", type=int, help="the release seq")
    common.channel_arg(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    backends = common.backends(args)
    channel = common.pick_channel(args.channel, backends.ledger)
    release = backends.ledger.release(channel, args.seq)
    loaded = common.load(args, release, backends)
    print(f"# {output.release_line(release)}")
    sys.stdout.write(output.manifests(loaded.objects))
    return 0
