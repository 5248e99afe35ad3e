"""Sets of field paths, the values of `managedFields[].fieldsV1`.

A path is a tuple of path elements written as fieldsV1 writes them: `f:name` (a field),
`k:{"name":"web"}` (an item of an associative list, keys sorted), `v:"x"` (an item of a set),
`i:0` (an item by index). A set holds *members* (paths it owns) and *children* (subsets under
a path element); in fieldsV1 a member that also has children carries a `".": {}` entry, as
structured-merge-diff encodes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "FieldSet",
    "Path",
    "field_element",
    "index_element",
    "key_element",
    "path_string",
    "value_element",
]

Path = tuple[str, ...]

_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def field_element(name: str) -> str:
    return "f:" + name


def key_element(key: Mapping[str, Any]) -> str:
    return "k:" + _compact(dict(key))


def value_element(value: Any) -> str:
    return "v:" + _compact(value)


def index_element(index: int) -> str:
    return f"i:{index}"


def _sort_key(element: str) -> tuple[int, int, str]:
    rank = _RANK.get(element[:1], 4)
    if rank == 3 and element[2:].isdigit():
        return rank, int(element[2:]), ""
    return rank, 0, element[2:]


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element_text(element: str) -> str:
    kind, rest = element[:2], element[2:]
    if kind == "f:":
        return "." + rest
    if kind == "k:":
        key = json.loads(rest)
        return "[" + ",".join(f"{k}={_scalar_text(v)}" for k, v in key.items()) + "]"
    if kind == "v:":
        return "[=" + _scalar_text(json.loads(rest)) + "]"
    return "[" + rest + "]"


def path_string(path: Sequence[str]) -> str:
    """A path as conflict messages print it: `.spec.containers[name="web"].image`."""
    return "".join(_element_text(element) for element in path)


class FieldSet:
    """A set of paths, stored as a tree like structured-merge-diff's `fieldpath.Set`."""

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.children: dict[str, FieldSet] = {}

    @classmethod
    def of(cls, *paths: Sequence[str]) -> FieldSet:
        result = cls()
        for path in paths:
            result.insert(path)
        return result

    @classmethod
    def from_fields_v1(cls, tree: Mapping[str, Any]) -> FieldSet:
        result = cls()
        for element, sub in tree.items():
            if element == ".":
                continue
            if not sub or "." in sub:
                result.members.add(element)
            if isinstance(sub, Mapping) and any(key != "." for key in sub):
                result.children[element] = cls.from_fields_v1(sub)
        return result

    def to_fields_v1(self) -> dict[str, Any]:
        tree: dict[str, Any] = {}
        for element in sorted(self.members | self.children.keys(), key=_sort_key):
            child = self.children.get(element)
            if child is None:
                tree[element] = {}
                continue
            inner = child.to_fields_v1()
            tree[element] = {".": {}, **inner} if element in self.members else inner
        return tree

    def insert(self, path: Sequence[str]) -> None:
        if not path:
            return
        node = self
        for element in path[:-1]:
            node = node.children.setdefault(element, FieldSet())
        node.members.add(path[-1])

    def has(self, path: Sequence[str]) -> bool:
        node: FieldSet | None = self
        for element in path[:-1]:
            node = node.children.get(element) if node else None
        return node is not None and bool(path) and path[-1] in node.members

    def empty(self) -> bool:
        return not self.members and all(child.empty() for child in self.children.values())

    def copy(self) -> FieldSet:
        return self.union(FieldSet())

    def union(self, other: FieldSet) -> FieldSet:
        result = FieldSet()
        result.members = self.members | other.members
        for element in self.children.keys() | other.children.keys():
            mine, theirs = self.children.get(element), other.children.get(element)
            merged = (mine or FieldSet()).union(theirs or FieldSet())
            if not merged.empty():
                result.children[element] = merged
        return result

    def difference(self, other: FieldSet) -> FieldSet:
        """Paths of self not in other (members only: children of other's members stay)."""
        result = FieldSet()
        result.members = self.members - other.members
        for element, child in self.children.items():
            theirs = other.children.get(element)
            rest = child.difference(theirs) if theirs else child.copy()
            if not rest.empty():
                result.children[element] = rest
        return result

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Paths of self neither in other nor below one of other's members."""
        result = FieldSet()
        result.members = self.members - other.members
        for element, child in self.children.items():
            if element in other.members:
                continue
            theirs = other.children.get(element)
            rest = child.recursive_difference(theirs) if theirs else child.copy()
            if not rest.empty():
                result.children[element] = rest
        return result

    def intersection(self, other: FieldSet) -> FieldSet:
        result = FieldSet()
        result.members = self.members & other.members
        for element, child in self.children.items():
            theirs = other.children.get(element)
            if theirs is None:
                continue
            common = child.intersection(theirs)
            if not common.empty():
                result.children[element] = common
        return result

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every member path, in fieldsV1 order."""
        for element in sorted(self.members | self.children.keys(), key=_sort_key):
            if element in self.members:
                yield (*prefix, element)
            child = self.children.get(element)
            if child is not None:
                yield from child.paths((*prefix, element))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self.to_fields_v1() == other.to_fields_v1()

    def __hash__(self) -> int:
        return hash(_compact(self.to_fields_v1()))

    def __repr__(self) -> str:
        return f"FieldSet({_compact(self.to_fields_v1())})"
