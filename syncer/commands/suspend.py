"""`syncer suspend` and `syncer resume`: set a Channel's `spec.suspend`.

Written with server-side apply as field manager `syncer-cli`, so that only `spec.suspend`
changes hands: the fields kubectl or a GitOps tool applied stay theirs. Shared with
`syncer reconcile`: the Channel arguments and the cluster they name.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from syncer.commands import common

if TYPE_CHECKING:
    from syncer.cluster import Discovery, KubeCluster

__all__ = ["add_parser", "channel_args", "connected"]


def add_parser(sub: common.Subparsers) -> None:
    for command, suspend, text in (
            ("suspend", True, "stop applying a Channel's releases, drift repairs included"),
            ("resume", False, "apply a suspended Channel's releases again")):
        p = sub.add_parser(command, help=text, description=f"{text[0].upper()}{text[1:]}: "
                           f"sets spec.suspend to {str(suspend).lower()} (server-side apply "
                           "as field manager syncer-cli; the other spec fields are left to "
                           "whoever manages them).")
        channel_args(p)
        p.set_defaults(handler=run, suspend=suspend)


def channel_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the Channel resource's name")
    parser.add_argument("-n", "--namespace", default="syncer-system",
                        help="its namespace (default syncer-system)")
    common.cluster_args(parser, inventory=False)


def connected(args: argparse.Namespace) -> tuple[KubeCluster, Discovery]:
    """The cluster that --kubeconfig and --context name, and what it serves."""
    from syncer.cluster import connect  # noqa: PLC0415

    cluster = connect(kubeconfig=args.kubeconfig, context=args.context)
    return cluster, cluster.discover()


def run(args: argparse.Namespace) -> int:
    from syncer.channelres import set_suspend  # noqa: PLC0415

    cluster, discovery = connected(args)
    set_suspend(cluster, discovery, args.namespace, args.name, args.suspend)
    state = "suspended" if args.suspend else "resumed"
    print(f"Channel/{args.namespace}/{args.name} {state}")
    return 0
