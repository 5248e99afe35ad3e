"""SOPS-encrypted Secrets end to end: published encrypted (bundles are public), decrypted
by `syncer sync` and by the controller in memory only, applied with their plaintext, and
the plaintext found nowhere else: not in any command's output or log, not under
$SYNCER_HOME or the repositories, not in the inventory ConfigMaps, Events or the Channel's
status. Against the kube-apiserver stand-in, with releases published by the git hook.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import kubernetes
import pytest
import yaml
from controlled import apply_channel, channel, channel_events, condition, controller, install_crd
from fakeclock import ManualClock
from helpers import commit_and_push, one_line, run
from sopsmaker import Options, encrypt, new_identity
from syncer_standins.kubeapi import KubeApiServer

from syncer.cluster import KubeCluster, connect

PASSWORD = "pa55-Wh1te-Rabbit-8817"  # stringData
API_KEY = "k3y-Cheshire-Cat-4471"  # data, base64 in the manifest
PLAINTEXTS = (PASSWORD, API_KEY, base64.b64encode(PASSWORD.encode()).decode(),
              base64.b64encode(API_KEY.encode()).decode())
IDENTITY = new_identity()  # a test key, generated here, never written to the repository
NS = "syncer-system"


def secret_manifest() -> str:
    plain = {"apiVersion": "v1", "kind": "Secret",
             "metadata": {"name": "shop-db", "labels": {"app": "shop"}}, "type": "Opaque",
             "data": {"api-key": base64.b64encode(API_KEY.encode()).decode()},
             "stringData": {"password": PASSWORD}}
    doc = encrypt(plain, [str(IDENTITY.to_public())],
                  options=Options(encrypted_regex="^(data|stringData)$"))
    return yaml.safe_dump(doc, sort_keys=False)


def publish_secret(repo: Path, home: Path) -> None:
    """Release 2: the example app plus an encrypted Secret (one publish)."""
    (repo / "templates" / "secret.yaml").write_text(secret_manifest())
    commit_and_push(repo, home, "The database password, encrypted with sops")


def leaks(text: str) -> list[str]:
    return [p for p in PLAINTEXTS if p in text]


def files_leaking(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(p.encode() in data for p in PLAINTEXTS):
                found.append(str(path.relative_to(root)))
    return found


def live_secret(core: kubernetes.client.CoreV1Api) -> dict[str, str]:
    data = core.read_namespaced_secret("shop-db", "shop-dev").data
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def books(core: kubernetes.client.CoreV1Api) -> str:
    """The inventory ConfigMaps and every Event, as text."""
    maps = core.list_namespaced_config_map(NS).items
    events = core.list_event_for_all_namespaces().items
    return json.dumps([core.api_client.sanitize_for_serialization(o)
                       for o in [*maps, *events]])


def test_sync_decrypts_in_memory_and_the_plaintext_is_nowhere_else(
        pushed: Path, home: Path, tmp_path: Path, api: KubeApiServer,
        core: kubernetes.client.CoreV1Api, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    publish_secret(pushed, home)
    outputs: list[str] = []

    code, out, err = run(capsys, "sync")  # no key anywhere: nothing applied
    outputs += [out, err]
    assert code == 2
    assert one_line(err).startswith("syncer: error: release 2 of shop-dev: the release holds "
                                    "SOPS-encrypted Secrets and no age key is set: set "
                                    "$SOPS_AGE_KEY_FILE or $SOPS_AGE_KEY")
    assert [s for s in core.list_secret_for_all_namespaces().items
            if s.metadata.name == "shop-db"] == []

    keys = tmp_path / "age-keys.txt"
    keys.write_text(f"# test key\n{IDENTITY}\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(keys))
    for args in (("diff",), ("diff", "-o", "json")):  # the Secret to create, masked
        code, out, err = run(capsys, *args)
        outputs += [out, err]
        assert code == 1 and "shop-db" in out, out + err
    code, out, err = run(capsys, "sync")
    outputs += [out, err]
    assert code == 0, err
    assert "Secret/shop-dev/shop-db" in out
    assert live_secret(core) == {"api-key": API_KEY, "password": PASSWORD}

    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    monkeypatch.setenv("SOPS_AGE_KEY", str(IDENTITY))  # the other way sops reads a key
    for args in (("diff",), ("diff", "-o", "json")):
        code, out, err = run(capsys, *args)
        outputs += [out, err]
        assert code == 0, out + err  # applied as decrypted: no drift, no false change

    code, out, err = run(capsys, "show", "2")
    outputs += [out, err]
    assert code == 0 and "ENC[AES256_GCM," in out and "sops:" in out
    code, out, err = run(capsys, "history")
    outputs += [out, err]
    assert code == 0

    assert leaks("\n".join(outputs)) == []
    assert leaks(caplog.text) == []
    assert leaks(repr([r.__dict__ for r in caplog.records])) == []
    assert files_leaking(tmp_path) == []  # $SYNCER_HOME (caches, blobs, ledger), the repos
    cached = [f for f in (home / "cache" / "releases").rglob("*") if f.is_file()]
    assert any(b"ENC[AES256_GCM," in f.read_bytes() for f in cached)  # kept encrypted
    assert leaks(books(core)) == []


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    found = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    install_crd(found)
    return found


def test_the_controller_reads_the_key_from_the_secret_its_channel_names(
        pushed: Path, home: Path, cluster: KubeCluster,
        core: kubernetes.client.CoreV1Api) -> None:
    publish_secret(pushed, home)
    apply_channel(cluster)
    clock = ManualClock()
    loop = controller(cluster, home, clock)
    loop.pass_once()  # the Channel names no key: Failed, retried
    ready = condition(channel(cluster), "Ready")
    assert ready["status"] == "False" and "spec.decryption.secretRef" in ready["message"]

    apply_channel(cluster, decryption={"provider": "sops", "secretRef": {"name": "sops-age"}})
    clock.advance(600)
    loop.pass_once()  # the Secret is not there yet: Failed, retried
    assert "Secret/syncer-system/sops-age: the decryption key Secret does not exist" in \
        condition(channel(cluster), "Ready")["message"]

    key = base64.b64encode(f"# test key\n{IDENTITY}\n".encode()).decode()
    core.create_namespaced_secret(NS, {"metadata": {"name": "sops-age"},
                                       "data": {"identity.agekey": key}})
    clock.advance(600)
    loop.pass_once()
    status = channel(cluster)["status"]
    assert status["lastApplied"]["seq"] == 2, status
    assert live_secret(core) == {"api-key": API_KEY, "password": PASSWORD}
    assert leaks(json.dumps(status)) == []
    assert leaks(json.dumps(channel_events(cluster))) == []
    assert leaks(books(core)) == []
