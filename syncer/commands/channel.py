"""`syncer channel`: create a channel, change its publishers and approvers, show it.

Every subcommand goes through the `Ledger` protocol, so the local ledger and Sui behave
alike; the changes are signed with your key (the publisher key, see `syncer approve`), which
must be the channel's admin key (on Sui: hold the channel's AdminCap).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from syncer import yamlsafe
from syncer.commands import common

if TYPE_CHECKING:
    from syncer.channels import ChannelInfo

__all__ = ["add_parser", "info_document", "info_lines"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("channel", help="create a channel, change its publishers and "
                       "approvers, show it",
                       description="Channel admin on the profile's ledger (local or Sui), "
                       "signed with your key as the channel's admin.")
    group = p.add_subparsers(dest="channel_command", required=True, metavar="CHANNEL_COMMAND")
    create = group.add_parser("create", help="register a channel with you as its admin",
                              description="Register NAME with your key as admin. Its "
                              "publishers: the --publisher keys, else your key. On Sui the "
                              "new Registry's ID is kept in $SYNCER_HOME/profiles.yaml.")
    create.add_argument("name", metavar="NAME", help="the channel (a Kubernetes label value)")
    create.add_argument("--publisher", action="append", metavar="PUBLIC_KEY",
                        help="a publisher's public key (repeatable; default: yours)")
    create.set_defaults(handler=_create)
    for verb, what in (("add-publisher", "allow PUBLIC_KEY to publish"),
                       ("revoke-publisher", "stop PUBLIC_KEY from publishing, for good")):
        change = group.add_parser(verb, help=what, description=f"{what[0].upper()}{what[1:]} "
                                  "on the channel; only its admin may.")
        change.add_argument("public_key", metavar="PUBLIC_KEY",
                            help="Base64 of flag 0x00 + the 32-byte Ed25519 key")
        common.channel_arg(change)
        change.set_defaults(handler=_change, verb=verb)
    approvers = group.add_parser(
        "set-approvers", help="set who approves releases, and how many approvals they need",
        description="Replace the channel's approvers with ADDR... (Sui addresses, or public "
        "keys) and the approvals a release needs with K (0: none). With K > 0 a syncer "
        "applies only releases that K approvers approved (`syncer approve`). Approvals "
        "already recorded are kept.")
    approvers.add_argument("approvers", nargs="*", metavar="ADDR")
    approvers.add_argument("--threshold", type=int, required=True, metavar="K")
    common.channel_arg(approvers)
    approvers.set_defaults(handler=_set_approvers)
    show = group.add_parser("show", help="the channel's admin, publishers, approvers, head")
    common.channel_arg(show)
    show.add_argument("-o", "--output", choices=("text", "json", "yaml"), default="text")
    show.set_defaults(handler=_show)


def _create(args: argparse.Namespace) -> int:
    from syncer.backends import (  # noqa: PLC0415
        open_backends,
        publisher_key_or_new,
        select_profile,
        work_tree_config,
    )
    from syncer.channels import register_one  # noqa: PLC0415

    home = common.home(args)
    profile = select_profile(args.profile, home=home, repo=work_tree_config())
    key, created = publisher_key_or_new(profile, home=home)
    if created:
        print(f"created publisher key {home.key_file} (address {key.address})")
    backends = open_backends(profile, home=home)
    done = register_one(args.name, ledger=backends.ledger, key=key, home=home,
                        profile=backends.profile.name, publishers=args.publisher)
    print(f"channel {args.name}: registered (admin {key.address})")
    if done.record_id is not None:
        print(f"channel {args.name}: Registry {done.record_id} recorded in {done.recorded_in}")
    return 0


def _change(args: argparse.Namespace) -> int:
    from syncer.keys import address_of  # noqa: PLC0415

    key, backends = common.publishing(args)
    channel = common.pick_channel(args.channel, backends.ledger)
    change = backends.ledger.add_publisher if args.verb == "add-publisher" else \
        backends.ledger.revoke_publisher
    change(channel, admin=key, public_key=args.public_key)
    done = "added" if args.verb == "add-publisher" else "revoked"
    print(f"channel {channel}: publisher {address_of(args.public_key)} {done}")
    return 0


def _set_approvers(args: argparse.Namespace) -> int:
    key, backends = common.publishing(args)
    channel = common.pick_channel(args.channel, backends.ledger)
    listed = [_address(a) for a in args.approvers]
    backends.ledger.set_approvers(channel, admin=key, approvers=listed,
                                  threshold=args.threshold)
    policy = backends.ledger.approval_policy(channel)
    print(f"channel {channel}: approvers {', '.join(policy.approvers) or '-'}, threshold "
          f"{policy.threshold}" + ("" if policy.threshold else " (no approval needed)"))
    return 0


def _address(text: str) -> str:
    """An approver as an address: a public key is turned into its address."""
    from syncer.keys import address_of  # noqa: PLC0415

    return text if text.lower().startswith("0x") else address_of(text)


def _show(args: argparse.Namespace) -> int:
    from syncer.channels import describe  # noqa: PLC0415

    backends = common.backends(args)
    info = describe(common.pick_channel(args.channel, backends.ledger), ledger=backends.ledger)
    if args.output == "json":
        print(json.dumps(info_document(info), indent=2))
    elif args.output == "yaml":
        print(yamlsafe.dump(info_document(info), default_flow_style=False, sort_keys=False),
              end="")
    else:
        print("\n".join(info_lines(info)))
    return 0


def info_document(info: ChannelInfo) -> dict[str, Any]:
    head = info.head
    return {"channel": info.channel, "admin": info.admin, "record": info.record_id,
            "publishers": list(info.publishers), "approvers": list(info.approvers),
            "threshold": info.threshold,
            "head": None if head is None else {"seq": head.seq, "commit": head.commit,
                                               "blobId": head.blob_id}}


def info_lines(info: ChannelInfo) -> list[str]:
    head = info.head
    lines = [f"channel:    {info.channel}",
             f"admin:      {info.admin or 'the holder of the AdminCap'}"]
    if info.record_id:
        lines.append(f"registry:   {info.record_id}")
    lines += [f"publishers: {', '.join(info.publishers) or '-'}",
              f"approvers:  {', '.join(info.approvers) or '-'}",
              f"threshold:  {info.threshold}" + ("" if info.threshold else
                                                 " (no approval needed)"),
              "head:       " + (f"seq {head.seq}, commit {head.commit[:12]}, blob "
                                f"{head.blob_id}" if head else "no release yet")]
    return lines
