"""The Cluster edge: the official `kubernetes` client over HTTP, for any API server.

Only what a sync needs: discovery (which kinds exist, their plural and scope), one LIST per
kind and namespace with a label selector, GET, server-side apply (field manager `syncer`,
`force=true`, optional `dryRun=All`) and DELETE. Requests go through `ApiClient` so that
kubeconfig, in-cluster config, TLS and tokens work as for any Kubernetes tool; answers are
read as JSON.

Every failure becomes a `ClusterError` naming the object: an error status the `ApiError`
of its status (`ForbiddenError`, `InvalidError` with the server's field causes, ...), no
answer an `ApiTimeoutError` or `ApiConnectionError` (`syncer.retries`). urllib3 retries
nothing (`retries = 0`): `KubeCluster` retries what may pass by itself, as `RetryPolicy`
bounds it and `syncer.retries` says: 429 honouring `Retry-After`, 503 and a connection that
could not be made, for every method; 500, 502, 504, a connection cut mid-request and (once)
a read timeout, for GET, DELETE and the PATCH of a server-side apply only, never for a
POST or a conditional PUT, which would meet 409 after their own success. `sleep` and the
jitter's `rand` are injectable. A DEBUG record per request (`api request`: method, path,
status, duration_ms, attempt) counts the requests; each retry is logged at INFO.

Discovery reads each group version on its own (at most `discovery_attempts`): one that
answers 5xx or times out (an aggregated API whose service is down, such as
`metrics.k8s.io`) is skipped with a WARNING and recorded in `Discovery.unavailable`, so
that its kinds are neither applied, listed nor pruned (`GroupUnavailableError`). The core
group and the `/apis` list must answer.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import quote

import kubernetes
import urllib3
import yaml

from syncer.errors import (
    ApiTimeoutError,
    ClusterError,
    ConfigError,
    GroupUnavailableError,
    NotFoundError,
    ServerError,
    cut,
)
from syncer.model import FIELD_MANAGER, Obj, ObjectRef
from syncer.retries import Failure, RetryPolicy, answer, may_retry, unanswered

__all__ = [
    "Cluster",
    "Discovery",
    "Impersonation",
    "KubeCluster",
    "Resource",
    "RetryPolicy",
    "connect",
]

log = logging.getLogger(__name__)
_JSON: Final = "application/json"


@dataclass(frozen=True)
class Resource:
    """One served resource type: where its objects live and whether they are namespaced."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    listable: bool = True  # its verbs include list

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str = "", name: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        return base + (f"/{quote(name, safe='')}" if name else "")


@dataclass(frozen=True)
class Discovery:
    """The served resource types, by (group, kind), preferred version first; and the group
    versions whose discovery failed ("group/version" → why), whose kinds are unknown."""

    by_kind: Mapping[tuple[str, str], Resource]
    unavailable: Mapping[str, str] = field(default_factory=dict)

    def find(self, group: str, kind: str) -> Resource | None:
        return self.by_kind.get((group, kind))

    def of(self, ref: ObjectRef) -> Resource:
        return self.require(ref.group, ref.kind, where=str(ref))

    def require(self, group: str, kind: str, *, where: str = "discovery") -> Resource:
        found = self.find(group, kind)
        if found is None:
            self.check(group, kind, where=where)
            raise ClusterError(f"the cluster serves no kind {kind!r} in group "
                               f"{group or 'core'!r}", where=where)
        return found

    def unavailable_in(self, group: str) -> dict[str, str]:
        """The group versions of `group` whose discovery failed, with why."""
        return {gv: why for gv, why in self.unavailable.items()
                if gv.rpartition("/")[0] == group}

    def check(self, group: str, kind: str, *, where: str, version: str = "") -> None:
        """GroupUnavailableError if (group, kind) is not found and a version of its group
        failed discovery: then whether the kind exists is unknown."""
        failed = self.unavailable_in(group) if self.find(group, kind) is None else {}
        if not failed:
            return
        gv = f"{group}/{version}" if f"{group}/{version}" in failed else min(failed)
        raise GroupUnavailableError(f"the API group {gv} is unavailable: {failed[gv]}; "
                                    "nothing of it is applied or pruned until it answers",
                                    where=where, group_version=gv, cause=failed[gv])


class Cluster(Protocol):
    """What the reconcile path needs from a Kubernetes API."""

    def discover(self) -> Discovery: ...

    def list_objects(self, resource: Resource, *, namespace: str, selector: str) -> list[Obj]: ...

    def get(self, resource: Resource, *, namespace: str, name: str) -> Obj | None: ...

    def apply(self, obj: Obj, resource: Resource, *, dry_run: bool = False,
              subresource: str = "", manager: str = FIELD_MANAGER) -> Obj:
        """Server-side apply (force) as field manager `manager`, to the object or to its
        `subresource` (`status`)."""
        ...

    def create(self, obj: Obj, resource: Resource) -> Obj:
        """POST: ConflictError if the object exists."""
        ...

    def replace(self, obj: Obj, resource: Resource) -> Obj:
        """PUT, conditional on `metadata.resourceVersion`: ConflictError if it changed."""
        ...

    def delete(self, resource: Resource, *, namespace: str, name: str) -> bool: ...


def connect(*, kubeconfig: Path | None = None, context: str | None = None,
            timeout: float = 30.0, retry: RetryPolicy | None = None,
            sleep: Callable[[float], None] = time.sleep, connections: int = 10) -> KubeCluster:
    """A cluster from a kubeconfig file ($KUBECONFIG, ~/.kube/config) or in-cluster config;
    `connections` kept open for reuse (at least the number of calls made at once)."""
    config = kubernetes.client.Configuration()
    if kubeconfig is None and os.environ.get("KUBECONFIG"):
        kubeconfig = Path(os.environ["KUBECONFIG"])  # read now: the client reads it at import
    try:
        if kubeconfig is None and _in_cluster():
            kubernetes.config.load_incluster_config(client_configuration=config)
        else:
            kubernetes.config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None,
                context=context, client_configuration=config)
    except (kubernetes.config.ConfigException, OSError, TypeError, ValueError,
            yaml.YAMLError) as e:
        where = str(kubeconfig) if kubeconfig else "kubeconfig"
        raise ConfigError(f"cannot load cluster credentials: {cut(str(e), 200)}",
                          where=where) from e
    config.retries = 0  # urllib3 would retry blindly, each time waiting the whole timeout
    config.connection_pool_maxsize = max(connections, 1)
    return KubeCluster(kubernetes.client.ApiClient(config), timeout=timeout, retry=retry,
                       sleep=sleep)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not os.environ.get("KUBECONFIG")


@dataclass(frozen=True)
class Impersonation:
    """Who requests are made as (`KubeCluster.as_user`)."""

    user: str


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    where: str
    query: list[tuple[str, str]]
    body: Any = None
    content_type: str = _JSON


class KubeCluster:
    """`Cluster` over the official client's `ApiClient`, retrying transient failures;
    `sleep` and `rand` (the jitter) are injectable."""

    def __init__(self, api: kubernetes.client.ApiClient, *, timeout: float = 30.0,
                 retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 rand: Callable[[], float] = random.random,
                 impersonate: Impersonation | None = None) -> None:
        self.api = api
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep, self.rand = sleep, rand
        self.impersonate = impersonate

    def as_user(self, user: str) -> KubeCluster:
        """The same cluster and connections, each request made as `user` (the
        `Impersonate-User` header): the server checks that this client may impersonate, then
        authorizes the request by `user`'s own RBAC (a service account's groups follow from
        its name)."""
        return KubeCluster(self.api, timeout=self.timeout, retry=self.retry, sleep=self.sleep,
                           rand=self.rand, impersonate=Impersonation(user))

    def discover(self) -> Discovery:
        found: dict[tuple[str, str], Resource] = {}
        unavailable: dict[str, str] = {}
        for group, version in self._group_versions():
            try:
                resources = self._resources(group, version)
            except (ServerError, ApiTimeoutError) as e:
                if not group:
                    raise
                unavailable[f"{group}/{version}"] = e.message
                log.warning("API group skipped: its discovery failed",
                            extra={"group_version": f"{group}/{version}", "error": e.message})
                continue
            for res in resources:
                found.setdefault((res.group, res.kind), res)
        return Discovery(found, unavailable)

    def list_objects(self, resource: Resource, *, namespace: str, selector: str) -> list[Obj]:
        query = [("labelSelector", selector)] if selector else []
        body = self._call("GET", resource.path(namespace=namespace), query=query,
                          where=f"{resource.plural} in {namespace or 'the cluster'}")
        items = body.get("items") or []
        for item in items:
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
        return list(items)

    def get(self, resource: Resource, *, namespace: str, name: str) -> Obj | None:
        where = f"{resource.kind}/{namespace + '/' if namespace else ''}{name}"
        try:
            return self._call("GET", resource.path(namespace=namespace, name=name), where=where)
        except NotFoundError:
            return None

    def apply(self, obj: Obj, resource: Resource, *, dry_run: bool = False,
              subresource: str = "", manager: str = FIELD_MANAGER) -> Obj:
        ref = ObjectRef.of(obj)
        query = [("fieldManager", manager), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        path = resource.path(namespace=ref.namespace, name=ref.name)
        if subresource:
            path += f"/{subresource}"
        return self._call("PATCH", path, query=query, body=obj, where=str(ref),
                          content_type="application/apply-patch+yaml")

    def create(self, obj: Obj, resource: Resource) -> Obj:
        ref = ObjectRef.of(obj)
        return self._call("POST", resource.path(namespace=ref.namespace), body=obj,
                          where=str(ref))

    def replace(self, obj: Obj, resource: Resource) -> Obj:
        ref = ObjectRef.of(obj)
        return self._call("PUT", resource.path(namespace=ref.namespace, name=ref.name),
                          body=obj, where=str(ref))

    def delete(self, resource: Resource, *, namespace: str, name: str) -> bool:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        where = f"{resource.kind}/{namespace + '/' if namespace else ''}{name}"
        try:
            self._call("DELETE", resource.path(namespace=namespace, name=name), body=body,
                       where=where)
        except NotFoundError:
            return False
        return True

    def _group_versions(self) -> Iterator[tuple[str, str]]:
        yield "", "v1"
        groups = self._call("GET", "/apis", where="discovery /apis").get("groups") or []
        for group in groups:
            preferred = (group.get("preferredVersion") or {}).get("version")
            versions = [v["version"] for v in group.get("versions") or []]
            for version in sorted(versions, key=lambda v: v != preferred):
                yield group["name"], version

    def _resources(self, group: str, version: str) -> list[Resource]:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            body = self._call("GET", path, where=f"discovery {path}",
                              attempts=self.retry.discovery_attempts if group else None)
        except NotFoundError:
            return []
        return [Resource(group, version, r["kind"], r["name"], bool(r.get("namespaced")),
                         "list" in (r.get("verbs") or []))
                for r in body.get("resources") or [] if "/" not in r["name"]]

    def _call(self, method: str, path: str, *, where: str, query: list[tuple[str, str]] | None
              = None, body: Any = None, content_type: str = _JSON,
              attempts: int | None = None) -> Obj:
        """One request, retried as the module docs say; its answer, or its ClusterError."""
        request = _Request(method, path, where, query or [], body, content_type)
        limit = attempts or self.retry.attempts
        attempt = 1
        while True:
            outcome = self._once(request, attempt)
            if not isinstance(outcome, Failure):
                return outcome
            if not may_retry(outcome, method=method, attempt=attempt, limit=limit,
                              timeout_attempts=self.retry.timeout_attempts):
                raise outcome.error from outcome.cause
            self._wait(outcome, attempt)
            attempt += 1

    def _once(self, request: _Request, attempt: int) -> Obj | Failure:
        started = time.monotonic()
        headers = {"Accept": _JSON, "Content-Type": request.content_type}
        if self.impersonate:
            headers["Impersonate-User"] = self.impersonate.user
        try:
            serialized = self.api.param_serialize(
                method=request.method, resource_path=request.path,
                query_params=request.query, header_params=headers, body=request.body,
                auth_settings=["BearerToken"])
            response = self.api.call_api(*serialized, _request_timeout=self.timeout)
            raw = response.read()
        except (urllib3.exceptions.HTTPError, OSError, kubernetes.client.ApiException) as e:
            _log_request(request, 0, started, attempt, error=type(e).__name__)
            return unanswered(e, method=request.method, where=request.where, attempt=attempt,
                              timeout=self.timeout)
        _log_request(request, response.status, started, attempt)
        return answer(response.status, raw, where=request.where, attempt=attempt,
                      retry_after=response.headers.get("Retry-After"))

    def _wait(self, failure: Failure, attempt: int) -> None:
        wait = self.retry.delay(attempt, retry_after=failure.error.retry_after,
                                rand=self.rand())
        log.info("retrying an API request", extra={
            "object": failure.error.where, "attempt": attempt, "wait_s": round(wait, 3),
            "error": failure.error.message})
        self.sleep(wait)


def _log_request(request: _Request, status: int, started: float, attempt: int, *,
                 error: str = "") -> None:
    extra: dict[str, object] = {
        "method": request.method, "path": request.path, "status": status,
        "duration_ms": round((time.monotonic() - started) * 1000, 1), "attempt": attempt}
    if error:
        extra["error"] = error
    log.debug("api request", extra=extra)


