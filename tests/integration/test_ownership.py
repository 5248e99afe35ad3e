"""Never delete or take over what the channel does not own (issue 8, findings 1 and 2).

Against the Kubernetes API stand-in, whose namespace controller deletes a Namespace's
content with it, as kube-apiserver's does.
"""

from __future__ import annotations

from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, edit, run

SECRET = {"metadata": {"name": "their-secret"}, "stringData": {"token": "t0p"}}


def names(core: kubernetes.client.CoreV1Api, namespace: str) -> set[str]:
    found = core.list_namespaced_config_map(namespace).items
    found += core.list_namespaced_secret(namespace).items
    return {o.metadata.name for o in found}


def test_dropping_the_namespace_from_the_release_deletes_nothing(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        apps: kubernetes.client.AppsV1Api, capsys: pytest.CaptureFixture[str]) -> None:
    """Finding 1: the Namespace was pruned, and everything in it went along."""
    assert run(capsys, "sync")[0] == 0
    core.create_namespaced_secret("shop-dev", SECRET)
    (pushed / "templates" / "namespace.yaml.j2").unlink()
    commit_and_push(pushed, home, "The namespace is someone else's now")
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "skip      Namespace/shop-dev  (a Namespace is pruned (with everything in it) " \
           "only when the channel sets prune_namespaces: true)" in out
    assert "their-secret" in names(core, "shop-dev")
    assert apps.read_namespaced_deployment("web", "shop-dev").metadata.name == "web"
    assert run(capsys, "sync")[0] == 0  # and later syncs still work
    edit(pushed / "syncer.yaml", "    namespace: shop-dev\n",
         "    namespace: shop-dev\n    prune_namespaces: true\n")
    commit_and_push(pushed, home, "Opt in: the release still has objects in it")
    code, out, _ = run(capsys, "sync")
    assert code == 0 and "(the release still has objects in it)" in out


def test_an_opted_in_namespace_prune_waits_for_what_others_keep_there(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    edit(pushed / "syncer.yaml", "    namespace: shop-dev\n",
         "    namespace: shop-dev\n    prune_namespaces: true\n    namespaces: [scratch]\n")
    (pushed / "templates" / "scratch.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes, namespace: scratch}\n")
    commit_and_push(pushed, home, "A scratch namespace")
    assert run(capsys, "sync")[0] == 0
    core.create_namespaced_secret("scratch", SECRET)
    (pushed / "templates" / "scratch.yaml").unlink()
    commit_and_push(pushed, home, "No more scratch")
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "prune     ConfigMap/scratch/notes" in out
    assert "skip      Namespace/scratch  (holds objects this channel does not manage: " \
           "Secret/scratch/their-secret)" in out
    assert names(core, "scratch") >= {"their-secret"}
    core.delete_namespaced_secret("their-secret", "scratch")
    code, out, _ = run(capsys, "sync")
    assert code == 0 and "prune     Namespace/scratch" in out


def test_objects_made_by_another_tool_are_not_taken_over(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Finding 2: they were labelled, put in the inventory, and pruned later."""
    core.create_namespace({"metadata": {"name": "shop-dev"}})
    core.create_namespaced_config_map("shop-dev", {"metadata": {"name": "shop-config"},
                                                   "data": {"LOG_LEVEL": "theirs"}})
    code, out, _ = run(capsys, "diff")
    assert code == 1
    assert "# ConfigMap/shop-dev/shop-config: exists, not managed by this channel" in out
    assert "# Namespace/shop-dev: exists, not managed by this channel" in out
    code, out, err = run(capsys, "sync")
    assert code == 2 and "nothing was applied" in err and len(err.strip().splitlines()) == 1
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data == {
        "LOG_LEVEL": "theirs"}
    assert "web" not in {s.metadata.name for s in core.list_namespaced_service("shop-dev").items}


def test_a_release_may_adopt_what_it_marks(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    core.create_namespace({"metadata": {"name": "shop-dev"}})
    core.create_namespaced_config_map("shop-dev", {"metadata": {"name": "shop-config"},
                                                   "data": {"LOG_LEVEL": "theirs"}})
    for name in ("namespace.yaml.j2", "configmap.yaml.j2"):
        edit(pushed / "templates" / name, "metadata:\n",
             "metadata:\n  annotations: {syncer.io/adopt: \"true\"}\n")
    commit_and_push(pushed, home, "Take over the namespace and the config")
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "update    ConfigMap/shop-dev/shop-config  (syncer.io/adopt: taking it over; " in out
    labels = core.read_namespaced_config_map("shop-config", "shop-dev").metadata.labels
    assert labels["syncer.io/channel"] == "shop-dev"


def test_another_channels_object_is_refused_with_both_names(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    core.create_namespace({"metadata": {"name": "shop-dev",
                                        "labels": {"syncer.io/channel": "team-b"}}})
    code, _, err = run(capsys, "sync")
    assert code == 2
    assert err.strip() == ("syncer: error: Namespace/shop-dev: managed by channel team-b: "
                           "channel shop-dev does not take it over; nothing was applied")
