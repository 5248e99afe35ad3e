"""A broken aggregated API in discovery (issue 9): an APIService whose service is missing
answers 503 to everything under its group version, as kube-apiserver's aggregator does for
a metrics-server that is down. A sync of every other kind carries on and says which group
it skipped; nothing of that group is pruned or forgotten, and a Namespace that may hold
some of it is kept; a release that needs the group is refused before anything is written.
The `/apis` list and the core group must still answer.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, edit, run, widget_crd
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.cluster import KubeCluster, connect
from syncer.errors import ServerError

METRICS = "metrics.k8s.io/v1beta1"
SKIPPED = "warning: API group skipped: its discovery failed group_version="
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n"
SCRATCH = ("apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n---\n"
           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes, namespace: scratch}\n")


def break_group(client: kubernetes.client.ApiClient, group_version: str) -> str:
    """An APIService for `group_version` pointing at a Service that is not there."""
    group, version = group_version.split("/")
    registration = kubernetes.client.ApiregistrationV1Api(client)
    registration.create_api_service({
        "metadata": {"name": f"{version}.{group}"},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": 100,
                 "versionPriority": 100,
                 "service": {"namespace": "kube-system", "name": "metrics-server"}}})
    return f"{version}.{group}"


def inventory(core: kubernetes.client.CoreV1Api) -> list[list[str]]:
    found = core.read_namespaced_config_map("syncer-inventory-shop-dev", "syncer-system")
    return [list(e) for e in json.loads(found.data["entries"])]


def writes(api: KubeApiServer) -> list[Fault]:
    """Counters of every write request (faults that let everything through)."""
    return [api.faults.add(Fault(method=m, skip=10**9)) for m in
            ("POST", "PUT", "PATCH", "DELETE")]


def test_a_broken_aggregated_api_does_not_stop_a_sync_of_other_kinds(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    break_group(core.api_client, METRICS)
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert f"{SKIPPED}{METRICS} error=service unavailable (HTTP 503, 2 attempts)" in err
    assert "create    ConfigMap/shop-dev/shop-config" in out
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "info"
    code, _, err = run(capsys, "diff")
    assert code == 0 and f"{SKIPPED}{METRICS}" in err


def test_nothing_is_pruned_from_a_group_that_could_not_be_read(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    edit(pushed / "syncer.yaml", "    namespace: shop-dev\n",
         "    namespace: shop-dev\n    prune_namespaces: true\n    namespaces: [scratch]\n")
    (pushed / "templates" / "crd.yaml").write_text(widget_crd())
    (pushed / "templates" / "widget.yaml").write_text(WIDGET)
    (pushed / "templates" / "scratch.yaml").write_text(SCRATCH)
    commit_and_push(pushed, home, "Widgets and a scratch namespace")
    assert run(capsys, "sync")[0] == 0
    broken = break_group(core.api_client, "example.com/v1")
    (pushed / "templates" / "widget.yaml").unlink()
    (pushed / "templates" / "scratch.yaml").unlink()
    commit_and_push(pushed, home, "No widget, no scratch namespace")

    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert f"{SKIPPED}example.com/v1 " in err
    assert "skip      Widget/shop-dev/w1  (its API group example.com could not be read: " \
           "not pruned)" in out
    assert "skip      Namespace/scratch  (holds objects this channel does not manage: what " \
           "API group example.com/v1 holds (its discovery failed))" in out
    assert "prune     ConfigMap/scratch/notes" in out  # a readable kind: pruned as usual
    assert core.read_namespace("scratch").metadata.name == "scratch"
    entries = inventory(core)
    assert ["example.com/v1", "Widget", "shop-dev", "w1"] in entries  # kept, not forgotten
    assert ["v1", "Namespace", "", "scratch"] in entries

    kubernetes.client.ApiregistrationV1Api(core.api_client).delete_api_service(broken)
    code, out, err = run(capsys, "sync")
    assert code == 0 and SKIPPED not in err
    assert "prune     Widget/shop-dev/w1" in out and "prune     Namespace/scratch" in out
    widgets = kubernetes.client.CustomObjectsApi(core.api_client).list_namespaced_custom_object(
        "example.com", "v1", "shop-dev", "widgets")
    assert widgets["items"] == []
    assert ["example.com/v1", "Widget", "shop-dev", "w1"] not in inventory(core)


def test_a_release_that_needs_the_broken_group_is_refused_before_any_write(
        pushed: Path, home: Path, api: KubeApiServer, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    break_group(core.api_client, METRICS)
    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    (pushed / "templates" / "metrics.yaml").write_text(
        f"apiVersion: {METRICS}\nkind: PodMetrics\nmetadata: {{name: web}}\n")
    commit_and_push(pushed, home, "Debug logs, and an object of the metrics API")
    counters = writes(api)
    for command in ("sync", "diff"):
        code, _, err = run(capsys, command)
        lines = err.strip().splitlines()
        assert code == 2 and lines[0].startswith(f"{SKIPPED}{METRICS} "), err
        assert lines[1:] == [
            f"syncer: error: PodMetrics/web: the API group {METRICS} is unavailable: service "
            "unavailable (HTTP 503, 2 attempts); nothing of it is applied or pruned until it "
            "answers"]
    assert [c.seen for c in counters] == [0, 0, 0, 0]
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "info"


def cluster(tmp_path: Path, *, timeout: float = 30.0) -> KubeCluster:
    return KubeCluster(connect(kubeconfig=tmp_path / "kubeconfig").api, timeout=timeout,
                       sleep=lambda _: None)


def test_discovery_records_each_failed_group_version_and_warns_once(
        api: KubeApiServer, tmp_path: Path, core: kubernetes.client.CoreV1Api,
        caplog: pytest.LogCaptureFixture) -> None:
    break_group(core.api_client, METRICS)
    api.faults.add(Fault(method="GET", path="^/apis/batch/v1$", status=500, times=9))
    api.faults.add(Fault(method="GET", path="^/apis/policy/v1$", delay=1.0, times=2))
    with caplog.at_level(logging.WARNING, logger="syncer.cluster"):
        found = cluster(tmp_path, timeout=0.5).discover()
    assert dict(found.unavailable) == {
        "batch/v1": "injected fault (HTTP 500, 2 attempts)",
        "policy/v1": "GET failed: no answer within 0.5s (2 attempts)",
        METRICS: "service unavailable (HTTP 503, 2 attempts)"}
    assert sorted(r.__dict__["group_version"] for r in caplog.records
                  if r.name == "syncer.cluster") == [
        "batch/v1", METRICS, "policy/v1"]
    assert found.find("batch", "Job") is None and found.find("apps", "Deployment")


@pytest.mark.parametrize("path", ["^/apis$", "^/api/v1$"])
def test_the_group_list_and_the_core_group_must_answer(api: KubeApiServer, tmp_path: Path,
                                                       path: str) -> None:
    fault = api.faults.add(Fault(method="GET", path=path, status=503, times=9))
    with pytest.raises(ServerError, match=r"service unavailable|injected fault"):
        cluster(tmp_path).discover()
    assert fault.seen == 5
