"""The operator tools against a real cluster: a SOPS-encrypted Secret applied decrypted and
shown nowhere, the approval gate, `syncer explain` of a live object, and `syncer diff` of
the work tree against the live objects (field paths in the JSON form)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from cluster_helpers import Kube, Shop
from helpers import git, one_line
from sopsmaker import Options, encrypt, new_identity

from syncer import keys

pytestmark = pytest.mark.cluster

PASSWORD = "pa55-Mad-Hatter-3141"
PLAINTEXTS = (PASSWORD, base64.b64encode(PASSWORD.encode()).decode())


def test_an_encrypted_secret_is_applied_decrypted_and_shown_nowhere(
        shop: Shop, kube: Kube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    identity = new_identity()
    plain = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop-db"},
             "type": "Opaque", "stringData": {"password": PASSWORD}}
    sealed = encrypt(plain, [str(identity.to_public())],
                     options=Options(encrypted_regex="^(data|stringData)$"))
    shop.write("templates/secret.yaml", yaml.safe_dump(sealed, sort_keys=False))
    shop.push("The database password, encrypted with sops")
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text(f"{identity}\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(keys_file))

    outputs = [shop.synced()]
    live = kube.core.read_namespaced_secret("shop-db", shop.namespace)
    assert base64.b64decode(live.data["password"]).decode() == PASSWORD
    for command in (shop.diff, shop.diff, lambda: shop.syncer("show", "2")):
        code, out, err = command()
        assert code == 0, err
        outputs += [out, err]
    assert not [p for p in PLAINTEXTS if any(p in text for text in outputs)]


def test_an_unapproved_release_is_applied_once_approved(
        shop: Shop, kube: Kube, monkeypatch: pytest.MonkeyPatch) -> None:
    approver = keys.generate()
    code, _, err = shop.syncer("channel", "set-approvers", approver.address, "--threshold", "1")
    assert code == 0, err
    code, out, err = shop.sync()
    assert (code, out.strip()) == (0, "release 1 waits for 1 more approval (0/1) on shop-dev: "
                                      "no approved release to apply"), err
    assert not kube.core.list_namespaced_config_map(
        shop.namespace, label_selector="syncer.io/channel=shop-dev").items

    monkeypatch.setenv("SYNCER_KEY", approver.to_suiprivkey())
    code, _, err = shop.syncer("approve", "1")
    monkeypatch.delenv("SYNCER_KEY")
    assert code == 0, err
    out = shop.synced()
    assert "release 1 of shop-dev" in out and "4 created" in out, out
    code, out, err = shop.syncer("history")
    assert code == 0 and " 1/1 (" in out, out + err


def test_explain_follows_a_live_object_back_to_its_commit(shop: Shop) -> None:
    shop.synced()
    code, out, err = shop.syncer("explain", f"configmap/{shop.namespace}/shop-config")
    assert code == 0, err
    lines = {k.strip(): v.strip() for k, _, v in
             (line.partition(":") for line in out.splitlines()[1:]) if v}
    assert lines["channel"] == "shop-dev"
    assert lines["commit"] == git(shop.repo, "rev-parse", "HEAD")
    assert lines["blob"].endswith("verifies (SHA-256 and blob ID)")
    code, _, err = shop.syncer("explain", f"configmap/{shop.namespace}/no-such-map")
    assert code == 2 and "no-such-map" in one_line(err)


def test_diff_of_the_work_tree_against_the_live_objects(shop: Shop) -> None:
    shop.synced()
    shop.edit("values/dev.yaml", "logLevel: info", "logLevel: debug")  # not committed
    code, out, err = shop.diff("live", "worktree", "-o", "json")
    assert code == 1, err
    found = json.loads(out)
    changed = [o for o in found["objects"] if o["action"] == "update"]
    assert [o["name"] for o in changed] == ["shop-config"], out
    assert changed[0]["changes"] == [{"path": ".data.LOG_LEVEL", "op": "change",
                                      "old": "info", "new": "debug"}], out
