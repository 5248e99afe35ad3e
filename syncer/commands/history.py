"""`syncer history`: every release of a channel, verified, with its commit and author."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import TYPE_CHECKING

from syncer import output
from syncer.bundle import unpack
from syncer.commands import common
from syncer.errors import SyncerError

if TYPE_CHECKING:
    from syncer.blobstore import BlobStore
    from syncer.model import Release

__all__ = ["add_parser"]

log = logging.getLogger(__name__)


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("history", help="list a channel's releases",
                       description="Every release of the channel, oldest first: seq, time, "
                       "commit, the commit's author (from the verified bundle), publisher and "
                       "blob ID; on a channel with approvers, each release's approvals n/k and "
                       "who gave them. The ledger's signatures and hash chain are verified; an "
                       "edited or removed entry is an error naming its seq. Exit 1 when a "
                       "release's bundle cannot be fetched or does not verify.")
    common.channel_arg(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    backends = common.backends(args)
    ledger = backends.ledger
    channel = common.pick_channel(args.channel, ledger)
    releases = ledger.history(channel)
    policy = ledger.approval_policy(channel)
    rows = [_row(r, backends.blobs) for r in releases]
    approved = {r.seq: tuple(ledger.approvals(channel, r.seq)) for r in releases} \
        if policy.approvers or policy.threshold else {}
    rows = [dataclasses.replace(row, approvals=approved.get(row.release.seq, ()))
            for row in rows]
    for line in output.history_table(rows, threshold=policy.threshold if approved else None):
        print(line)
    return 1 if any(row.problem for row in rows) else 0


def _row(release: Release, blobs: BlobStore) -> output.HistoryRow:
    try:
        data = blobs.get(release.blob_id, sha256=release.sha256)
        return output.HistoryRow(release, unpack(data).manifest)
    except SyncerError as e:
        log.warning("bundle unavailable", extra={"seq": release.seq, "error": str(e)})
        return output.HistoryRow(release, None, problem=e.message)
