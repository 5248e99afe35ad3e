"""`syncer status`: the Channels of a namespace, or of all, and what the controller did."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from syncer import yamlsafe
from syncer.commands import common
from syncer.errors import cut

__all__ = ["Row", "add_parser", "row", "table"]

_HEADER = ("NAME", "CHANNEL", "HEAD", "APPLIED", "HEALTH", "READY", "SUSPENDED", "LAST ERROR")
_ERROR_WIDTH = 60


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("status", help="show the Channels the controller follows",
                       description="The Channel resources of a namespace (or of all), from "
                       "their status: the channel's head, the release last applied, its "
                       "health, the Ready condition, whether it is suspended and the error "
                       "that keeps it from Ready; on a channel that needs approvals, the head "
                       "waiting for them (PENDING: seq and approvals n/k; -o yaml shows who "
                       "approved and what applying it would change).")
    p.add_argument("-n", "--namespace", default="syncer-system",
                   help="the Channels' namespace (default syncer-system)")
    p.add_argument("-A", "--all-namespaces", action="store_true",
                   help="the Channels of every namespace")
    p.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table",
                   help="table (default), or each Channel's summary and status as JSON or "
                   "YAML")
    common.cluster_args(p, inventory=False)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer.channelspec import channel_resource  # noqa: PLC0415
    from syncer.cluster import connect  # noqa: PLC0415

    cluster = connect(kubeconfig=args.kubeconfig, context=args.context)
    namespace = "" if args.all_namespaces else args.namespace
    objects = cluster.list_objects(channel_resource(cluster.discover()), namespace=namespace,
                                   selector="")
    rows = sorted((row(o) for o in objects), key=lambda r: (r.namespace, r.name))
    if args.output != "table":
        print(_document(rows, objects, fmt=args.output))
    elif rows:
        print("\n".join(table(rows, namespaces=args.all_namespaces)))
    else:
        where = "any namespace" if args.all_namespaces else f"namespace {args.namespace}"
        print(f"no Channels in {where}", file=sys.stderr)
    return 0


@dataclass(frozen=True)
class Row:
    """What `syncer status` shows of one Channel ("" where its status says nothing yet)."""

    namespace: str
    name: str
    channel: str
    head: str
    applied: str
    health: str
    ready: str
    suspended: bool
    last_error: str
    pending: str = ""  # the head waiting for approvals: `3 (1/2)`


def row(obj: Mapping[str, Any]) -> Row:
    """The row of a Channel object, read leniently: a Channel the controller refuses shows."""
    meta, spec = _map(obj, "metadata"), _map(obj, "spec")
    status = _map(obj, "status")
    ready = _ready(status)
    error = str(ready.get("message", "")) if ready.get("status") == "False" else ""
    return Row(str(meta.get("namespace", "")), str(meta.get("name", "")),
               str(spec.get("channel") or meta.get("name", "")),
               _seq(_map(status, "head")), _seq(_map(status, "lastApplied")),
               str(status.get("health", "")), str(ready.get("status", "")),
               spec.get("suspend") is True, error, _pending(_map(status, "pending")))


def _map(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def _ready(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return condition
    return {}


def _pending(found: Mapping[str, Any]) -> str:
    if "seq" not in found:
        return ""
    return f"{found['seq']} ({found.get('approvals', '?')}/{found.get('threshold', '?')})"


def _seq(found: Mapping[str, Any]) -> str:
    return str(found["seq"]) if "seq" in found else ""


def table(rows: Sequence[Row], *, namespaces: bool = False) -> list[str]:
    """The rows under a header, columns padded; NAMESPACE first when `namespaces`, PENDING
    after APPLIED when a Channel's head waits for approvals."""
    pending = any(r.pending for r in rows)
    header = (("NAMESPACE",) if namespaces else ()) + _columns(_HEADER, pending)
    lines = [header, *((*((r.namespace,) if namespaces else ()),
                        *_columns(_cells(r), pending, r.pending or "-")) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in lines]


def _columns(cells: tuple[str, ...], pending: bool, value: str = "PENDING"
             ) -> tuple[str, ...]:
    """`cells` with the PENDING column after APPLIED (the fourth), when shown."""
    return (*cells[:4], value, *cells[4:]) if pending else cells


def _cells(r: Row) -> tuple[str, ...]:
    return (r.name, r.channel, r.head or "-", r.applied or "-", r.health or "-",
            r.ready or "-", "true" if r.suspended else "false", cut(r.last_error, _ERROR_WIDTH))


def _document(rows: Sequence[Row], objects: Sequence[Mapping[str, Any]], *, fmt: str) -> str:
    by_name = {(str(_map(o, "metadata").get("namespace")), str(_map(o, "metadata").get(
        "name"))): _map(o, "status") for o in objects}
    items = [{**asdict(r), "status": dict(by_name.get((r.namespace, r.name), {}))}
             for r in rows]
    if fmt == "json":
        return json.dumps({"channels": items}, indent=2)
    return yamlsafe.dump({"channels": items}, default_flow_style=False, sort_keys=False)
