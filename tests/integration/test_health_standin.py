"""syncer.health on what the Kubernetes API stand-in returns: workloads whose status its
controllers write (every replica ready, or, with `deployments_ready=False`, what kube reports
on a cluster without nodes), and a Job whose status the test writes through the status
subresource as kube-controller-manager, as kwok does on a cluster without nodes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from syncer_standins.kubeapi import KubeApiServer

from syncer import health
from syncer.cluster import KubeCluster, Resource, connect
from syncer.health import Health, Status
from syncer.model import Obj

POLLS = 10  # the stand-in's clock counts requests: a Deployment's status follows in two


def template(name: str, image: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": image}]}}


def workload(kind: str, name: str, *, image: str = "nginx:1.27") -> Obj:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": name}},
                            "template": template(name, image)}
    if kind != "DaemonSet":
        spec["replicas"] = 2
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


JOB: Obj = {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "default"},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "migrate", "image": "busybox:1.37"}]}}}}


@dataclass(frozen=True)
class Served:
    cluster: KubeCluster
    nodes_ready: bool  # the stand-in's deployments_ready


@pytest.fixture(params=[True, False], ids=["ready", "no-nodes"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with KubeApiServer(deployments_ready=request.param) as server:
        config = server.write_kubeconfig(tmp_path / "kubeconfig")
        yield Served(connect(kubeconfig=config), request.param)


def settle(cluster: KubeCluster, resource: Resource, name: str) -> tuple[list[Health], Obj]:
    """The health of each poll until the controller has written a status for the object's
    generation, and the object then."""
    seen = []
    for _ in range(POLLS):
        live = cluster.get(resource, namespace="default", name=name)
        assert live is not None
        seen.append(health.of(live))
        observed = (live.get("status") or {}).get("observedGeneration")
        if observed == live["metadata"]["generation"]:
            return seen, live
    raise AssertionError(f"no status after {POLLS} polls: {seen}")


def apply(cluster: KubeCluster, obj: Obj) -> tuple[Resource, Health]:
    resource = cluster.discover().require(obj["apiVersion"].rpartition("/")[0], obj["kind"])
    return resource, health.of(cluster.apply(obj, resource))


@pytest.mark.parametrize(("kind", "when_ready", "without_nodes"), [
    ("Deployment", Health(Status.HEALTHY, "2 of 2 replicas available"),
     Health(Status.PROGRESSING, "0 of 2 updated replicas available")),
    ("StatefulSet", Health(Status.HEALTHY, "2 of 2 replicas ready at revision web-"),
     Health(Status.PROGRESSING, "0 of 2 replicas ready")),
    ("DaemonSet", Health(Status.HEALTHY, "0 of 0 pods available"),
     Health(Status.HEALTHY, "0 of 0 pods available")),
])
def test_a_new_workload_is_progressing_until_its_controller_says_otherwise(
        served: Served, kind: str, when_ready: Health, without_nodes: Health) -> None:
    want = when_ready if served.nodes_ready else without_nodes
    resource, first = apply(served.cluster, workload(kind, "web"))
    seen, _ = settle(served.cluster, resource, "web")
    assert first == Health(Status.PROGRESSING,
                           "waiting for the controller to observe generation 1")
    assert all(h.status is Status.PROGRESSING for h in seen[:-1]), seen
    assert (seen[-1].status, want.reason in seen[-1].reason) == (want.status, True), seen


def test_a_changed_deployment_waits_for_its_new_generation(served: Served) -> None:
    resource, _ = apply(served.cluster, workload("Deployment", "web"))
    settle(served.cluster, resource, "web")
    _, first = apply(served.cluster, workload("Deployment", "web", image="nginx:1.28"))
    seen, live = settle(served.cluster, resource, "web")
    assert live["metadata"]["generation"] == 2
    assert first == Health(Status.PROGRESSING, "waiting for the controller to observe "
                                               "generation 2 (observed: 1)")
    assert seen[0].status is Status.PROGRESSING, seen
    assert health.of(live).status is (
        Status.HEALTHY if served.nodes_ready else Status.PROGRESSING), seen


def write_job_status(cluster: KubeCluster, resource: Resource, status: Obj) -> Health:
    body = {**copy.deepcopy(JOB), "status": status}
    del body["spec"]
    return health.of(cluster.apply(body, resource, subresource="status",
                                   manager="kube-controller-manager"))


def test_a_job_runs_then_fails_as_kube_controller_manager_writes_it(served: Served) -> None:
    cluster = served.cluster
    resource, created = apply(cluster, JOB)
    running = write_job_status(cluster, resource, {"startTime": "2026-12-01T10:00:00Z",
                                                   "active": 1, "ready": 1})
    condition = {"status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit",
                 "lastProbeTime": "2026-12-01T10:01:00Z",
                 "lastTransitionTime": "2026-12-01T10:01:00Z"}
    failed = write_job_status(cluster, resource, {
        "startTime": "2026-12-01T10:00:00Z", "failed": 1, "ready": 0,
        "conditions": [{"type": "FailureTarget", **condition}, {"type": "Failed", **condition}]})
    live = cluster.get(resource, namespace="default", name="migrate")
    assert live is not None
    assert [created, running, failed, health.of(live)] == [
        Health(Status.PROGRESSING, "Job not started yet"),
        Health(Status.PROGRESSING, "Job running: 1 active, 0 succeeded, 0 failed"),
        Health(Status.DEGRADED, "Job failed: BackoffLimitExceeded: Job has reached the "
                                "specified backoff limit"),
        Health(Status.DEGRADED, "Job failed: BackoffLimitExceeded: Job has reached the "
                                "specified backoff limit")]
