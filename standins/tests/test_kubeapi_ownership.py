"""Server-side apply and update ownership on plain data (no server involved)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from syncer_standins.kubeapi.fieldset import FieldSet
from syncer_standins.kubeapi.ownership import (
    ApplyConflict,
    Change,
    ManagerKey,
    Managers,
    apply,
    decode,
    encode,
    update,
)
from syncer_standins.kubeapi.schema import OpenAPISchema, builtin_schema
from syncer_standins.kubeapi.typed import compare, merge, to_field_set, validate

CM = builtin_schema("ConfigMap")
DEPLOY = builtin_schema("Deployment")


def change(manager: str, *, schema: Any = CM, operation: str = "Apply",
           stamp: str = "T1") -> Change:
    return Change(schema, ManagerKey(manager, operation), "v1", stamp, FieldSet())


def ssa(live: dict[str, Any], config: dict[str, Any], *, by: str,
        managers: Managers | None = None, force: bool = False,
        schema: Any = CM) -> tuple[dict[str, Any], Managers]:
    """Apply config over live as manager `by`."""
    return apply(live, config, managers=managers or {}, change=change(by, schema=schema),
                 force=force)


def cm(data: dict[str, str], **labels: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "cm", "namespace": "ns"}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def fields(managers: Managers, manager: str) -> dict[str, Any]:
    found = [m for key, m in managers.items() if key.manager == manager]
    return found[0].fields.to_fields_v1() if found else {}


def deployment(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": list(containers)}}}}


def test_apply_owns_what_it_sets_and_never_names_or_kinds() -> None:
    obj, managers = ssa({}, cm({"a": "1"}, app="x"), by="syncer")
    assert obj["data"] == {"a": "1"}
    assert fields(managers, "syncer") == {
        "f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}


def test_same_value_is_shared_not_a_conflict() -> None:
    obj, managers = ssa({}, cm({"a": "1"}), by="syncer")
    obj, managers = ssa(obj, cm({"a": "1"}), by="other", managers=managers)
    assert fields(managers, "syncer") == fields(managers, "other") == {"f:data": {"f:a": {}}}
    obj, managers = ssa(obj, cm({}), by="syncer", managers=managers)
    assert obj["data"] == {"a": "1"}, "still owned by other"


def test_conflicts_list_every_field_by_manager() -> None:
    obj, managers = ssa({}, cm({"a": "1", "b": "2"}), by="syncer")
    with pytest.raises(ApplyConflict) as caught:
        ssa(obj, cm({"a": "9", "b": "9"}), by="other", managers=managers)
    assert str(caught.value) == (
        'Apply failed with 2 conflicts: conflicts with "syncer":\n- .data.a\n- .data.b')
    body = caught.value.to_api_error().body()
    assert [cause["field"] for cause in body["details"]["causes"]] == [".data.a", ".data.b"]


def test_conflict_with_an_updater_names_its_api_version() -> None:
    obj = cm({"a": "1"})
    managers = update({}, obj, managers={}, change=change("kubectl", operation="Update"))
    with pytest.raises(ApplyConflict, match=r'conflict with "kubectl" using v1: \.data\.a'):
        ssa(obj, cm({"a": "2"}), by="syncer", managers=managers)


def test_force_moves_ownership_and_empty_entries_disappear() -> None:
    obj, managers = ssa({}, cm({"a": "1"}), by="syncer")
    obj, managers = ssa(obj, cm({"a": "2"}), by="other", managers=managers, force=True)
    assert obj["data"] == {"a": "2"}
    assert [key.manager for key in managers] == ["other"]


def test_removed_list_item_goes_with_its_defaulted_fields() -> None:
    web = {"name": "web", "image": "nginx"}
    side = {"name": "side", "image": "busybox"}
    live, managers = ssa({}, deployment(web, side), by="syncer", schema=DEPLOY)
    for container in live["spec"]["template"]["spec"]["containers"]:
        container["imagePullPolicy"] = "Always"  # as the server's defaults would
    new, managers = ssa(live, deployment(web), by="syncer", managers=managers, schema=DEPLOY)
    assert new["spec"]["template"]["spec"]["containers"] == [{**web, "imagePullPolicy": "Always"}]


def test_update_takes_changed_fields_from_appliers() -> None:
    obj, managers = ssa({}, cm({"a": "1", "b": "2"}), by="syncer")
    edited = copy.deepcopy(obj)
    edited["data"]["a"] = "x"
    del edited["data"]["b"]
    managers = update(obj, edited, managers=managers,
                      change=change("kubectl", operation="Update", stamp="T2"))
    assert fields(managers, "syncer") == {}
    assert fields(managers, "kubectl") == {"f:data": {"f:a": {}}}
    entries = encode(managers)
    assert entries[0]["time"] == "T2"
    assert decode(entries) == managers


def test_a_new_map_is_owned_with_its_dot() -> None:
    new = cm({}, app="x")
    managers = update(cm({}), new, managers={}, change=change("k8srec", operation="Update"))
    assert fields(managers, "k8srec") == {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}


def test_list_keys_use_the_protocol_default() -> None:
    container = {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}
    applied = to_field_set(deployment(container), DEPLOY).to_fields_v1()
    containers = applied["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers['k:{"name":"web"}']["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}


def test_merge_follows_the_config_order_for_shared_items() -> None:
    live = {"spec": {"template": {"spec": {"containers": [
        {"name": "a"}, {"name": "b"}, {"name": "c"}]}}}}
    config = {"spec": {"template": {"spec": {"containers": [{"name": "c"}, {"name": "a"}]}}}}
    merged = merge(live, config, schema=DEPLOY)
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == [
        "b", "c", "a"]


def test_null_becoming_a_list_adds_only_the_items() -> None:
    schema = OpenAPISchema({"type": "object", "properties": {"conditions": {
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"],
        "items": {"type": "object", "properties": {"type": {"type": "string"}}}}}}, "X",
        root=True)
    diff = compare({"conditions": None}, {"conditions": [{"type": "Ready"}]}, schema=schema)
    assert diff.added.to_fields_v1() == {
        "f:conditions": {'k:{"type":"Ready"}': {".": {}, "f:type": {}}}}


def test_validation_errors() -> None:
    assert validate({"spec": {"x": 1}, "data": {}}, CM) == [
        ".spec: field not declared in schema"]
    assert validate({"metadata": {"nam": "x"}}, CM) == [
        ".metadata.nam: field not declared in schema"]
    missing = validate(deployment({"image": "nginx"}), DEPLOY)
    assert missing == ['.spec.template.spec.containers: element 0: associative list with keys '
                       'has an element that omits key field "name" (and doesn\'t have default '
                       'value)']
    open_schema = OpenAPISchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                "X", root=True)
    assert validate({"anything": {"goes": 1}}, open_schema) == []
