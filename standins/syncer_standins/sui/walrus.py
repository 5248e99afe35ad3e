"""Walrus's books on the Sui stand-in: the Staking object and the Blob objects.

A real Walrus records on Sui what syncer's `walrus_lifetime` reads: the current epoch in the
`staking_inner::StakingInnerV1` behind the shared `staking::Staking` object (a dynamic field
named by the object's `version`), and each stored blob as a `blob::Blob` object owned by
whoever the publisher sent it to. `WalrusBooks` mirrors a `WalrusNetwork` of the Walrus
stand-in into the chain: it listens to the network and keeps those objects as the Move structs
of MystenLabs/walrus `contracts/walrus/sources` (commit 3c1cacc11c) would render them in
`MoveValue.json` (u8-u32 as numbers, u64 and u256 as strings, enums with `@variant`).

Simplifications: the Walrus package is a made-up address with no modules; a Blob object is
created and changed without transactions or events; shared blobs (`share=true`) are not
mirrored; the committee has one node holding every shard; the System object is absent.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from syncer_standins.sui.chain import GENESIS_DIGEST, Chain, Owner, SuiObject
from syncer_standins.sui.encoding import blake2b256, canonical
from syncer_standins.walrus.network import BlobRecord, WalrusNetwork

__all__ = ["DAY_MS", "STAKING_VERSION", "WALRUS_PACKAGE", "WalrusBooks"]

WALRUS_PACKAGE: Final = "0x" + blake2b256(b"walrus stand-in package").hex()
STAKING_VERSION: Final = 3
DAY_MS: Final = 86_400_000
_N_SHARDS: Final = 1000
_RS2: Final = 1  # encoding_type of RS2 in walrus::encoding


def _u256(blob_id: str) -> str:
    raw = base64.urlsafe_b64decode(blob_id + "=" * (-len(blob_id) % 4))
    return str(int.from_bytes(raw, "little"))


class WalrusBooks:
    """The Walrus objects of one `WalrusNetwork` on one chain; `staking_id` names the Staking."""

    def __init__(self, chain: Chain, network: WalrusNetwork, *,
                 epoch_duration_ms: int = DAY_MS) -> None:
        self.chain = chain
        self.package = WALRUS_PACKAGE
        self.duration_ms = epoch_duration_ms
        with chain.lock():
            ids = [chain.mint_id() for _ in range(4)]
            staking = chain.genesis_object(
                f"{self.package}::staking::Staking", Owner.shared(1),
                {"version": str(STAKING_VERSION), "package_id": self.package,
                 "new_package_id": None})
            self.staking_id = staking.id
            self.inner = self._inner(network.epoch, ids)
        network.watch(self)

    # --- what the network reports ----------------------------------------------------------

    def blob_changed(self, record: BlobRecord) -> None:
        if record.shared:
            return
        with self.chain.lock():
            object_id = canonical(record.object_id)
            old = self.chain.objects.get(object_id)
            version = old.version + 1 if old else 1
            self.chain.put(SuiObject(object_id, f"{self.package}::blob::Blob",
                                     Owner.of(record.owner), version, _blob_json(record),
                                     GENESIS_DIGEST))

    def epoch_changed(self, epoch: int) -> None:
        with self.chain.lock():
            self.inner["epoch"] = epoch
            self.inner["epoch_state"] = {"@variant": "EpochChangeDone",
                                         "pos0": str(self.chain.now_ms())}

    # --- what GraphQL serves --------------------------------------------------------------

    def dynamic_field(self, parent: str, key: int) -> tuple[str, dict[str, Any]] | None:
        """The Staking object's inner value (type and JSON), if `parent`/`key` name it."""
        if parent != self.staking_id or key != STAKING_VERSION:
            return None
        return f"{self.package}::staking_inner::StakingInnerV1", self.inner

    def _inner(self, epoch: int, ids: list[str]) -> dict[str, Any]:
        committee = {"pos0": {"contents": [{"key": ids[0], "value": list(range(_N_SHARDS))}]}}
        return {
            "n_shards": _N_SHARDS, "epoch_duration": str(self.duration_ms),
            "first_epoch_start": str(self.chain.now_ms()),
            "pools": {"id": ids[1], "size": "1"}, "epoch": epoch,
            "active_set": {"id": ids[2]}, "next_committee": None,
            "committee": committee, "previous_committee": committee,
            "next_epoch_params": None,
            "epoch_state": {"@variant": "EpochChangeDone", "pos0": str(self.chain.now_ms())},
            "next_epoch_public_keys": {"id": ids[3]},
        }


def _blob_json(record: BlobRecord) -> dict[str, Any]:
    """`walrus::blob::Blob` as `MoveValue.json` renders it."""
    body = record.blob_object()
    storage = body["storage"]
    return {
        "id": canonical(record.object_id), "registered_epoch": record.registered_epoch,
        "blob_id": _u256(record.blob_id), "size": str(len(record.data)),
        "encoding_type": _RS2, "certified_epoch": record.registered_epoch,
        "storage": {"id": canonical(storage["id"]), "start_epoch": storage["startEpoch"],
                    "end_epoch": storage["endEpoch"],
                    "storage_size": str(storage["storageSize"])},
        "deletable": not record.permanent,
    }
