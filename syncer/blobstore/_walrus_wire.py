"""The Walrus HTTP wire format: store results and AIP-193 error bodies. Pure, no I/O.

Real daemons send store results in camelCase (`newlyCreated`, `blobObject`, `blobId`,
`alreadyCertified`, `endEpoch`, `resourceOperation`), while the OpenAPI schemas generated
from the daemons' code (MystenLabs/walrus) spell some of those names in snake_case. Every
lookup here takes the camelCase name and falls back to its snake_case twin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from syncer.errors import cut

__all__ = ["StoreOutcome", "WireError", "error_summary", "parse_store_result", "pick"]

_BLOB_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


class WireError(ValueError):
    """A publisher's answer that does not describe a stored blob; the message is one line."""


@dataclass(frozen=True)
class StoreOutcome:
    """What a publisher says about a store: the blob ID, whether it is new, its end epoch."""

    blob_id: str
    created: bool
    end_epoch: int | None
    operation: str | None = None


def pick(obj: Mapping[str, Any], name: str) -> Any:
    """`obj[name]` under its camelCase name or its snake_case twin; None when neither."""
    if name in obj:
        return obj[name]
    return obj.get(_CAMEL_HUMP.sub(r"_\1", name).lower())


def parse_store_result(body: bytes) -> StoreOutcome:
    """The outcome of `PUT /v1/blobs` from its 200 body (`BlobStoreResult` in the spec)."""
    result = _mapping(_json(body), "the answer")
    if (created := pick(result, "newlyCreated")) is not None:
        return _newly_created(_mapping(created, "newlyCreated"))
    if (certified := pick(result, "alreadyCertified")) is not None:
        return _already_certified(_mapping(certified, "alreadyCertified"))
    if pick(result, "markedInvalid") is not None:
        raise WireError("Walrus marked this blob invalid")
    if isinstance(failure := result.get("error"), Mapping):
        phase, message = pick(failure, "failurePhase"), pick(failure, "errorMsg")
        raise WireError(f"the store failed ({cut(str(phase), 40)}): {cut(str(message), 160)}")
    raise WireError(f"an unknown store result with keys {cut(', '.join(map(str, result)), 80)}")


def _newly_created(created: Mapping[str, Any]) -> StoreOutcome:
    blob = _mapping(pick(created, "blobObject"), "newlyCreated.blobObject")
    storage = pick(blob, "storage")
    end = pick(storage, "endEpoch") if isinstance(storage, Mapping) else None
    operation = pick(created, "resourceOperation")
    name = next(iter(operation), None) if isinstance(operation, Mapping) else None
    return StoreOutcome(_blob_id(pick(blob, "blobId")), created=True, end_epoch=_epoch(end),
                        operation=None if name is None else cut(str(name), 40))


def _already_certified(certified: Mapping[str, Any]) -> StoreOutcome:
    return StoreOutcome(_blob_id(pick(certified, "blobId")), created=False,
                        end_epoch=_epoch(pick(certified, "endEpoch")))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise WireError("the answer is not JSON") from e


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WireError(f"{what} is not a JSON object")
    return value


def _blob_id(value: Any) -> str:
    if not isinstance(value, str) or not _BLOB_ID.match(value):
        raise WireError("the answer carries no valid blob ID")
    return value


def _epoch(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WireError("the answer's end epoch is not an epoch number")
    return value


def error_summary(status: int, body: bytes) -> str:
    """One short line for an error answer, e.g. `404 NOT_FOUND: blob not found (BLOB_NOT_FOUND)`.

    The AIP-193 envelope (`{"error": {"code", "status", "message", "details"}}`) gives the
    status name, message and ErrorInfo reason; any other body is quoted, cut short.
    """
    error = _envelope(body)
    if error is None:
        text = cut(body.decode("utf-8", "replace"), 80)
        return f"{status} {_phrase(status)}" + (f": {text}" if text else "")
    name = cut(str(error.get("status") or _phrase(status)), 40)
    message = cut(str(error.get("message") or ""), 160)
    reason = _reason(error.get("details"))
    line = f"{status} {name}" + (f": {message}" if message else "")
    return line + (f" ({reason})" if reason and reason != name else "")


def _envelope(body: bytes) -> Mapping[str, Any] | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    error = parsed.get("error") if isinstance(parsed, Mapping) else None
    return error if isinstance(error, Mapping) else None


def _reason(details: Any) -> str | None:
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, Mapping) and str(detail.get("@type", "")).endswith("ErrorInfo"):
            reason = detail.get("reason")
            return cut(str(reason), 40) if reason else None
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"
