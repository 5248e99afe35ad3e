"""Dispatch of one request to discovery, reads or writes; no HTTP here (see `handler`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from syncer_standins.kubeapi import aggregation, deletes, discovery, rbac, reads, writes
from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.crds import check_storage
from syncer_standins.kubeapi.errors import PageNotFound, method_not_allowed
from syncer_standins.kubeapi.objects import for_output
from syncer_standins.kubeapi.routes import Route, parse_path
from syncer_standins.kubeapi.state import ApiState

__all__ = ["Reply", "Request", "WatchReply", "serve"]

JSON = "application/json"
_VERB_OF = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WatchReply:
    """A 200 whose body is a stream of watch events, one JSON document per line."""

    events: Iterator[dict[str, Any]]


def serve(state: ApiState, request: Request) -> Reply | WatchReply:
    """Answer a request; raises ApiError or PageNotFound for the error answers."""
    state.tick()
    route = parse_path(request.path)
    if route.kind in ("group-version", "resource"):
        aggregation.check_available(state, route.group, route.version)
    if route.kind != "resource":
        if request.method != "GET":
            raise method_not_allowed()
        return _discovery(state, request, route=route)
    return _resource(state, request, route=route)


def _discovery(state: ApiState, request: Request, *, route: Route) -> Reply:
    aggregated = discovery.aggregated_version(request.headers.get("accept", ""))
    if route.kind in ("api", "apis") and aggregated:
        body = discovery.aggregated(state, legacy=route.kind == "api", media_version=aggregated)
        return Reply(200, body, discovery.AGGREGATED_MEDIA.format(version=aggregated))
    if route.kind == "health":
        return Reply(200, "ok", "text/plain; charset=utf-8")
    documents: dict[str, Callable[[], dict[str, Any]]] = {
        "version": discovery.version_info,
        "api": lambda: discovery.api_versions(state),
        "apis": lambda: discovery.api_group_list(state),
        "group": lambda: discovery.api_group(state, route.group),
    }
    document = documents.get(route.kind)
    if document is not None:
        return Reply(200, document())
    return Reply(200, discovery.resource_list(state, route.group, version=route.version))


def _resource_type(state: ApiState, route: Route) -> ResourceType:
    rtype = state.registry.lookup(route.group, route.version, plural=route.plural)
    if rtype is None and state.registry.installing(route.group, route.version,
                                                   plural=route.plural):
        check_storage(state, (route.group, route.plural))
    if rtype is None or (route.namespaced_path and not rtype.namespaced):
        raise PageNotFound(route.plural)
    if rtype.custom:
        check_storage(state, rtype.stored_key)
    if route.subresource and rtype.subresource(route.subresource) is None:
        raise PageNotFound(route.subresource)
    if route.namespaced_path and not route.namespace:
        raise PageNotFound(route.plural)
    if rtype.namespaced and route.name and not route.namespaced_path:
        raise PageNotFound(route.plural)
    return rtype


def _resource(state: ApiState, request: Request, *, route: Route) -> Reply | WatchReply:
    rtype = _resource_type(state, route)
    target = writes.Target(rtype, route.namespace, route.name, route.subresource)
    if route.subresource not in ("", "status"):
        raise method_not_allowed()
    verb = _verb(request, route)
    attributes = rbac.Attributes(verb, rtype.group, rtype.plural, route.subresource,
                                 route.namespace, route.name)
    rbac.authorize(state, rbac.user_of(request.headers), attributes)
    if verb not in rtype.verbs and not route.subresource:
        raise method_not_allowed()
    if verb == "watch":
        return WatchReply(reads.watch_events(state, reads.Watch(target, request.query)))
    if verb == "list":
        return Reply(200, reads.list_objects(state, target, query=request.query))
    if verb == "get":
        return Reply(200, reads.get(state, target))
    return _write(state, request, verb=verb, target=target)


def _verb(request: Request, route: Route) -> str:
    collection = not route.name
    if request.method == "GET":
        if not collection:
            return "get"
        return "watch" if request.query.get("watch") in ("true", "1") else "list"
    if request.method == "DELETE" and collection:
        return "deletecollection"
    verb = _VERB_OF.get(request.method, "")
    if not verb or (verb == "create") != collection:
        raise method_not_allowed()
    return verb


def _write(state: ApiState, request: Request, *, verb: str, target: writes.Target) -> Reply:
    write = writes.WriteRequest(
        target, request.query, request.body,
        content_type=request.headers.get("content-type", JSON),
        user_agent=request.headers.get("user-agent", ""),
    )
    operations = {
        "create": writes.create, "update": writes.replace, "patch": writes.patch,
        "delete": deletes.delete, "deletecollection": deletes.delete_collection,
    }
    code, body = operations[verb](state, write)
    if verb in ("create", "update", "patch"):
        body = for_output(body, target.rtype)
    return Reply(code, body)
