"""Drift decision and diffs of desired against live objects.  [pure]

`drift` decides, from one LIST's worth of live state and without a request per object, whether
an object needs a (dry-run) apply. It applies the two rules of the design notes:

1. every field the desired object sets has the same value live; fields the server defaulted
   and the desired object does not set are not drift;
2. every field that `metadata.managedFields` says our manager owns through an `Apply` is still
   set in the desired object; a field we stopped setting is drift (the apply will remove it).

Lists of maps are paired by their Kubernetes merge keys (`containers[name=web]`) where known,
by index otherwise. Paths are printed the way server-side apply prints them in conflict
messages, with key values unquoted: `.spec.template.spec.containers[name=web].image`,
`.spec.ports[port=80,protocol=TCP]`, `.metadata.finalizers[=kubernetes]`, `.spec.args[0]`.

`unified` renders a masked `kubectl diff`-style text. `item_labels` names a list's items the
way these paths do; `syncer.fieldpaths` uses it to list what differs between two objects.
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from syncer import quantities
from syncer.model import FIELD_MANAGER, Obj, ObjectRef
from syncer.normalize import is_secret, mask_secrets, normalize

__all__ = ["LIST_KEYS", "SET_LISTS", "drift", "item_labels", "unified"]

LIST_KEYS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "containers": (("name",),),
    "initContainers": (("name",),),
    "ephemeralContainers": (("name",),),
    "env": (("name",),),
    "volumes": (("name",),),
    "imagePullSecrets": (("name",),),
    "secrets": (("name",),),
    "resourceClaims": (("name",),),
    "schedulingGates": (("name",),),
    "webhooks": (("name",),),
    "versions": (("name",),),
    "volumeMounts": (("mountPath",),),
    "volumeDevices": (("devicePath",),),
    "ports": (("containerPort", "protocol"), ("port", "protocol")),
    "hostAliases": (("ip",),),
    "topologySpreadConstraints": (("topologyKey", "whenUnsatisfiable"),),
    "resizePolicy": (("resourceName",),),
    "ownerReferences": (("uid",),),
    "conditions": (("type",),),
}
"""Merge keys of lists of maps, by field name; candidates are tried in order and the first
whose leading field every item has is used. A list whose items do not fit is paired by index."""

SET_LISTS = frozenset({"finalizers"})
"""Lists of scalars with set semantics: values added live by others are not drift."""

_KEY_DEFAULTS: Mapping[str, object] = {"protocol": "TCP"}
_IDENTITY_FIELDS = ("apiVersion", "kind")


# --------------------------------------------------------------------------- drift


def drift(desired: Obj, live: Obj, *, manager: str = FIELD_MANAGER) -> tuple[str, ...]:
    """The sorted paths where `live` has drifted from `desired`; `()` means no apply needed.

    `apiVersion` and `kind` are not compared: they identify the object (pairing is the
    caller's) and LIST items do not carry them.
    """
    want, have = _comparable(normalize(desired)), _comparable(live)
    node = quantities.root(*_group_kind(desired))
    found: list[str] = []
    for key, value in want.items():
        if key not in _IDENTITY_FIELDS:
            _walk(value, have.get(key), _At(f".{key}", key, quantities.child(node, key)), found)
    for fields in _owned_fieldsets(live, manager):
        _walk_owned(fields, _ownership_view(desired), "", found)
    return tuple(sorted(set(found)))


@dataclass(frozen=True)
class _At:
    """Where a value sits: its printed path, its field name, and its type where the kind's
    schema leads to a quantity (`quantities`), else None."""

    path: str
    field: str
    node: str | None = None

    def key(self, name: str) -> _At:
        return _At(f"{self.path}.{name}", name, quantities.child(self.node, name))

    def item(self, label: str) -> _At:
        return _At(f"{self.path}[{label}]", self.field, quantities.item(self.node))


def _walk(desired: Any, live: Any, at: _At, found: list[str]) -> None:
    """Rule 1: record where `live` lacks or differs from what `desired` sets."""
    if desired is None:
        return
    if isinstance(desired, dict):
        _walk_map(desired, live, at, found)
    elif isinstance(desired, list):
        _walk_list(desired, live, at, found)
    elif not _same_scalar(desired, live, quantity=at.node == quantities.QUANTITY):
        found.append(at.path)


def _walk_map(desired: dict[str, Any], live: Any, at: _At, found: list[str]) -> None:
    if not isinstance(live, dict):
        missing: list[str] = []
        _walk_map(desired, {}, at, missing)
        if missing:  # report the map once, not each of its fields
            found.append(at.path)
        return
    for key, value in desired.items():
        _walk(value, live.get(key), at.key(str(key)), found)


def _walk_list(desired: list[Any], live: Any, at: _At, found: list[str]) -> None:
    live_items = live if isinstance(live, list) else []
    fields = _key_fields(at.field, desired, live_items)
    if fields:
        _walk_keyed(desired, live_items, fields, at, found)
    elif at.field in SET_LISTS and _all_scalars(desired):
        present = {_canon(v) for v in live_items}
        found.extend(at.item(f"={_fmt(v)}").path for v in desired if _canon(v) not in present)
    elif len(desired) != len(live_items):
        found.append(at.path)
    else:
        for index, (want, have) in enumerate(zip(desired, live_items, strict=True)):
            _walk(want, have, at.item(str(index)), found)


def _walk_keyed(
    desired: list[Any], live: list[Any], fields: tuple[str, ...], at: _At, found: list[str]
) -> None:
    """Pair items by merge key (the n-th duplicate with the n-th); live-only items are fine."""
    by_key: dict[tuple[str, ...], list[Any]] = {}
    for item in live:
        by_key.setdefault(_item_key(item, fields), []).append(item)
    seen: dict[tuple[str, ...], int] = {}
    for item in desired:
        key = _item_key(item, fields)
        n = seen[key] = seen.get(key, -1) + 1
        candidates = by_key.get(key, [])
        where = at.item(_key_label(item, fields))
        if n < len(candidates):
            _walk(item, candidates[n], where, found)
        else:
            found.append(where.path)


def _key_fields(field: str, *lists: list[Any]) -> tuple[str, ...] | None:
    for fields in LIST_KEYS.get(field, ()):
        if all(isinstance(i, dict) and fields[0] in i for items in lists for i in items):
            return fields
    return None


def _key_value(item: Mapping[str, Any], field: str) -> object:
    return item.get(field, _KEY_DEFAULTS.get(field))


def _item_key(item: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_canon(_key_value(item, f)) for f in fields)


def _key_label(item: Mapping[str, Any], fields: Iterable[str]) -> str:
    pairs = ((f, _key_value(item, f)) for f in sorted(fields))
    return ",".join(f"{f}={_fmt(v)}" for f, v in pairs if v is not None)


def _canon(value: object) -> str:
    """A hashable, type-exact form of a JSON value: `true`, `1` and `"1"` all differ."""
    return json.dumps(value, sort_keys=True, default=str)


def _fmt(value: object) -> str:
    return value if isinstance(value, str) else _canon(value)


def _all_scalars(items: list[Any]) -> bool:
    return not any(isinstance(i, dict | list) for i in items)


def item_labels(field: str, items: list[Any]) -> list[str] | None:
    """The labels of a list's items as paths print them (`name=web`, `=kubernetes`) when
    the list named `field` is keyed or a set and every label is distinct; None when its
    items pair by index."""
    fields = _key_fields(field, items)
    if fields:
        labels = [_key_label(item, fields) for item in items]
    elif field in SET_LISTS and _all_scalars(items):
        labels = [f"={_fmt(item)}" for item in items]
    else:
        return None
    return labels if len(set(labels)) == len(labels) else None


def _same_scalar(want: object, have: object, *, quantity: bool) -> bool:
    if type(want) is type(have) and want == have:  # the common case, first
        return True
    if quantity:
        return quantities.same(want, have)
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have
    if isinstance(want, int | float) and isinstance(have, int | float):
        return want == have
    return type(want) is type(have) and want == have


def _group_kind(obj: Obj) -> tuple[str, str]:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    return group, kind if isinstance(kind, str) else ""


def _comparable(obj: Obj) -> Obj:
    """A Secret's `stringData` folded into `data`, as the server stores it (rule 1 view).

    The server never returns `stringData`; folding it on both sides keeps `drift(x, x)` empty.
    """
    string_data = obj.get("stringData")
    if not is_secret(obj) or not isinstance(string_data, dict):
        return obj
    data = obj.get("data")
    data = data if isinstance(data, dict) else {}
    encoded = {k: _b64(v) for k, v in string_data.items() if isinstance(v, str)}
    rest = {k: v for k, v in obj.items() if k != "stringData"}
    return {**rest, "data": {**data, **encoded}}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --------------------------------------------------------------------------- rule 2


def _owned_fieldsets(live: Obj, manager: str) -> Iterator[dict[str, Any]]:
    """The `fieldsV1` trees `manager` holds through `Apply` on the main resource."""
    meta = live.get("metadata")
    entries = meta.get("managedFields") if isinstance(meta, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or entry.get("subresource"):
            continue
        fields = entry.get("fieldsV1")
        is_ours = entry.get("manager") == manager and entry.get("operation") == "Apply"
        if is_ours and isinstance(fields, dict):
            yield fields


def _ownership_view(desired: Obj) -> Obj:
    """For a Secret, a key set in `data` or `stringData` counts as set in both (rule 2 view)."""
    if not is_secret(desired):
        return desired
    keys = {}
    for section in ("data", "stringData"):
        values = desired.get(section)
        keys.update(values if isinstance(values, dict) else {})
    return {**desired, "data": keys, "stringData": keys}


def _walk_owned(fields: Mapping[str, Any], desired: Any, path: str, found: list[str]) -> None:
    """Rule 2: record owned fields (`f:`, `k:`, `v:`, `i:` entries) that `desired` lacks."""
    for entry, child in fields.items():
        kind, _, raw = entry.partition(":")
        if kind == "f":  # most entries: a field, its path built only when it is needed
            value = desired.get(raw) if type(desired) is dict else None
            if value is None:
                found.append(f"{path}.{raw}")
            elif child and type(child) is dict:
                _walk_owned(child, value, f"{path}.{raw}", found)
            continue
        located = _locate(kind, raw, desired, path)
        if located is None:
            continue
        where, value = located
        if value is _ABSENT:
            found.append(where)
        elif isinstance(child, dict) and child:
            _walk_owned(child, value, where, found)


_ABSENT = object()


def _locate(kind: str, raw: str, desired: Any, path: str) -> tuple[str, Any] | None:
    """The path of one fieldsV1 entry and the desired value there (`_ABSENT` if unset)."""
    try:
        if kind == "f":
            value = desired.get(raw) if isinstance(desired, dict) else None
            return f"{path}.{raw}", _ABSENT if value is None else value
        if kind == "k":
            key = json.loads(raw)
            return f"{path}[{_key_label(key, key)}]", _find_keyed(desired, key)
        if kind == "v":
            value = json.loads(raw)
            present = isinstance(desired, list) and _canon(value) in map(_canon, desired)
            return f"{path}[={_fmt(value)}]", value if present else _ABSENT
        if kind == "i":
            index = int(raw)
            inside = isinstance(desired, list) and 0 <= index < len(desired)
            return f"{path}[{index}]", desired[index] if inside else _ABSENT
    except (ValueError, TypeError, AttributeError):
        pass  # a malformed entry: the server never writes one
    return None  # ".": the item itself, whose presence the parent entry already checked


def _find_keyed(desired: Any, key: object) -> Any:
    if not isinstance(desired, list) or not isinstance(key, dict):
        return _ABSENT
    for item in desired:
        if isinstance(item, dict) and all(
            _canon(_key_value(item, f)) == _canon(v) for f, v in key.items()
        ):
            return item
    return _ABSENT


# --------------------------------------------------------------------------- diffs


def unified(ref: ObjectRef, before: Obj | None, after: Obj | None, *, context: int = 3,
            labels: tuple[str, str] = ("live", "desired")) -> str:
    """A `kubectl diff`-style unified diff from live (`before`) to desired (`after`), the
    file names `labels[0]/ref` and `labels[1]/ref`.

    Both sides are normalized and Secret values masked. `before=None` is a creation (every
    line added), `after=None` a removal. Empty when the sides are equal.
    """
    old, new = mask_secrets(_normalized(before), _normalized(after))
    lines = difflib.unified_diff(
        _yaml_lines(old),
        _yaml_lines(new),
        fromfile=f"{labels[0]}/{ref}",
        tofile=f"{labels[1]}/{ref}",
        n=context,
        lineterm="",
    )
    text = "\n".join(lines)
    return f"{text}\n" if text else ""


def _normalized(obj: Obj | None) -> Obj | None:
    return None if obj is None else normalize(obj)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """SafeDumper that writes multi-line strings as `|` blocks, so diffs show changed lines."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def _yaml_lines(obj: Obj | None) -> list[str]:
    if obj is None:
        return []
    text = yaml.dump(
        obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True
    )
    return text.splitlines()
