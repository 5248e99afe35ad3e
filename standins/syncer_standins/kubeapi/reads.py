"""Reads: GET of one object, LIST (selectors, pagination) and WATCH streams.

LIST answers `<Kind>List` with `metadata.resourceVersion` (the store's current one); items
of built-in kinds carry no kind/apiVersion, items of custom resources do, and custom lists
also carry `metadata.continue: ""`, as kube answers. `limit` and `continue` page through the
items in key order (`paging`). `resourceVersion` on a LIST is ignored (always the latest).

WATCH (`watch=true|1`) streams `{"type", "object"}` events: from `resourceVersion` N the
events after N (`ERROR` 410 Expired when N is older than the history), from "" or "0"
synthetic ADDED events for what exists, then live events. A label or field selector turns
an object that starts (stops) matching into ADDED (DELETED), as kube's watch cache does.
The stream ends after `timeoutSeconds` (default 1800) or when the server stops.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from syncer_standins.kubeapi.errors import bad_request, expired, not_found
from syncer_standins.kubeapi.objects import Obj, for_output, meta, sort_keys
from syncer_standins.kubeapi.paging import paginate
from syncer_standins.kubeapi.selectors import (
    Selector,
    parse_field_selector,
    parse_label_selector,
    selectable_fields,
)
from syncer_standins.kubeapi.state import ApiState
from syncer_standins.kubeapi.store import Event, TooOld
from syncer_standins.kubeapi.writes import Target

__all__ = ["Watch", "get", "list_objects", "watch_events"]

_DEFAULT_TIMEOUT = 1800.0
_POLL = 0.5


def get(state: ApiState, target: Target) -> Obj:
    found = state.store.get(target.key, namespace=target.namespace, name=target.name)
    if found is None:
        raise not_found(target.rtype.resource, target.name)
    return for_output(found, target.rtype)


@dataclass(frozen=True)
class _Filter:
    labels: Selector
    fields: Selector
    namespace: str | None

    @classmethod
    def of(cls, target: Target, query: Mapping[str, str]) -> _Filter:
        namespace = target.namespace if target.rtype.namespaced and target.namespace else None
        return cls(parse_label_selector(query.get("labelSelector", "")),
                   parse_field_selector(query.get("fieldSelector", "")), namespace)

    def matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        in_namespace = self.namespace is None or meta(obj).get("namespace") == self.namespace
        return in_namespace and self.labels.matches_object(obj) and self.fields.matches(
            selectable_fields(obj))


def list_objects(state: ApiState, target: Target, *, query: Mapping[str, str]) -> Obj:
    rtype = target.rtype
    selection = _Filter.of(target, query)
    with state.store.lock:
        rv = state.store.resource_version
        items = [obj for obj in state.store.items(target.key, selection.namespace)
                 if selection.matches(obj)]
    selected = bool(query.get("labelSelector", "").strip() or
                    query.get("fieldSelector", "").strip())
    page = paginate(items, query, rv=rv, selected=selected,
                    across_namespaces=rtype.namespaced and selection.namespace is None)
    if rtype.custom and not page.more:
        page.metadata["continue"] = ""
    body: Obj = {"kind": rtype.list_kind, "apiVersion": rtype.api_version,
                 "metadata": page.metadata}
    body["items"] = [for_output(obj, rtype, typed=rtype.custom) for obj in page.items]
    return sort_keys(body) if rtype.custom else body


@dataclass(frozen=True)
class Watch:
    target: Target
    query: Mapping[str, str]

    @property
    def timeout(self) -> float:
        value = self.query.get("timeoutSeconds")
        return float(value) if value else _DEFAULT_TIMEOUT


def _translate(event: Event, selection: _Filter) -> str | None:
    """The event type a watcher with this selection sees, if any."""
    now_in = event.type != "DELETED" and selection.matches(event.obj)
    was_in = event.previous is not None and selection.matches(event.previous)
    if event.type == "DELETED":
        return "DELETED" if was_in or selection.matches(event.obj) else None
    if now_in:
        return "MODIFIED" if was_in else "ADDED"
    return "DELETED" if was_in else None


def _initial(state: ApiState, watch: Watch, *, selection: _Filter) -> tuple[list[Obj], int]:
    rv_text = watch.query.get("resourceVersion", "")
    with state.store.lock:
        rv = state.store.resource_version
        if rv_text not in ("", "0"):
            return [], int(rv_text)
        current = state.store.items(watch.target.key, selection.namespace)
    objects = [obj for obj in current if selection.matches(obj)]
    return [{"type": "ADDED", "object": for_output(obj, watch.target.rtype)} for obj in objects], rv


def watch_events(state: ApiState, watch: Watch) -> Iterator[Obj]:
    """The events of one watch, until it times out or the server stops.

    Bad parameters raise here, before anything is streamed.
    """
    selection = _Filter.of(watch.target, watch.query)
    if not watch.query.get("resourceVersion", "0").isdigit():
        raise bad_request(f"invalid resource version: {watch.query.get('resourceVersion')}")
    first, rv = _initial(state, watch, selection=selection)
    return _stream(state, watch, selection=selection, first=first, rv=rv)


def _stream(
    state: ApiState, watch: Watch, *, selection: _Filter, first: list[Obj], rv: int
) -> Iterator[Obj]:
    yield from first
    deadline = time.monotonic() + watch.timeout
    while time.monotonic() < deadline and not state.store.stopped:
        try:
            batch = _next_batch(state, rv, deadline=deadline)
        except TooOld as err:
            status = expired(f"too old resource version: {rv} ({err.oldest})").body()
            yield {"type": "ERROR", "object": status}
            return
        for event in batch:
            rv = event.rv
            kind = _translate(event, selection) if event.key == watch.target.key else None
            if kind is not None:
                yield {"type": kind, "object": for_output(event.obj, watch.target.rtype)}


def _next_batch(state: ApiState, rv: int, *, deadline: float) -> list[Event]:
    with state.store.lock:
        events = state.store.events_after(rv)
        if not events:
            state.store.wait(max(0.0, min(_POLL, deadline - time.monotonic())))
            events = state.store.events_after(rv)
    return events
