"""`syncer diff`: what differs between any two of the live cluster, a release, a commit and
the work tree; a summary table then a unified diff per object, or a machine form, or (with
--pr) the Markdown of a pull request comment. Exit 0 when nothing differs, 1 when something
does (or a policy denies the side under review), 2 on error."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from syncer.commands import common

if TYPE_CHECKING:
    from syncer.reviewtext import ChannelReport, Line

__all__ = ["add_parser"]

_DESCRIPTION = """\
Compare two sides and print a summary table (kind, namespace, name, action, lines added
and removed), then a unified diff per object, as `kubectl diff` does. A side is:
  live              the cluster: what the API server would make of the other side
                    (server-side dry run), against what it holds
  worktree          the app repository's files on disk, committed or not
  @N, seq:N         release N of the channel (@head: its head release)
  REV, git:REV      a git commit (HEAD~1, a branch, a sha; git: when REV reads as
                    one of the words above)
No side: live against the head release (--seq N: release N). One side X: live against X
(what syncing X would change). Two: FROM against TO (`-` lines are FROM's). A commit or
the work tree is read, rendered and checked as `syncer publish` would (its syncer.yaml,
sources, the channel's values, the policies), and nothing is stored; two sides that are
not live need no cluster. Secret values are masked in every form.

--pr BASE..HEAD prints a Markdown report for a pull request comment instead: per channel
(--channel, else every channel of syncer.yaml), the summary table, the policy results of
HEAD and each object's diff in a collapsed block; BASE...HEAD compares from the merge
base, as the pull request shows it. No cluster needed.

Exit 0 when nothing differs, 1 when something does or a policy denies the side under
review, 2 on error."""

_EPILOG = """\
examples:
  syncer diff                        live -> head release (what a sync would change)
  syncer diff worktree               live -> the work tree
  syncer diff HEAD worktree          last commit -> uncommitted changes, no cluster
  syncer diff @3 @4 -o json          release 3 -> release 4, field by field
  syncer diff --pr main...HEAD       Markdown for a pull request comment"""

_STYLES = {"title": "bold", "header": "bold", "counts": "bold", "create": "green",
           "update": "yellow", "delete": "red", "deny": "bold red", "warn": "yellow",
           "file": "bold", "hunk": "cyan", "added": "green", "removed": "red"}


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("diff", help="show what differs between the cluster, a release, a "
                       "commit or the work tree", description=_DESCRIPTION, epilog=_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sides", nargs="*", metavar="SIDE",
                   help="FROM and TO: live, worktree, @N (seq:N), or a git revision")
    common.release_args(p)
    common.repo_arg(p)
    p.add_argument("--pr", metavar="BASE..HEAD",
                   help="a Markdown report of the range for a pull request comment")
    p.add_argument("-o", "--output", choices=("text", "json", "yaml"), default="text",
                   help="text (default), or a machine form listing every object and each "
                   "changed field with its old and new value")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colours: auto (on a terminal, unless $NO_COLOR is set), always, "
                   "never")
    p.add_argument("--allow-empty", action="store_true",
                   help="show a release with no objects pruning everything")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer import sides  # noqa: PLC0415
    from syncer.commands.diffsides import Reader  # noqa: PLC0415 - git, the renderer

    if args.pr:
        return _pull_request(args, sides.parse_range(args.pr))
    first, second = sides.pair(list(args.sides), seq=args.seq)
    compared = Reader(args).compare(first, second)
    if args.output != "text":
        from syncer.review import as_data  # noqa: PLC0415

        _dump(as_data(compared.review, sides=compared.sides), args.output)
    else:
        from syncer.reviewtext import lines  # noqa: PLC0415

        _print(lines(compared.review, title=compared.title), colour=_colour(args.color))
    return compared.review.exit_code


def _pull_request(args: argparse.Namespace, span: Any) -> int:
    from syncer.commands.diffsides import pr_reports  # noqa: PLC0415
    from syncer.reviewtext import markdown  # noqa: PLC0415

    reports, title = pr_reports(args, span)
    if args.output == "text":
        sys.stdout.write(markdown(reports, title=title))
    else:
        _dump({"title": title, "channels": [_report_data(r) for r in reports]}, args.output)
    if any(r.review is None for r in reports):
        return 2
    return max((r.review.exit_code for r in reports if r.review is not None), default=0)


def _report_data(report: ChannelReport) -> dict[str, Any]:
    from syncer.review import as_data  # noqa: PLC0415

    if report.review is None:
        return {"channel": report.channel, "error": report.error}
    return as_data(report.review)


def _dump(data: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        from syncer import yamlsafe  # noqa: PLC0415

        sys.stdout.write(yamlsafe.dump(data, sort_keys=False, default_flow_style=False,
                                       allow_unicode=True))


def _colour(choice: str) -> bool:
    """always, never, or auto: a terminal, unless $NO_COLOR is set or TERM is dumb."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def _print(found: list[Line], *, colour: bool) -> None:
    if not colour:
        sys.stdout.write("".join(f"{line.text}\n" for line in found))
        return
    from rich.console import Console  # noqa: PLC0415 - only when colours are on
    from rich.text import Text  # noqa: PLC0415

    console = Console(file=sys.stdout, force_terminal=True, no_color=False,
                      color_system="standard", highlight=False, soft_wrap=True)
    for line in found:
        console.print(Text(line.text, style=_STYLES.get(line.style, "")))
