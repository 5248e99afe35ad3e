"""What the Walrus stand-in stores: blobs by their real blob ID, their lifetimes, the epoch.

`WalrusNetwork.store` decides, as the publisher's spec describes, between `alreadyCertified`
(certified and stored for at least the intended duration) and `newlyCreated` (registered
from scratch, or an existing blob extended), and returns the camelCase JSON body.

A real Walrus keeps its books on Sui. A `NetworkListener` (`watch`) hears each change those
books would see: a Blob object registered or extended, the epoch advanced; the Sui stand-in
uses it to serve the Walrus Staking and Blob objects (`syncer_standins.sui.walrus`). The Blob
object of a store belongs to `send_object_to`, else to the publisher's own `wallet`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import pysui_fastcrypto

__all__ = ["PUBLISHER_WALLET", "BlobRecord", "NetworkListener", "StoreRequest", "WalrusNetwork",
           "cached_blob_id", "encoded_length"]

MAX_EPOCHS_AHEAD = 53
N_SHARDS = 1000  # as on Mainnet and Testnet
STORAGE_UNIT = 1024 * 1024  # storage is bought in 1 MiB units of encoded size
PRICE_PER_UNIT_EPOCH = 100  # FROST, as in `walrus info` of the docs
PRICE_PER_WRITE = 2000  # FROST per unit, once per write
_PRIMARY, _SECONDARY = 334, 667  # source symbols of RS2 with 1000 shards (n - 2f, n - f)
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
PUBLISHER_WALLET = "0x" + hashlib.sha256(b"walrus stand-in publisher wallet").hexdigest()


@functools.lru_cache(maxsize=128)
def cached_blob_id(data: bytes) -> str:
    """The blob ID Walrus gives `data`: the RedStuff encoding's on 1000 shards, base64url
    without padding. Computed once per content in this process (it costs ~0.7 s)."""
    raw = bytes(pysui_fastcrypto.redstuff_encode(data, N_SHARDS).blob_id)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encoded_length(size: int) -> int:
    """Encoded size of a blob of `size` bytes on 1000 shards: sliver pairs plus metadata."""
    symbol = max(2, -(-size // (_PRIMARY * _SECONDARY)))
    symbol += symbol % 2
    return N_SHARDS * ((_PRIMARY + _SECONDARY) * symbol + 64 * N_SHARDS + 32)


def _units(size: int) -> int:
    return -(-encoded_length(size) // STORAGE_UNIT)


def _hex_id(*parts: object) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _base58(raw: bytes) -> str:
    number, text = int.from_bytes(raw, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = _B58[digit] + text
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + text


@dataclass(frozen=True)
class StoreRequest:
    """The parts of `PUT /v1/blobs` that change the outcome."""

    data: bytes
    epochs: int = 1
    permanent: bool = False
    force: bool = False
    send_object_to: str | None = None
    share: bool = False


@dataclass
class BlobRecord:
    """One stored blob as its Sui `Blob` object would describe it."""

    blob_id: str
    data: bytes
    object_id: str
    registered_epoch: int
    end_epoch: int
    permanent: bool
    owner: str
    shared: bool
    tx_digest: str

    def blob_object(self) -> dict[str, Any]:
        return {
            "id": self.object_id, "registeredEpoch": self.registered_epoch,
            "blobId": self.blob_id, "size": len(self.data), "encodingType": "RS2",
            "certifiedEpoch": self.registered_epoch,
            "storage": {"id": _hex_id("storage", self.object_id, self.end_epoch),
                        "startEpoch": self.registered_epoch, "endEpoch": self.end_epoch,
                        "storageSize": encoded_length(len(self.data))},
            "deletable": not self.permanent,
        }


class NetworkListener(Protocol):
    """Hears what Walrus would write to Sui; called under the network's lock."""

    def blob_changed(self, record: BlobRecord) -> None: ...

    def epoch_changed(self, epoch: int) -> None: ...


class WalrusNetwork:
    """The blobs and the epoch shared by every publisher and aggregator of one test."""

    def __init__(self, *, epoch: int = 1, max_epochs: int = MAX_EPOCHS_AHEAD,
                 wallet: str = PUBLISHER_WALLET) -> None:
        self._epoch = epoch
        self.max_epochs = max_epochs
        self.wallet = wallet
        self._blobs: dict[str, BlobRecord] = {}
        self._writes = 0
        self._lock = threading.Lock()
        self._listeners: list[NetworkListener] = []

    def watch(self, listener: NetworkListener) -> None:
        """Tell `listener` of every blob now stored and every change from now on."""
        with self._lock:
            self._listeners.append(listener)
            for record in self._blobs.values():
                listener.blob_changed(record)

    @property
    def epoch(self) -> int:
        """The current epoch; set it (or `advance`) to let time pass."""
        return self._epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        with self._lock:
            self._set_epoch(value)

    def advance(self, epochs: int = 1) -> int:
        with self._lock:
            self._set_epoch(self._epoch + epochs)
            return self._epoch

    def _set_epoch(self, value: int) -> None:
        self._epoch = value
        for listener in self._listeners:
            listener.epoch_changed(value)

    def _changed(self, record: BlobRecord) -> None:
        for listener in self._listeners:
            listener.blob_changed(record)

    def blob(self, blob_id: str) -> BlobRecord | None:
        """The record of `blob_id`, expired or not."""
        with self._lock:
            return self._blobs.get(blob_id)

    def read(self, blob_id: str) -> bytes | None:
        """The bytes of `blob_id`; None when unknown or expired (end epoch is exclusive)."""
        with self._lock:
            record = self._blobs.get(blob_id)
            alive = record is not None and record.end_epoch > self._epoch
            return record.data if record is not None and alive else None

    def store(self, request: StoreRequest) -> dict[str, Any]:
        """Store as a publisher does; the body of the 200 answer (`BlobStoreResult`)."""
        blob_id = cached_blob_id(request.data)
        with self._lock:
            record, end = self._blobs.get(blob_id), self._epoch + request.epochs
            alive = record is not None and record.end_epoch > self._epoch
            if record is None or not alive or request.force:
                return self._register(blob_id, request, end)
            if record.end_epoch >= end:
                return {"alreadyCertified": self._certified(record)}
            return self._extend(record, end)

    def _certified(self, record: BlobRecord) -> dict[str, Any]:
        if record.permanent:
            where: dict[str, Any] = {"event": {"txDigest": record.tx_digest, "eventSeq": "0"}}
        else:  # deletable and owned: the object ID stands in for the event
            where = {"object": record.object_id}
        return {"blobId": record.blob_id, **where, "endEpoch": record.end_epoch}

    def _register(self, blob_id: str, request: StoreRequest, end: int) -> dict[str, Any]:
        self._writes += 1
        record = BlobRecord(
            blob_id, request.data, _hex_id("blob", blob_id, self._writes), self._epoch, end,
            request.permanent, request.send_object_to or self.wallet, request.share,
            _base58(hashlib.sha256(b"tx%d" % self._writes).digest()))
        self._blobs[blob_id] = record
        self._changed(record)
        size = len(request.data)
        operation = {"registerFromScratch": {"encodedLength": encoded_length(size),
                                             "epochsAhead": request.epochs}}
        cost = _units(size) * (PRICE_PER_UNIT_EPOCH * request.epochs + PRICE_PER_WRITE)
        return self._created(record, operation, cost)

    def _extend(self, record: BlobRecord, end: int) -> dict[str, Any]:
        extended, record.end_epoch = end - record.end_epoch, end
        self._changed(record)
        size = len(record.data)
        operation = {"reuseAndExtend": {"encodedLength": encoded_length(size),
                                        "epochsExtended": extended}}
        return self._created(record, operation, _units(size) * PRICE_PER_UNIT_EPOCH * extended)

    def _created(self, record: BlobRecord, operation: dict[str, Any],
                 cost: int) -> dict[str, Any]:
        created: dict[str, Any] = {"blobObject": record.blob_object(),
                                   "resourceOperation": operation, "cost": cost}
        if record.shared:
            created["sharedBlobObject"] = _hex_id("shared", record.object_id)
        return {"newlyCreated": created}
