"""Quantities the API server rewrites are not drift: a second sync plans nothing.

kube-apiserver stores every `resource.Quantity` of a built-in kind as a number and answers
with its canonical text (`0.5` → `500m`, `1024Mi` → `1Gi`). The Kubernetes stand-in
(`syncer_standins.kubeapi`, since no kube-apiserver runs here) decodes built-in objects with
the Go types of k8s.io/api and canonicalises quantities the same way; the opt-in real-cluster
tier runs the same manifests (`tests/cluster/test_cluster_quantities.py`).
"""

from __future__ import annotations

from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, run

QUANTITIES = Path(__file__).parents[1] / "testdata" / "quantities.yaml"


def test_a_second_sync_of_rewritten_quantities_plans_nothing(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    (pushed / "templates" / "quantities.yaml").write_text(QUANTITIES.read_text())
    commit_and_push(pushed, home, "Quantities in every field that has them")
    code, out, err = run(capsys, "sync")
    assert code == 0, err

    # the server did rewrite them: the test is not comparing a text with itself
    limits = core.read_namespaced_limit_range("q-limits", "shop-dev").spec.limits[0]
    assert (limits.default, limits.default_request["memory"]) == (
        {"cpu": "500m", "memory": "1Gi"}, "512Mi")
    quota = core.read_namespaced_resource_quota("q-quota", "shop-dev").spec.hard
    assert quota == {"pods": "1e3", "requests.memory": "10Gi", "requests.storage": "2G",
                     "limits.cpu": "1k"}
    apps = kubernetes.client.AppsV1Api(core.api_client)
    pod = apps.read_namespaced_deployment("q-web", "shop-dev").spec.template.spec
    assert pod.volumes[0].empty_dir.size_limit == "1Gi"
    assert pod.containers[0].resources.requests == {"cpu": "100m", "memory": "512Mi"}

    code, out, err = run(capsys, "diff")
    assert (code, out) == (0, ""), out
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "0 created, 0 updated, 0 pruned" in out, out
