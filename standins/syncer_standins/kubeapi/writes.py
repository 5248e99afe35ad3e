"""Writes: create (POST), replace (PUT), patch (apply, merge, JSON, strategic) and delete.

Each write runs under the store lock from its first read to its commit, checks what kube
checks in the order kube checks it (field manager, body, kind and apiVersion for the path,
name and namespace against the URL, namespace existence, schema, conflicts, validation),
records field ownership, and writes only when the object really changes: a write that
changes nothing answers the stored object with its old resourceVersion. `dryRun=All` runs
everything but the commit.
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
from collections.abc import Mapping

from syncer_standins.kubeapi import ownership
from syncer_standins.kubeapi.admission import Review, admit
from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.defaults import apply_defaults
from syncer_standins.kubeapi.errors import (
    ApiError,
    Resource,
    already_exists,
    bad_request,
    conflict,
    invalid,
    not_found,
    unsupported_media_type,
)
from syncer_standins.kubeapi.intake import (
    Target,
    WriteRequest,
    apply_config,
    check_identity,
    decoded,
    typed_config,
)
from syncer_standins.kubeapi.objects import Obj, drop_nulls, meta, now, without_managed_fields
from syncer_standins.kubeapi.patches import apply_json_patch, merge_patch, parse_json
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.strategy import (
    ignored_fields,
    prepare_create,
    prepare_status_write,
    prepare_update,
    zero_object,
)
from syncer_standins.kubeapi.typed import same
from syncer_standins.kubeapi.validation import validate_object, validate_update

__all__ = [
    "Target",
    "WriteRequest",
    "apply",
    "commit",
    "create",
    "is_dry_run",
    "patch",
    "remove",
    "replace",
    "require_namespace",
    "write_status",
]

logger = logging.getLogger(__name__)

Result = tuple[int, Obj]
_NAMESPACES = ("", "namespaces")
# Kinds whose updates must name the resourceVersion they replace (kube's strategies that
# refuse unconditional updates).
_CONDITIONAL_ONLY = frozenset({"Lease"})
_RV_REQUIRED = "Invalid value: 0: must be specified for an update"
_MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def is_dry_run(query: Mapping[str, str]) -> bool:
    value = query.get("dryRun", "")
    if value not in ("", "All"):
        raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return value == "All"


def commit(state: ApiState, obj: Obj, *, rtype: ResourceType, before: Obj | None) -> Obj:
    """Store obj and let the reactors (controllers) see the change."""
    stored = state.store.write(rtype.stored_key, obj)
    logger.debug("stored %s %s rv=%s", rtype.kind, meta(stored).get("name"),
                 meta(stored).get("resourceVersion"))
    state.react(Written(rtype, before, stored))
    return stored


def remove(state: ApiState, live: Obj, *, rtype: ResourceType) -> Obj | None:
    """Remove an object for good and let the controllers see it go."""
    metadata = meta(live)
    gone = state.store.remove(rtype.stored_key, namespace=str(metadata.get("namespace") or ""),
                              name=str(metadata.get("name")))
    if gone is not None:
        state.react(Written(rtype, live, None))
    return gone


def require_namespace(state: ApiState, target: Target, name: str) -> None:
    """A namespaced object can only be created in a namespace that exists and lives."""
    namespace = target.namespace
    found = state.store.get(_NAMESPACES, namespace="", name=namespace)
    if found is None:
        raise not_found(Resource("namespaces", "", "Namespace"), namespace)
    if meta(found).get("deletionTimestamp"):
        resource = target.rtype.resource
        raise ApiError(403, f'{resource.qualified} "{name}" is forbidden: unable to create new '
                       f"content in namespace {namespace} because it is being terminated",
                       "Forbidden", {**_details(Target(target.rtype, name=name)), "causes": [{
                           "reason": "NamespaceTerminating",
                           "message": f"namespace {namespace} is being terminated",
                           "field": "metadata.namespace"}]})


def _check_version(obj: Obj, live: Obj, *, target: Target, replacing: bool = False) -> None:
    wanted = meta(obj).get("resourceVersion")
    if replacing and not wanted and target.rtype.kind in _CONDITIONAL_ONLY:
        raise ApiError(422, f'{target.rtype.resource.qualified} "{target.name}" is invalid: '
                       f"metadata.resourceVersion: {_RV_REQUIRED}", "Invalid", {
                           **_details(target), "causes": [{
                               "reason": "FieldValueInvalid", "message": _RV_REQUIRED,
                               "field": "metadata.resourceVersion"}]})
    if wanted and wanted != meta(live).get("resourceVersion"):
        raise conflict(target.rtype.resource, target.name, why=_MODIFIED)


def _details(target: Target) -> Obj:
    rtype = target.rtype
    details: Obj = {"name": target.name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    return details


def _change(state: ApiState, target: Target, *, manager: str, operation: str,
            obj: Obj) -> ownership.Change:
    return ownership.Change(
        state.registry.schema(target.rtype),
        ownership.ManagerKey(manager, operation, target.subresource),
        target.rtype.api_version, now(),
        ignored_fields(target.rtype, obj, subresource=target.subresource),
    )


def _validated(obj: Obj, target: Target, *, live: Obj | None) -> Obj:
    causes = validate_object(obj, target.rtype)
    if live is not None and target.subresource != "status":
        causes += validate_update(live, obj, target.rtype)
    if causes:
        raise invalid(target.rtype.resource, str(meta(obj).get("name", "")), causes=causes)
    return obj


def _admitted(state: ApiState, request: WriteRequest, *, live: Obj | None, new: Obj) -> None:
    target = request.target
    typed = {"apiVersion": target.rtype.api_version, "kind": target.rtype.kind, **new}
    old = {"apiVersion": target.rtype.api_version, "kind": target.rtype.kind, **live} if (
        live is not None) else None
    admit(state, Review(target.rtype, "CREATE" if live is None else "UPDATE", target.namespace,
                        str(meta(new).get("name", "")), typed, old, target.subresource))


def _finish(state: ApiState, request: WriteRequest, *, live: Obj | None, new: Obj) -> Result:
    """Answer a no-op with the live object, a dry run with the would-be one, else commit."""
    _admitted(state, request, live=live, new=new)
    code = 201 if live is None else 200
    if live is not None and same(_comparable(new), _comparable(live)):
        return 200, live
    if is_dry_run(request.query):
        if live is not None:
            meta(new)["resourceVersion"] = meta(live)["resourceVersion"]
        return code, new
    if live is not None and meta(new).get("deletionTimestamp") and meta(live).get(
            "finalizers") and not meta(new).get("finalizers"):
        # the last finalizer is gone: kube deletes the object, answers the update
        remove(state, live, rtype=request.target.rtype)
        meta(new)["resourceVersion"] = meta(live)["resourceVersion"]
        return code, new
    return code, commit(state, new, rtype=request.target.rtype, before=live)


def _comparable(obj: Obj) -> Obj:
    result = copy.deepcopy(obj)
    meta(result).pop("resourceVersion", None)
    return result


def _record_update(
    state: ApiState, request: WriteRequest, *, live: Obj | None, new: Obj
) -> Obj:
    """Ownership of a plain write, then what the server sets; returns the object to store."""
    target = request.target
    base = without_managed_fields(live) if live is not None else zero_object(target.rtype)
    sent = ownership.decode(meta(new).get("managedFields"))
    managers = sent or ownership.decode(meta(live or {}).get("managedFields"))
    change = _change(state, target, manager=request.manager, operation="Update", obj=new)
    managers = ownership.update(base, without_managed_fields(new), managers=managers,
                                change=change)
    return _server_sets(state, target, live=live, new=new, managers=managers, now=change.now)


def _server_sets(state: ApiState, target: Target, *, live: Obj | None, new: Obj,
                 managers: ownership.Managers, now: str) -> Obj:
    """What the server adds to any write (create or update fields, managedFields), checked."""
    if live is None:
        prepare_create(new, target.rtype, now=now, allocator=state.allocator)
    elif target.subresource != "status":
        prepare_update(live, new, rtype=target.rtype, allocator=state.allocator)
    _set_managed_fields(new, managers)
    return _validated(new, target, live=live)


def _set_managed_fields(obj: Obj, managers: ownership.Managers) -> None:
    entries = ownership.encode(managers)
    if entries:
        meta(obj)["managedFields"] = entries
    else:
        meta(obj).pop("managedFields", None)


def create(state: ApiState, request: WriteRequest) -> Result:
    target = request.target
    obj = check_identity(parse_json(request.body), target)
    metadata = meta(obj)
    if not metadata.get("name") and metadata.get("generateName"):
        metadata["name"] = metadata["generateName"] + _random_suffix()
    with state.store.lock:
        if target.rtype.namespaced:
            require_namespace(state, target, str(metadata.get("name")))
        new = _record_update(state, request, live=None, new=decoded(state, request, obj))
        if state.store.get(target.key, namespace=target.namespace, name=str(metadata.get("name"))):
            raise already_exists(target.rtype.resource, str(metadata.get("name")))
        return _finish(state, request, live=None, new=new)


def _random_suffix() -> str:
    """Five random characters, as kube appends to a generateName."""
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def _live(state: ApiState, target: Target) -> Obj:
    live = state.store.get(target.key, namespace=target.namespace, name=target.name)
    if live is None:
        raise not_found(target.rtype.resource, target.name)
    return live


def replace(state: ApiState, request: WriteRequest) -> Result:
    target = request.target
    obj = check_identity(parse_json(request.body), target)
    with state.store.lock:
        live = _live(state, target)
        _check_version(obj, live, target=target, replacing=not target.subresource)
        if target.subresource == "status":
            obj = prepare_status_write(live, obj)
        new = _record_update(state, request, live=live, new=decoded(state, request, obj))
        return _finish(state, request, live=live, new=new)


def patch(state: ApiState, request: WriteRequest) -> Result:
    media = request.content_type.split(";", 1)[0].strip()
    if media in ("application/apply-patch+yaml", "application/apply-patch+json"):
        return apply(state, request)
    document = parse_json(request.body)
    target = request.target
    with state.store.lock:
        live = _live(state, target)
        if media in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            if not isinstance(document, dict):
                raise bad_request("patch body must be a JSON object")
            patched = merge_patch(live, document)
        elif media == "application/json-patch+json":
            patched = apply_json_patch(live, document)
        else:
            raise unsupported_media_type(media)
        obj = check_identity(patched, target)
        if target.subresource == "status":
            obj = prepare_status_write(live, obj)
        new = _record_update(state, request, live=live, new=decoded(state, request, obj))
        return _finish(state, request, live=live, new=new)


def apply(state: ApiState, request: WriteRequest) -> Result:
    """Server-side apply (`application/apply-patch+yaml`): creates (201) or updates (200)."""
    target = request.target
    config = apply_config(request)
    with state.store.lock:
        live = state.store.get(target.key, namespace=target.namespace, name=target.name)
        if live is None and target.subresource:
            raise not_found(target.rtype.resource, target.name)
        if live is None and target.rtype.namespaced:
            require_namespace(state, target, target.name)
        config = typed_config(state, config, target=target)
        if live is not None:
            _check_version(config, live, target=target)
        meta(config).pop("managedFields", None)
        new = _applied(state, request, live=live, config=config)
        return _finish(state, request, live=live, new=new)


def _applied(
    state: ApiState, request: WriteRequest, *, live: Obj | None, config: Obj
) -> Obj:
    target = request.target
    base = without_managed_fields(live) if live is not None else zero_object(target.rtype)
    change = _change(state, target, manager=request.manager, operation="Apply",
                     obj={**base, **config})
    managers = ownership.decode(meta(live or {}).get("managedFields"))
    force = request.query.get("force", "") == "true"
    try:
        merged, managers = ownership.apply(base, config, managers=managers, change=change,
                                           force=force)
    except ownership.ApplyConflict as err:
        raise err.to_api_error() from err
    new = drop_nulls(merged)
    if live is not None and target.subresource == "status":
        new = prepare_status_write(live, new)
    apply_defaults(new, target.rtype.kind, custom=target.rtype.custom)
    return _server_sets(state, target, live=live, new=new, managers=managers, now=change.now)


def write_status(state: ApiState, new: Obj, *, rtype: ResourceType, manager: str) -> None:
    """A controller's PUT of new to `/status` (only status and annotations change)."""
    metadata = meta(new)
    target = Target(rtype, str(metadata.get("namespace", "")), str(metadata["name"]), "status")
    metadata.pop("managedFields", None)
    replace(state, WriteRequest(target, {"fieldManager": manager}, json.dumps(new).encode()))
