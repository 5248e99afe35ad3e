"""LIST pages (`limit`, `continue`), as kube-apiserver v1.36 cuts them from etcd.

* Items come in etcd key order: by name within a namespace, by namespace then name across
  namespaces.
* A page that is not the last carries `continue`: unpadded URL-safe base64 of
  `{"v":"meta.k8s.io/v1","rv":<RV of the first page>,"start":"<key>\\u0000"}`, where key is
  the last item's etcd key below the resource's prefix (`/name`, or `/namespace/name` when
  listing across namespaces); the NUL makes the next page start just after it.
* Every page reports the resourceVersion of the first page. `remainingItemCount` (items
  after this page) is given only when no label or field selector is used: with a selector
  kube cannot count what is left. The last page has neither `continue` nor the count.

Simplification: the stand-in keeps no snapshot, so a later page lists the objects as they are
now (kube lists them as they were at the first page's resourceVersion).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncer_standins.kubeapi.errors import bad_request

__all__ = ["Page", "decode_token", "encode_token", "item_key", "paginate"]

_VERSION = "meta.k8s.io/v1"
Obj = dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Obj]
    metadata: Obj  # resourceVersion, continue, remainingItemCount as kube orders them
    more: bool  # a `continue` was given


def item_key(obj: Obj, *, across_namespaces: bool) -> str:
    """obj's etcd key below the resource prefix: `/name`, or `/namespace/name`."""
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name", ""))
    namespace = str(metadata.get("namespace") or "")
    return f"/{namespace}/{name}" if across_namespaces and namespace else f"/{name}"


def encode_token(rv: int, start: str) -> str:
    text = json.dumps({"v": _VERSION, "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, str]:
    """The resourceVersion and start key a continue token holds (400 when it is not one)."""
    try:
        padded = token + "=" * (-len(token) % 4)
        found = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if found.get("v") != _VERSION:
            raise ValueError(f"unsupported version {found.get('v')!r}")
        return int(found["rv"]), str(found["start"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as err:
        raise bad_request(f"continue key is not valid: {err}") from err


def _limit(query: Mapping[str, str]) -> int:
    text = query.get("limit") or "0"
    if not text.isdigit():
        raise bad_request(f"invalid limit: {text!r}")
    return int(text)


def paginate(items: list[Obj], query: Mapping[str, str], *, rv: int, across_namespaces: bool,
             selected: bool) -> Page:
    """The page of items (all matching, in key order) that query asks for."""
    token = query.get("continue", "")
    if token:
        rv, start = decode_token(token)
        items = [item for item in items
                 if item_key(item, across_namespaces=across_namespaces) >= start]
    metadata: Obj = {"resourceVersion": str(rv)}
    limit = _limit(query)
    if not 0 < limit < len(items):
        return Page(items, metadata, more=False)
    page = items[:limit]
    last = item_key(page[-1], across_namespaces=across_namespaces)
    metadata["continue"] = encode_token(rv, last + "\0")
    if not selected:
        metadata["remainingItemCount"] = len(items) - limit
    return Page(page, metadata, more=True)
