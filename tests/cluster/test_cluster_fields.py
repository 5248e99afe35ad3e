"""What a sync removes on a real cluster, and what it leaves to others: fields syncer stopped
applying go while another field manager's fields stay; a dropped object is pruned while an
unlabelled object of the same kind beside it stays."""

from __future__ import annotations

import pytest
from cluster_helpers import Kube, Shop, absent, changed_lines, wait_until

pytestmark = pytest.mark.cluster

ENV_BLOCK = ("          env:\n            - name: SHOP_ENV\n"
             "              value: {{ values.env | tojson }}\n")


def test_dropped_fields_are_removed_other_managers_fields_kept(shop: Shop, kube: Kube) -> None:
    ns = shop.namespace
    shop.synced()
    kube.apply_as("other-tool", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "shop-config", "namespace": ns, "labels": {"team": "payments"}},
        "data": {"EXTRA": "kept"}})
    kube.apply_as("other-tool", {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "EXTRA_ENV", "value": "kept"}]}]}}}})
    shop.edit("templates/configmap.yaml.j2", "  GREETING: {{ values.greeting | tojson }}\n", "")
    shop.edit("templates/deployment.yaml.j2", ENV_BLOCK, "")
    shop.push("Drop GREETING and SHOP_ENV")

    code, out, err = shop.diff()
    assert code == 1, err
    assert "-  GREETING: Welcome to the shop" in out
    assert "-        - name: SHOP_ENV" in out
    assert not [line for line in changed_lines(out) if "EXTRA" in line or "team" in line], out

    shop.synced()
    cm = kube.core.read_namespaced_config_map("shop-config", ns)
    assert "GREETING" not in cm.data
    assert cm.data["EXTRA"] == "kept" and cm.metadata.labels["team"] == "payments"
    container = kube.apps.read_namespaced_deployment("web", ns).spec.template.spec.containers[0]
    assert [(e.name, e.value) for e in container.env] == [("EXTRA_ENV", "kept")]
    shop.assert_no_diff()


def test_prune_keeps_an_unlabelled_bystander_of_the_same_kind(shop: Shop, kube: Kube) -> None:
    ns = shop.namespace
    shop.synced()
    shop.write("templates/flags.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-flags}\n"
               "data: {dark-mode: 'on'}\n")
    shop.push("Feature flags")
    shop.synced()
    assert kube.core.read_namespaced_config_map("web-flags", ns).data == {"dark-mode": "on"}
    kube.core.create_namespaced_config_map(ns, {
        "metadata": {"name": "web-notes", "namespace": ns},
        "data": {"owner": "someone else"}})

    shop.remove("templates/flags.yaml")
    shop.push("No feature flags")
    code, out, err = shop.diff()
    assert code == 1, err
    assert f"--- live/ConfigMap/{ns}/web-flags" in out and "web-notes" not in out, out

    out = shop.synced()
    assert f"prune     ConfigMap/{ns}/web-flags" in out and "1 pruned" in out, out
    wait_until(lambda: absent(lambda: kube.core.read_namespaced_config_map("web-flags", ns)),
               "the pruned ConfigMap to go")
    assert kube.core.read_namespaced_config_map("web-notes", ns).data == {
        "owner": "someone else"}
    assert kube.core.read_namespaced_config_map("shop-config", ns).data["LOG_LEVEL"] == "info"
    shop.assert_no_diff()
