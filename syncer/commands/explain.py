"""`syncer explain KIND/NS/NAME`: the chain behind a live object; exit 1 if syncer did not
write it."""

from __future__ import annotations

import argparse

from syncer.commands import common

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("explain", help="show where a live object comes from",
                       description="Read the object from the cluster and follow what the "
                       "sync wrote on it (label syncer.io/channel, annotations "
                       "syncer.io/release and syncer.io/blob-id) to the ledger: channel, "
                       "release, commit, author and message, publisher, time, blob ID and "
                       "whether the blob verifies, approvals, and which managers own the "
                       "object's fields. Exit 0 when the chain is whole, 1 when the object is "
                       "not managed by syncer or a link does not hold, 2 on error (an object "
                       "the cluster does not hold included).")
    p.add_argument("object", metavar="KIND/NS/NAME",
                   help="the object: KIND/NAMESPACE/NAME, or KIND/NAME when cluster-scoped; "
                   "KIND is a kind or resource name in any case (ConfigMap, configmaps; not a "
                   "short name such as cm), optionally KIND.GROUP")
    common.cluster_args(p, inventory=False)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer.cluster import connect  # noqa: PLC0415
    from syncer.explain import explain, explanation_lines, parse_target  # noqa: PLC0415

    target = parse_target(args.object)
    backends = common.backends(args)
    cluster = connect(kubeconfig=args.kubeconfig, context=args.context)
    found = explain(target, cluster=cluster, ledger=backends.ledger, blobs=backends.blobs)
    print("\n".join(explanation_lines(found)))
    return 0 if found.managed and not found.problems else 1
