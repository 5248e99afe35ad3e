"""The stand-in's ledger state: objects, events, transactions, checkpoints and the Clock.

Everything lives in memory behind one lock. Objects hold their Move value already in the
JSON form GraphQL answers with (`MoveValue.json`), so the views only copy it out. IDs made
outside transactions (genesis objects, the helpers tests call) are derived from a counter,
so the same set-up gives the same IDs, versions and digests every run: the golden
transaction tests rely on it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from syncer_standins.sui.encoding import (
    CLOCK_ID,
    base58_encode,
    blake2b256,
    canonical,
    canonical_type,
    derive_id,
    type_matches,
)

__all__ = [
    "CHAIN_IDENTIFIER",
    "CLOCK_TYPE",
    "GAS_COIN_TYPE",
    "GENESIS_DIGEST",
    "REFERENCE_GAS_PRICE",
    "Chain",
    "EventRecord",
    "Owner",
    "SuiObject",
    "TxRecord",
]

CHAIN_IDENTIFIER: Final = "4c78adac"
REFERENCE_GAS_PRICE: Final = 1000
GAS_COIN_TYPE: Final = canonical_type("0x2::coin::Coin<0x2::sui::SUI>")
CLOCK_TYPE: Final = canonical_type("0x2::clock::Clock")
GENESIS_DIGEST: Final = base58_encode(blake2b256(b"syncer sui stand-in genesis"))
_EPOCH: Final = 1
_START_MS: Final = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Owner:
    """Who owns an object: an address, everyone (shared since a version), or no one."""

    kind: str  # "AddressOwner" | "Shared" | "Immutable"
    address: str = ""
    initial_version: int = 0

    @classmethod
    def of(cls, address: str) -> Owner:
        return cls("AddressOwner", address=canonical(address))

    @classmethod
    def shared(cls, initial_version: int) -> Owner:
        return cls("Shared", initial_version=initial_version)


@dataclass
class SuiObject:
    """One live object; `contents` is its Move value as GraphQL renders it in JSON."""

    id: str
    type: str
    owner: Owner
    version: int
    contents: dict[str, Any]
    previous_tx: str
    has_public_transfer: bool = True

    @property
    def digest(self) -> str:
        body = json.dumps([self.id, self.version, self.type, self.contents], sort_keys=True)
        return base58_encode(blake2b256(body.encode()))


@dataclass(frozen=True)
class EventRecord:
    """One emitted event; `index` orders all events of the chain (it is also the cursor)."""

    index: int
    tx_digest: str
    type: str
    package: str
    module: str
    sender: str
    contents: dict[str, Any]
    timestamp_ms: int
    checkpoint: int


@dataclass
class TxRecord:
    """One executed transaction, with what its effects report."""

    digest: str
    tx_bytes: bytes
    signatures: list[str]
    sender: str
    success: bool
    checkpoint: int
    timestamp_ms: int
    lamport_version: int
    error: dict[str, Any] | None = None
    changes: list[tuple[str, SuiObject | None, SuiObject | None]] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    gas_coin: str = ""
    gas_used: dict[str, int] = field(default_factory=dict)


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Chain:
    """The whole state; take `lock()` around anything that reads several parts of it."""

    def __init__(self, *, clock: Callable[[], int] | None = None) -> None:
        self._lock = threading.RLock()
        self._clock = clock or _wall_clock_ms
        self.objects: dict[str, SuiObject] = {}
        self.events: list[EventRecord] = []
        self.transactions: dict[str, TxRecord] = {}
        self.checkpoint = 1
        self.checkpoint_ms = _START_MS
        self._minted = 0
        self._add_clock()

    @contextmanager
    def lock(self) -> Iterator[None]:
        with self._lock:
            yield

    @property
    def epoch(self) -> int:
        return _EPOCH

    def now_ms(self) -> int:
        """The Clock's time: never earlier than the last checkpoint's."""
        return max(self._clock(), self.checkpoint_ms)

    def next_checkpoint(self) -> tuple[int, int]:
        """Start a new checkpoint for a transaction; its sequence number and timestamp."""
        self.checkpoint += 1
        self.checkpoint_ms = self.now_ms()
        self.objects[CLOCK_ID].contents["timestamp_ms"] = str(self.checkpoint_ms)
        return self.checkpoint, self.checkpoint_ms

    def mint_id(self) -> str:
        """A fresh ID for an object made outside any transaction (deterministic)."""
        self._minted += 1
        return derive_id(GENESIS_DIGEST, self._minted)

    def put(self, obj: SuiObject) -> SuiObject:
        self.objects[obj.id] = obj
        return obj

    def get(self, object_id: str) -> SuiObject | None:
        try:
            return self.objects.get(canonical(object_id))
        except ValueError:
            return None

    def owned(self, owner: str | None, type_filter: str | None) -> list[SuiObject]:
        """Live objects by owner address and type filter, in ID order."""
        found = [
            obj for obj in self.objects.values()
            if (owner is None or (obj.owner.kind == "AddressOwner"
                                  and obj.owner.address == canonical(owner)))
            and (type_filter is None or type_matches(obj.type, type_filter))
        ]
        return sorted(found, key=lambda o: o.id)

    def genesis_object(self, type_: str, owner: Owner, contents: dict[str, Any]) -> SuiObject:
        """Create an object outside any transaction (version 1, or the shared version)."""
        object_id = self.mint_id()
        version = owner.initial_version or 1
        body = {"id": object_id, **contents}
        return self.put(SuiObject(object_id, canonical_type(type_), owner, version, body,
                                  GENESIS_DIGEST))

    def _add_clock(self) -> None:
        body = {"id": CLOCK_ID, "timestamp_ms": str(self.checkpoint_ms)}
        clock = SuiObject(CLOCK_ID, CLOCK_TYPE, Owner.shared(1), 1, body, GENESIS_DIGEST,
                          has_public_transfer=False)
        self.put(clock)
