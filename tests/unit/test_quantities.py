"""The quantity fields `syncer.quantities` knows, checked against the Go types of k8s.io/api.

The Kubernetes stand-in decodes built-in objects with a table of the Go structs behind each
kind (`syncer_standins.kubeapi.gotypes`, derived from k8s.io/api v1.36). Every path that
table leads to a `resource.Quantity` must be a quantity path of the product's table too, and
the other way round for the kinds both describe.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from syncer_standins.kubeapi import gotypes

from syncer import quantities

Path = tuple[str, ...]


def _gotype_paths(go: gotypes.GoType, seen: tuple[str, ...]) -> Iterator[Path]:
    if go.code == "q":
        yield ()
    elif go.code == "struct" and go.name != gotypes.META and go.name not in seen:
        for name, field in gotypes.struct(go.name).fields.items():
            for rest in _gotype_paths(field, (*seen, go.name)):
                yield (name, *rest)
    elif go.code in ("list", "map") and go.item is not None:
        for rest in _gotype_paths(go.item, seen):
            yield ("[]" if go.code == "list" else "{}", *rest)


def _product_paths(node: str | None, depth: int = 0) -> Iterator[Path]:
    assert depth < 20, "the product's table has a cycle"
    if node == quantities.QUANTITY:
        yield ()
    elif node is not None and node.startswith("["):
        for rest in _product_paths(quantities.item(node), depth + 1):
            yield ("[]", *rest)
    elif node is not None and node.startswith("{"):
        for rest in _product_paths(quantities.child(node, "any"), depth + 1):
            yield ("{}", *rest)
    elif node is not None:
        for name in quantities.STRUCTS[node]:
            for rest in _product_paths(quantities.child(node, name), depth + 1):
                yield (name, *rest)


def _go_roots() -> dict[tuple[str, str], set[Path]]:
    roots = {}
    for group, kind in gotypes._table().roots:
        found = gotypes.root(group, kind)
        assert found is not None
        paths = set(_gotype_paths(gotypes.GoType("struct", name=found.name), ()))
        if paths:
            roots[(group, kind)] = paths
    return roots


def test_every_quantity_of_the_go_types_is_a_quantity_for_diff() -> None:
    go = _go_roots()
    assert go, "the stand-in's Go types name no quantity at all"
    for key, paths in go.items():
        product = set(_product_paths(quantities.root(*key)))
        assert product == paths, (key, sorted(paths ^ product))


def test_the_product_adds_only_kinds_the_go_table_does_not_describe() -> None:
    described = set(gotypes._table().roots)
    extra = set(quantities.ROOTS) - set(_go_roots())
    assert not extra & described, "a kind the Go table describes has no quantity there"
    assert extra == {("node.k8s.io", "RuntimeClass"), ("storage.k8s.io", "CSIStorageCapacity")}


def test_every_struct_of_the_table_is_reachable_and_every_name_defined() -> None:
    reached: set[str] = set()

    def visit(node: str | None) -> None:
        while node is not None and node[0] in "[{":
            node = node[1:-1]
        if node is None or node == quantities.QUANTITY or node in reached:
            return
        assert node in quantities.STRUCTS, f"{node} is used but not defined"
        reached.add(node)
        for name in quantities.STRUCTS[node]:
            visit(quantities.child(node, name))

    for name in quantities.ROOTS.values():
        visit(name)
    assert reached == set(quantities.STRUCTS)


@pytest.mark.parametrize(("a", "b"), [
    ("500m", 0.5), ("1Gi", "1024Mi"), ("1k", "1e3"), ("1", 1), ("100m", 0.1),
    ("2n", "1.5n"), ("1M", 1000000), ("0", "0m"), ("1.5Gi", "1536Mi"), ("1E", "1000P"),
])
def test_same_value(a: object, b: object) -> None:
    assert quantities.same(a, b)


@pytest.mark.parametrize("bad", [
    "", " 1", "1 ", "1x", "1ki", "Gi", True, None, [], {}, float("nan"), float("inf"),
    "1" * 100, "1e99999999999",
])
def test_not_a_quantity(bad: object) -> None:
    assert quantities.value(bad) is None
    assert not quantities.same(bad, bad)


def test_value_is_decimal() -> None:
    assert quantities.value("1Ki") == Decimal(1024)
    assert quantities.value("250m") == Decimal("0.25")
