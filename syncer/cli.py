"""The `syncer` command line: parser assembly, logging set-up and exit codes.

Each command lives in `syncer.commands`, one module per command or group. Exit codes for
every command: 0 ok, 1 changes or findings (`diff`, `doctor`, `history`, `audit`,
`explain`), 2 error. An error is one line on stderr naming the file, object or field;
`--debug` adds the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from syncer import __version__
from syncer.commands import (
    approve,
    audit,
    channel,
    common,
    diff,
    doctor,
    explain,
    history,
    hooks,
    init,
    install,
    policy,
    publish,
    reconcile_cmd,
    rollback,
    run,
    show,
    status,
    suspend,
    sync,
    watch,
)
from syncer.errors import SyncerError, cut
from syncer.logs import configure_logging

__all__ = ["build_parser", "main"]

_COMMANDS = (init, publish, rollback, sync, run, diff, history, show, doctor, hooks, install,
             status, suspend, reconcile_cmd, audit, explain, approve, channel,
             watch, policy)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose, fmt=args.log_format)
    try:
        handler: common.Handler = args.handler
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except SyncerError as e:
        return _failed(str(e), debug=args.debug)
    except Exception as e:  # a bug or an unmapped failure: still one line and exit 2
        return _failed(f"unexpected {type(e).__name__}: {cut(str(e), 200)} (run with --debug "
                       "for the traceback, and report it)", debug=args.debug)


def _failed(message: str, *, debug: bool) -> int:
    """Exit 2 with one line; --debug adds the traceback before it, never another code."""
    if debug:
        traceback.print_exc()
    print(f"syncer: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncer", description="GitOps for Kubernetes: releases recorded on a ledger "
        "(Sui, or the embedded local ledger), bundles stored by blob ID (Walrus, or the "
        "embedded local store), applied to a cluster with server-side apply.",
        epilog="Exit codes: 0 ok, 1 changes or findings (diff, doctor, history, audit, "
        "explain), 2 error.")
    parser.add_argument("--version", action="version", version=f"syncer {__version__}")
    common.global_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser
