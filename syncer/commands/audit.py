"""`syncer audit`: every release of a channel checked again; exit 1 on any finding."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from syncer.commands import common

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("audit", help="check every release of a channel again",
                       description="Walk every release of the channel: fetch its bundle, "
                       "check its SHA-256 and its Walrus blob ID (computed again from the "
                       "bytes), the ledger's signatures and chain, that the commit is in the "
                       "git repository and that its deploy sources are the bundle's files, and "
                       "(on Walrus, with blobstore.staking_object set) that the blob has not "
                       "expired. Prints a table, or JSON with --json. Exit 0 when every check "
                       "passes, 1 on any failure (each named with its release and reason), "
                       "2 on error.")
    common.channel_arg(p)
    p.add_argument("--repo", type=Path, default=Path("."),
                   help="the app repository holding the releases' commits (default: the "
                   "current one)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--workers", type=_workers, default=4, metavar="N",
                   help="blobs fetched and verified at once (default 4)")
    p.set_defaults(handler=run)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 16:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to 16")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from syncer.audit import AuditOptions, audit, report_json, report_lines  # noqa: PLC0415
    from syncer.backends import walrus_lifetime  # noqa: PLC0415
    from syncer.gitsource import open_repo  # noqa: PLC0415

    repo = open_repo(args.repo)
    backends = common.backends(args)
    channel = common.pick_channel(args.channel, backends.ledger)
    owner = backends.profile.setting("blobstore", "send_object_to")
    options = AuditOptions(workers=args.workers, lifetime=walrus_lifetime(backends.profile),
                           owners=(str(owner),) if owner else ())
    report = audit(channel, ledger=backends.ledger, blobs=backends.blobs, repo=repo,
                   options=options)
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print("\n".join(report_lines(report)))
    return 0 if report.ok else 1
