"""The Go types of the built-in kinds: which fields each struct has, in which order, of which type.

kube-apiserver decodes every built-in object into its Go struct and encodes the struct back:
fields come out in declaration order, undeclared fields are unknown (dropped with a warning,
refused in strict mode, a 500 for server-side apply), values are typed (a Quantity comes out
canonical, a MicroTime needs six fractional digits) and non-pointer structs are always encoded
(`status: {}`). `gotypes.txt`, beside this module, describes those structs in a compact table
(its header gives the notation); `root(group, kind)` finds a kind's struct and `struct(name)`
any struct. Kinds the table does not describe (CustomResourceDefinition, the review kinds...)
are approximated by `schema.LooseSchema`.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["META", "GoType", "Struct", "parse_type", "root", "struct"]

META = "ObjectMeta"  # the object metadata: `schema` knows its fields
SCALARS = frozenset("sbinqxtmy*")
_TABLE = Path(__file__).with_name("gotypes.txt")


@dataclass(frozen=True)
class GoType:
    """code: a scalar letter (see SCALARS), "struct", "list" or "map"."""

    code: str
    name: str = ""  # the struct's name
    item: GoType | None = None  # list items, map values
    list_type: str = "atomic"  # atomic | set | map
    keys: tuple[str, ...] = ()
    atomic: bool = False  # an atomic map (structs: see Struct.atomic)
    always: bool = False  # encoded even when empty (no omitempty, non-pointer struct or Time)
    pointer: bool = False  # a pointer to a struct: null, not {}, when unset


@dataclass(frozen=True)
class Struct:
    name: str
    atomic: bool = False
    fields: dict[str, GoType] = field(default_factory=dict)  # in Go order


def _closing(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError(f"unbalanced type {text!r}")


def _container(text: str) -> GoType:
    end = _closing(text, 0)
    item, suffix = parse_type(text[1:end]), text[end + 1:]
    if text[0] == "{":
        return GoType("map", item=item, atomic=suffix == "!")
    if suffix == "=":
        return GoType("list", item=item, list_type="set")
    if suffix:
        return GoType("list", item=item, list_type="map", keys=tuple(suffix.split(",")))
    return GoType("list", item=item)


def parse_type(text: str) -> GoType:
    """One type of the table's notation, e.g. `[Container]name` or `{q}` or `PodSpec^`."""
    always = text.endswith("^")
    text = text.rstrip("^")
    if text[0] in "[{":
        return dataclasses.replace(_container(text), always=always)
    if text in SCALARS:
        return GoType(text, always=always)
    pointer = text.startswith("*")
    return GoType("struct", name=text.lstrip("*"), always=always, pointer=pointer)


def _lines() -> list[str]:
    joined: list[str] = []
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(" "):
            joined[-1] += line
        else:
            joined.append(line)
    return joined


@dataclass
class _Table:
    structs: dict[str, tuple[bool, list[str]]] = field(default_factory=dict)
    roots: dict[tuple[str, str], str] = field(default_factory=dict)


@functools.cache
def _table() -> _Table:
    table = _Table()
    for line in _lines():
        head, _, body = line.partition(":")
        atomic = head.endswith("!")
        name = head.rstrip("!")
        if "@" in name:
            kind, _, group = name.partition("@")
            name = f"{group}/{kind}"
            table.roots[(group, kind)] = name
        table.structs[name] = (atomic, body.split())
    return table


def _fields(items: list[str]) -> dict[str, GoType]:
    fields: dict[str, GoType] = {}
    for item in items:
        if item.startswith("..."):
            fields.update(struct(item[3:].rstrip("^")).fields)
            continue
        name, _, text = item.partition(":")
        fields[name] = parse_type(text)
    return fields


@functools.cache
def struct(name: str) -> Struct:
    """The struct called name (KeyError if the table does not have it)."""
    structs = _table().structs
    key = name if name in structs else f"/{name}"  # a core kind's root struct
    atomic, items = structs[key]
    return Struct(name, atomic, _fields(items))


def root(group: str | None, kind: str) -> Struct | None:
    """A built-in kind's struct; with group None, the kind of that name if only one group has
    it."""
    roots = _table().roots
    if group is not None:
        found = roots.get((group, kind))
        return struct(found) if found else None
    names = [name for (_, other), name in roots.items() if other == kind]
    return struct(names[0]) if len(names) == 1 else None
