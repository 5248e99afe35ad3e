"""The release pipeline end to end: git push → hook → publish → sync → diff → history.

Runs the `syncer` command line against real git repositories (with a bare remote and the
installed pre-push hook), the embedded backends under a fresh $SYNCER_HOME, and the official
`kubernetes` client over HTTP to the Kubernetes API stand-in (`syncer_standins.kubeapi`),
because no kube-apiserver can run here; the stand-in's own tests replay transcripts of a real
one.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, edit, git, run

from syncer import keys
from syncer.blobstore import blob_id_of
from syncer.cli import main
from syncer.config import parse_config
from syncer.ledger.local import LocalLedger


def test_push_sync_change_diff_sync_history(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        apps: kubernetes.client.AppsV1Api, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert "release 1 of shop-dev" in out and "4 created" in out
    cm = core.read_namespaced_config_map("shop-config", "shop-dev")
    assert cm.data["LOG_LEVEL"] == "info"
    assert cm.metadata.labels["syncer.io/channel"] == "shop-dev"
    assert cm.metadata.annotations["syncer.io/release"] == "1"
    assert apps.read_namespaced_deployment("web", "shop-dev").spec.replicas == 1

    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    commit_and_push(pushed, home, "Debug logging")
    code, out, _ = run(capsys, "diff")
    assert code == 1
    changed = [line for line in out.splitlines()
               if line[:1] in "+-" and not line.startswith(("---", "+++"))]
    assert changed == ['-  LOG_LEVEL: info', '+  LOG_LEVEL: debug']
    assert "--- live/ConfigMap/shop-dev/shop-config" in out

    code, out, _ = run(capsys, "sync")
    assert code == 0 and "update" in out and "1 updated" in out and "3 unchanged" in out
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "debug"
    assert run(capsys, "diff")[:2] == (0, "")

    code, out, _ = run(capsys, "history")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["SEQ", "PUBLISHED"]
    assert lines[1].startswith("1 ") and "Ada Lovelace <ada@example.com>" in lines[1]
    assert lines[2].startswith("2 ") and "Grace Hopper <grace@example.com>" in lines[2]
    assert git(pushed, "rev-parse", "--short=12", "HEAD") in lines[2]


def test_dropped_fields_are_removed_other_managers_fields_kept(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        apps: kubernetes.client.AppsV1Api, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    patch = {"metadata": {"labels": {"team": "payments"}}, "data": {"EXTRA": "kept"}}
    core.patch_namespaced_config_map("shop-config", "shop-dev", patch,
                                     field_manager="kubectl-edit")
    cm_path = pushed / "templates" / "configmap.yaml.j2"
    edit(cm_path, '  GREETING: {{ values.greeting | tojson }}\n', "")
    edit(pushed / "templates" / "deployment.yaml.j2",
         "          env:\n            - name: SHOP_ENV\n"
         "              value: {{ values.env | tojson }}\n", "")
    commit_and_push(pushed, home, "Drop GREETING and SHOP_ENV")

    code, out, _ = run(capsys, "diff")
    assert code == 1
    assert "-  GREETING: Welcome to the shop" in out
    assert "-        - name: SHOP_ENV" in out
    assert "EXTRA" not in [ln[1:].split(":")[0].strip() for ln in out.splitlines()
                           if ln.startswith(("-", "+"))]

    assert run(capsys, "sync")[0] == 0
    cm = core.read_namespaced_config_map("shop-config", "shop-dev")
    assert "GREETING" not in cm.data
    assert cm.data["EXTRA"] == "kept" and cm.metadata.labels["team"] == "payments"
    container = apps.read_namespaced_deployment("web", "shop-dev").spec.template.spec \
        .containers[0]
    assert not container.env
    assert run(capsys, "diff")[:2] == (0, "")


def test_prune_removes_only_the_channels_objects(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    bystander = {"metadata": {"name": "web-notes", "namespace": "shop-dev"},
                 "data": {"owner": "someone else"}}
    core.create_namespaced_config_map("shop-dev", bystander)
    (pushed / "templates" / "service.yaml").unlink()
    commit_and_push(pushed, home, "No service")

    code, out, _ = run(capsys, "diff")
    assert code == 1 and "--- live/Service/shop-dev/web" in out and "+++ desired/" in out
    code, out, _ = run(capsys, "sync")
    assert code == 0 and "prune" in out and "1 pruned" in out
    names = {s.metadata.name for s in core.list_namespaced_service("shop-dev").items}
    assert "web" not in names
    assert core.read_namespaced_config_map("web-notes", "shop-dev").data == {
        "owner": "someone else"}


def test_unlabelled_object_is_not_pruned_even_if_in_inventory(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    core.patch_namespaced_service("web", "shop-dev",
                                  {"metadata": {"labels": {"syncer.io/channel": None}}})
    (pushed / "templates" / "service.yaml").unlink()
    commit_and_push(pushed, home, "No service")
    assert run(capsys, "sync")[0] == 0
    assert core.read_namespaced_service("web", "shop-dev").metadata.name == "web"


def test_empty_release_refused_at_sync_unless_allowed(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    git(pushed, "rm", "-rq", "templates")
    git(pushed, "commit", "-qm", "Nothing left")
    assert run(capsys, "publish", "--allow-empty")[0] == 0
    code, _, err = run(capsys, "sync")
    assert code == 2 and "--allow-empty" in err and len(err.strip().splitlines()) == 1
    assert core.read_namespaced_config_map("shop-config", "shop-dev")
    code, out, _ = run(capsys, "sync", "--allow-empty")
    assert code == 0 and "3 pruned" in out and "1 skipped" in out
    assert "skip      Namespace/shop-dev  (a Namespace is pruned" in out
    assert core.read_namespace("shop-dev").metadata.name == "shop-dev"


def test_push_with_plaintext_secret_is_stopped(pushed: Path, home: Path) -> None:
    (pushed / "templates" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n")
    with pytest.raises(Exception) as caught:
        commit_and_push(pushed, home, "Add a secret")
    stderr = getattr(caught.value, "stderr", "")
    assert "Secret/shop-dev" in stderr or "Secret/db" in stderr
    assert "hunter2" not in stderr
    assert "failed to push" in stderr


def test_secret_values_masked_in_diff(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    (pushed / "templates" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ntype: Opaque\n")
    commit_and_push(pushed, home, "A Secret filled by the operator")
    assert run(capsys, "sync")[0] == 0
    core.patch_namespaced_secret("db", "shop-dev", {"stringData": {"password": "hunter2"}},
                                 field_manager="operator")
    (pushed / "templates" / "secret.yaml").unlink()
    commit_and_push(pushed, home, "Drop the Secret")
    code, out, _ = run(capsys, "diff")
    assert code == 1 and "--- live/Secret/shop-dev/db" in out and "password" in out
    assert "hunter2" not in out and "aHVudGVyMg" not in out


def test_edited_ledger_row_detected_by_history(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(pushed / "values" / "dev.yaml", "replicas: 1", "replicas: 2")
    commit_and_push(pushed, home, "Two replicas")
    assert run(capsys, "history")[0] == 0
    db = sqlite3.connect(home / "ledger.sqlite")
    with db:
        db.execute("""UPDATE entries SET "commit" = ? WHERE seq = 1""", ("f" * 40,))
    code, out, err = run(capsys, "history")
    assert code == 2 and out == ""
    assert "seq 1" in err and len(err.strip().splitlines()) == 1


def test_deleted_ledger_row_detected_by_history(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(pushed / "values" / "dev.yaml", "replicas: 1", "replicas: 2")
    commit_and_push(pushed, home, "Two replicas")
    db = sqlite3.connect(home / "ledger.sqlite")
    with db:
        db.execute("DELETE FROM entries WHERE seq = 2")
    code, _, err = run(capsys, "history")
    assert code == 2 and "seq 2" in err


def test_bad_input_one_line_nonzero_nothing_changed(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "sync")[0] == 0
    before = core.read_namespaced_config_map("shop-config", "shop-dev").metadata \
        .resource_version
    cases = [
        ("sync", "--channel", "nope"),
        ("show", "9"),
        ("sync", "--kubeconfig", str(tmp_path / "missing")),
        ("publish", "--commit", "does-not-exist"),
        ("diff", "--seq", "7"),
    ]
    for args in cases:
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert len(err.strip().splitlines()) == 1 and err.startswith("syncer: error: "), err
    after = core.read_namespaced_config_map("shop-config", "shop-dev").metadata.resource_version
    assert before == after


def test_help_describes_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("init", "publish", "sync", "diff", "history", "show", "hooks"):
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0
        assert len(capsys.readouterr().out) > 200, command
    assert sys.executable


def test_doctor_and_refresh_on_the_embedded_backends(
        pushed: Path, home: Path, api: object, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor", "--cluster")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("ok    profile local")
    assert any(ln.startswith("ok    publisher key: 0x") for ln in lines)
    assert any(ln.startswith("ok    channel shop-dev: 1 releases") for ln in lines)
    assert any(ln.startswith("ok    release 1 of shop-dev: blob") for ln in lines)
    assert any(ln.startswith("ok    cluster: answers") for ln in lines)
    assert not any(ln.startswith("error") for ln in lines)
    blob = next((home / "blobs").iterdir())
    blob.unlink()
    code, out, err = run(capsys, "publish", "--refresh", "1")
    assert code == 0 and "(rebuilt from its commit)" in out, err  # from the git repository
    assert blob.exists()
    assert run(capsys, "doctor")[0] == 0
    good = blob.read_bytes()
    blob.write_bytes(good[:-1] + b"!")  # altered in place: refresh puts the verified bytes back
    code, out, err = run(capsys, "publish", "--refresh", "1")
    assert code == 0 and "(rebuilt from its commit)" in out, err
    assert blob.read_bytes() == good
    (home / "ledger.sqlite").write_bytes(b"not a database at all" * 10)
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and "error ledger" in out


def test_refresh_covers_every_channel_named(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "publish", "--channel", "shop-prod")
    assert code == 0 and "published release 1 of shop-prod" in out, err
    code, out, err = run(capsys, "publish", "--refresh", "1", "--channel", "shop-dev",
                         "--channel", "shop-prod")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith("refreshed blob ") for line in lines)
    assert "of release 1 of shop-dev:" in lines[0] and "of release 1 of shop-prod:" in lines[1]
    code, _, err = run(capsys, "publish", "--refresh", "1", "--channel", "shop-dev",
                       "--channel", "shop-qa")
    assert code == 2 and "shop-qa" in err


def test_release_whose_blob_id_does_not_match_its_bytes_is_refused(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    before = core.read_namespaced_config_map("shop-config", "shop-dev").metadata \
        .resource_version
    ledger = LocalLedger(home / "ledger.sqlite")
    head = ledger.head("shop-dev")
    assert head is not None
    bundle = (home / "blobs" / head.blob_id).read_bytes()
    forged_id = blob_id_of(b"some other bytes")
    (home / "blobs" / forged_id).write_bytes(bundle)  # right SHA-256, wrong blob ID
    ledger.publish("shop-dev", blob_id=forged_id, sha256=head.sha256, commit="e" * 40,
                   key=keys.load(home / "keys" / "publisher.key"))
    code, _, err = run(capsys, "sync")
    assert code == 2 and f"blob {forged_id}: the bytes do not encode to this blob ID" in err
    after = core.read_namespaced_config_map("shop-config", "shop-dev").metadata.resource_version
    assert after == before


def test_init_writes_a_starter_config_in_a_new_repository(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "My_Web.App"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "init")
    assert code == 0, err
    config = parse_config((repo / "syncer.yaml").read_bytes())
    assert list(config.channels) == ["my-web-app-dev"]
    assert "channel my-web-app-dev: registered" in out
    assert (home / "keys" / "publisher.key").stat().st_mode & 0o077 == 0
    code, out, _ = run(capsys, "init")
    assert code == 0 and "already registered" in out


def test_init_uses_the_key_the_profile_names_and_a_valid_namespace(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    monkeypatch.chdir(repo)
    key = keys.generate()
    monkeypatch.setenv("SYNCER_KEY", key.to_suiprivkey())
    code, out, err = run(capsys, "init", "--channel", "Shop_Web.prod")
    assert code == 0, err
    assert not (home / "keys" / "publisher.key").exists()  # $SYNCER_KEY is the key
    assert f"registered (admin and publisher {key.address})" in out
    config = parse_config((repo / "syncer.yaml").read_bytes())
    assert config.channel("Shop_Web.prod").namespace == "shop-web-prod"
    assert LocalLedger(home / "ledger.sqlite").publishers("Shop_Web.prod") == [key.address]
