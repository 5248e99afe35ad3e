"""DELETE of one object and of a collection, answered as kube-apiserver v1.36 answers.

An object without finalizers goes at once and the answer is a Success Status naming it
(`details.kind` the plural), except for the kinds whose storage answers with the deleted
object itself (ResourceQuota, Service, Pod, PersistentVolume(Claim)). A Namespace, a CRD,
and any object with `metadata.finalizers` are first marked for deletion and the marked
object is the answer: `deletionTimestamp`; a Namespace turns `Terminating`; a CRD gets the
`customresourcecleanup` finalizer and a `Terminating` condition; anything else gets
`deletionGracePeriodSeconds: 0` and, if it has one, a bumped `generation`. The controllers
then finish the job (see `controllers`, `namespaces`). `propagationPolicy: Foreground` marks
the object with the `foregroundDeletion` finalizer, which the garbage collector removes
once the dependents are gone; `Orphan` is accepted, but dependents are still deleted (in
the background, the default). `default`, `kube-system` and `kube-public` may not be
deleted (403). A dry run answers the same and changes nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.errors import ApiError, not_found
from syncer_standins.kubeapi.objects import Obj, for_output, meta, now
from syncer_standins.kubeapi.patches import parse_json
from syncer_standins.kubeapi.selectors import (
    parse_field_selector,
    parse_label_selector,
    selectable_fields,
)
from syncer_standins.kubeapi.state import ApiState
from syncer_standins.kubeapi.writes import Target, WriteRequest, commit, is_dry_run, remove

__all__ = [
    "CRD_FINALIZER",
    "FOREGROUND",
    "IMMORTAL_NAMESPACES",
    "delete",
    "delete_collection",
    "mark",
    "remove",
]

CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
FOREGROUND = "foregroundDeletion"
# Kinds whose storage answers a DELETE with the deleted object (`ReturnDeletedObject`).
_RETURNS_OBJECT = frozenset({"ResourceQuota", "Service", "Pod", "PersistentVolumeClaim",
                             "PersistentVolume"})
IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
_TERMINATING_REASON = "InstanceDeletionPending"
_TERMINATING_MESSAGE = (
    "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon"
)


def _options(request: WriteRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    options = parse_json(request.body)
    return options if isinstance(options, dict) else {}


def _check_preconditions(options: dict[str, Any], live: Obj) -> None:
    wanted = options.get("preconditions") or {}
    for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        if wanted.get(key) and wanted[key] != meta(live).get(key):
            raise ApiError(409, f"Precondition failed: {label} in precondition: {wanted[key]}, "
                           f"{label} in object meta: {meta(live).get(key)}", "Conflict")


def _is_crd(rtype: ResourceType) -> bool:
    return rtype.kind == "CustomResourceDefinition" and not rtype.custom


def _graceful(rtype: ResourceType, live: Obj, *, foreground: bool) -> bool:
    return bool(meta(live).get("finalizers")) or foreground or _is_crd(rtype) or (
        rtype.kind == "Namespace" and not rtype.custom
    )


def mark(rtype: ResourceType, live: Obj, *, foreground: bool = False) -> Obj:
    """live marked for deletion, the way kube marks it."""
    marked = copy.deepcopy(live)
    metadata = meta(marked)
    metadata["deletionTimestamp"] = now()
    if foreground and FOREGROUND not in (metadata.get("finalizers") or []):
        metadata["finalizers"] = [*(metadata.get("finalizers") or []), FOREGROUND]
    if rtype.kind == "Namespace" and not rtype.custom:
        marked.setdefault("status", {})["phase"] = "Terminating"
    elif _is_crd(rtype):
        _mark_crd(marked)
    else:
        metadata["deletionGracePeriodSeconds"] = 0
        if metadata.get("generation"):
            metadata["generation"] = int(metadata["generation"]) + 1
    return marked


def _mark_crd(crd: Obj) -> None:
    metadata = meta(crd)
    metadata["finalizers"] = [*metadata.get("finalizers", []), CRD_FINALIZER]
    conditions = crd.setdefault("status", {}).get("conditions") or []
    crd["status"]["conditions"] = [*conditions, {
        "type": "Terminating", "status": "True",
        "lastTransitionTime": metadata["deletionTimestamp"],
        "reason": _TERMINATING_REASON, "message": _TERMINATING_MESSAGE}]


def _success(rtype: ResourceType, obj: Obj) -> Obj:
    details: Obj = {"name": meta(obj).get("name")}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    details["uid"] = meta(obj).get("uid")
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": details}


def _check_immortal(rtype: ResourceType, live: Obj) -> None:
    name = meta(live).get("name")
    if rtype.kind == "Namespace" and not rtype.custom and name in IMMORTAL_NAMESPACES:
        raise ApiError(403, f'namespaces "{name}" is forbidden: this namespace may not be '
                       "deleted", "Forbidden", {"name": name, "kind": "namespaces"})


def _gone(state: ApiState, live: Obj, *, rtype: ResourceType, dry_run: bool) -> Obj:
    gone = live if dry_run else remove(state, live, rtype=rtype) or live
    if rtype.kind in _RETURNS_OBJECT and not rtype.custom:
        return for_output(gone, rtype)
    return _success(rtype, live)


def _delete_live(state: ApiState, live: Obj, *, rtype: ResourceType, dry_run: bool,
                 foreground: bool = False) -> Obj:
    """Delete or mark one object; returns the answer body."""
    _check_immortal(rtype, live)
    if not _graceful(rtype, live, foreground=foreground):
        return _gone(state, live, rtype=rtype, dry_run=dry_run)
    if meta(live).get("deletionTimestamp"):
        return for_output(live, rtype)
    marked = mark(rtype, live, foreground=foreground)
    stored = marked if dry_run else commit(state, marked, rtype=rtype, before=live)
    return for_output(stored, rtype)


def _wants_dry_run(request: WriteRequest, options: dict[str, Any]) -> bool:
    return is_dry_run(request.query) or "All" in (options.get("dryRun") or [])


def delete(state: ApiState, request: WriteRequest) -> tuple[int, Obj]:
    target = request.target
    options = _options(request)
    with state.store.lock:
        live = state.store.get(target.key, namespace=target.namespace, name=target.name)
        if live is None:
            raise not_found(target.rtype.resource, target.name)
        _check_preconditions(options, live)
        dry_run = _wants_dry_run(request, options)
        foreground = options.get("propagationPolicy") == "Foreground" or request.query.get(
            "propagationPolicy") == "Foreground"
        return 200, _delete_live(state, live, rtype=target.rtype, dry_run=dry_run,
                                 foreground=foreground)


def _selected(state: ApiState, target: Target, *, query: dict[str, str]) -> list[Obj]:
    labels = parse_label_selector(query.get("labelSelector", ""))
    fields = parse_field_selector(query.get("fieldSelector", ""))
    namespace = target.namespace if target.rtype.namespaced and target.namespace else None
    return [obj for obj in state.store.items(target.key, namespace)
            if labels.matches_object(obj) and fields.matches(selectable_fields(obj))]


def delete_collection(state: ApiState, request: WriteRequest) -> tuple[int, Obj]:
    """Delete every selected object; the answer lists them (kind `<Kind>List`)."""
    target, rtype = request.target, request.target.rtype
    dry_run = _wants_dry_run(request, _options(request))
    with state.store.lock:
        items = _selected(state, target, query=dict(request.query))
        for live in items:
            _delete_live(state, live, rtype=rtype, dry_run=dry_run)
        return 200, {
            "kind": rtype.list_kind, "apiVersion": rtype.api_version,
            "metadata": {"resourceVersion": str(state.store.resource_version)},
            "items": [for_output(item, rtype, typed=rtype.custom) for item in items],
        }
