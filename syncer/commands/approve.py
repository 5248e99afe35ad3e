"""`syncer approve SEQ`: record the user's approval of a release on the channel's ledger."""

from __future__ import annotations

import argparse

from syncer.commands import common

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("approve", help="approve a release of a channel that needs approvals",
                       description="Record an approval of release SEQ, signed with your key "
                       "(the publisher key: $SYNCER_KEY, the profile's keystore or key file, "
                       "else $SYNCER_HOME/keys/publisher.key): on Sui the registry's `approve` "
                       "call, on the local ledger a signed entry. Only the channel's approvers "
                       "may, once per release. A channel whose threshold is K applies only "
                       "releases with K approvals (`syncer channel set-approvers`).")
    p.add_argument("seq", type=int, metavar="SEQ", help="the release to approve")
    common.channel_arg(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer.approvals import ratio  # noqa: PLC0415

    key, backends = common.publishing(args)
    ledger = backends.ledger
    channel = common.pick_channel(args.channel, ledger)
    count = ledger.approve(channel, args.seq, key=key)
    threshold = ledger.approval_policy(channel).threshold
    missing = threshold - count
    print(f"release {args.seq} of {channel} approved by {key.address}: approvals "
          f"{ratio(count, threshold)}" + (f", waits for {missing} more" if missing > 0 else
                                          ", enough to apply"))
    return 0
