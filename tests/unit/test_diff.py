"""Tests of syncer.diff: drift decision, unified diff, changed paths."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.diff import drift, unified
from syncer.fieldpaths import changed_paths
from syncer.model import Obj, ObjectRef

TESTDATA = Path(__file__).parent.parent / "testdata" / "diff"
CASES = sorted(TESTDATA.glob("*.yaml"))
relaxed = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


def case(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((TESTDATA / f"{name}.yaml").read_text())
    return loaded


def owned(*fields: dict[str, Any], manager: str = "syncer", operation: str = "Apply") -> Obj:
    entries = [{"manager": manager, "operation": operation, "fieldsV1": f} for f in fields]
    return {"managedFields": entries}


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fixture(path: Path) -> None:
    c = yaml.safe_load(path.read_text())
    assert drift(c["desired"], c["live"]) == tuple(c["drift"]), c["description"]


# --------------------------------------------------------------------------- drift rules


def test_another_manager_name_reads_its_own_fields() -> None:
    c = case("configmap-other-manager-unset")
    assert drift(c["desired"], c["live"], manager="other") == (".data",)


def test_update_and_status_entries_never_count_as_ours() -> None:
    meta = owned({"f:data": {"f:b": {}}}, operation="Update")["managedFields"]
    meta.append(
        {
            "manager": "syncer",
            "operation": "Apply",
            "subresource": "status",
            "fieldsV1": {"f:status": {"f:phase": {}}},
        }
    )
    live = {"metadata": {"name": "x", "managedFields": meta}, "data": {"b": "2"}}
    assert drift({"metadata": {"name": "x"}}, live) == ()


def test_set_list_values_and_indexes_in_fields_v1() -> None:
    fields = {
        "f:metadata": {"f:finalizers": {'v:"a.io/x"': {}, 'v:"a.io/y"': {}}},
        "f:spec": {"f:items": {"i:0": {"f:n": {}}, "i:1": {}}},
    }
    live = {
        "metadata": {"name": "x", "finalizers": ["a.io/x", "a.io/y"], **owned(fields)},
        "spec": {"items": [{"n": 1}, {"n": 2}]},
    }
    desired = {"metadata": {"name": "x", "finalizers": ["a.io/x"]}, "spec": {"items": [{}]}}
    assert drift(desired, live) == (
        ".metadata.finalizers[=a.io/y]",
        ".spec.items",
        ".spec.items[0].n",
        ".spec.items[1]",
    )


def test_finalizers_added_by_others_are_not_drift_but_missing_ones_are() -> None:
    live = {"metadata": {"name": "x", "finalizers": ["kubernetes", "a.io/x"]}}
    assert drift({"metadata": {"name": "x", "finalizers": ["a.io/x"]}}, live) == ()
    desired = {"metadata": {"name": "x", "finalizers": ["a.io/z"]}}
    assert drift(desired, live) == (".metadata.finalizers[=a.io/z]",)


def test_scalar_lists_compare_by_index_and_length() -> None:
    live = {"spec": {"args": ["a", "b"]}}
    assert drift({"spec": {"args": ["a", "c"]}}, live) == (".spec.args[1]",)
    assert drift({"spec": {"args": ["a"]}}, live) == (".spec.args",)
    assert drift({"spec": {"args": []}}, {"spec": {}}) == ()


def test_unset_values_require_nothing_and_types_are_exact() -> None:
    live = {"spec": {"n": 1, "flag": True, "s": "1"}}
    assert drift({"spec": {"n": None, "m": {}, "l": []}}, live) == ()
    assert drift({"spec": {"n": True, "flag": 1, "s": 1}}, live) == (
        ".spec.flag",
        ".spec.n",
        ".spec.s",
    )


def test_duplicate_keys_pair_in_order() -> None:
    ports = [{"containerPort": 80}, {"containerPort": 80, "protocol": "TCP", "name": "b"}]
    desired = {"spec": {"ports": ports}}
    assert drift(desired, copy.deepcopy(desired)) == ()
    assert drift(desired, {"spec": {"ports": ports[:1]}}) == (
        ".spec.ports[containerPort=80,protocol=TCP]",
    )


def test_a_missing_map_is_reported_once() -> None:
    desired = {"spec": {"securityContext": {"runAsUser": 1, "fsGroup": 2}}}
    assert drift(desired, {"spec": {}}) == (".spec.securityContext",)


def test_identity_fields_are_not_compared() -> None:
    assert drift({"apiVersion": "v1", "kind": "ConfigMap"}, {}) == ()


QUANTITY_CASES = [
    # (apiVersion, kind, desired fragment, the server's canonical form)
    ("apps/v1", "Deployment",
     {"spec": {"template": {"spec": {
         "containers": [{"name": "web", "resources": {"limits": {"cpu": 1, "memory": "1024Mi"},
                                                      "requests": {"cpu": 0.1}}}],
         "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1024Mi"}}]}}}},
     {"spec": {"template": {"spec": {
         "containers": [{"name": "web", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                                      "requests": {"cpu": "100m"}}}],
         "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]}}}}),
    ("v1", "LimitRange",
     {"spec": {"limits": [{"type": "Container", "default": {"cpu": 0.5, "memory": "1024Mi"},
                           "defaultRequest": {"memory": "512Mi"},
                           "maxLimitRequestRatio": {"cpu": 2}}]}},
     {"spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "1Gi"},
                           "defaultRequest": {"memory": "512Mi"},
                           "maxLimitRequestRatio": {"cpu": "2"}}]}}),
    ("v1", "ResourceQuota", {"spec": {"hard": {"pods": "1e3", "requests.storage": "2000M"}}},
     {"spec": {"hard": {"pods": "1k", "requests.storage": "2G"}}}),
    ("apps/v1", "StatefulSet",
     {"spec": {"volumeClaimTemplates": [{"spec": {"resources": {"requests": {
         "storage": "1048576Ki"}}}}]}},
     {"spec": {"volumeClaimTemplates": [{"spec": {"resources": {"requests": {
         "storage": "1Gi"}}}}]}}),
    ("batch/v1", "CronJob",
     {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
         {"name": "c", "env": [{"name": "MEM", "valueFrom": {"resourceFieldRef": {
             "resource": "limits.memory", "divisor": "1048576"}}}]}]}}}}}},
     {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
         {"name": "c", "env": [{"name": "MEM", "valueFrom": {"resourceFieldRef": {
             "resource": "limits.memory", "divisor": "1Mi"}}}]}]}}}}}}),
    ("autoscaling/v2", "HorizontalPodAutoscaler",
     {"spec": {"metrics": [{"type": "Pods", "pods": {"target": {"averageValue": 0.5}}}],
               "behavior": {"scaleUp": {"tolerance": "0.05"}}}},
     {"spec": {"metrics": [{"type": "Pods", "pods": {"target": {"averageValue": "500m"}}}],
               "behavior": {"scaleUp": {"tolerance": "50m"}}}}),
    ("v1", "PersistentVolume", {"spec": {"capacity": {"storage": "1.5Gi"}}},
     {"spec": {"capacity": {"storage": "1536Mi"}}}),
    ("node.k8s.io/v1", "RuntimeClass", {"overhead": {"podFixed": {"cpu": 0.25}}},
     {"overhead": {"podFixed": {"cpu": "250m"}}}),
    ("v1", "Pod", {"spec": {"overhead": {"memory": "1.5n"}}},
     {"spec": {"overhead": {"memory": "2n"}}}),
]


@pytest.mark.parametrize(("api_version", "kind", "desired", "live"), QUANTITY_CASES,
                         ids=[c[1] for c in QUANTITY_CASES])
def test_quantities_compare_by_value_where_the_schema_says_quantity(
        api_version: str, kind: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    head = {"apiVersion": api_version, "kind": kind}
    assert drift({**head, **desired}, {**head, **live}) == ()


def test_a_changed_quantity_is_drift() -> None:
    head = {"apiVersion": "v1", "kind": "LimitRange"}
    desired = {**head, "spec": {"limits": [{"type": "Container", "default": {"cpu": 0.5}}]}}
    live = {**head, "spec": {"limits": [{"type": "Container", "default": {"cpu": "501m"}}]}}
    assert drift(desired, live) == (".spec.limits[0].default.cpu",)
    bad = {**head, "spec": {"limits": [{"type": "Container", "default": {"cpu": "x"}}]}}
    assert drift(bad, live) == (".spec.limits[0].default.cpu",)


def test_fields_that_are_not_quantities_compare_as_written() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap"}
    assert drift({**cm, "data": {"cpu": 1}}, {**cm, "data": {"cpu": "1"}}) == (".data.cpu",)
    assert drift({**cm, "data": {"m": "1024Mi"}}, {**cm, "data": {"m": "1Gi"}}) == (".data.m",)
    # a custom resource's fields are stored as sent, even under `resources.limits`
    cr = {"apiVersion": "example.com/v1", "kind": "Widget"}
    want = {**cr, "spec": {"resources": {"limits": {"memory": "1024Mi"}}}}
    have = {**cr, "spec": {"resources": {"limits": {"memory": "1Gi"}}}}
    assert drift(want, have) == (".spec.resources.limits.memory",)
    # LimitRange `default` is a quantity map; a CRD schema's `default` is not
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"}
    assert drift({**crd, "spec": {"default": {"x": "1024Mi"}}},
                 {**crd, "spec": {"default": {"x": "1Gi"}}}) == (".spec.default.x",)


def test_drift_does_not_mutate_its_inputs() -> None:
    c = case("secret-stringdata-changed")
    kept = copy.deepcopy(c)
    drift(c["desired"], c["live"])
    assert c == kept


def test_malformed_managed_fields_are_ignored() -> None:
    fields: dict[str, Any] = {"k:{not json": {}, "i:x": {}, "z:odd": {}, ".": {}}
    live = {
        "metadata": {
            "name": "x",
            "managedFields": [
                fields,
                {"manager": "syncer", "operation": "Apply", "fieldsV1": fields},
            ],
        }
    }
    assert drift({"metadata": {"name": "x"}}, live) == ()
    assert drift({}, {"metadata": {"managedFields": "x"}}) == ()


# --------------------------------------------------------------------------- drift properties

names = st.text(alphabet="abcdefgh", min_size=1, max_size=5)
field_names = names | st.sampled_from(["env", "ports", "limits", "containers", "volumeMounts"])
scalars = st.none() | st.booleans() | st.integers(-5, 500) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(field_names, inner, max_size=3),
    max_leaves=12,
)
env = st.lists(
    st.fixed_dictionaries({"name": names, "value": st.text(max_size=5)}),
    max_size=3,
    unique_by=lambda e: e["name"],
)
ports = st.lists(
    st.fixed_dictionaries(
        {"containerPort": st.integers(80, 81)},
        optional={"protocol": st.sampled_from(["TCP", "UDP"])},
    ),
    max_size=2,
)
quantities = st.dictionaries(
    st.sampled_from(["cpu", "memory"]),
    st.sampled_from(["1", "500m", "1Gi", "128Mi", "0.5"]) | st.integers(0, 4),
)
container = st.fixed_dictionaries(
    {"name": names, "image": st.text(min_size=1, max_size=8)},
    optional={
        "env": env,
        "ports": ports,
        "args": st.lists(st.text(max_size=4), max_size=3),
        "resources": st.fixed_dictionaries({}, optional={"limits": quantities}),
    },
)
deployments = st.fixed_dictionaries(
    {
        "apiVersion": st.just("apps/v1"),
        "kind": st.just("Deployment"),
        "metadata": st.fixed_dictionaries(
            {"name": names},
            optional={
                "namespace": names,
                "labels": st.dictionaries(names, st.text(max_size=5), max_size=3),
                "finalizers": st.lists(names, max_size=2, unique=True),
            },
        ),
        "spec": st.fixed_dictionaries(
            {
                "template": st.fixed_dictionaries(
                    {
                        "spec": st.fixed_dictionaries(
                            {
                                "containers": st.lists(
                                    container, min_size=1, max_size=3, unique_by=lambda c: c["name"]
                                ),
                            }
                        )
                    }
                )
            },
            optional={
                "replicas": st.integers(0, 5),
                "extra": st.dictionaries(field_names, json_values),
            },
        ),
    }
)


def leaves(value: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Trails to every non-null scalar, apiVersion and kind left out."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        if value is not None and trail[0] not in ("apiVersion", "kind"):
            yield trail
        return
    for key, child in items:
        yield from leaves(child, (*trail, key))


def maps(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
    children = value.values() if isinstance(value, dict) else value
    for child in children if isinstance(value, dict | list) else ():
        yield from maps(child)


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    return value + 1 if isinstance(value, int) else f"{value}~"


@relaxed
@given(deployments | json_values.filter(lambda v: isinstance(v, dict)))
def test_an_object_never_drifts_from_itself(obj: Obj) -> None:
    assert drift(obj, obj) == ()
    assert changed_paths(obj, obj) == ()
    assert unified(ObjectRef("apps", "Deployment", "ns", "x"), obj, obj) == ""


@relaxed
@given(deployments, st.data())
def test_fields_added_live_are_not_drift(obj: Obj, data: st.DataObject) -> None:
    live = copy.deepcopy(obj)
    target = data.draw(st.sampled_from(list(maps(live))))
    target[data.draw(st.text(alphabet="xyz", min_size=3, max_size=5))] = data.draw(json_values)
    containers = live["spec"]["template"]["spec"]["containers"]
    containers.append({"name": "injected-sidecar", "image": "proxy"})
    assert drift(obj, live) == ()


@relaxed
@given(deployments, st.data())
def test_changing_any_leaf_desired_sets_is_drift(obj: Obj, data: st.DataObject) -> None:
    trail = data.draw(st.sampled_from(list(leaves(obj))))
    live = copy.deepcopy(obj)
    parent = live
    for step in trail[:-1]:
        parent = parent[step]
    parent[trail[-1]] = changed(parent[trail[-1]])
    assert drift(obj, live)


def fields_v1(value: Any, field: str = "") -> dict[str, Any]:
    """What server-side apply records for `value` (keyed lists by merge key, others atomic)."""
    if isinstance(value, dict):
        return {f"f:{k}": fields_v1(v, k) for k, v in value.items() if v is not None}
    keyed = field in ("containers", "env") and isinstance(value, list)
    if not keyed or not all(isinstance(i, dict) and "name" in i for i in value):
        return {}  # scalars and atomic lists
    return {
        f"k:{json.dumps({'name': item['name']}, separators=(',', ':'))}": {
            ".": {},
            **fields_v1(item),
        }
        for item in value
    }


def applied(obj: Obj) -> Obj:
    live = copy.deepcopy(obj)
    live["metadata"]["managedFields"] = owned(fields_v1(obj))["managedFields"]
    return live


@relaxed
@given(deployments)
def test_nothing_drifts_while_desired_still_sets_what_we_own(obj: Obj) -> None:
    assert drift(obj, applied(obj)) == ()


@relaxed
@given(deployments, st.data())
def test_dropping_a_field_we_own_is_drift(obj: Obj, data: st.DataObject) -> None:
    live = applied(obj)
    desired = copy.deepcopy(obj)
    container = data.draw(st.sampled_from(desired["spec"]["template"]["spec"]["containers"]))
    label = f".spec.template.spec.containers[name={container['name']}]"
    if container.get("env"):
        gone = container["env"].pop()
        assert f"{label}.env[name={gone['name']}]" in drift(desired, live)
    else:
        del container["image"]
        assert drift(desired, live) == (f"{label}.image",)


# --------------------------------------------------------------------------- unified

CM_REF = ObjectRef("", "ConfigMap", "rec", "cm1")


def test_unified_headers_and_a_changed_line() -> None:
    c = case("configmap-other-manager-differs")
    text = unified(CM_REF, c["live"], c["desired"])
    assert text.splitlines()[:2] == ["--- live/ConfigMap/rec/cm1", "+++ desired/ConfigMap/rec/cm1"]
    assert "-  a: '9'" in text.splitlines() and "+  a: '1'" in text.splitlines()
    assert "managedFields" not in text and "uid" not in text


def test_unified_of_a_creation_adds_every_line() -> None:
    desired = case("configmap-unchanged")["desired"]
    lines = unified(CM_REF, None, desired).splitlines()
    body = yaml.safe_dump(desired, sort_keys=True, default_flow_style=False).splitlines()
    assert lines[2] == f"@@ -0,0 +1,{len(body)} @@"
    assert lines[3:] == [f"+{line}" for line in body]


def test_unified_of_a_removal_removes_every_line() -> None:
    live = case("configmap-unchanged")["live"]
    lines = unified(CM_REF, live, None).splitlines()
    assert lines[2].endswith("+0,0 @@") and all(line.startswith("-") for line in lines[3:])


def test_unified_is_empty_when_equal_modulo_normalization() -> None:
    c = case("configmap-unchanged")
    assert unified(CM_REF, c["live"], c["desired"]) == ""
    assert unified(CM_REF, None, None) == ""


def test_unified_masks_secrets_and_shows_which_key_changed() -> None:
    c = case("secret-stringdata-changed")
    text = unified(ObjectRef("", "Secret", "rec", "db"), c["live"], c["desired"])
    assert "czNjcmV0" not in text and "n3w" not in text and "YXBw" not in text
    assert "-  password: ++++++++" in text.splitlines()
    assert "+  password: ++++++++++++" in text.splitlines()


def test_unified_writes_multiline_strings_as_blocks_and_honours_context() -> None:
    conf = "\n".join(f"line{i}" for i in range(10)) + "\n"
    before = {"data": {"conf": conf}}
    after = {"data": {"conf": conf.replace("line5", "LINE5")}}
    text = unified(CM_REF, before, after, context=1)
    assert "-    line5" in text and "+    LINE5" in text
    assert "line3" not in text and "line4" in text


# --------------------------------------------------------------------------- changed_paths


def test_changed_paths_names_items_by_merge_key() -> None:
    live = case("deployment-env-unchanged")["live"]
    after = copy.deepcopy(live)
    container = after["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "PORT", "value": "80"}]
    container["image"] = "nginx:1.27"
    assert changed_paths(live, after) == (
        ".spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value",
        ".spec.template.spec.containers[name=web].image",
    )


def test_changed_paths_between_desired_and_live_list_the_server_defaults() -> None:
    c = case("deployment-server-defaults")
    paths = changed_paths(c["desired"], c["live"])
    assert ".spec.strategy" in paths and ".spec.template.spec.dnsPolicy" in paths
    assert ".spec.template.spec.containers[name=web].imagePullPolicy" in paths
    assert not any("status" in p or "managedFields" in p for p in paths)


def test_changed_paths_ignores_reordered_keyed_items() -> None:
    c = case("deployment-env-reordered")
    assert changed_paths(c["desired"], c["live"]) == changed_paths(
        case("deployment-env-unchanged")["desired"], c["live"]
    )


def test_changed_paths_of_keys_items_and_indexes() -> None:
    before = {
        "data": {"a": "1", "b": "2"},
        "spec": {"args": ["x", "y"], "ports": [{"port": 80}]},
        "metadata": {"finalizers": ["f"]},
    }
    after = {
        "data": {"a": "1", "c": "3"},
        "spec": {"args": ["x", "z"], "ports": [{"port": 81}]},
        "metadata": {"finalizers": ["g"]},
    }
    assert changed_paths(before, after) == (
        ".data.b",
        ".data.c",
        ".metadata.finalizers[=f]",
        ".metadata.finalizers[=g]",
        ".spec.args[1]",
        ".spec.ports[port=80,protocol=TCP]",
        ".spec.ports[port=81,protocol=TCP]",
    )


def test_changed_paths_of_a_secret_carry_no_values() -> None:
    c = case("secret-stringdata-changed")
    paths = changed_paths(c["live"], c["desired"])
    assert paths == (".data.password", ".stringData", ".type")
    assert not any(v in p for p in paths for v in ("czNjcmV0", "n3w", "YXBw"))
