"""URL paths of the Kubernetes API, parsed into what they address.

    /version  /healthz  /livez  /readyz
    /api  /apis  /apis/{group}  /api/v1  /apis/{group}/{version}
    {prefix}/{plural}[/{name}[/{subresource}]]                     cluster-scoped, or all namespaces
    {prefix}/namespaces/{namespace}/{plural}[/{name}[/{subresource}]]
    /api/v1/namespaces/{name}/{status|finalize}                    a Namespace's subresources
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from syncer_standins.kubeapi.errors import PageNotFound

__all__ = ["Route", "parse_path"]

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(frozen=True)
class Route:
    """kind: one of version, health, api, apis, group, group-version, resource."""

    kind: str
    group: str = ""
    version: str = ""
    namespace: str = ""
    plural: str = ""
    name: str = ""
    subresource: str = ""
    namespaced_path: bool = False


def _resource(group: str, version: str, *, rest: list[str]) -> Route:
    if not rest:
        return Route("group-version", group, version)
    namespaced = (
        rest[0] == "namespaces" and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES and not group)
    )
    namespace = rest[1] if namespaced else ""
    parts = rest[2:] if namespaced else rest
    if len(parts) > 3 or not all(parts):
        raise PageNotFound("/".join(rest))
    plural, name, subresource = (*parts, "", "")[:3]
    return Route("resource", group, version, namespace, plural, name, subresource, namespaced)


def parse_path(path: str) -> Route:
    parts = [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []
    head = parts[0] if parts else ""
    if len(parts) == 1 and head in ("version", "healthz", "livez", "readyz", "api", "apis"):
        kind = {"version": "version", "api": "api", "apis": "apis"}.get(head, "health")
        return Route(kind)
    if head == "api" and len(parts) >= 2 and parts[1] == "v1":
        return _resource("", "v1", rest=parts[2:])
    if head == "apis" and len(parts) == 2:
        return Route("group", parts[1])
    if head == "apis" and len(parts) >= 3:
        return _resource(parts[1], parts[2], rest=parts[3:])
    raise PageNotFound(path)
