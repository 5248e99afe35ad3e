"""Sync behaviours against the Kubernetes API stand-in: CRDs first, opt-out annotations,
dry runs, takeovers, show, and a cluster that stops answering.

The stand-in (`syncer_standins.kubeapi`) stands in for kube-apiserver, which cannot run here;
its own tests replay transcripts recorded against a real one.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import kubernetes
import pytest
import yaml
from helpers import commit_and_push, edit, run, widget_crd
from syncer_standins.kubeapi import KubeApiServer

from syncer.cli import main
from syncer.cluster import connect
from syncer.errors import ApiTimeoutError

CRD = widget_crd()
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n"


def test_crd_and_its_custom_resource_in_one_release(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    (pushed / "templates" / "crd.yaml").write_text(CRD)
    (pushed / "templates" / "widget.yaml").write_text(WIDGET)
    commit_and_push(pushed, home, "Widgets")
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    lines = out.splitlines()
    order = [ln.split()[1] for ln in lines if ln.startswith("  create")]
    assert order[:2] == ["Namespace/shop-dev", "CustomResourceDefinition/widgets.example.com"]
    assert "Widget/shop-dev/w1" in order
    custom = kubernetes.client.CustomObjectsApi(core.api_client)
    widget = custom.get_namespaced_custom_object("example.com", "v1", "shop-dev", "widgets", "w1")
    assert widget["spec"] == {"size": 3}
    assert run(capsys, "diff")[:2] == (0, "")


def test_dry_run_changes_nothing(pushed: Path, core: kubernetes.client.CoreV1Api,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sync", "--dry-run")
    assert code == 0 and "create (dry run)" in out and "would be: 4 created" in out
    names = {n.metadata.name for n in core.list_namespace().items}
    assert "shop-dev" not in names


def test_opt_out_annotations(pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
                             capsys: pytest.CaptureFixture[str]) -> None:
    (pushed / "templates" / "seed.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seed\n  annotations:\n"
        "    syncer.io/apply: if-not-present\n    syncer.io/prune: disabled\n"
        "data: {counter: '0'}\n")
    commit_and_push(pushed, home, "Seed data")
    assert run(capsys, "sync")[0] == 0
    core.patch_namespaced_config_map("seed", "shop-dev", {"data": {"counter": "41"}},
                                     field_manager="app")
    (pushed / "values" / "dev.yaml").write_text(
        (pushed / "values" / "dev.yaml").read_text().replace("replicas: 1", "replicas: 2"))
    commit_and_push(pushed, home, "Two replicas")
    code, out, _ = run(capsys, "sync")
    assert code == 0 and "skip      ConfigMap/shop-dev/seed" in out
    assert core.read_namespaced_config_map("seed", "shop-dev").data["counter"] == "41"
    (pushed / "templates" / "seed.yaml").unlink()
    commit_and_push(pushed, home, "No more seed")
    code, out, _ = run(capsys, "sync")
    assert code == 0 and "syncer.io/prune: disabled" in out and "0 pruned" in out
    assert core.read_namespaced_config_map("seed", "shop-dev").data["counter"] == "41"


def test_takeover_of_another_managers_field_is_logged(
        pushed: Path, core: kubernetes.client.CoreV1Api, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    assert run(capsys, "sync")[0] == 0
    core.patch_namespaced_config_map("shop-config", "shop-dev", {"data": {"LOG_LEVEL": "trace"}},
                                     field_manager="kubectl-edit")
    with caplog.at_level(logging.WARNING, logger="syncer"):
        code, out, _ = run(capsys, "sync")
    assert code == 0 and "update    ConfigMap/shop-dev/shop-config" in out
    taken = [r for r in caplog.records if r.getMessage().startswith("took over")]
    context = vars(taken[0]) if taken else {}
    assert context.get("manager") == "kubectl-edit"
    assert "LOG_LEVEL" in str(context.get("fields"))
    live = core.read_namespaced_config_map("shop-config", "shop-dev")
    assert live.data["LOG_LEVEL"] == "info"


def test_show_prints_the_rendered_manifests(pushed: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "1")
    assert code == 0 and out.startswith("# release 1 of shop-dev")
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment", "Namespace", "Service"]


def test_unreachable_cluster_one_line_nothing_pruned(
        pushed: Path, home: Path, api: KubeApiServer, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    api.stop()
    code, _, err = run(capsys, "sync")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("syncer: error: ")


def test_a_hung_api_server_is_asked_twice(tmp_path: Path) -> None:
    """Issue 8, finding 10: urllib3's own retries made a hung server cost 4 timeouts. A read
    timeout is retried once (issue 9), by syncer, not urllib3."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: [accepted.append(listener.accept()[0])
                                              for _ in range(4)], daemon=True)
    thread.start()
    kubeconfig = tmp_path / "hung"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server":
                                                f"http://127.0.0.1:{listener.getsockname()[1]}"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}]}))
    waits: list[float] = []
    cluster = connect(kubeconfig=kubeconfig, timeout=0.5, sleep=waits.append)
    with pytest.raises(ApiTimeoutError, match=r"GET failed: no answer within 0.5s \(2 "):
        cluster.discover()
    time.sleep(0.5)  # a third attempt would have connected again by now
    assert len(accepted) == 2 and len(waits) == 1
    listener.close()


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("syncer ")


def test_failed_apply_keeps_what_it_applied_prunable(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    (pushed / "templates" / "crd.yaml").write_text(CRD)
    (pushed / "templates" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {a: '1'}\n")
    (pushed / "templates" / "widget.yaml").write_text(WIDGET.replace("size: 3", "colour: red"))
    commit_and_push(pushed, home, "A widget the schema does not allow")
    code, _, err = run(capsys, "sync")
    assert code == 2 and err.startswith("syncer: error: Widget/shop-dev/w1: ")
    assert len(err.strip().splitlines()) == 1
    # the CRD had to be written before its Widget could be dry-run; the dry run refused,
    # so nothing after the CRD was written
    assert "(the sync stopped there: 1 of 3 changes written;" in err
    extensions = kubernetes.client.ApiextensionsV1Api(core.api_client)
    assert extensions.read_custom_resource_definition("widgets.example.com")
    names = {c.metadata.name for c in core.list_namespaced_config_map("shop-dev").items}
    assert "extra" not in names
    for name in ("crd.yaml", "extra.yaml", "widget.yaml"):
        (pushed / "templates" / name).unlink()
    edit(pushed / "syncer.yaml", "    namespace: shop-dev\n",
         "    namespace: shop-dev\n    prune_crds: true\n")
    commit_and_push(pushed, home, "Back to release 1, and let the channel prune its CRD")
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "prune     CustomResourceDefinition/widgets.example.com" in out
    names = {c.metadata.name for c in core.list_namespaced_config_map("shop-dev").items}
    assert "extra" not in names


def test_an_object_in_a_namespace_nobody_creates_stops_the_sync_before_any_write(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 8, finding 5: a 404 from the dry run means 'its namespace comes with this
    release' only when the release does create that namespace."""
    assert run(capsys, "sync")[0] == 0
    before = core.read_namespaced_config_map("shop-config", "shop-dev")
    (pushed / "values" / "dev.yaml").write_text(
        (pushed / "values" / "dev.yaml").read_text().replace("logLevel: info",
                                                             "logLevel: debug"))
    edit(pushed / "syncer.yaml", "    namespace: shop-dev\n",
         "    namespace: shop-dev\n    namespaces: [zz-nowhere]\n")
    (pushed / "templates" / "stray.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray, namespace: zz-nowhere}\n")
    commit_and_push(pushed, home, "A ConfigMap in a namespace that does not exist")
    code, _, err = run(capsys, "sync")
    assert code == 2 and "ConfigMap/zz-nowhere/stray" in err, err
    after = core.read_namespaced_config_map("shop-config", "shop-dev")
    assert after.data == before.data
    assert after.metadata.resource_version == before.metadata.resource_version
