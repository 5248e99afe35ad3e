"""Impersonation and RBAC authorization, as kube-apiserver v1.36 decides and words them.

The stand-in has no authentication: every client is the cluster admin (`system:masters`),
allowed everything. A request with `Impersonate-User` (and optionally `Impersonate-Group`)
acts as that user instead, and is then authorized by RBAC from the Roles, ClusterRoles,
RoleBindings and ClusterRoleBindings stored, as kube's RBAC authorizer does:

* a service account user `system:serviceaccount:NS:NAME` is in the groups
  `system:serviceaccounts`, `system:serviceaccounts:NS` and `system:authenticated`; any other
  impersonated user, unless groups are given, in `system:authenticated`;
* a RoleBinding grants its Role (or ClusterRole) in its namespace, a ClusterRoleBinding its
  ClusterRole everywhere; subjects match by user, group or service account;
* a rule matches by verb, API group, resource (`*`, `resource/subresource`, `*/subresource`)
  and, when it lists names, resource name (`*` matches anything);
* a denied request is a 403: `configmaps "x" is forbidden: User "U" cannot patch resource
  "configmaps" in API group "" in the namespace "ns"` (`at the cluster scope` without one);
  server-side apply is checked as `patch`.

Simplifications: the bootstrap ClusterRoles (admin, edit, view, system:*) and the
aggregation of ClusterRoles are not there; requests outside resources (discovery, /version)
are allowed to any authenticated user, as `system:discovery` allows them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from syncer_standins.kubeapi.errors import ApiError
from syncer_standins.kubeapi.state import ApiState

__all__ = ["Attributes", "User", "authorize", "rule_allows", "user_of"]

Obj = dict[str, Any]
_RBAC = "rbac.authorization.k8s.io"
_SERVICE_ACCOUNT = "system:serviceaccount:"
_MASTERS = "system:masters"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Attributes:
    """What a resource request asks to do (kube's authorizer.Attributes)."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def user_of(headers: Mapping[str, str]) -> User | None:
    """The impersonated user of a request (headers with lower-case names), if any."""
    name = headers.get("impersonate-user", "")
    if not name:
        return None
    given = tuple(g.strip() for g in headers.get("impersonate-group", "").split(",") if g.strip())
    if given:
        return User(name, given)
    if name.startswith(_SERVICE_ACCOUNT) and name.count(":") == 3:
        namespace = name.split(":")[2]
        return User(name, ("system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                           "system:authenticated"))
    return User(name, ("system:authenticated",))


def _matches(values: Any, wanted: str) -> bool:
    return isinstance(values, list) and ("*" in values or wanted in values)


def _resource_matches(resources: Any, attributes: Attributes) -> bool:
    if not isinstance(resources, list):
        return False
    sub = attributes.subresource
    combined = f"{attributes.resource}/{sub}" if sub else attributes.resource
    return "*" in resources or combined in resources or bool(sub and f"*/{sub}" in resources)


def rule_allows(rule: Obj, attributes: Attributes) -> bool:
    """Whether one PolicyRule allows a resource request."""
    names = rule.get("resourceNames") or []
    return (_matches(rule.get("verbs"), attributes.verb)
            and _matches(rule.get("apiGroups"), attributes.group)
            and _resource_matches(rule.get("resources"), attributes)
            and (not names or attributes.name in names))


def _subject_matches(subject: Obj, user: User, *, namespace: str) -> bool:
    kind, name = subject.get("kind"), str(subject.get("name", ""))
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        where = subject.get("namespace") or namespace
        return user.name == f"{_SERVICE_ACCOUNT}{where}:{name}"
    return False


def _role_rules(state: ApiState, ref: Obj, *, namespace: str) -> list[Obj]:
    if ref.get("kind") == "Role":
        role = state.store.get((_RBAC, "roles"), namespace=namespace, name=str(ref.get("name")))
    else:
        role = state.store.get((_RBAC, "clusterroles"), namespace="", name=str(ref.get("name")))
    return list((role or {}).get("rules") or [])


def _rules(state: ApiState, user: User, *, namespace: str) -> Iterator[Obj]:
    """The rules granted to user in namespace (and cluster-wide)."""
    for binding in state.store.items((_RBAC, "clusterrolebindings")):
        if any(_subject_matches(s, user, namespace="") for s in binding.get("subjects") or []):
            yield from _role_rules(state, binding.get("roleRef") or {}, namespace="")
    for binding in state.store.items((_RBAC, "rolebindings"), namespace) if namespace else []:
        if any(_subject_matches(s, user, namespace=namespace)
               for s in binding.get("subjects") or []):
            yield from _role_rules(state, binding.get("roleRef") or {}, namespace=namespace)


def _forbidden(user: User, attributes: Attributes) -> ApiError:
    resource = attributes.resource
    if attributes.subresource:
        resource += f"/{attributes.subresource}"
    where = (f'in the namespace "{attributes.namespace}"' if attributes.namespace
             else "at the cluster scope")
    why = (f'User "{user.name}" cannot {attributes.verb} resource "{resource}" in API group '
           f'"{attributes.group}" {where}')
    qualified = f"{attributes.resource}.{attributes.group}" if attributes.group else (
        attributes.resource)
    named = f'{qualified} "{attributes.name}"' if attributes.name else qualified
    details: Obj = {"name": attributes.name} if attributes.name else {}
    if attributes.group:
        details["group"] = attributes.group
    details["kind"] = attributes.resource
    return ApiError(403, f"{named} is forbidden: {why}", "Forbidden", details)


def authorize(state: ApiState, user: User | None, attributes: Attributes) -> None:
    """Raise the 403 kube answers when user may not do what attributes say."""
    if user is None or _MASTERS in user.groups:
        return
    with state.store.lock:
        allowed = any(rule_allows(rule, attributes)
                      for rule in _rules(state, user, namespace=attributes.namespace))
    if not allowed:
        raise _forbidden(user, attributes)
