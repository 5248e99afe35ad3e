"""ValidatingAdmissionPolicy: CEL expressions, bindings, Deny and Warn."""

from __future__ import annotations

from typing import Any

import pytest
from syncer_standins.kubeapi import notices
from syncer_standins.kubeapi.admission import Review, admit, compiled, evaluate
from syncer_standins.kubeapi.catalog import BUILTIN_TYPES
from syncer_standins.kubeapi.errors import ApiError
from syncer_standins.kubeapi.state import ApiState

GROUP = "admissionregistration.k8s.io"
DEPLOYMENTS = next(t for t in BUILTIN_TYPES if t.plural == "deployments")
MAX_REPLICAS = "object.spec.replicas <= 5"
NO_LATEST = "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))"
NAMED = "'deployment ' + object.metadata.name + ' uses an image tagged latest'"


def deployment(replicas: int, image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "vap", "namespace": "rec2"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": image}]}}}}


@pytest.mark.parametrize(("expression", "replicas", "image", "value"), [
    (MAX_REPLICAS, 5, "nginx:1.25", True),
    (MAX_REPLICAS, 7, "nginx:1.25", False),
    (NO_LATEST, 2, "nginx:1.25", True),
    (NO_LATEST, 2, "nginx:latest", False),
    (NAMED, 2, "nginx:latest", "deployment vap uses an image tagged latest"),
])
def test_cel_expressions_of_the_policies(expression: str, replicas: int, image: str,
                                         value: Any) -> None:
    assert evaluate(expression, {"object": deployment(replicas, image)}) == value


def test_expressions_are_compiled_once() -> None:
    assert compiled(MAX_REPLICAS) is compiled(MAX_REPLICAS)


def policy(name: str, validation: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"failurePolicy": "Fail", "matchConstraints": {
        "resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": [
            "deployments"], "operations": ["CREATE", "UPDATE"], "scope": "*"}]},
        "validations": [validation]}}


def binding(name: str, action: str) -> dict[str, Any]:
    return {"metadata": {"name": f"{name}-binding"}, "spec": {
        "policyName": name, "validationActions": [action], "matchResources": {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "rec2"}}}}}


@pytest.fixture
def state() -> ApiState:
    state = ApiState()
    state.store.write(("", "namespaces"), {"metadata": {
        "name": "rec2", "labels": {"kubernetes.io/metadata.name": "rec2"}}})
    for name, validation, action in (
            ("max", {"expression": MAX_REPLICAS, "message": "replicas must be at most 5"},
             "Deny"),
            ("latest", {"expression": NO_LATEST, "messageExpression": NAMED}, "Warn")):
        state.store.write((GROUP, "validatingadmissionpolicies"), policy(name, validation))
        state.store.write((GROUP, "validatingadmissionpolicybindings"), binding(name, action))
    return state


def review(replicas: int, image: str, *, namespace: str = "rec2") -> Review:
    obj = deployment(replicas, image)
    obj["metadata"]["namespace"] = namespace
    return Review(DEPLOYMENTS, "CREATE", namespace, "vap", obj, None)


def test_deny_is_kubes_422(state: ApiState) -> None:
    with pytest.raises(ApiError) as caught:
        admit(state, review(7, "nginx:1.25"))
    text = ("ValidatingAdmissionPolicy 'max' with binding 'max-binding' denied request: "
            "replicas must be at most 5")
    assert caught.value.body() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'deployments.apps "vap" is forbidden: {text}', "reason": "Invalid",
        "details": {"name": "vap", "group": "apps", "kind": "deployments",
                    "causes": [{"message": text}]}, "code": 422}


def test_warn_adds_a_warning(state: ApiState) -> None:
    with notices.collecting() as warnings:
        admit(state, review(2, "nginx:latest"))
        admit(state, review(2, "nginx:1.25"))
    assert warnings == ["Validation failed for ValidatingAdmissionPolicy 'latest' with binding "
                        "'latest-binding': deployment vap uses an image tagged latest"]


def test_bindings_select_namespaces(state: ApiState) -> None:
    state.store.write(("", "namespaces"), {"metadata": {"name": "other"}})
    admit(state, review(7, "nginx:latest", namespace="other"))
