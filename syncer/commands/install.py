"""`syncer install`: syncer's own install (templates/syncer), printed or applied."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncer.commands import common

if TYPE_CHECKING:
    from syncer.model import ChangeSet
    from syncer.reconcile import Loaded

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("install", help="print or apply syncer's own install",
                       description="Render syncer's own install (its Namespace, the Channel "
                       "CRD, its ServiceAccount and least-privilege RBAC, the Deployment of "
                       "`syncer run` and its profiles) and print it, or with --apply apply "
                       "it as any release is applied: as the channel syncer-install, with "
                       "dry runs first, CRDs established before the rest, and what a newer "
                       "install no longer has pruned. Its inventory is kept in the syncer's "
                       "namespace.")
    p.add_argument("--values", type=Path, metavar="FILE",
                   help="YAML values overriding the defaults, key by key (the keys of "
                   "templates/syncer/_values.yaml; any other is refused)")
    p.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml",
                   help="how to print it: yaml (default), one document per object in apply "
                   "order, or json, a v1 List")
    p.add_argument("--apply", action="store_true",
                   help="apply it to the cluster instead of printing it")
    p.add_argument("--dry-run", action="store_true",
                   help="with --apply: print what would change, change nothing")
    common.cluster_args(p, inventory=False)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer import install  # noqa: PLC0415

    overrides = install.load_values_file(args.values) if args.values else {}
    loaded = install.build(overrides, where=str(args.values or "values"))
    if args.apply:
        return _apply(args, loaded)
    print(_printed(install.manifests(loaded), args.output), end="")
    return 0


def _printed(objects: list[dict[str, Any]], form: str) -> str:
    from syncer import output  # noqa: PLC0415

    if form == "json":
        document = {"apiVersion": "v1", "kind": "List", "items": objects}
        return json.dumps(document, indent=2) + "\n"
    return output.manifests(objects)


def _apply(args: argparse.Namespace, loaded: Loaded) -> int:
    from syncer import __version__, install, output  # noqa: PLC0415
    from syncer.cluster import connect  # noqa: PLC0415
    from syncer.errors import ClusterError  # noqa: PLC0415

    cluster = connect(kubeconfig=args.kubeconfig, context=args.context)
    print(f"syncer {__version__} into namespace {loaded.namespace} "
          f"(channel {loaded.release.channel})")
    try:
        result = install.apply(cluster, loaded, dry_run=args.dry_run)
    except ClusterError as e:  # what it wrote before it stopped, then the error's line
        for line in e.applied + e.pruned:
            print(f"  written   {line}")
        raise
    changes: ChangeSet = result.observed.changes
    for line in output.change_lines(changes, dry_run=args.dry_run):
        print(line)
    print(output.summary(changes, dry_run=args.dry_run))
    return 0
