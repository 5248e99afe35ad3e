"""The Sui ledger's pure half: on-chain values to syncer's and back, queries, aborts.  [pure]

- Blob IDs travel on chain as `u256` (`syncer.suivalues` converts them).
- `RegistryView` is a `Registry` object as GraphQL renders it (`MoveValue.json`: u64 and
  u256 as strings, `vector<u8>` as Base64, `Option` as null or the value, `VecSet` as
  `{"contents": [...]}`, `Table` as `{"id", "size"}`); `release_of` turns a `Release` (or
  a `Published` event, which carries the same fields) into a `model.Release`, checking every
  field with the shared rules.
- `abort_error` turns a Move abort of the registry module into a one-line
  `RuleViolationError` ("publisher cap revoked"); other failures stay `LedgerError`s.
- The query builders interpolate only values they have checked (canonical addresses,
  Move type names, cursors the service gave), since pysui sends queries with arguments
  inline.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from syncer.errors import LedgerError, RuleViolationError, cut
from syncer.ledger import rules
from syncer.model import Release
from syncer.suivalues import canonical_address, u64_bcs, u256_to_blob_id

__all__ = [
    "ABORTS",
    "PAGE_SIZE",
    "RegistryView",
    "abort_error",
    "caps_query",
    "dynamic_field_query",
    "events_query",
    "object_query",
    "owners_query",
    "release_of",
]

PAGE_SIZE: Final = 50
ABORTS: Final = {
    1: "the cap belongs to another registry",
    2: "the publisher cap is not listed on this channel",
    3: "publisher cap revoked",
    4: "sha256 must be 32 bytes",
    5: "commit must be 40 or 64 lowercase hex digits",
    6: "the admin cap belongs to another registry: only the channel's admin may do this",
    7: "the threshold is larger than the number of approvers",
    8: "the key is not an approver of this channel",
    9: "no such release",
    10: "this key has already approved this release",
    11: "the channel name is not a Kubernetes label value",
    12: "the registry was written by another version of the package: upgrade syncer",
}
_CURSOR = re.compile(r"[A-Za-z0-9+/=_-]{1,200}")
_ABORT_TEXT = re.compile(r'MoveAbort\(.*Identifier\("(\w+)"\).*?,\s*(\d+)\)')


@dataclass(frozen=True)
class RegistryView:
    """A Registry object's fields; `head` is the raw JSON of its head release."""

    id: str
    name: str
    seq: int
    head: Mapping[str, Any] | None
    releases_table: str
    approvals_table: str
    publishers: tuple[str, ...]
    revoked: tuple[str, ...]
    approvers: tuple[str, ...]
    threshold: int

    @classmethod
    def parse(cls, registry_id: str, body: Mapping[str, Any]) -> RegistryView:
        """From `MoveValue.json`; LedgerError naming the object if a field is missing."""
        try:
            return cls(
                registry_id, str(body["name"]), int(body["seq"]), body.get("head"),
                canonical_address(body["releases"]["id"]),
                canonical_address(body["approvals"]["id"]),
                _ids(body["publishers"]), _ids(body["revoked"]), _ids(body["approvers"]),
                int(body["threshold"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise LedgerError("not a registry::Registry object", where=registry_id) from e


def _ids(vec_set: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(canonical_address(x) for x in vec_set["contents"])


def release_of(channel: str, body: Mapping[str, Any]) -> Release:
    """A `Release` struct or `Published` event as a checked `model.Release`."""
    try:
        sha256 = base64.b64decode(body["sha256"], validate=True)
        release = Release(
            channel, int(body["seq"]), u256_to_blob_id(int(body["blob_id"])), sha256.hex(),
            str(body["commit"]), canonical_address(body["publisher"]),
            int(body["timestamp_ms"]),
        )
    except (KeyError, TypeError, ValueError, OverflowError, binascii.Error) as e:
        raise LedgerError("malformed release record on chain", where=f"channel {channel}") from e
    try:
        rules.check_blob_id(channel, release.blob_id)
        rules.check_sha256(channel, release.sha256)
        rules.check_commit(channel, release.commit)
    except RuleViolationError as e:
        raise LedgerError(f"release seq {release.seq} on chain: {e.message}",
                          where=f"channel {channel}") from e
    return release


def abort_error(channel: str, error: Mapping[str, Any], *, digest: str) -> LedgerError:
    """The error for a failed transaction: a RuleViolationError for the registry's aborts."""
    message = str(error.get("message") or "")
    module = (error.get("module") or {}).get("name")
    code = error.get("abortCode")
    if code is None and (found := _ABORT_TEXT.search(message)):
        module, code = found.group(1), found.group(2)
    where = f"channel {channel}"
    if module == "registry" and code is not None and int(code) in ABORTS:
        function = (error.get("function") or {}).get("name") or "registry"
        text = f"{ABORTS[int(code)]} (refused on chain: abort {code} in registry::{function})"
        return RuleViolationError(text, where=where)
    return LedgerError(f"transaction {digest} failed: {cut(message or 'no reason given')}",
                       where=where)


def _cursor(after: str | None) -> str:
    if after is None:
        return ""
    if not _CURSOR.fullmatch(after):
        raise LedgerError("the service returned a malformed page cursor")
    return f", after: {json.dumps(after)}"


def object_query(object_id: str) -> str:
    return (f'{{ object(address: "{canonical_address(object_id)}") {{ address version '
            "asMoveObject { contents { type { repr } json } } } }")


def caps_query(owner: str, cap_type: str, *, first: int = PAGE_SIZE,
               after: str | None = None) -> str:
    """One page of the objects of `cap_type` owned by `owner`."""
    return (f"{{ objects(first: {int(first)}{_cursor(after)}, filter: {{owner: "
            f'"{canonical_address(owner)}", type: {json.dumps(cap_type)}}}) {{ pageInfo '
            "{ hasNextPage endCursor } nodes { address asMoveObject { contents { json } } } } }")


def events_query(event_type: str, *, first: int = PAGE_SIZE, after: str | None = None) -> str:
    """One page of the events of `event_type`, oldest first."""
    return (f"{{ events(first: {int(first)}{_cursor(after)}, filter: {{type: "
            f"{json.dumps(event_type)}}}) {{ pageInfo {{ hasNextPage endCursor }} "
            "nodes { contents { json } } } }")


def dynamic_field_query(table_id: str, key: int) -> str:
    """The entry `key` (a u64) of a `Table`: a dynamic field of the table's UID."""
    return (f'{{ address(address: "{canonical_address(table_id)}") {{ dynamicField(name: '
            f'{{type: "u64", bcs: "{u64_bcs(key)}"}}) {{ value {{ ... on MoveValue {{ json }} '
            "} } } }")


def owners_query(object_ids: list[str]) -> str:
    keys = ", ".join(f'{{address: "{canonical_address(i)}"}}' for i in object_ids)
    return (f"{{ multiGetObjects(keys: [{keys}]) {{ address owner {{ __typename "
            "... on AddressOwner { address { address } } } } }")
