"""`syncer hooks install` puts the pre-push hook in a repository; `syncer hooks pre-push` is
what that hook runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from syncer import output
from syncer.commands import common

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("hooks", help="install or run the git pre-push hook")
    group = p.add_subparsers(dest="hook_command", required=True, metavar="HOOK_COMMAND")
    install = group.add_parser("install", help="install the pre-push hook in a repository",
                               description="Write .git/hooks/pre-push so that each `git push` "
                               "of a branch that a channel follows publishes its tip.")
    common.repo_arg(install)
    install.add_argument("--force", action="store_true",
                         help="replace a pre-push hook that syncer did not write")
    install.set_defaults(handler=_install)
    run = group.add_parser("pre-push", help="what the installed hook runs (reads git's stdin)",
                           description="Read the pushed refs from stdin as git gives them to "
                           "a pre-push hook and publish the tip of every pushed branch that a "
                           "channel follows. A failure exits 2, which stops the push.")
    run.add_argument("remote", nargs="?", help="remote name (from git)")
    run.add_argument("url", nargs="?", help="remote URL (from git)")
    run.set_defaults(handler=_pre_push)


def _install(args: argparse.Namespace) -> int:
    from syncer import hooks  # noqa: PLC0415

    print(f"installed {hooks.install(args.repo, force=args.force)}")
    return 0


def _pre_push(args: argparse.Namespace) -> int:
    from syncer import hooks  # noqa: PLC0415

    pushed = hooks.pushed_branches(sys.stdin)
    for result in hooks.publish_pushed(Path("."), pushed, home=common.home(args),
                                       profile=args.profile):
        verb = "published" if result.created else "already published:"
        print(f"syncer: {verb} {output.release_line(result.release)}", file=sys.stderr)
    return 0
