"""`syncer rollback SEQ`: a new release pointing at an earlier release's bundle."""

from __future__ import annotations

import argparse

from syncer import output
from syncer.commands import common

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("rollback", help="publish an earlier release's bundle again",
                       description="Record a new release of the channel that points at the "
                       "bundle of release SEQ: same blob ID, SHA-256 and commit. History only "
                       "grows: the releases after SEQ stay on the ledger, and the syncer "
                       "applies the new one as it applies any release. The bundle is fetched, "
                       "verified, rendered and checked before anything is recorded.")
    p.add_argument("seq", type=int, help="the release whose bundle to publish again")
    common.channel_arg(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer.publish import rollback  # noqa: PLC0415

    key, backends = common.publishing(args)
    channel = common.pick_channel(args.channel, backends.ledger)
    earlier = backends.ledger.release(channel, args.seq)
    done = rollback(earlier, key=key, blobs=backends.blobs, ledger=backends.ledger)
    if done.created:
        print(f"published {output.release_line(done.release)} (the bundle of release "
              f"{earlier.seq})")
    else:
        print(f"{channel}: release {done.release.seq}, the head, already has the bundle of "
              f"release {earlier.seq} (nothing to do)")
    return 0
