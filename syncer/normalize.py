"""Normalization before comparison, and masking of Secret values.  [pure]

`normalize` drops what the API server owns (status, uid, resourceVersion, managedFields, ...)
so that two copies of an object compare equal when their content is equal. `mask_secrets`
replaces every Secret value by a run of `+` (as Argo CD does) before an object reaches a diff
or a log line: the mask carries no information about the value, not even a hash, but two
sides with the same value get the same mask and different values get different masks, so a
reader still sees which keys changed.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Mapping
from typing import Any

from syncer.model import Obj

__all__ = [
    "ANNOTATION_LAST_APPLIED",
    "SERVER_ANNOTATIONS",
    "SERVER_METADATA",
    "is_secret",
    "mask_secrets",
    "normalize",
]

ANNOTATION_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
"""Metadata fields the API server writes; never part of a desired state."""

SERVER_ANNOTATIONS = (ANNOTATION_LAST_APPLIED, "deployment.kubernetes.io/revision")
"""Annotations written by kubectl or by controllers, never by the syncer."""

_SECRET_SECTIONS = ("data", "stringData")
_MASK_FIRST = 8
_MASK_STEP = 4
_WHOLE = "\0"  # mask slot for a section or annotation as a whole; no data key contains NUL


def normalize(obj: Obj) -> Obj:
    """`obj` without server-owned fields; empty label/annotation maps dropped.

    A new top-level map and metadata; everything else is shared with `obj` (no deep copy:
    a drift check of 10,000 objects spent more time copying than comparing), so the
    result is read, never changed in place.
    """
    out = dict(obj)
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta = out["metadata"] = dict(meta)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            meta["annotations"] = dict(annotations)
        _strip_metadata(meta)
    return out


def _strip_metadata(meta: dict[str, Any]) -> None:
    for key in SERVER_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in SERVER_ANNOTATIONS:
            annotations.pop(key, None)
    for key in ("annotations", "labels"):
        if key in meta and not meta[key]:
            del meta[key]


def is_secret(obj: Mapping[str, Any] | None) -> bool:
    """Whether `obj` is a core v1 Secret.

    Items of a LIST come without kind and apiVersion: such an item is taken for a Secret when
    it has a string `type` (the server always sets one on Secrets, never on ConfigMaps) and a
    `data` or `stringData` section. Masking something that is not a Secret is harmless; the
    reverse is a leak.
    """
    if obj is None:
        return False
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if kind is None and api_version is None:
        has_values = any(section in obj for section in _SECRET_SECTIONS)
        return has_values and isinstance(obj.get("type"), str)
    return kind == "Secret" and api_version == "v1"


def mask_secrets(before: Obj | None, after: Obj | None) -> tuple[Obj | None, Obj | None]:
    """Both sides with every Secret value masked; non-Secrets come back unchanged.

    Masks are assigned per key: the first distinct value of a key gets 8 `+`, the next 12,
    and so on. A `stringData` value and a `data` value that decode to the same bytes get the
    same mask. When either side is a Secret both sides are masked (a LIST item may lack its
    kind). The `last-applied-configuration` annotation of a Secret is masked as a whole.
    """
    if not (_masked_kind(before) or _masked_kind(after)):
        return before, after
    masks = _Masks()
    return _mask_one(before, masks), _mask_one(after, masks)


def _masked_kind(obj: Obj | None) -> bool:
    """`is_secret`, or a kind that reads as Secret whatever its case and apiVersion (a bundle
    may hold one; the server would refuse it, but its diff must not show its values)."""
    if is_secret(obj):
        return True
    kind = obj.get("kind") if obj is not None else None
    return isinstance(kind, str) and kind.strip().casefold() == "secret"


class _Masks:
    """Hands out `+` runs: one per distinct (key, value), lengths distinct within a key."""

    def __init__(self) -> None:
        self._given: dict[tuple[str, object], str] = {}
        self._count: dict[str, int] = {}

    def mask(self, key: str, identity: object) -> str:
        slot = (key, identity)
        if slot not in self._given:
            n = self._count.get(key, 0)
            self._count[key] = n + 1
            self._given[slot] = "+" * (_MASK_FIRST + _MASK_STEP * n)
        return self._given[slot]


def _mask_one(obj: Obj | None, masks: _Masks) -> Obj | None:
    if obj is None:
        return None
    out = dict(obj)
    for section in _SECRET_SECTIONS:
        if section in out:
            out[section] = _mask_section(section, out[section], masks)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        out["metadata"] = _mask_last_applied(meta, masks)
    return copy.deepcopy(out)


def _mask_section(section: str, values: object, masks: _Masks) -> object:
    if values is None:
        return None
    if not isinstance(values, dict):
        return masks.mask(_WHOLE + section, _identity("", values))
    return {
        key: None if value is None else masks.mask(str(key), _identity(section, value))
        for key, value in values.items()
    }


def _identity(section: str, value: object) -> object:
    """What makes two values "the same" for masking: the bytes a Secret key ends up holding."""
    if isinstance(value, str):
        if section == "stringData":
            return value.encode()
        if section == "data":
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                pass
    return json.dumps(value, sort_keys=True, default=str)


def _mask_last_applied(meta: dict[str, Any], masks: _Masks) -> dict[str, Any]:
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict) or ANNOTATION_LAST_APPLIED not in annotations:
        return meta
    value = annotations[ANNOTATION_LAST_APPLIED]
    masked = masks.mask(_WHOLE + ANNOTATION_LAST_APPLIED, _identity("", value))
    return {**meta, "annotations": {**annotations, ANNOTATION_LAST_APPLIED: masked}}
