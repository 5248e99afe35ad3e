"""`syncer publish`: a commit as a release on its channels; `--refresh SEQ` stores a
release's bundle again so that Walrus keeps it longer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from syncer import output
from syncer.commands import common
from syncer.config import CONFIG_FILE

if TYPE_CHECKING:
    from syncer.publish import Refreshed

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("publish", help="publish a commit as a release",
                       description="Bundle the deploy sources of a commit (read from the "
                       "commit, not the work tree), check that every target channel renders "
                       "and keeps the rules, store the bundle by its blob ID and record one "
                       "release per channel. Publishing the commit that is already a "
                       "channel's head does nothing.")
    common.repo_arg(p)
    p.add_argument("--commit", default="HEAD", help="the commit to publish (default HEAD)")
    p.add_argument("--channel", action="append", default=[],
                   help="a channel to publish to (repeatable; default: the channels whose "
                   "branch is the current branch, or the only channel)")
    p.add_argument("--branch", help="publish to the channels following this branch")
    p.add_argument("--allow-empty", action="store_true",
                   help="publish even if a channel renders no objects")
    p.add_argument("--refresh", type=int, metavar="SEQ",
                   help="instead of publishing, store release SEQ's bundle again (same bytes, "
                   "same blob ID) so that Walrus keeps it for the configured epochs, on every "
                   "--channel given; a blob Walrus no longer serves is rebuilt from its "
                   "commit in --repo")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return _refresh(args) if args.refresh is not None else _publish(args)


def _publish(args: argparse.Namespace) -> int:
    from syncer.gitsource import open_repo  # noqa: PLC0415
    from syncer.publish import PublishOptions, publish  # noqa: PLC0415

    repo = open_repo(args.repo)
    branch = args.branch
    if branch is None and not args.channel and not repo.head.is_detached:
        branch = repo.active_branch.name
    options = PublishOptions(rev=args.commit, channels=tuple(args.channel), branch=branch,
                             allow_empty=args.allow_empty)
    key, backends = common.publishing(args, config=Path(repo.working_dir) / CONFIG_FILE)
    for result in publish(repo, key=key, blobs=backends.blobs, ledger=backends.ledger,
                          options=options):
        rel = result.release
        if result.created:
            print(f"published {output.release_line(rel)}")
        else:
            print(f"{rel.channel}: commit {rel.commit[:12]} is already release {rel.seq} "
                  "(nothing to do)")
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from syncer.backends import (  # noqa: PLC0415
        blob_owner,
        open_backends,
        select_profile,
        work_tree_config,
    )
    from syncer.publish import refresh  # noqa: PLC0415

    home = common.home(args)
    profile = select_profile(args.profile, home=home,
                             repo=work_tree_config(args.repo / CONFIG_FILE))
    backends = open_backends(profile, home=home, blob_owner=blob_owner(profile, home=home))
    for channel in common.channels(args.channel, backends.ledger):
        release = backends.ledger.release(channel, args.refresh)
        print(_refreshed_line(refresh(release, blobs=backends.blobs, repo=args.repo)))
    return 0


def _refreshed_line(done: Refreshed) -> str:
    stored = done.stored
    until = f" until epoch {stored.end_epoch}" if stored.end_epoch is not None else ""
    how = " (rebuilt from its commit)" if done.rebuilt else ""
    return f"refreshed blob {stored.blob_id} of {output.release_line(done.release)}{until}{how}"
