"""`syncer reconcile`: ask the controller to reconcile a Channel now, and maybe wait.

Sets the annotation `syncer.io/reconcile-requested-at` to the current time (server-side
apply as `syncer-cli`); the controller copies the value it handled to
`status.lastHandledReconcileAt`, which `--wait` polls for.
"""

from __future__ import annotations

import argparse

from syncer.commands import common
from syncer.commands.suspend import channel_args, connected

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("reconcile", help="ask the controller to reconcile a Channel now",
                       description="Set the Channel's syncer.io/reconcile-requested-at "
                       "annotation to the current time: the controller reconciles it at once "
                       "instead of at its next interval. With --wait, wait until the "
                       "controller has handled the request and print its Ready condition "
                       "(exit 1 when it is not Ready).")
    channel_args(p)
    p.add_argument("--wait", action="store_true",
                   help="wait until the controller has handled the request")
    p.add_argument("--timeout", default="5m",
                   help="with --wait: how long to wait (Go duration, default 5m)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer.channelres import now_requested, request_reconcile, wait_handled  # noqa: PLC0415
    from syncer.channelspec import parse_duration  # noqa: PLC0415
    from syncer.clock import SystemClock  # noqa: PLC0415

    timeout = parse_duration(args.timeout, where="--timeout")
    cluster, discovery = connected(args)
    clock = SystemClock()
    at = now_requested(clock)
    ref = f"Channel/{args.namespace}/{args.name}"
    request_reconcile(cluster, discovery, args.namespace, args.name, at=at)
    print(f"{ref}: reconcile requested at {at}")
    if not args.wait:
        return 0
    live = wait_handled(cluster, discovery, args.namespace, args.name, at=at, clock=clock,
                        timeout_s=timeout)
    return _report(ref, live)


def _report(ref: str, live: dict[str, object]) -> int:
    """The Ready condition the controller left: exit 0 when it is True, else 1."""
    status = live.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    ready = next((c for c in conditions or [] if isinstance(c, dict)
                  and c.get("type") == "Ready"), {})
    print(f"{ref}: handled; Ready {ready.get('status', 'unknown')} "
          f"({ready.get('reason', 'no condition')}): {ready.get('message', '')}".rstrip(": "))
    return 0 if ready.get("status") == "True" else 1
