"""Walks over JSON objects guided by a `Schema`: the operations structured-merge-diff performs.

* `validate` finds undeclared fields and broken associative lists (the apply 500s);
* `to_field_set` is the set of fields an applied configuration sets;
* `merge` lays an applied configuration over the live object;
* `compare` lists the paths added, modified and removed between two objects;
* `remove_items` deletes the paths of a set from an object;
* `ensure_named` makes declared struct fields members (used when pruning applied fields).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from syncer_standins.kubeapi.fieldset import (
    FieldSet,
    Path,
    field_element,
    index_element,
    key_element,
    path_string,
    value_element,
)
from syncer_standins.kubeapi.schema import ANY, Schema

__all__ = [
    "Comparison",
    "compare",
    "ensure_named",
    "go_syntax",
    "item_element",
    "merge",
    "remove_items",
    "same",
    "to_field_set",
    "validate",
]


def same(left: Any, right: Any) -> bool:
    """JSON equality (so that `1 != true`, unlike Python's `==`)."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _granular_list(value: Any, schema: Schema) -> bool:
    return isinstance(value, list) and not schema.atomic and schema.list_type != "atomic"


def _granular_map(value: Any, schema: Schema) -> bool:
    return isinstance(value, dict) and not schema.atomic


def item_element(item: Any, schema: Schema, *, index: int) -> str:
    """The path element of a list item: its keys, its value (sets) or, failing that, index."""
    if schema.list_type == "set":
        return value_element(item)
    if schema.list_type == "map" and isinstance(item, dict):
        defaults = schema.key_defaults()
        if all(key in item or key in defaults for key in schema.list_keys):
            return key_element({key: item.get(key, defaults.get(key)) for key in schema.list_keys})
    return index_element(index)


def _child(schema: Schema, element: str) -> Schema:
    if element.startswith("f:"):
        return schema.child(element[2:]) or ANY
    return schema.item()


# --- validation -------------------------------------------------------------------------


def go_syntax(value: Any) -> str:
    """value as Go's `%#v` prints the decoded JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}:{go_syntax(v)}" for k, v in sorted(value.items()))
        return f"map[string]interface {{}}{{{inner}}}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(go_syntax(item) for item in value) + "}"
    return "interface {}(nil)" if value is None else str(value)


def _scalar_problem(value: Any, schema: Schema) -> str:
    """What structured-merge-diff says of a scalar of the wrong type."""
    if value is None:
        return ""
    if schema.scalar == "s" and not isinstance(value, str):
        return f"expected string, got &value.valueUnstructured{{Value:{go_syntax(value)}}}"
    if schema.scalar in ("i", "n") and (isinstance(value, bool)
                                        or not isinstance(value, (int, float))):
        go_type = {str: "string", bool: "bool", dict: "map[string]interface {}",
                   list: "[]interface {}"}.get(type(value), "interface {}")
        return f"expected numeric (int or float), got {go_type}"
    return ""


def validate(value: Any, schema: Schema, *, path: Path = ()) -> list[str]:
    """Errors as structured-merge-diff words them, e.g. `.spec.x: field not declared in schema`."""
    problem = _scalar_problem(value, schema)
    if problem:
        return [f"{path_string(path)}: {problem}"]
    if _granular_map(value, schema):
        return _validate_map(value, schema, path=path)
    if _granular_list(value, schema):
        return _validate_list(value, schema, path=path)
    return []


def _validate_map(value: dict[str, Any], schema: Schema, *, path: Path) -> list[str]:
    errors: list[str] = []
    for name, child in value.items():
        sub = schema.child(name)
        where = (*path, field_element(name))
        if sub is None:
            errors.append(f"{path_string(where)}: field not declared in schema")
        else:
            errors += validate(child, sub, path=where)
    return errors


def _validate_list(value: list[Any], schema: Schema, *, path: Path) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        element = item_element(item, schema, index=index)
        if schema.list_type == "map" and element.startswith("i:"):
            keys = item if isinstance(item, dict) else {}
            missing = next(key for key in schema.list_keys if key not in keys)
            errors.append(
                f"{path_string(path)}: element {index}: associative list with keys has an "
                f'element that omits key field "{missing}" (and doesn\'t have default value)'
            )
            continue
        if element in seen:
            errors.append(f"{path_string(path)}: duplicate entries for key {_text(element)}")
        seen.add(element)
        errors += validate(item, schema.item(), path=(*path, element))
    return errors


def _text(element: str) -> str:
    return path_string((element,))


# --- field sets -------------------------------------------------------------------------


def to_field_set(value: Any, schema: Schema) -> FieldSet:
    result = FieldSet()
    _collect(value, schema, path=(), out=result)
    return result


def _collect(value: Any, schema: Schema, *, path: Path, out: FieldSet) -> None:
    if _granular_map(value, schema):
        for name, child in value.items():
            where = (*path, field_element(name))
            _collect(child, schema.child(name) or ANY, path=where, out=out)
            if child is None or child == {} or not schema.named(name):
                out.insert(where)
    elif _granular_list(value, schema):
        for index, item in enumerate(value):
            where = (*path, item_element(item, schema, index=index))
            _collect(item, schema.item(), path=where, out=out)
            out.insert(where)
    elif path:
        out.insert(path)


def ensure_named(fields: FieldSet, schema: Schema) -> FieldSet:
    """Copy of fields where every declared struct field that has children is also a member."""
    result = FieldSet()
    result.members = set(fields.members)
    for element, child in fields.children.items():
        if element.startswith("f:") and schema.named(element[2:]):
            result.members.add(element)
        result.children[element] = ensure_named(child, _child(schema, element))
    return result


# --- merge ------------------------------------------------------------------------------


def merge(live: Any, config: Any, *, schema: Schema) -> Any:
    """The live object with an applied configuration laid over it."""
    if _granular_map(config, schema) and isinstance(live, dict):
        result = dict(live)
        for name, value in config.items():
            result[name] = merge(live.get(name), value, schema=schema.child(name) or ANY)
        return result
    if _granular_list(config, schema) and isinstance(live, list):
        return _merge_list(live, config, schema=schema)
    return copy.deepcopy(config)


def _merge_list(live: list[Any], config: list[Any], *, schema: Schema) -> list[Any]:
    """structured-merge-diff's list merge: shared items follow the config's order."""
    lpes = [item_element(item, schema, index=i) for i, item in enumerate(live)]
    rpes = [item_element(item, schema, index=i) for i, item in enumerate(config)]
    lmap, rmap = dict(zip(lpes, live, strict=True)), dict(zip(rpes, config, strict=True))
    shared = iter([pe for pe in rpes if pe in lmap])
    state = _ListMerge(next(shared, None), shared)
    li = ri = 0
    while li < len(lpes) or ri < len(rpes):
        step = _merge_step(state, lpes, rpes=rpes, li=li, ri=ri)
        if step == "both":
            state.take(lpes[li], lmap=lmap, rmap=rmap, schema=schema.item())
            li, ri = li + 1, ri + 1
        elif step == "left-keep":
            state.out.append(copy.deepcopy(live[li]))
            li += 1
        elif step == "left-skip":
            li += 1
        else:
            state.take(rpes[ri], lmap=lmap, rmap=rmap, schema=schema.item())
            ri += 1
    return state.out


@dataclass
class _ListMerge:
    next_shared: str | None
    rest: Any
    out: list[Any] = field(default_factory=list)
    merged: set[str] = field(default_factory=set)

    def take(self, pe: str, *, lmap: dict[str, Any], rmap: dict[str, Any], schema: Schema) -> None:
        self.merged.add(pe)
        self.out.append(merge(lmap.get(pe), rmap[pe], schema=schema))
        if self.next_shared == pe:
            self.next_shared = next(self.rest, None)


def _merge_step(state: _ListMerge, lpes: list[str], *, rpes: list[str], li: int, ri: int) -> str:
    rset = set(rpes)
    if li < len(lpes) and ri < len(rpes):
        if lpes[li] == rpes[ri]:
            return "both"
        if lpes[li] in rset and state.next_shared is not None and state.next_shared != lpes[li]:
            return "left-skip"
    if li < len(lpes):
        if lpes[li] not in rset:
            return "left-keep"
        if lpes[li] in state.merged:
            return "left-skip"
    return "right"


# --- compare ----------------------------------------------------------------------------


@dataclass
class Comparison:
    added: FieldSet = field(default_factory=FieldSet)
    modified: FieldSet = field(default_factory=FieldSet)
    removed: FieldSet = field(default_factory=FieldSet)

    def exclude(self, ignored: FieldSet) -> Comparison:
        return Comparison(
            self.added.recursive_difference(ignored),
            self.modified.recursive_difference(ignored),
            self.removed.recursive_difference(ignored),
        )


def compare(old: Any, new: Any, *, schema: Schema) -> Comparison:
    result = Comparison()
    _compare(old, new, schema=schema, path=(), out=result)
    return result


def _entries(value: Any, schema: Schema) -> dict[str, Any]:
    if isinstance(value, dict):
        return {field_element(name): child for name, child in value.items()}
    if isinstance(value, list):
        return {item_element(item, schema, index=i): item for i, item in enumerate(value)}
    return {}


def _walkable(old: Any, new: Any, *, schema: Schema) -> bool:
    """Both sides are the same kind of granular container (null counts as an empty one)."""
    values = [value for value in (old, new) if value is not None]
    if not values or len({type(value) for value in values}) != 1:
        return False
    return _granular_map(values[0], schema) or _granular_list(values[0], schema)


def _compare(old: Any, new: Any, *, schema: Schema, path: Path, out: Comparison) -> None:
    if not _walkable(old, new, schema=schema):
        if path and not same(old, new):
            out.modified.insert(path)
        return
    left, right = _entries(old, schema), _entries(new, schema)
    for element in left.keys() | right.keys():
        where, sub = (*path, element), _child(schema, element)
        if element not in left:
            _mark(right[element], sub, path=where, out=out.added)
        elif element not in right:
            _mark(left[element], sub, path=where, out=out.removed)
        else:
            _compare(left[element], right[element], schema=sub, path=where, out=out)


def _mark(value: Any, schema: Schema, *, path: Path, out: FieldSet) -> None:
    """Insert path and every path below it."""
    out.insert(path)
    if _granular_map(value, schema) or _granular_list(value, schema):
        for element, child in _entries(value, schema).items():
            _mark(child, _child(schema, element), path=(*path, element), out=out)


# --- removal ----------------------------------------------------------------------------


def remove_items(value: Any, fields: FieldSet, *, schema: Schema) -> Any:
    """A copy of value without the member paths of fields (each with all it holds)."""
    if _granular_map(value, schema):
        result: dict[str, Any] = {}
        for name, child in value.items():
            element = field_element(name)
            if element in fields.members:
                continue
            below = fields.children.get(element)
            sub = schema.child(name) or ANY
            result[name] = remove_items(child, below, schema=sub) if below else child
        return result
    if _granular_list(value, schema):
        items = []
        for index, item in enumerate(value):
            element = item_element(item, schema, index=index)
            if element in fields.members:
                continue
            below = fields.children.get(element)
            items.append(remove_items(item, below, schema=schema.item()) if below else item)
        return items
    return value
