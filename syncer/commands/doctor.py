"""`syncer doctor`: check, without writing, that the profile's backends and key work."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from syncer.commands import common

if TYPE_CHECKING:
    from syncer.cluster import Cluster

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("doctor", help="check that the profile's backends and key work",
                       description="Check, without writing anything, that the publisher key "
                       "loads and signs, that the ledger answers and every channel's history "
                       "verifies, that each head release's bundle can be fetched and verifies, "
                       "that Walrus keeps it for longer than blobstore.expiry_warning_days "
                       "(read from Sui), and with --cluster that the Kubernetes API answers. "
                       "Exit 0 when everything is fine, 1 when there are warnings or errors.")
    p.add_argument("--cluster", action="store_true", help="also check the cluster")
    common.cluster_args(p, inventory=False)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer import doctor  # noqa: PLC0415
    from syncer.backends import publisher_key  # noqa: PLC0415

    home = common.home(args)
    backends = common.backends(args)
    cluster = _cluster(args) if args.cluster else None
    findings = doctor.check_all(
        backends, key=lambda: publisher_key(backends.profile, home=home), cluster=cluster)
    for finding in findings:
        print(finding)
    return 0 if all(f.level is doctor.Level.OK for f in findings) else 1


def _cluster(args: argparse.Namespace) -> Cluster:
    from syncer.cluster import connect  # noqa: PLC0415

    return connect(kubeconfig=args.kubeconfig, context=args.context)
