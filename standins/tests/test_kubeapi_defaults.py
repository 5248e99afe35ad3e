"""Server defaults and request bodies (merge patch, JSON patch)."""

from __future__ import annotations

from typing import Any

import pytest
from syncer_standins.kubeapi.defaults import apply_defaults
from syncer_standins.kubeapi.errors import ApiError
from syncer_standins.kubeapi.patches import apply_json_patch, merge_patch

CONTAINER = {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}


def test_deployment_defaults_match_kube() -> None:
    deployment: dict[str, Any] = {"spec": {"replicas": 1, "template": {"spec": {
        "containers": [dict(CONTAINER)]}}}}
    spec = apply_defaults(deployment, "Deployment")["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    pod = spec["template"]["spec"]
    assert list(pod) == ["containers", "restartPolicy", "terminationGracePeriodSeconds",
                         "dnsPolicy", "securityContext", "schedulerName"]
    assert pod["containers"][0] == {
        "name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "resources": {}, "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("registry:5000/app", "Always"), ("app@sha256:abc", "IfNotPresent"),
])
def test_image_pull_policy(image: str, policy: str) -> None:
    pod = apply_defaults({"spec": {"containers": [{"name": "c", "image": image}]}}, "Pod")
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_service_namespace_and_secret_defaults() -> None:
    service = apply_defaults({"spec": {"ports": [{"port": 80}]}}, "Service")
    assert service["spec"] == {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                               "type": "ClusterIP", "sessionAffinity": "None",
                               "internalTrafficPolicy": "Cluster"}
    namespace = apply_defaults({"metadata": {"name": "rec"}}, "Namespace")
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "rec"}
    secret = apply_defaults({"stringData": {"pw": "hi"}}, "Secret")
    assert secret == {"type": "Opaque", "data": {"pw": "aGk="}}
    assert apply_defaults({"spec": {}}, "Widget", custom=True) == {"spec": {}}


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "l": [3], "n": {"x": None}}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "l": [3], "n": {}}


def test_json_patch() -> None:
    doc = {"metadata": {"labels": {"a": "1"}, "managedFields": [{"manager": "x"}]}}
    ops = [{"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
           {"op": "replace", "path": "/metadata/managedFields", "value": []},
           {"op": "test", "path": "/metadata/labels/a", "value": "1"},
           {"op": "remove", "path": "/metadata/labels/a"}]
    assert apply_json_patch(doc, ops) == {"metadata": {"labels": {"b/c": "2"},
                                                       "managedFields": []}}
    with pytest.raises(ApiError):
        apply_json_patch(doc, [{"op": "test", "path": "/metadata/labels/a", "value": "2"}])
