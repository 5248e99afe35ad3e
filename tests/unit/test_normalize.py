"""Tests of syncer.normalize: server-owned fields and Secret masking."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from syncer.diff import unified
from syncer.model import Obj, ObjectRef
from syncer.normalize import ANNOTATION_LAST_APPLIED, is_secret, mask_secrets, normalize

TESTDATA = Path(__file__).parent.parent / "testdata" / "diff"
MASK = re.compile(r"^\++$")
REF = ObjectRef("", "Secret", "rec", "db")


def case(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((TESTDATA / f"{name}.yaml").read_text())
    return loaded


def secret(data: object = None, **extra: Any) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}
    if data is not None:
        obj["data"] = data
    return {**obj, **extra}


# --------------------------------------------------------------------------- normalize


def test_normalize_strips_server_fields_of_a_stored_deployment() -> None:
    live = case("deployment-server-defaults")["live"]
    out = normalize(live)
    assert "status" not in out
    assert out["metadata"] == {"name": "web", "namespace": "rec", "labels": {"app": "demo"}}
    assert out["spec"] == live["spec"]


def test_normalize_keeps_other_annotations_and_drops_empty_maps() -> None:
    obj: Obj = {
        "metadata": {
            "name": "x",
            "labels": {},
            "annotations": {ANNOTATION_LAST_APPLIED: "{}", "team": "shop"},
            "selfLink": "/api/v1/x",
            "deletionTimestamp": "2026-11-22T02:53:42Z",
            "deletionGracePeriodSeconds": 30,
        }
    }
    assert normalize(obj) == {"metadata": {"name": "x", "annotations": {"team": "shop"}}}


def test_normalize_drops_annotations_left_empty() -> None:
    revision = {"deployment.kubernetes.io/revision": "3"}
    assert normalize({"metadata": {"name": "x", "annotations": revision}}) == {
        "metadata": {"name": "x"}
    }


def test_normalize_does_not_mutate_its_input() -> None:
    live = case("deployment-server-defaults")["live"]
    kept = copy.deepcopy(live)
    normalize(live)
    assert live == kept


def test_normalize_tolerates_odd_shapes() -> None:
    assert normalize({"metadata": None, "status": {}}) == {"metadata": None}
    assert normalize({}) == {}


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=6)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
server_keys = st.sampled_from(
    ["uid", "resourceVersion", "generation", "managedFields", "creationTimestamp", "name"]
)
metadata = st.dictionaries(server_keys, json_values) | st.fixed_dictionaries(
    {},
    optional={
        "labels": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
        "annotations": st.dictionaries(
            st.sampled_from([ANNOTATION_LAST_APPLIED, "deployment.kubernetes.io/revision", "a"]),
            st.text(max_size=5),
        ),
    },
)
k8s_objects = st.fixed_dictionaries(
    {"metadata": metadata},
    optional={"status": json_values, "spec": json_values, "data": json_values},
)


@given(k8s_objects)
def test_normalize_is_idempotent(obj: Obj) -> None:
    once = normalize(obj)
    assert normalize(once) == once


# --------------------------------------------------------------------------- mask_secrets


def test_same_value_same_mask_different_value_different_mask() -> None:
    before = secret({"user": "YXBw", "password": "czNjcmV0"})
    after = secret({"user": "YXBw", "password": "bjN3"})
    masked_before, masked_after = mask_secrets(before, after)
    assert masked_before is not None and masked_after is not None
    assert masked_before["data"]["user"] == masked_after["data"]["user"] == "+" * 8
    assert masked_before["data"]["password"] == "+" * 8
    assert masked_after["data"]["password"] == "+" * 12


def test_string_data_and_data_of_the_same_bytes_share_a_mask() -> None:
    live = secret({"password": base64.b64encode(b"s3cret").decode()})
    desired = secret(stringData={"password": "s3cret"})
    masked_live, masked_desired = mask_secrets(live, desired)
    assert masked_live is not None and masked_desired is not None
    assert masked_live["data"]["password"] == masked_desired["stringData"]["password"]


def test_last_applied_annotation_of_a_secret_is_masked() -> None:
    obj = secret({"k": "dg=="})
    obj["metadata"]["annotations"] = {ANNOTATION_LAST_APPLIED: '{"data":{"k":"dg=="}}', "a": "b"}
    masked, _ = mask_secrets(obj, None)
    assert masked is not None
    annotations = masked["metadata"]["annotations"]
    assert MASK.match(annotations[ANNOTATION_LAST_APPLIED]) and annotations["a"] == "b"


def test_non_secrets_come_back_unchanged() -> None:
    cm: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}
    assert mask_secrets(cm, None) == (cm, None)
    assert mask_secrets(None, None) == (None, None)


def test_a_list_item_without_kind_is_masked_beside_a_secret() -> None:
    item = {"metadata": {"name": "db"}, "data": {"k": "dg=="}}
    _, masked = mask_secrets(secret({"k": "dg=="}), item)
    assert masked is not None and masked["data"] == {"k": "+" * 8}


def test_a_lone_list_item_shaped_like_a_secret_is_masked() -> None:
    item = {"metadata": {"name": "db"}, "type": "Opaque", "data": {"k": "dg=="}}
    assert is_secret(item)
    masked, _ = mask_secrets(item, None)
    assert masked is not None and masked["data"] == {"k": "+" * 8}


def test_odd_sections_are_masked_whole_and_nulls_kept() -> None:
    masked, _ = mask_secrets(secret("c2VjcmV0", stringData={"k": None}), None)
    assert masked is not None
    assert masked["data"] == "+" * 8 and masked["stringData"] == {"k": None}


def test_mask_secrets_does_not_mutate_its_inputs() -> None:
    before, after = secret({"k": "dg=="}), secret(stringData={"k": "w"})
    kept = copy.deepcopy((before, after))
    mask_secrets(before, after)
    assert (before, after) == kept


# Values drawn from an alphabet that appears nowhere else in the objects, headers or masks:
# if a value shows up in the text, it leaked.
secret_values = st.text(alphabet="ÄÖÜßæøåçñ§¤", min_size=1, max_size=12)
secret_keys = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
sections = st.dictionaries(secret_keys, secret_values, max_size=4)


def secret_with(data: dict[str, str], string_data: dict[str, str], last_applied: str) -> Obj:
    obj = secret({k: base64.b64encode(v.encode()).decode() for k, v in data.items()})
    obj["stringData"] = string_data
    obj["metadata"]["annotations"] = {ANNOTATION_LAST_APPLIED: last_applied}
    return obj


@given(sections, sections, sections, sections, secret_values)
def test_no_secret_value_ever_appears(
    data1: dict[str, str],
    strings1: dict[str, str],
    data2: dict[str, str],
    strings2: dict[str, str],
    value: str,
) -> None:
    before, after = secret_with(data1, strings1, value), secret_with(data2, strings2, value)
    before["data"].update(strings1)  # raw, not base64: must be masked all the same
    values = [*data1.values(), *strings1.values(), *data2.values(), *strings2.values(), value]
    encoded = [base64.b64encode(v.encode()).decode() for v in values]
    masked = yaml.safe_dump(list(mask_secrets(before, after)), allow_unicode=True)
    texts = [masked, unified(REF, before, after), unified(REF, None, after)]
    assert not [v for v in values + encoded for text in texts if v in text]


distinct_values = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True)


@given(distinct_values, st.data())
def test_masks_depend_only_on_which_values_are_equal(values: list[str], data: Any) -> None:
    keys = st.sampled_from(["a", "b", "c"])
    picks = st.dictionaries(keys, st.sampled_from(range(len(values))))
    left, right = data.draw(picks), data.draw(picks)

    def masked(names: list[str]) -> str:
        before = secret(stringData={k: names[i] for k, i in left.items()})
        after = secret(stringData={k: names[i] for k, i in right.items()})
        return json.dumps(mask_secrets(before, after))

    renamed = [f"value-{i}" for i in range(len(values))]
    assert masked(values) == masked(renamed)
