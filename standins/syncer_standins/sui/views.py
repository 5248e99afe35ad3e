"""The stand-in's state rendered as GraphQL values: plain dicts in the schema's shapes.

graphql-core's default resolver reads a dict's key for each field and calls it when it is a
callable (with `info` and the field's arguments), so fields that take arguments or are dear
to compute are callables. Unions carry `__typename`. Effects are rendered twice, as the live
service does: typed fields (`status`, `executionError`, `objectChanges`, ...) and the JSON
blobs pysui reads (`effectsJson`, `transactionJson`, `balanceChangesJson`), the latter in
the shape of Sui's gRPC messages.
"""

from __future__ import annotations

import base64
import datetime
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from graphql import GraphQLError

from syncer_standins.sui.chain import (
    REFERENCE_GAS_PRICE,
    Chain,
    EventRecord,
    Owner,
    SuiObject,
    TxRecord,
)
from syncer_standins.sui.encoding import base58_encode, blake2b256

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "connection",
    "effects_view",
    "epoch_view",
    "event_view",
    "iso",
    "move_value",
    "object_view",
    "transaction_view",
]

DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 50
_SUI_TYPE: Final = "0x" + "0" * 63 + "2::sui::SUI"
T = TypeVar("T")


def iso(ms: int) -> str:
    when = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"c{index}".encode()).decode()


def _index(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as e:
        raise GraphQLError(f"Invalid cursor: {cursor[:40]}") from e
    if not re.fullmatch(r"c[0-9]{1,12}", text):
        raise GraphQLError(f"Invalid cursor: {cursor[:40]}")
    return int(text[1:])


def connection(items: Sequence[T], render: Callable[[T], dict[str, Any]], *,
               first: int | None = None, after: str | None = None,
               last: int | None = None, before: str | None = None) -> dict[str, Any]:
    """A page of `items` (cursor = position), as the service pages: 20 by default, 50 at most."""
    for size in (first, last):
        if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
            raise GraphQLError(f"Page size is too large: {size} > {MAX_PAGE_SIZE}")
    lo = _index(after) + 1 if after else 0
    hi = _index(before) if before else len(items)
    lo, hi = max(lo, 0), min(max(hi, lo), len(items))
    if last is not None:
        lo = max(lo, hi - last)
    elif (first or DEFAULT_PAGE_SIZE) < hi - lo:
        hi = lo + (first or DEFAULT_PAGE_SIZE)
    edges = [{"cursor": _cursor(i), "node": render(items[i])} for i in range(lo, hi)]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": hi < len(items), "hasPreviousPage": lo > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _paged(items: Sequence[T], render: Callable[[T], dict[str, Any]]) -> Callable[..., Any]:
    def resolve(_info: Any, **page: Any) -> dict[str, Any]:
        return connection(items, render, **page)
    return resolve


def owner_view(owner: Owner) -> dict[str, Any]:
    if owner.kind == "AddressOwner":
        return {"__typename": "AddressOwner", "address": {"address": owner.address}}
    if owner.kind == "Shared":
        return {"__typename": "Shared", "initialSharedVersion": owner.initial_version}
    return {"__typename": "Immutable", "_": None}


def move_value(type_repr: str, json: Any) -> dict[str, Any]:
    return {"type": {"repr": type_repr}, "json": json, "bcs": None, "display": None}


def object_view(obj: SuiObject, *, dynamic: Callable[..., Any] | None = None) -> dict[str, Any]:
    """An `Object` (and the `MoveObject` it is), as of the copy given."""
    view: dict[str, Any] = {
        "address": obj.id, "version": obj.version, "digest": obj.digest,
        "objectBcs": None, "moveObjectBcs": None, "storageRebate": "1000000",
        "owner": owner_view(obj.owner),
        "previousTransaction": {"digest": obj.previous_tx},
        "hasPublicTransfer": obj.has_public_transfer,
        "contents": move_value(obj.type, obj.contents),
        "asMovePackage": None,
        "dynamicField": dynamic,
    }
    view["asMoveObject"] = view
    return view


def epoch_view(chain: Chain) -> dict[str, Any]:
    return {
        "epochId": chain.epoch, "referenceGasPrice": str(REFERENCE_GAS_PRICE),
        "startTimestamp": iso(chain.checkpoint_ms), "endTimestamp": None,
    }


def event_view(event: EventRecord) -> dict[str, Any]:
    return {
        "sequenceNumber": event.index, "timestamp": iso(event.timestamp_ms),
        "contents": move_value(event.type, event.contents), "eventBcs": None,
        "sender": {"address": event.sender},
        "transaction": {"digest": event.tx_digest},
        "transactionModule": {"name": event.module,
                              "package": {"address": event.package, "version": 1}},
    }


def transaction_view(chain: Chain, record: TxRecord) -> dict[str, Any]:
    return {
        "digest": record.digest,
        "sender": {"address": record.sender},
        "signatures": [{"signatureBytes": s} for s in record.signatures],
        "transactionBcs": base64.b64encode(record.tx_bytes).decode(),
        "transactionJson": {"digest": record.digest, "sender": record.sender},
        "effects": lambda _info: effects_view(chain, record),
    }


def effects_view(chain: Chain, record: TxRecord) -> dict[str, Any]:
    changes = [_change_view(c) for c in record.changes]
    return {
        "digest": record.digest,
        "effectsDigest": _effects_digest(record),
        "status": "SUCCESS" if record.success else "FAILURE",
        "executionError": _error_view(record.error),
        "timestamp": iso(record.timestamp_ms),
        "lamportVersion": record.lamport_version,
        "checkpoint": {"sequenceNumber": record.checkpoint, "timestamp": iso(record.timestamp_ms),
                       "networkTotalTransactions": len(chain.transactions),
                       "epoch": epoch_view(chain)},
        "epoch": epoch_view(chain),
        "gasEffects": _gas_view(record),
        "balanceChanges": _paged([_balance_change(record)], lambda b: b),
        "objectChanges": _paged(changes, lambda c: c),
        "events": _paged(record.events, event_view),
        "dependencies": _paged([], lambda d: d),
        "unchangedConsensusObjects": _paged([], lambda d: d),
        "effectsBcs": None, "version": 2,
        "effectsJson": _effects_json(record),
        "balanceChangesJson": [_balance_change_json(record)],
        "transaction": transaction_view(chain, record),
    }


def _effects_digest(record: TxRecord) -> str:
    return base58_encode(blake2b256(b"TransactionEffects::" + record.digest.encode()))


def _change_view(change: tuple[str, SuiObject | None, SuiObject | None]) -> dict[str, Any]:
    object_id, before, after = change
    return {
        "address": object_id, "idCreated": before is None, "idDeleted": after is None,
        "inputState": object_view(before) if before else None,
        "outputState": object_view(after) if after else None,
    }


def _gas_view(record: TxRecord) -> dict[str, Any]:
    gas = next((after for oid, _, after in record.changes if oid == record.gas_coin), None)
    return {
        "gasObject": object_view(gas) if gas else None,
        "gasSummary": dict(record.gas_used),
    }


def _net_gas(record: TxRecord) -> int:
    used = record.gas_used
    return used["computationCost"] + used["storageCost"] - used["storageRebate"]


def _balance_change(record: TxRecord) -> dict[str, Any]:
    return {"coinType": {"repr": _SUI_TYPE}, "amount": str(-_net_gas(record)),
            "owner": {"address": record.sender}}


def _balance_change_json(record: TxRecord) -> dict[str, Any]:
    return {"address": record.sender, "coinType": _SUI_TYPE, "amount": str(-_net_gas(record))}


def _error_view(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if error is None:
        return None
    abort = error.get("abort")
    location = abort["location"] if abort else None
    module = {"name": location["module"]} if location else None
    return {
        "abortCode": abort["abortCode"] if abort else None,
        "message": error["description"],
        "module": module,
        "function": {"name": location["functionName"], "module": module} if location else None,
        "instructionOffset": location["instruction"] if location else None,
        "identifier": None, "constant": None, "sourceLineNumber": None,
    }


def _screaming(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _status_json(record: TxRecord) -> dict[str, Any]:
    if record.success or record.error is None:
        return {"success": True}
    error = {k: v for k, v in record.error.items() if k != "argument"}
    if argument := record.error.get("argument"):
        error["commandArgumentError"] = {"argument": argument["argument"],
                                         "kind": _screaming(argument["kind"])}
    return {"success": False, "error": error}


def _effects_json(record: TxRecord) -> dict[str, Any]:
    return {
        "digest": _effects_digest(record), "version": 2,
        "status": _status_json(record), "epoch": "1",
        "gasUsed": {k: str(v) for k, v in record.gas_used.items()},
        "transactionDigest": record.digest,
        "lamportVersion": str(record.lamport_version),
        "changedObjects": [_changed_json(c) for c in record.changes],
        "dependencies": [],
    }


def _changed_json(change: tuple[str, SuiObject | None, SuiObject | None]) -> dict[str, Any]:
    object_id, before, after = change
    body: dict[str, Any] = {"objectId": object_id,
                            "idOperation": "CREATED" if before is None else "NONE"}
    if before is not None:
        body.update(inputState="EXISTS", inputVersion=str(before.version),
                    inputDigest=before.digest)
    if after is not None:
        body.update(outputState="OBJECT_WRITE", outputVersion=str(after.version),
                    outputDigest=after.digest, objectType=after.type)
    return body

