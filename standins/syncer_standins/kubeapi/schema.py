"""What the field manager needs to know about the shape of objects.

kube-apiserver walks objects with the full OpenAPI schema of every type. The stand-in has:

* **built-in kinds described by `gotypes`** (workloads, Pods, Services, ConfigMaps, Secrets,
  RBAC, Leases, Events, admission policies, APIServices...): their Go structs, so every
  undeclared field is "field not declared in schema", scalars are typed and lists follow
  kube's list types (`+listType`, `+listMapKey`, patch merge keys) (`TypedSchema`);
* **other built-in kinds** approximated (`LooseSchema`): a list of allowed top-level fields
  per kind, and below the top level any field is accepted. Lists are atomic unless named in
  `_LIST_KEYS`; label selectors and a few reference structs are atomic, as in kube;
* object metadata, for both: the closed set of `metadata` fields, `finalizers` a set.
* **custom resources** follow the CRD's `openAPIV3Schema`: `properties`,
  `additionalProperties`, `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-list-type`,
  `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, `x-kubernetes-embedded-resource`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from syncer_standins.kubeapi import gotypes
from syncer_standins.kubeapi.gotypes import GoType

__all__ = [
    "ANY",
    "LooseSchema",
    "OpenAPISchema",
    "Schema",
    "TypedSchema",
    "allowed_top_level",
    "builtin_schema",
]

_META_TOP = frozenset({"apiVersion", "kind", "metadata"})
_SPEC_STATUS = frozenset({"spec", "status"})
_KIND_FIELDS: dict[str, frozenset[str]] = {
    "ConfigMap": frozenset({"data", "binaryData", "immutable"}),
    "Secret": frozenset({"data", "stringData", "type", "immutable"}),
    "ServiceAccount": frozenset({"secrets", "imagePullSecrets", "automountServiceAccountToken"}),
    "Role": frozenset({"rules"}),
    "ClusterRole": frozenset({"rules", "aggregationRule"}),
    "RoleBinding": frozenset({"subjects", "roleRef"}),
    "ClusterRoleBinding": frozenset({"subjects", "roleRef"}),
    "Endpoints": frozenset({"subsets"}),
    "EndpointSlice": frozenset({"addressType", "endpoints", "ports"}),
    "PodTemplate": frozenset({"template"}),
    "ControllerRevision": frozenset({"data", "revision"}),
    "ComponentStatus": frozenset({"conditions"}),
    "Binding": frozenset({"target"}),
    "PriorityClass": frozenset({"value", "globalDefault", "description", "preemptionPolicy"}),
    "RuntimeClass": frozenset({"handler", "overhead", "scheduling"}),
    "VolumeAttributesClass": frozenset({"driverName", "parameters"}),
    "MutatingWebhookConfiguration": frozenset({"webhooks"}),
    "ValidatingWebhookConfiguration": frozenset({"webhooks"}),
    "StorageClass": frozenset({
        "provisioner", "parameters", "reclaimPolicy", "mountOptions", "allowVolumeExpansion",
        "volumeBindingMode", "allowedTopologies",
    }),
    "CSIStorageCapacity": frozenset({
        "nodeTopology", "storageClassName", "capacity", "maximumVolumeSize",
    }),
    "Event": frozenset({
        "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp",
        "count", "type", "eventTime", "series", "action", "related", "reportingComponent",
        "reportingInstance", "reportingController", "regarding", "note", "deprecatedSource",
        "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount",
    }),
}
_METADATA_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})
# Fields whose children are map keys rather than declared struct fields.
_MAP_FIELDS = frozenset({
    "labels", "annotations", "data", "binaryData", "stringData", "limits", "requests",
    "capacity", "allocatable", "parameters", "hard", "used", "overhead", "volumeAttributes",
    "matchLabels",
})
# Structs and maps kube declares atomic (`+structType=atomic`, `+mapType=atomic`).
_ATOMIC_FIELDS = frozenset({
    "selector", "podSelector", "namespaceSelector", "labelSelector", "nodeSelector",
    "configMapKeyRef", "secretKeyRef", "fieldRef", "resourceFieldRef",
})
_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_LIST_KEYS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_CONTAINER_LISTS, ("name",)),
    "env": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "resourceClaims": ("name",),
    "schedulingGates": ("name",),
    "resizePolicy": ("resourceName",),
}
_KEY_DEFAULTS = {"protocol": "TCP"}


def allowed_top_level(kind: str) -> frozenset[str]:
    """Top-level fields a built-in kind has (`spec` and `status` unless listed otherwise)."""
    return _META_TOP | _KIND_FIELDS.get(kind, _SPEC_STATUS)


class Schema:
    """A position in an object; this base class is the deduced schema (anything goes)."""

    atomic = False
    list_type = "atomic"
    list_keys: tuple[str, ...] = ()
    is_map = False  # a map (Go map): its keys come out sorted
    scalar = ""  # a typed scalar: a `gotypes` letter (s string, q Quantity, m MicroTime...)
    order: tuple[str, ...] = ()  # a Go struct's fields, in the order they are encoded

    def child(self, name: str) -> Schema | None:
        """The schema of field `name`, or None when the field is not declared."""
        return self

    def named(self, name: str) -> bool:
        """True for a declared struct field, False for a key of a map."""
        return False

    def item(self) -> Schema:
        return self

    def key_defaults(self) -> Mapping[str, Any]:
        return {}

    def zeros(self) -> dict[str, Any]:
        """Fields encoded even when unset, with their zero value (Go non-pointer structs)."""
        return {}


ANY = Schema()


class LooseSchema(Schema):
    """The approximated schema of a built-in kind at `path` (field names from the root)."""

    def __init__(self, kind: str, path: tuple[str, ...] = (), *, is_item: bool = False) -> None:
        self.kind = kind
        self.path = path
        self.is_item = is_item
        name = path[-1] if path and not is_item else ""
        self.atomic = name in _ATOMIC_FIELDS
        self.list_keys = self._keys(name)
        self.list_type = "map" if self.list_keys else "atomic"
        self.is_map = name in _MAP_FIELDS
        if path == ("metadata", "finalizers"):
            self.list_type = "set"
        if len(path) == 3 and path[0] == "metadata" and path[1] in ("labels", "annotations"):
            self.scalar, self.atomic = "s", True

    def _keys(self, name: str) -> tuple[str, ...]:
        if name == "ports":
            if len(self.path) > 1 and self.path[-2] in _CONTAINER_LISTS:
                return ("containerPort", "protocol")
            return ("port", "protocol") if self.path == ("spec", "ports") else ()
        return _LIST_KEYS.get(name, ())

    def child(self, name: str) -> Schema | None:
        if not self.path and name not in allowed_top_level(self.kind):
            return None
        if self.path == ("metadata",) and name not in _METADATA_FIELDS:
            return None
        return LooseSchema(self.kind, (*self.path, name))

    def named(self, name: str) -> bool:
        return not self.path or self.is_item or self.path[-1] not in _MAP_FIELDS

    def item(self) -> Schema:
        return LooseSchema(self.kind, self.path, is_item=True)

    def key_defaults(self) -> Mapping[str, Any]:
        return {key: _KEY_DEFAULTS[key] for key in self.list_keys if key in _KEY_DEFAULTS}


class OpenAPISchema(Schema):
    """A CRD's structural schema (one JSONSchemaProps node)."""

    def __init__(self, node: Mapping[str, Any], kind: str, *, root: bool = False) -> None:
        self.node = node
        self.kind = kind
        self.root = root
        self.atomic = node.get("x-kubernetes-map-type") == "atomic"
        if node.get("type") == "array":
            self.list_type = str(node.get("x-kubernetes-list-type", "atomic"))
            self.list_keys = tuple(node.get("x-kubernetes-list-map-keys") or ())

    def _open(self) -> bool:
        node = self.node
        untyped = "type" not in node and "properties" not in node
        return bool(node.get("x-kubernetes-preserve-unknown-fields")) or untyped

    def child(self, name: str) -> Schema | None:
        embedded = self.root or self.node.get("x-kubernetes-embedded-resource")
        if embedded and name in _META_TOP:
            return LooseSchema(self.kind, ("metadata",)) if name == "metadata" else ANY
        properties = self.node.get("properties") or {}
        if name in properties:
            return OpenAPISchema(properties[name], self.kind)
        additional = self.node.get("additionalProperties")
        if isinstance(additional, Mapping):
            return OpenAPISchema(additional, self.kind)
        return ANY if additional is True or self._open() else None

    def named(self, name: str) -> bool:
        return name in (self.node.get("properties") or {}) or (self.root and name in _META_TOP)

    def item(self) -> Schema:
        return OpenAPISchema(self.node.get("items") or {}, self.kind)

    def key_defaults(self) -> Mapping[str, Any]:
        properties = (self.node.get("items") or {}).get("properties") or {}
        return {
            key: properties[key]["default"]
            for key in self.list_keys
            if "default" in properties.get(key, {})
        }


_SCALAR_ATOMIC = ANY  # what a typed scalar's (missing) children are
# Go's zero values as JSON; lists, maps, pointers and Times encode as null.
_ZERO: dict[str, Any] = {"struct": {}, "s": "", "i": 0, "n": 0, "b": False, "x": 0}


class TypedSchema(Schema):
    """A position of a built-in kind described by `gotypes`: a struct, list, map or scalar."""

    def __init__(self, go: GoType, kind: str, *, root: bool = False) -> None:
        self.go = go
        self.kind = kind
        self.root = root
        self.struct = gotypes.struct(go.name) if go.code == "struct" else None
        self.atomic = go.atomic or (self.struct is not None and self.struct.atomic) or (
            go.code in gotypes.SCALARS and go.code != "*")
        self.scalar = go.code if go.code in gotypes.SCALARS else ""
        self.is_map = go.code == "map"
        if go.code == "list":
            self.list_type, self.list_keys = go.list_type, go.keys
        if self.struct is not None:
            self.order = tuple(self.struct.fields)

    def _typed(self, go: GoType) -> Schema:
        if go.code == "struct" and go.name == gotypes.META:
            return LooseSchema(self.kind, ("metadata",))
        return ANY if go.code == "*" else TypedSchema(go, self.kind)

    def child(self, name: str) -> Schema | None:
        if self.root and name in ("apiVersion", "kind"):
            return ANY
        if self.struct is not None:
            found = self.struct.fields.get(name)
            return self._typed(found) if found is not None else None
        if self.is_map and self.go.item is not None:
            return self._typed(self.go.item)
        return _SCALAR_ATOMIC

    def named(self, name: str) -> bool:
        return self.struct is not None

    def item(self) -> Schema:
        return self._typed(self.go.item) if self.go.item is not None else ANY

    def key_defaults(self) -> Mapping[str, Any]:
        return {key: _KEY_DEFAULTS[key] for key in self.list_keys if key in _KEY_DEFAULTS}

    def zeros(self) -> dict[str, Any]:
        if self.struct is None:
            return {}
        return {name: None if go.pointer else copy.copy(_ZERO.get(go.code))
                for name, go in self.struct.fields.items() if go.always}


def builtin_schema(kind: str, group: str | None = None) -> Schema:
    """The schema of a built-in kind: typed where `gotypes` describes it, else approximated."""
    found = gotypes.root(group, kind)
    if found is None:
        return LooseSchema(kind)
    return TypedSchema(GoType("struct", name=found.name), kind, root=True)
