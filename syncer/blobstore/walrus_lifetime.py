"""How long a blob lives on Walrus, read from Sui, where Walrus keeps its books.

The Walrus HTTP API cannot tell a blob's end epoch or the current epoch without storing, so
both are read from Sui over GraphQL (`MoveValue.json` in Sui's GraphQL schema):

* the current epoch, its duration and when it started: the Walrus `Staking` shared object
  (one per network; `staking_object` in the Walrus client configs) and its versioned inner
  value, the dynamic field named by the `version` u64, a `staking_inner::StakingInnerV1`
  with `epoch`, `epoch_duration` (ms) and `epoch_state` (`EpochChangeDone(ts)` or
  `NextParamsSelected(ts)` carry the epoch's start; `EpochChangeSync` does not);
* a blob's end epoch: the `blob::Blob` objects that carry its blob ID (a u256, little-endian)
  among the objects of the addresses given. Walrus has no index from blob ID to object, so
  the caller names the owners it expects: the publishers, who receive the Blob objects
  through `send_object_to`. The blob lives until the latest `storage.end_epoch` (exclusive)
  of its certified objects.

The type of Blob objects is taken from the Staking object's own type: both are defined by the
package that first published Walrus, whatever its upgrades. `expiry` is the pure part.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from syncer.errors import BlobStoreError, cut
from syncer.httpcap import Oversize, read_capped
from syncer.suivalues import blob_id_to_u256, canonical_address, u64_bcs

__all__ = ["BlobLifetime", "Expiry", "WalrusEpoch", "WalrusLifetime", "expiry"]

log = logging.getLogger(__name__)

_MAX_ANSWER: Final = 4 * 1024 * 1024
_PAGE: Final = 50
_MAX_PAGES: Final = 40  # 2,000 objects per owner at most
_STAKING: Final = """query ($id: SuiAddress!) {
  object(address: $id) { asMoveObject { contents { type { repr } json } } }
}"""
_INNER: Final = """query ($id: SuiAddress!, $name: Base64!) {
  address(address: $id) {
    dynamicField(name: {type: "u64", bcs: $name}) { value { ... on MoveValue { json } } }
  }
}"""
_OWNED: Final = """query ($owner: SuiAddress!, $type: String!, $first: Int!, $after: String) {
  address(address: $owner) {
    objects(filter: {type: $type}, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { address contents { json } }
    }
  }
}"""
_STARTED: Final = ("EpochChangeDone", "NextParamsSelected")


@dataclass(frozen=True)
class WalrusEpoch:
    """The current Walrus epoch, how long epochs last, and when this one started (if known)."""

    epoch: int
    duration_ms: int
    started_ms: int | None


@dataclass(frozen=True)
class BlobLifetime:
    """The latest end epoch (exclusive) among a blob's certified objects, and that object."""

    blob_id: str
    end_epoch: int
    object_id: str
    owner: str


@dataclass(frozen=True)
class Expiry:
    """What `expiry` concludes: epochs left (the current one included) and when it ends."""

    epochs_left: int
    expires_ms: int
    exact: bool  # False when the current epoch's start is unknown: `expires_ms` is a bound

    @property
    def expired(self) -> bool:
        return self.epochs_left <= 0


def expiry(lifetime: BlobLifetime, epoch: WalrusEpoch, *, now_ms: int) -> Expiry:
    """When the blob stops being stored: at the start of its end epoch."""
    left = lifetime.end_epoch - epoch.epoch
    start = epoch.started_ms
    exact = start is not None and start <= now_ms
    base = start if start is not None and exact else now_ms
    return Expiry(left, base + left * epoch.duration_ms, exact)


class WalrusLifetime:
    """Reads epochs and Blob objects from the Sui GraphQL service at `url`."""

    def __init__(self, url: str, staking_object: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.staking_object = _address(staking_object, where="blobstore.staking_object")
        self.timeout = timeout
        self._blob_type: str | None = None

    def epoch(self) -> WalrusEpoch:
        inner = self._staking_inner()
        try:
            return WalrusEpoch(int(inner["epoch"]), int(inner["epoch_duration"]),
                               _epoch_start(inner.get("epoch_state")))
        except (KeyError, TypeError, ValueError) as e:
            raise self._error(f"the staking state has no readable epoch ({e})") from e

    def blob(self, blob_id: str, *, owners: Iterable[str]) -> BlobLifetime | None:
        """The longest-lived certified Blob object of `blob_id` that `owners` hold, if any."""
        wanted, best = blob_id_to_u256(blob_id), None
        for owner in _addresses(owners):
            for object_id, body in self._owned_blobs(owner):
                found = _lifetime(blob_id, wanted, object_id, owner, body)
                if found is not None and (best is None or found.end_epoch > best.end_epoch):
                    best = found
        return best

    # --- queries ---------------------------------------------------------------------------

    def _staking_inner(self) -> Mapping[str, Any]:
        data = self._query(_STAKING, {"id": self.staking_object})
        contents = ((data.get("object") or {}).get("asMoveObject") or {}).get("contents")
        if not contents:
            raise self._error("no such object on this network")
        repr_ = str((contents.get("type") or {}).get("repr") or "")
        if not repr_.endswith("::staking::Staking"):
            raise self._error(f"is a {cut(repr_, 120)}, not a Walrus staking::Staking")
        self._blob_type = repr_.rsplit("::", 2)[0] + "::blob::Blob"
        try:
            version = int((contents.get("json") or {})["version"])
        except (KeyError, TypeError, ValueError) as e:
            raise self._error(f"the staking object has no readable version ({e})") from e
        field = self._query(_INNER, {"id": self.staking_object, "name": u64_bcs(version)})
        value = (((field.get("address") or {}).get("dynamicField") or {}).get("value") or {})
        inner = value.get("json")
        if not isinstance(inner, dict):
            raise self._error(f"has no inner state for version {version}")
        return inner

    def _owned_blobs(self, owner: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
        if self._blob_type is None:
            self._staking_inner()
        after: str | None = None
        for _ in range(_MAX_PAGES):
            data = self._query(_OWNED, {"owner": owner, "type": self._blob_type,
                                        "first": _PAGE, "after": after})
            page = (data.get("address") or {}).get("objects") or {}
            for node in page.get("nodes") or []:
                yield str(node.get("address")), (node.get("contents") or {}).get("json") or {}
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")
        log.warning("stopped listing Blob objects after %d pages", _MAX_PAGES,
                    extra={"owner": owner})

    def _query(self, query: str, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        request = {"query": query, "variables": dict(variables)}
        try:
            with httpx.stream("POST", self.url, json=request, timeout=self.timeout) as reply:
                status, raw = reply.status_code, read_capped(reply, _MAX_ANSWER)
        except httpx.HTTPError as e:
            raise BlobStoreError(f"Sui GraphQL does not answer: {cut(str(e), 160)}",
                                 where=self.url) from e
        except Oversize as e:
            raise BlobStoreError(f"Sui GraphQL answered over {_MAX_ANSWER} bytes",
                                 where=self.url) from e
        if status != 200:
            raise BlobStoreError(f"Sui GraphQL answered HTTP {status}", where=self.url)
        try:
            body = json.loads(raw)
        except ValueError as e:
            raise BlobStoreError("Sui GraphQL answered with no JSON", where=self.url) from e
        if not isinstance(body, dict):
            raise BlobStoreError("Sui GraphQL answered with no JSON object", where=self.url)
        if body.get("errors"):
            message = str((body["errors"][0] or {}).get("message", body["errors"][0]))
            raise BlobStoreError(f"Sui GraphQL refused a query: {cut(message, 200)}",
                                 where=self.url)
        return body.get("data") or {}

    def _error(self, message: str) -> BlobStoreError:
        return BlobStoreError(message, where=f"Walrus staking object {self.staking_object}")


def _address(value: str, *, where: str) -> str:
    try:
        return canonical_address(str(value))
    except ValueError as e:
        raise BlobStoreError(str(e), where=where) from e


def _addresses(owners: Iterable[str]) -> list[str]:
    """The owners that are Sui addresses, canonical and without repeats."""
    found: dict[str, None] = {}
    for owner in owners:
        try:
            found[canonical_address(owner)] = None
        except ValueError:
            log.info("not a Sui address: its objects are not listed", extra={"owner": owner})
    return list(found)


def _epoch_start(state: Any) -> int | None:
    """The timestamp an `EpochState` carries, if its variant has one."""
    if not isinstance(state, dict) or state.get("@variant") not in _STARTED:
        return None
    values = [v for k, v in state.items() if k != "@variant"]
    try:
        return int(values[0]) if len(values) == 1 else None
    except (TypeError, ValueError):
        return None


def _lifetime(blob_id: str, wanted: int, object_id: str, owner: str,
              body: Mapping[str, Any]) -> BlobLifetime | None:
    """The lifetime a Blob object gives `blob_id`; None if it is another blob or uncertified."""
    try:
        if int(body["blob_id"]) != wanted or body.get("certified_epoch") is None:
            return None
        return BlobLifetime(blob_id, int(body["storage"]["end_epoch"]), object_id, owner)
    except (KeyError, TypeError, ValueError):
        log.warning("a Blob object could not be read", extra={"object": object_id})
        return None
