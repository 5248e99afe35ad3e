"""Small helpers on objects: time stamps, uids, and the shapes objects are answered in.

kube-apiserver answers built-in objects in Go struct order (`kind`, `apiVersion`,
`metadata` with its fields in ObjectMeta order, then the rest, `status` last) and custom
resources with every key sorted (they are unstructured JSON); lists of built-ins carry no
kind/apiVersion on their items, lists of custom resources do.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.schema import ANY, Schema, builtin_schema

__all__ = [
    "Obj",
    "drop_nulls",
    "for_output",
    "go_encoded",
    "meta",
    "new_uid",
    "now",
    "ordered_meta",
    "sort_keys",
    "without_managed_fields",
]

Obj = dict[str, Any]

_CRD_NAMES_ORDER = ("plural", "singular", "shortNames", "kind", "listKind", "categories")
_CRD_SPEC_ORDER = ("group", "names", "scope", "versions", "conversion", "preserveUnknownFields")
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
_META_ORDER = (
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
)


def now() -> str:
    """The current time as kube writes it: RFC 3339, UTC, whole seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def meta(obj: Obj) -> Obj:
    """obj's metadata, created if missing."""
    value = obj.get("metadata")
    if not isinstance(value, dict):
        value = obj["metadata"] = {}
    return value


def without_managed_fields(obj: Obj) -> Obj:
    result = dict(obj)
    metadata = dict(result.get("metadata") or {})
    metadata.pop("managedFields", None)
    result["metadata"] = metadata
    return result


def drop_nulls(value: Any) -> Any:
    """value without null map entries (what decoding into Go structs does to them)."""
    if isinstance(value, dict):
        return {key: drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [drop_nulls(item) for item in value]
    return value


def sort_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: sort_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(item) for item in value]
    return value


def _keys(value: dict[str, Any], schema: Schema) -> list[str]:
    if schema.is_map:
        return sorted(value)
    declared = [key for key in schema.order if key in value]
    return declared + [key for key in value if key not in schema.order]


def go_encoded(value: Any, schema: Schema) -> Any:
    """value as Go encodes its struct: Go maps (labels, data...) sorted, struct fields in
    declaration order, non-pointer structs present even when empty."""
    if isinstance(value, dict):
        value = {**schema.zeros(), **value}
        return {key: go_encoded(value[key], schema.child(key) or ANY)
                for key in _keys(value, schema)}
    if isinstance(value, list):
        return [go_encoded(item, schema.item()) for item in value]
    return value


def _json_schema_sorted(node: Any) -> Any:
    """A CRD's JSONSchemaProps with its property maps sorted."""
    if isinstance(node, list):
        return [_json_schema_sorted(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: _json_schema_sorted(value[name]) for name in sorted(value)}
        else:
            result[key] = _json_schema_sorted(value)
    return result


def _crd_ordered(obj: Obj) -> Obj:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    names = spec.get("names")
    if isinstance(names, dict):
        ordered = {key: names[key] for key in _CRD_NAMES_ORDER if key in names}
        spec["names"] = {**ordered, **names}
    spec["versions"] = _json_schema_sorted(spec.get("versions") or [])
    ordered = {key: spec[key] for key in _CRD_SPEC_ORDER if key in spec}
    obj["spec"] = {**ordered, **spec}
    return obj


def ordered_meta(metadata: Obj) -> Obj:
    """metadata with its fields in ObjectMeta's order."""
    ordered = {key: metadata[key] for key in _META_ORDER if key in metadata}
    ordered.update({key: value for key, value in metadata.items() if key not in ordered})
    return ordered


def for_output(obj: Obj, rtype: ResourceType, *, typed: bool = True) -> Obj:
    """obj as the server answers it at rtype's version (without kind/apiVersion if not typed)."""
    if rtype.custom:
        shaped = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind")}
        if typed:
            shaped.update(apiVersion=rtype.api_version, kind=rtype.kind)
        return sort_keys(shaped)  # type: ignore[no-any-return]
    obj = go_encoded(obj, builtin_schema(rtype.kind, rtype.group))
    if rtype.kind == "CustomResourceDefinition":
        obj = _crd_ordered(obj)
    shaped = {"kind": rtype.kind, "apiVersion": rtype.api_version} if typed else {}
    shaped["metadata"] = ordered_meta(obj.get("metadata") or {})
    rest = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion", "metadata")}
    shaped.update({k: v for k, v in rest.items() if k != "status"})
    if "status" in rest:
        shaped["status"] = rest["status"]
    return shaped
