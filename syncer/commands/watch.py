"""`syncer watch`: the dev loop. Every change in the work tree is bundled, rendered, checked
against the policies and compared with the live cluster (or the head release), as
`syncer diff worktree` does, with one compact line per change; Ctrl-C ends it (exit 0)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from syncer.commands import common

if TYPE_CHECKING:
    from syncer.devloop import Outcome
    from syncer.review import Review

__all__ = ["add_parser", "checker", "outcome_line", "summary"]

_SHOWN_OBJECTS = 3


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("watch", help="re-render and diff the work tree on every change",
                       description="Watch the app repository's work tree. On every change "
                       "(debounced), bundle its deploy sources as publish would, render them "
                       "for the channel, run the policies, and compare with the live cluster "
                       "(what the API server would make of them: a server-side dry run, as "
                       "`syncer diff worktree` does), or with the channel's head release "
                       "(--no-cluster). One line per change: the objects that would change, "
                       "the policy verdict and how long it took; an error (a broken template, "
                       "bad YAML) is one line too, and the watch goes on. Nothing is stored, "
                       "recorded or applied. Ctrl-C ends it (exit 0).")
    common.channel_arg(p)
    common.repo_arg(p)
    common.cluster_args(p)
    p.add_argument("--no-cluster", action="store_true",
                   help="compare with the channel's head release instead of the cluster")
    p.add_argument("--diff", action="store_true",
                   help="print each changed object's unified diff under its line")
    p.add_argument("--debounce", type=float, default=0.1, metavar="SECONDS",
                   help="wait this long after a change for the next before checking "
                   "(default 0.1)")
    # what `syncer diff`'s reader (`diffsides.Reader`) reads of its own options
    p.set_defaults(handler=run, allow_empty=False, output="text")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415

    from syncer import devloop  # noqa: PLC0415
    from syncer.gitsource import open_repo  # noqa: PLC0415

    root = Path(str(open_repo(args.repo).working_tree_dir))
    _interruptible()
    check = checker(args)
    against = "the head release" if args.no_cluster else "the live cluster"
    print(f"watching {root} against {against} (Ctrl-C to stop)", flush=True)
    options = devloop.LoopOptions(debounce=args.debounce)
    with devloop.watching(root) as changes:
        try:
            devloop.run(changes.queue, check, _printer(), stop=threading.Event(),
                        options=options)
        except KeyboardInterrupt:
            print("stopped", flush=True)
    return 0


def _interruptible() -> None:
    """Let Ctrl-C end the loop even if whatever started this process blocked or ignored
    SIGINT: both are inherited across exec (a test runner's worker did, once), and Python
    then never raises KeyboardInterrupt."""
    if threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.default_int_handler)


def checker(args: argparse.Namespace) -> Callable[[], str]:
    """One check of the work tree: `syncer diff worktree`'s comparison, summed up."""
    from syncer.commands.diffsides import Reader  # noqa: PLC0415
    from syncer.reviewtext import text  # noqa: PLC0415
    from syncer.sides import LIVE, Kind, Side  # noqa: PLC0415

    reader = Reader(args)  # the repository and the backends are opened once
    first = Side(Kind.RELEASE) if args.no_cluster else LIVE

    def check() -> str:
        found = reader.compare(first, Side(Kind.WORKTREE)).review
        details = text(found).rstrip("\n") if args.diff and found.changed else ""
        return summary(found) + ("\n" + details if details else "")

    return check


def summary(found: Review) -> str:
    """`1 to update (ConfigMap/shop-dev/shop-config), 3 unchanged; policy: ok`."""
    counts = found.counts()
    parts = [f"{counts[v]} to {v}" for v in ("create", "update", "delete") if counts[v]]
    if counts["blocked"]:
        parts.append(f"{counts['blocked']} blocked")
    named = ", ".join(str(o.ref) for o in found.changed[:_SHOWN_OBJECTS])
    more = len(found.changed) - _SHOWN_OBJECTS
    changed = (", ".join(parts) + f" ({named}{f', +{more} more' if more > 0 else ''})"
               if parts else "no change")
    return f"{changed}, {counts['unchanged']} unchanged; policy: {_policy(found)}"


def _policy(found: Review) -> str:
    if not found.findings:
        return "ok"
    denied = [f for f in found.findings if f.denies]
    first = denied[0] if denied else found.findings[0]
    counts = f"{len(denied)} deny, {len(found.findings) - len(denied)} warn"
    return f"{counts}: {first.message}"


def outcome_line(outcome: Outcome, *, now: float | None = None) -> str:
    """`12:04:31 ok    values/common.yaml: 1 to update (...); policy: ok (84 ms)`."""
    clock = time.strftime("%H:%M:%S", time.localtime(now if now is not None else time.time()))
    where = ", ".join(outcome.paths) or "start"
    head, _, rest = outcome.summary.partition("\n")
    status = "ok   " if outcome.ok else "error"
    line = f"{clock} {status} {where}: {head} ({outcome.seconds * 1000:.0f} ms)"
    return line + ("\n" + rest if rest else "")


def _printer() -> Callable[[Outcome], None]:
    def emit(outcome: Outcome) -> None:
        print(outcome_line(outcome), flush=True)
        sys.stdout.flush()

    return emit
