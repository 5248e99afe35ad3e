"""The Cluster edge: the official `kubernetes` client over HTTP, for any API server.

Only what a sync needs: discovery (which kinds exist, their plural and scope), one LIST per
kind and namespace with a label selector, GET, server-side apply (field manager `syncer`,
`force=true`, optional `dryRun=All`) and DELETE. Requests go through `ApiClient` so that
kubeconfig, in-cluster config, TLS and tokens work as for any Kubernetes tool; answers are
read as JSON. Every failure becomes a `ClusterError` naming the object and the API's reason.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import kubernetes
import urllib3
import yaml

from syncer.errors import ClusterError, ConfigError, ConflictError, NotFoundError, cut
from syncer.model import FIELD_MANAGER, Obj, ObjectRef

__all__ = [
    "Cluster",
    "Discovery",
    "KubeCluster",
    "Resource",
    "connect",
]

log = logging.getLogger(__name__)
_MAX_RESPONSE = 64 * 1024 * 1024


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
    """The served resource types, by (group, kind), preferred version first."""

    by_kind: Mapping[tuple[str, str], Resource]

    def find(self, group: str, kind: str) -> Resource | None:
        return self.by_kind.get((group, kind))

    def of(self, ref: ObjectRef) -> Resource:
        return self.require(ref.group, ref.kind, where=str(ref))

    def require(self, group: str, kind: str, *, where: str = "discovery") -> Resource:
        found = self.find(group, kind)
        if found is None:
            raise ClusterError(f"the cluster serves no kind {kind!r} in group "
                               f"{group or 'core'!r}", where=where)
        return found


class Cluster(Protocol):
    """What the reconcile path needs from a Kubernetes API."""

    def discover(self) -> Discovery: ...

    def list_objects(self, resource: Resource, *, namespace: str, selector: str) -> list[Obj]: ...

    def get(self, resource: Resource, *, namespace: str, name: str) -> Obj | None: ...

    def apply(self, obj: Obj, resource: Resource, *, dry_run: bool = False) -> Obj: ...

    def create(self, obj: Obj, resource: Resource) -> Obj:
        """POST: ConflictError if the object exists."""
        ...

    def replace(self, obj: Obj, resource: Resource) -> Obj:
        """PUT, conditional on `metadata.resourceVersion`: ConflictError if it changed."""
        ...

    def delete(self, resource: Resource, *, namespace: str, name: str) -> bool: ...


def connect(*, kubeconfig: Path | None = None, context: str | None = None,
            timeout: float = 30.0) -> KubeCluster:
    """A cluster from a kubeconfig file ($KUBECONFIG, ~/.kube/config) or in-cluster config."""
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
    config.retries = 0  # urllib3 would try 4 times, each waiting the whole timeout
    return KubeCluster(kubernetes.client.ApiClient(config), timeout=timeout)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not os.environ.get("KUBECONFIG")


class KubeCluster:
    """`Cluster` over the official client's `ApiClient`."""

    def __init__(self, api: kubernetes.client.ApiClient, *, timeout: float = 30.0) -> None:
        self.api = api
        self.timeout = timeout

    def discover(self) -> Discovery:
        found: dict[tuple[str, str], Resource] = {}
        for group, version in self._group_versions():
            for res in self._resources(group, version):
                found.setdefault((res.group, res.kind), res)
        return Discovery(found)

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

    def apply(self, obj: Obj, resource: Resource, *, dry_run: bool = False) -> Obj:
        ref = ObjectRef.of(obj)
        query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        path = resource.path(namespace=ref.namespace, name=ref.name)
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
            body = self._call("GET", path, where=f"discovery {path}")
        except NotFoundError:
            return []
        return [Resource(group, version, r["kind"], r["name"], bool(r.get("namespaced")),
                         "list" in (r.get("verbs") or []))
                for r in body.get("resources") or [] if "/" not in r["name"]]

    def _call(self, method: str, path: str, *, where: str, query: list[tuple[str, str]] | None
              = None, body: Any = None, content_type: str = "application/json") -> Obj:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        try:
            request = self.api.param_serialize(method=method, resource_path=path,
                                               query_params=query or [], header_params=headers,
                                               body=body, auth_settings=["BearerToken"])
            response = self.api.call_api(*request, _request_timeout=self.timeout)
            raw = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise ClusterError(f"{method} failed: {cut(str(e), 200)}", where=where) from e
        return _answer(response.status, raw, where=where)


def _answer(status: int, raw: bytes, *, where: str) -> Obj:
    if len(raw) > _MAX_RESPONSE:
        raise ClusterError(f"response of {len(raw)} bytes is over the cap", where=where)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {"message": raw.decode("utf-8", "replace")}
    if 200 <= status < 300:
        return data if isinstance(data, dict) else {}
    message = data.get("message") if isinstance(data, dict) else None
    text = cut(str(message or f"HTTP {status}"), 300)
    if status == 404:
        raise NotFoundError(text, where=where)
    if status == 409:
        raise ConflictError(text, where=where)
    raise ClusterError(f"{text} (HTTP {status})", where=where)
