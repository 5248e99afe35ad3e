"""Retries and typed errors against the Kubernetes API stand-in (issue 9): a transient
failure mid-sync (429 with Retry-After, 500, 502, 503, 504, a dropped connection, a late
answer) is asked again and the sync converges; a permanent one (403, 422) is asked once and
fails in one line naming the object and the server's words; a create or a conditional
replace is never repeated once the server may have acted on it.

The faults are the stand-in's (`Fault`): what a real server does when overloaded or
restarting. Waits go to an injected `sleep`, so no test waits for a backoff.
"""

from __future__ import annotations

import logging
from pathlib import Path

import kubernetes
import pytest
from helpers import one_line, run
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.blobstore.local import LocalBlobStore
from syncer.cluster import KubeCluster, RetryPolicy, connect
from syncer.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    ConflictError,
    InvalidError,
    ServerError,
)
from syncer.ledger.local import LocalLedger
from syncer.reconcile import Reconciler, SyncResult, load

WRITE = "/namespaces/shop-dev/configmaps/shop-config$"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def cluster(tmp_path: Path, waits: list[float], *, timeout: float = 30.0) -> KubeCluster:
    """A cluster whose waits are recorded, not slept, with the jitter at its middle."""
    api = connect(kubeconfig=tmp_path / "kubeconfig").api
    return KubeCluster(api, timeout=timeout, sleep=waits.append, rand=lambda: 0.5)


def sync_head(home: Path, target: KubeCluster) -> SyncResult:
    head = LocalLedger(home / "ledger.sqlite").head("shop-dev")
    assert head is not None
    reconciler = Reconciler(target)
    return reconciler.sync(reconciler.observe(load(head, blobs=LocalBlobStore(home / "blobs"))))


@pytest.mark.parametrize(("fault", "waits"), [
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=429, reason="TooManyRequests",
           retry_after=7, times=2), [7.0, 7.0]),  # the server's Retry-After, not the backoff
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=429, reason="TooManyRequests",
           retry_after=3600, times=1), [30.0]),  # capped
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=500, times=3), [0.15, 0.3, 0.6]),
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=502, reason="", times=1), [0.15]),
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=503, reason="ServiceUnavailable",
           times=4), [0.15, 0.3, 0.6, 1.2]),  # the fifth attempt goes through
    (Fault(method="PATCH", path=WRITE, dry_run=False, status=504, reason="Timeout", times=1),
     [0.15]),
    (Fault(method="PATCH", path=WRITE, dry_run=False, cut=True, times=2), [0.15, 0.3]),
    (Fault(method="PATCH", path=WRITE, dry_run=True, status=500, times=1), [0.15]),
], ids=["429", "429-capped", "500", "502", "503", "504", "cut", "500-dry-run"])
def test_a_transient_failure_mid_apply_is_retried_and_the_sync_converges(
        pushed_twice: Path, home: Path, api: KubeApiServer, tmp_path: Path,
        core: kubernetes.client.CoreV1Api, fault: Fault, waits: list[float],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync", "--seq", "1")[0] == 0
    api.faults.add(fault)
    slept: list[float] = []
    result = sync_head(home, cluster(tmp_path, slept))
    assert [str(c.ref) for c in result.applied] == ["ConfigMap/shop-dev/shop-config"]
    assert fault.seen == fault.times + 1  # each failure asked again, then once more
    assert slept == pytest.approx(waits)
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "debug"
    assert run(capsys, "diff")[0] == 0


@pytest.mark.parametrize("fault", [
    Fault(method="PATCH", path=WRITE, dry_run=False, status=429, reason="TooManyRequests",
          retry_after=1, times=1),
    Fault(method="PATCH", path=WRITE, dry_run=False, status=503, times=2),
    Fault(method="PATCH", path=WRITE, dry_run=False, cut=True, times=1),
], ids=["429", "503", "cut"])
def test_the_command_line_retries_too(pushed_twice: Path, api: KubeApiServer,
                                      core: kubernetes.client.CoreV1Api, fault: Fault,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync", "--seq", "1")[0] == 0
    api.faults.add(fault)
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "update    ConfigMap/shop-dev/shop-config" in out
    assert fault.seen == fault.times + 1
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "debug"
    assert run(capsys, "diff")[0] == 0


@pytest.mark.parametrize(("fault", "words"), [
    (Fault(method="PATCH", path=WRITE, status=422, reason="Invalid", times=9,
           message='ConfigMap "shop-config" is invalid: data[LOG_LEVEL]: Invalid value'),
     'ConfigMap "shop-config" is invalid: data[LOG_LEVEL]: Invalid value (HTTP 422)'),
    (Fault(method="PATCH", path=WRITE, status=403, reason="Forbidden", times=9,
           message='configmaps "shop-config" is forbidden: User "ci" cannot patch resource'),
     'configmaps "shop-config" is forbidden: User "ci" cannot patch resource (HTTP 403)'),
    (Fault(method="PATCH", path=WRITE, status=409, reason="Conflict", times=9,
           message="Operation cannot be fulfilled"), "Operation cannot be fulfilled (HTTP 409)"),
    (Fault(method="PATCH", path=WRITE, status=400, reason="BadRequest", times=9,
           message="bad request"), "bad request (HTTP 400)"),
], ids=["422", "403", "409", "400"])
def test_a_permanent_refusal_is_asked_once_and_named_in_one_line(
        pushed_twice: Path, api: KubeApiServer, core: kubernetes.client.CoreV1Api,
        fault: Fault, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync", "--seq", "1")[0] == 0
    api.faults.add(fault)
    code, _, err = run(capsys, "sync")
    assert code == 2
    assert one_line(err) == f"syncer: error: ConfigMap/shop-dev/shop-config: {words}"
    assert fault.seen == 1  # the dry run, refused: never asked again
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "info"


def deployment(labels: dict[str, str]) -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "broken", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "one"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "pause"}]}}}}


def test_the_servers_own_refusal_carries_its_field_causes(api: KubeApiServer,
                                                           tmp_path: Path) -> None:
    waits: list[float] = []
    target = cluster(tmp_path, waits)
    counted = api.faults.add(Fault(method="PATCH", path="/deployments/broken$", skip=10**6))
    resource = target.discover().require("apps", "Deployment")
    with pytest.raises(InvalidError) as caught:
        target.apply(deployment({"app": "two"}), resource, dry_run=True)
    error = caught.value
    assert (error.status, error.reason, error.attempts) == (422, "Invalid", 1)
    assert error.causes == (("spec.template.metadata.labels",
                             'Invalid value: {"app":"two"}: `selector` does not match template '
                             "`labels`"),)
    assert str(error) == ('Deployment/default/broken: Deployment.apps "broken" is invalid: '
                          'spec.template.metadata.labels: Invalid value: {"app":"two"}: '
                          "`selector` does not match template `labels` (HTTP 422)")
    assert counted.seen == 1 and waits == []


def test_a_create_is_not_repeated_once_the_server_may_have_acted(api: KubeApiServer,
                                                                  tmp_path: Path) -> None:
    waits: list[float] = []
    target = cluster(tmp_path, waits)
    configmaps = target.discover().require("", "ConfigMap")
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x",
                                                                 "namespace": "default"}}
    for fault, kind in [(Fault(method="POST", path=CONFIGMAPS, cut=True), ApiConnectionError),
                        (Fault(method="POST", path=CONFIGMAPS, status=500), ServerError),
                        (Fault(method="POST", path=CONFIGMAPS, status=504), ApiTimeoutError)]:
        api.faults.add(fault)
        with pytest.raises(kind, match="ConfigMap/default/x: "):
            target.create(obj, configmaps)
        assert fault.seen == 1
        api.faults.clear()
    unavailable = api.faults.add(Fault(method="POST", path=CONFIGMAPS, status=503))
    assert target.create(obj, configmaps)["metadata"]["name"] == "x"  # 503: it did not act
    assert unavailable.seen == 2 and len(waits) == 1


def test_a_conditional_replace_is_not_repeated_after_a_500(api: KubeApiServer,
                                                            tmp_path: Path) -> None:
    target = cluster(tmp_path, [])
    configmaps = target.discover().require("", "ConfigMap")
    made = target.create({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "x", "namespace": "default"}}, configmaps)
    fault = api.faults.add(Fault(method="PUT", path=f"{CONFIGMAPS}/x$", status=500, times=9))
    with pytest.raises(ServerError, match=r"injected fault \(HTTP 500\)$"):
        target.replace({**made, "data": {"a": "1"}}, configmaps)
    assert fault.seen == 1
    api.faults.clear()
    target.replace({**made, "data": {"a": "1"}}, configmaps)
    with pytest.raises(ConflictError):  # what a repeat after its own success would meet
        target.replace({**made, "data": {"a": "2"}}, configmaps)


def test_a_late_answer_is_asked_again_once(api: KubeApiServer, tmp_path: Path) -> None:
    waits: list[float] = []
    target = cluster(tmp_path, waits, timeout=0.5)
    late = api.faults.add(Fault(method="GET", path="^/api/v1$", delay=1.0))
    assert target.discover().find("", "ConfigMap") is not None
    assert late.seen == 2 and len(waits) == 1


def test_the_attempts_are_bounded_and_configurable(api: KubeApiServer, tmp_path: Path) -> None:
    waits: list[float] = []
    api_client = connect(kubeconfig=tmp_path / "kubeconfig").api
    target = KubeCluster(api_client, retry=RetryPolicy(attempts=3, base=1.0, cap=1.5),
                         sleep=waits.append, rand=lambda: 1.0)
    fault = api.faults.add(Fault(method="GET", path="^/api/v1$", status=503, times=9))
    with pytest.raises(ServerError) as caught:
        target.discover()  # the core group must answer
    assert str(caught.value) == "discovery /api/v1: injected fault (HTTP 503, 3 attempts)"
    assert fault.seen == 3 and waits == [1.0, 1.5]


def test_a_server_gone_is_asked_five_times(api: KubeApiServer, tmp_path: Path) -> None:
    waits: list[float] = []
    target = cluster(tmp_path, waits)
    api.stop()
    with pytest.raises(ApiConnectionError, match=r"GET failed: no connection: .*\(5 attempts\)$"
                       ) as caught:
        target.discover()
    assert caught.value.sent is False and len(waits) == 4


def test_every_request_is_logged_with_its_attempt(api: KubeApiServer, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    target = cluster(tmp_path, [])
    api.faults.add(Fault(method="GET", path="^/apis$", status=500, times=2))
    with caplog.at_level(logging.DEBUG, logger="syncer.cluster"):
        target.discover()
    requests = [r for r in caplog.records if r.getMessage() == "api request"]
    apis = [(r.__dict__["method"], r.__dict__["status"], r.__dict__["attempt"])
            for r in requests if r.__dict__["path"] == "/apis"]
    assert apis == [("GET", 500, 1), ("GET", 500, 2), ("GET", 200, 3)]
    assert all(isinstance(r.__dict__["duration_ms"], float) for r in requests)
    assert [r.__dict__["path"] for r in requests].count("/api/v1") == 1
