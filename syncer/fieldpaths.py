"""What differs between two objects, field by field, with the old and the new value.  [pure]

Both objects are normalized and their Secret values masked first, so a value reported here
is never a Secret's. Keyed lists are compared by merge key (`syncer.diff.item_labels`), so a
reordering is not a change and an edited container shows as
`.spec.template.spec.containers[name=web].image`; other lists by index (`.spec.args[1]`).
Paths print as in `syncer.diff`; a value is given as the object holds it (a keyed list as a
list again).

DeepDiff walks the two trees: it already reports additions, removals and type changes
separately, which is what the machine form of `syncer diff` needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syncer.diff import item_labels
from syncer.model import Obj
from syncer.normalize import mask_secrets, normalize

__all__ = ["FieldChange", "changed_fields", "changed_paths"]

_OPS = {"dictionary_item_added": "add", "iterable_item_added": "add", "set_item_added": "add",
        "dictionary_item_removed": "remove", "iterable_item_removed": "remove",
        "set_item_removed": "remove"}


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its path, `op` (add, remove or change) and both values
    (None on the side where the field is absent)."""

    path: str
    op: str
    old: Any = None
    new: Any = None


def changed_fields(before: Obj | None, after: Obj | None) -> tuple[FieldChange, ...]:
    """Every field that differs from `before` to `after` (None: no object), sorted by path."""
    old, new = mask_secrets(_normalized(before), _normalized(after))
    trees = _keyed(old or {}, ""), _keyed(new or {}, "")
    from deepdiff import DeepDiff  # noqa: PLC0415 - a second of imports, for this alone

    found = DeepDiff(trees[0], trees[1], view="tree", threshold_to_diff_deeper=0)
    changes = (_change(kind, level, trees) for kind, group in found.items() for level in group)
    unique = {(c.path, c.op, repr(c.old), repr(c.new)): c for c in changes}
    return tuple(sorted(unique.values(), key=lambda c: (c.path, c.op)))


def changed_paths(before: Obj, after: Obj) -> tuple[str, ...]:
    """The sorted paths that differ between two objects (normalized and masked first)."""
    return tuple(sorted({c.path for c in changed_fields(before, after)}))


def _normalized(obj: Obj | None) -> Obj | None:
    return None if obj is None else normalize(obj)


def _change(kind: str, level: Any, trees: tuple[Any, Any]) -> FieldChange:
    path = _render(level.path(output_format="list"), trees)
    op = _OPS.get(kind, "change")
    old = None if op == "add" else _plain(level.t1)
    new = None if op == "remove" else _plain(level.t2)
    return FieldChange(path, op, old, new)


class _Item(str):
    """The label of a keyed list item (`name=web`) once a list is turned into a map."""

    __slots__ = ()


class _Keyed(dict[str, Any]):
    """A keyed list turned into a map of `_Item` labels (turned back by `_plain`)."""


def _keyed(value: Any, field: str) -> Any:
    """`value` with keyed lists (and set lists) turned into `_Keyed` maps."""
    if isinstance(value, dict):
        return {k: _keyed(v, str(k)) for k, v in value.items()}
    if not isinstance(value, list):
        return value
    labels = item_labels(field, value)
    if labels is None:
        return [_keyed(item, field) for item in value]
    return _Keyed({_Item(label): _keyed(item, field) for label, item in zip(labels, value,
                                                                            strict=True)})


def _plain(value: Any) -> Any:
    """A value as the object holds it: `_Keyed` maps back to lists; absent as None."""
    if isinstance(value, _Keyed):
        return [_plain(v) for v in value.values()]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__name__ == "NotPresent":
        return None
    return value


def _render(elements: list[Any], trees: tuple[Any, Any]) -> str:
    nodes: list[Any] = list(trees)
    parts: list[str] = []
    for element in elements:
        in_list = any(isinstance(node, list) for node in nodes)
        if in_list or isinstance(element, _Item):
            parts.append(f"[{element}]")
        else:
            parts.append(f".{element}")
        nodes = [_child(node, element) for node in nodes]
    return "".join(parts)


def _child(node: Any, element: Any) -> Any:
    if isinstance(node, dict):
        return node.get(element)
    if isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
        return node[element]
    return None
