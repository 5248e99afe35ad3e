"""Impersonated users authorized by RBAC rules and bindings."""

from __future__ import annotations

from typing import Any

import pytest
from syncer_standins.kubeapi.errors import ApiError
from syncer_standins.kubeapi.rbac import Attributes, User, authorize, rule_allows, user_of
from syncer_standins.kubeapi.state import ApiState

RBAC = "rbac.authorization.k8s.io"
DEPLOYER = "system:serviceaccount:rec2:deployer"
LIST_CM = Attributes("list", "", "configmaps", namespace="rec2")


@pytest.mark.parametrize(("rule", "attributes", "allowed"), [
    ({"verbs": ["list"], "apiGroups": [""], "resources": ["configmaps"]}, LIST_CM, True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}, LIST_CM, False),
    ({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, LIST_CM, True),
    ({"verbs": ["list"], "apiGroups": ["apps"], "resources": ["configmaps"]}, LIST_CM, False),
    ({"verbs": ["list"], "apiGroups": [""], "resources": ["secrets"]}, LIST_CM, False),
    ({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments/status"]},
     Attributes("get", "apps", "deployments", "status"), True),
    ({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["*/status"]},
     Attributes("get", "apps", "deployments", "status"), True),
    ({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments"]},
     Attributes("get", "apps", "deployments", "status"), False),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]},
     Attributes("get", "", "configmaps", name="a"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]},
     Attributes("get", "", "configmaps", name="b"), False),
    ({"verbs": ["list"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]},
     LIST_CM, False),
])
def test_rule_matching(rule: dict[str, Any], attributes: Attributes, allowed: bool) -> None:
    assert rule_allows(rule, attributes) is allowed


def test_impersonated_users_and_their_groups() -> None:
    assert user_of({}) is None
    assert user_of({"impersonate-user": DEPLOYER}) == User(DEPLOYER, (
        "system:serviceaccounts", "system:serviceaccounts:rec2", "system:authenticated"))
    assert user_of({"impersonate-user": "jane"}) == User("jane", ("system:authenticated",))
    assert user_of({"impersonate-user": "jane", "impersonate-group": "a, b"}) == User(
        "jane", ("a", "b"))


def store(state: ApiState, plural: str, obj: dict[str, Any]) -> None:
    state.store.write((RBAC, plural), obj)


@pytest.fixture
def state() -> ApiState:
    state = ApiState()
    store(state, "roles", {"metadata": {"name": "cm-editor", "namespace": "rec2"}, "rules": [
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"]}]})
    store(state, "rolebindings", {
        "metadata": {"name": "deployer", "namespace": "rec2"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "rec2"}],
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "cm-editor"}})
    store(state, "clusterroles", {"metadata": {"name": "node-reader"}, "rules": [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]})
    store(state, "clusterrolebindings", {
        "metadata": {"name": "readers"}, "subjects": [{"kind": "Group", "name": "readers"}],
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "node-reader"}})
    return state


def forbidden(state: ApiState, user: User, attributes: Attributes) -> str | None:
    try:
        authorize(state, user, attributes)
    except ApiError as err:
        assert (err.code, err.reason) == (403, "Forbidden")
        return err.message
    return None


def test_bindings_grant_their_roles(state: ApiState) -> None:
    deployer = user_of({"impersonate-user": DEPLOYER})
    assert deployer is not None
    assert forbidden(state, deployer, LIST_CM) is None
    assert forbidden(state, deployer, Attributes("list", "", "configmaps", namespace="default")
                     ) == ('configmaps is forbidden: User "system:serviceaccount:rec2:deployer" '
                           'cannot list resource "configmaps" in API group "" in the namespace '
                           '"default"')
    reader = User("jane", ("readers",))
    assert forbidden(state, reader, Attributes("get", "", "nodes", name="n1")) is None
    assert forbidden(state, reader, Attributes("patch", "apps", "deployments", namespace="x",
                                               name="web")) == (
        'deployments.apps "web" is forbidden: User "jane" cannot patch resource "deployments" '
        'in API group "apps" in the namespace "x"')
    assert forbidden(state, reader, Attributes("list", "", "namespaces")) == (
        'namespaces is forbidden: User "jane" cannot list resource "namespaces" in API group ""'
        " at the cluster scope")


def test_the_admin_and_masters_may_do_anything(state: ApiState) -> None:
    assert forbidden(state, User("root", ("system:masters",)), LIST_CM) is None
    authorize(state, None, LIST_CM)
