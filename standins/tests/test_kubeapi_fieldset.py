"""Field sets as managedFields encode them (fieldsV1)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from syncer_standins.kubeapi.fieldset import FieldSet, key_element, path_string

DEPLOYMENT_FIELDS = {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {"f:spec": {"f:containers": {'k:{"name":"web"}': {
            ".": {}, "f:image": {}, "f:name": {},
            "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {
                ".": {}, "f:containerPort": {}}}}}}},
    },
}

elements = st.sampled_from(["f:a", "f:b", "f:data", 'k:{"name":"web"}', 'v:"x"', "i:0"])
paths = st.lists(elements, min_size=1, max_size=4).map(tuple)
field_sets = st.lists(paths, max_size=8).map(lambda found: FieldSet.of(*found))


def test_fields_v1_round_trip_keeps_members_with_children() -> None:
    fields = FieldSet.from_fields_v1(DEPLOYMENT_FIELDS)
    containers = ("f:spec", "f:template", "f:spec", "f:containers")
    assert fields.has((*containers, 'k:{"name":"web"}'))
    assert not fields.has(containers)
    assert fields.has(("f:spec", "f:selector"))
    assert fields.to_fields_v1() == DEPLOYMENT_FIELDS


def test_set_operations() -> None:
    mine = FieldSet.of(("f:data", "f:a"), ("f:data", "f:b"), ("f:metadata", "f:labels", "f:x"))
    theirs = FieldSet.of(("f:data", "f:a"))
    assert mine.difference(theirs).to_fields_v1() == {
        "f:data": {"f:b": {}}, "f:metadata": {"f:labels": {"f:x": {}}}}
    assert mine.intersection(theirs) == theirs
    assert theirs.union(FieldSet.of(("f:data",))).to_fields_v1() == {"f:data": {".": {}, "f:a": {}}}
    assert mine.recursive_difference(FieldSet.of(("f:metadata",))).to_fields_v1() == {
        "f:data": {"f:a": {}, "f:b": {}}}
    assert mine.difference(mine).empty()


def test_path_strings_name_fields_keys_values_and_indexes() -> None:
    key = key_element({"containerPort": 80, "protocol": "TCP"})
    assert path_string(("f:spec", "f:ports", key)) == '.spec.ports[containerPort=80,protocol="TCP"]'
    assert path_string(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'
    assert path_string(("f:args", "i:2")) == ".args[2]"


@given(field_sets)
def test_encoding_round_trips(fields: FieldSet) -> None:
    assert FieldSet.from_fields_v1(fields.to_fields_v1()) == fields


@given(field_sets, field_sets)
def test_union_and_difference_laws(left: FieldSet, right: FieldSet) -> None:
    both = left.union(right)
    assert all(both.has(path) for path in left.paths())
    assert not any(left.difference(right).has(path) for path in right.paths())
    assert left.intersection(right) == right.intersection(left)
    assert left.difference(right).union(left.intersection(right)) == left
