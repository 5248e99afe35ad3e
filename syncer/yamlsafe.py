"""YAML from outside, loaded with limits.  [pure]

Every YAML file syncer reads comes from someone else (an app repository, a bundle, a
profile), so it is loaded as hostile input:

- the text is at most `Limits.max_bytes` long;
- a mapping may not repeat a key (YAML forbids it; PyYAML would keep the last one silently,
  so a second `shop-dev:` could redirect a channel);
- after aliases are expanded, the nodes and scalar characters of a document weigh at most
  `Limits.max_weight`, so that a small alias bomb cannot grow into gigabytes where the
  objects are serialised or copied; an alias cycle is refused;
- nesting is at most `Limits.max_depth` deep.

`load` and `load_all` raise the caller's own error class (a `SyncerError`) with a `where`
of `file:line`, so each caller keeps its place in the error tree. libyaml's loader is used
when PyYAML has it (it is many times faster), else PyYAML's own; both give the same values.
`dump` writes YAML with libyaml's emitter when there is one, else PyYAML's: the text may
differ in layout for unusual keys (control characters), never in the values it reads back as.

Text without `&` has no anchors, hence no aliases: its documents are trees, weighed in one
pass without remembering shared nodes (most manifests; about a third of the checking cost).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncer.errors import SyncerError

__all__ = ["Limits", "dump", "load", "load_all"]

_MERGE: Final = "tag:yaml.org,2002:merge"
_STR: Final = "tag:yaml.org,2002:str"
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 8 * 1024 * 1024
    max_weight: int = 32 * 1024 * 1024
    max_depth: int = 100


class _Refused(Exception):
    """A limit or rule of this module, at a node."""

    def __init__(self, problem: str, node: Node) -> None:
        super().__init__(problem)
        self.problem, self.line = problem, node.start_mark.line + 1


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, refusing duplicate keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            if key_node.tag == _STR and isinstance(key_node, ScalarNode):
                key = key_node.value  # what the str constructor returns, without the call
            else:
                key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: the base class says so
            if key in seen:
                raise _Refused(f"duplicate key {str(key)[:60]!r}", key_node)
            seen.add(key)
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result


def load(text: str | bytes, *, where: str, error: type[SyncerError],
         limits: Limits = Limits()) -> Any:
    """The one document of `text` (None when it is empty)."""
    docs = load_all(text, where=where, error=error, limits=limits)
    if len(docs) > 1:
        raise error("holds more than one YAML document", where=where)
    return docs[0] if docs else None


def load_all(text: str | bytes, *, where: str, error: type[SyncerError],
             limits: Limits = Limits()) -> list[Any]:
    """Every document of `text`, each checked before it is built."""
    if len(text) > limits.max_bytes:
        raise error(f"{len(text)} bytes of YAML, over the limit of {limits.max_bytes}",
                    where=where)
    try:
        return _documents(text, limits)
    except _Refused as e:
        raise error(e.problem, where=f"{where}:{e.line}") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark is not None else where
        raise error(f"invalid YAML: {getattr(e, 'problem', None) or e}", where=at) from e
    except RecursionError as e:
        raise error(f"YAML nested too deeply (limit {limits.max_depth})", where=where) from e


def dump(value: Any, **options: Any) -> str:
    """`value` as YAML text (PyYAML's `safe_dump` options: `sort_keys`, `default_flow_style`,
    `allow_unicode`, ...)."""
    text: str = yaml.dump(value, Dumper=_Dumper, **options)
    return text


def _documents(text: str | bytes, limits: Limits) -> list[Any]:
    anchors = b"&" in text if isinstance(text, bytes) else "&" in text
    loader = _Loader(text)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if anchors:
                _Weigher(limits).weigh(node, 1)
            else:
                _weigh_tree(node, limits)
            docs.append(loader.construct_document(node))
        return docs
    finally:
        loader.dispose()


def _weigh_tree(root: Node, limits: Limits) -> None:
    """`_Weigher`'s limits for a document without aliases: every node is met once."""
    weight, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise _Refused(f"nested deeper than {limits.max_depth} levels", node)
        value = node.value
        if isinstance(value, str):
            weight += 1 + len(value)
        else:
            weight += 1
            children = [part for pair in value for part in pair] \
                if isinstance(node, MappingNode) else value
            stack.extend((child, depth + 1) for child in children)
        if weight > limits.max_weight:
            raise _Refused(f"expands to more than {limits.max_weight} nodes and characters",
                           node)


class _Weigher:
    """Weight (nodes + scalar characters, aliases expanded) and height of a node graph,
    each shared node measured once."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.done: dict[int, tuple[int, int] | None] = {}

    def weigh(self, node: Node, depth: int) -> tuple[int, int]:
        if depth > self.limits.max_depth:
            raise _Refused(f"nested deeper than {self.limits.max_depth} levels", node)
        known = self.done.get(id(node), ())
        if known is None:
            raise _Refused("an alias refers to a node that contains it", node)
        if known:
            return self._fits(node, known, depth)
        self.done[id(node)] = None
        measured = self._measure(node, depth)
        self.done[id(node)] = measured
        return self._fits(node, measured, depth)

    def _measure(self, node: Node, depth: int) -> tuple[int, int]:
        if isinstance(node, ScalarNode):
            return 1 + len(node.value), 1
        weight, height = 1, 0
        for child in _children(node):
            child_weight, child_height = self.weigh(child, depth + 1)
            weight, height = weight + child_weight, max(height, child_height)
            if weight > self.limits.max_weight:
                break
        return weight, height + 1

    def _fits(self, node: Node, measured: tuple[int, int], depth: int) -> tuple[int, int]:
        weight, height = measured
        if weight > self.limits.max_weight:
            raise _Refused(f"expands to more than {self.limits.max_weight} nodes and "
                           "characters (an alias bomb?)", node)
        if depth + height - 1 > self.limits.max_depth:
            raise _Refused(f"nested deeper than {self.limits.max_depth} levels", node)
        return measured


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []
