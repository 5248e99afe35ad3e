"""Request bodies: JSON and YAML decoding, JSON merge patch (RFC 7386), JSON patch (RFC 6902).

Strategic merge patch is treated as a JSON merge patch (lists are replaced whole, no
`$patch` directives): a simplification of the stand-in.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, ClassVar

import yaml

from syncer_standins.kubeapi.errors import ApiError, bad_request

__all__ = ["apply_json_patch", "merge_patch", "parse_json", "parse_yaml"]


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad_request(f"the object provided is not valid JSON: {err}") from err


class _Yaml11Loader(yaml.SafeLoader):
    """YAML 1.1 as kube-apiserver's decoder (go-yaml v2) reads it: `y`, `Y`, `n`, `N` are
    booleans too, next to yes/no/on/off/true/false."""

    bool_values: ClassVar[dict[str, bool]] = {
        **yaml.SafeLoader.bool_values, "y": True, "n": False}


_Yaml11Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


def parse_yaml(body: bytes) -> Any:
    """An apply body: YAML 1.1 (JSON being YAML too)."""
    try:
        return yaml.load(body.decode("utf-8"), Loader=_Yaml11Loader)
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise bad_request(f"error decoding YAML: {err}") from err


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer: {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    if not token.isdigit() or int(token) > len(container) - (0 if adding else 1):
        raise ApiError(422, f"index {token} out of range", "Invalid")
    return int(token)


def _parent(doc: Any, parts: list[str]) -> Any:
    node = doc
    for token in parts[:-1]:
        node = node[_index(node, token, adding=False)] if isinstance(node, list) else node[token]
    return node


def _remove(doc: Any, parts: list[str]) -> Any:
    parent = _parent(doc, parts)
    if isinstance(parent, list):
        return parent.pop(_index(parent, parts[-1], adding=False))
    return parent.pop(parts[-1])


def _add(doc: Any, parts: list[str], *, value: Any) -> Any:
    if not parts:
        return copy.deepcopy(value)
    parent = _parent(doc, parts)
    if isinstance(parent, list):
        parent.insert(_index(parent, parts[-1], adding=True), copy.deepcopy(value))
    else:
        parent[parts[-1]] = copy.deepcopy(value)
    return doc


def _get(doc: Any, parts: list[str]) -> Any:
    return _parent(doc, [*parts, ""])


def _operation(doc: Any, op: dict[str, Any]) -> Any:
    name, parts = op.get("op"), _pointer(str(op.get("path", "")))
    if name == "add":
        return _add(doc, parts, value=op.get("value"))
    if name == "remove":
        _remove(doc, parts)
    elif name == "replace":
        _remove(doc, parts)
        return _add(doc, parts, value=op.get("value"))
    elif name in ("move", "copy"):
        source = _pointer(str(op.get("from", "")))
        value = _remove(doc, source) if name == "move" else copy.deepcopy(_get(doc, source))
        return _add(doc, parts, value=value)
    elif name == "test":
        if json.dumps(_get(doc, parts), sort_keys=True) != json.dumps(op.get("value"),
                                                                       sort_keys=True):
            raise ApiError(422, f"testing value {op.get('path')} failed", "Invalid")
    else:
        raise bad_request(f"Unexpected kind: {name}")
    return doc


def apply_json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 over a copy of target."""
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(target)
    try:
        for op in operations:
            doc = _operation(doc, op)
    except (KeyError, IndexError, TypeError, AttributeError) as err:
        raise ApiError(422, f"the server rejected our request due to an error in our request: "
                       f"{err}", "Invalid") from err
    return doc
