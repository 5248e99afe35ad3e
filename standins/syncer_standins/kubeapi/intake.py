"""What a write's body goes through before it is merged and stored, as kube-apiserver v1.36
checks it:

* identity against the URL (`check_identity`): kind and apiVersion (`/v1` is the core `v1`;
  another version is refused, in the words of the apply path or of the decoder), name and
  namespace;
* for server-side apply (`apply_config`, `typed_config`): a field manager, YAML 1.1 (`y`,
  `yes`, `on`... are booleans), then the typed patch: an unknown field or a value of the
  wrong type is a 500;
* for the other writes (`decoded`): decoding into the Go struct (`decoding`): unknown fields
  per `fieldValidation`, canonical quantities, MicroTimes; then the kind's defaults.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncer_standins.kubeapi import notices
from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.decoding import DecodeError, decode
from syncer_standins.kubeapi.defaults import apply_defaults
from syncer_standins.kubeapi.errors import ApiError, bad_request, internal
from syncer_standins.kubeapi.objects import Obj, meta
from syncer_standins.kubeapi.patches import parse_yaml
from syncer_standins.kubeapi.state import ApiState
from syncer_standins.kubeapi.store import StoreKey
from syncer_standins.kubeapi.typed import validate

__all__ = [
    "Target",
    "WriteRequest",
    "apply_config",
    "check_identity",
    "decoded",
    "group_version_kind",
    "typed_config",
]

logger = logging.getLogger(__name__)

_LEGACY_SCHEME = "pkg/api/legacyscheme/scheme.go:30"
_VALIDATIONS = ("Ignore", "Warn", "Strict")


@dataclass(frozen=True)
class Target:
    """What a request addresses: a type, and a namespace, name and subresource when given."""

    rtype: ResourceType
    namespace: str = ""
    name: str = ""
    subresource: str = ""

    @property
    def key(self) -> StoreKey:
        return self.rtype.stored_key


@dataclass(frozen=True)
class WriteRequest:
    target: Target
    query: Mapping[str, str]
    body: bytes
    content_type: str = "application/json"
    user_agent: str = ""

    @property
    def manager(self) -> str:
        """fieldManager, else the User-Agent up to its first `/` (as kube does)."""
        return self.query.get("fieldManager") or self.user_agent.split("/", 1)[0] or "unknown"


def group_version_kind(obj: Obj) -> str:
    """`apps/v1, Kind=Deployment`; the core group prints as nothing (`/v1, Kind=ConfigMap`)."""
    api_version = str(obj.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={obj.get('kind', '')}"


def cannot_handle(rtype: ResourceType, version: str, why: str) -> ApiError:
    return bad_request(f'{rtype.kind} in version "{version}" cannot be handled as a '
                       f"{rtype.kind}: {why}")


def _check_type(obj: Obj, rtype: ResourceType, *, applying: bool) -> None:
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    if (group, version, obj["kind"]) == (rtype.group, rtype.version, rtype.kind):
        obj["apiVersion"] = rtype.api_version
        return
    if applying or group != rtype.group or obj["kind"] != rtype.kind:
        raise bad_request(f"invalid object type: {group_version_kind(obj)}")
    raise cannot_handle(rtype, version, f'no kind "{rtype.kind}" is registered for version '
                        f'"{obj["apiVersion"]}" in scheme "{_LEGACY_SCHEME}"')


def check_identity(obj: Any, target: Target, *, applying: bool = False) -> Obj:
    """Fill in and check kind, apiVersion, name and namespace against the URL (400s)."""
    if not isinstance(obj, dict):
        raise bad_request("the body of the request must be an object")
    rtype = target.rtype
    obj.setdefault("apiVersion", rtype.api_version)
    obj.setdefault("kind", rtype.kind)
    _check_type(obj, rtype, applying=applying)
    metadata = meta(obj)
    name = metadata.get("name")
    if target.name and name and name != target.name:
        raise bad_request(f"the name of the object ({name}) does not match the name on the URL "
                          f"({target.name})")
    if target.name:
        metadata["name"] = target.name
    if not rtype.namespaced:
        metadata.pop("namespace", None)
        return obj
    namespace = metadata.get("namespace")
    if namespace and namespace != target.namespace:
        raise bad_request("the namespace of the provided object does not match the namespace "
                          "sent on the request")
    metadata["namespace"] = target.namespace
    return obj


def _field_validation(query: Mapping[str, str]) -> str:
    value = query.get("fieldValidation") or "Warn"
    if value not in _VALIDATIONS:
        raise bad_request(f"fieldValidation: Unsupported value: \"{value}\": supported values: "
                          '"Ignore", "Strict", "Warn"')
    return value


def _report_unknown(unknown: list[str], rtype: ResourceType, *, mode: str) -> None:
    if unknown and mode == "Strict":
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise cannot_handle(rtype, rtype.version, f"strict decoding error: {listed}")
    for path in unknown:
        logger.info("unknown field %r dropped from a %s", path, rtype.kind)
        if mode == "Warn":
            notices.warn(f'unknown field "{path}"')


def decoded(state: ApiState, request: WriteRequest, obj: Obj) -> Obj:
    """obj decoded into its Go struct (unknown fields per `fieldValidation`), defaulted."""
    rtype = request.target.rtype
    mode = _field_validation(request.query)
    try:
        result = decode(obj, state.registry.schema(rtype))
    except DecodeError as err:
        raise cannot_handle(rtype, rtype.version, str(err)) from err
    _report_unknown(result.unknown, rtype, mode=mode)
    return apply_defaults(result.value, rtype.kind, custom=rtype.custom)


def apply_config(request: WriteRequest) -> Obj:
    """The applied configuration: a field manager is required; YAML 1.1; identity checked."""
    if not request.query.get("fieldManager"):
        raise ApiError(422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                       "value: is required for apply patch", "Invalid", {
                           "group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{
                               "reason": "FieldValueRequired",
                               "message": "Required value: is required for apply patch",
                               "field": "fieldManager"}]})
    return check_identity(parse_yaml(request.body), request.target, applying=True)


def typed_config(state: ApiState, config: Obj, *, target: Target) -> Obj:
    """The configuration as a typed patch: 500 for what the schema refuses; values decoded."""
    schema = state.registry.schema(target.rtype)
    errors = validate(config, schema)
    if errors:
        text = errors[0] if len(errors) == 1 else "errors:\n" + "\n".join(f"  {e}" for e in errors)
        where = f"{target.namespace}/{target.name}"
        raise internal(f"failed to create typed patch object ({where}; "
                       f"{group_version_kind(config)}): {text}")
    try:
        value: Obj = decode(config, schema).value
    except DecodeError as err:
        raise cannot_handle(target.rtype, target.rtype.version, str(err)) from err
    return value
