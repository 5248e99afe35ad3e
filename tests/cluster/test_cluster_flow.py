"""The release pipeline against a real cluster: push → hook → publish → sync → diff → history,
and drift made behind syncer's back healed by the next sync."""

from __future__ import annotations

import pytest
from cluster_helpers import Kube, Shop, changed_lines
from helpers import git

pytestmark = pytest.mark.cluster


def test_push_sync_change_diff_sync_history(shop: Shop, kube: Kube) -> None:
    ns = shop.namespace
    out = shop.synced()
    assert "release 1 of shop-dev" in out and "4 created" in out, out
    cm = kube.core.read_namespaced_config_map("shop-config", ns)
    assert cm.data["LOG_LEVEL"] == "info"
    assert cm.metadata.labels["syncer.io/channel"] == "shop-dev"
    assert cm.metadata.annotations["syncer.io/release"] == "1"
    assert kube.apps.read_namespaced_deployment("web", ns).spec.replicas == 1
    assert kube.core.read_namespaced_service("web", ns).spec.ports[0].port == 80
    shop.assert_no_diff()

    shop.edit("values/dev.yaml", "logLevel: info", "logLevel: debug")
    shop.push("Debug logging")
    code, out, err = shop.diff()
    assert code == 1, err
    assert changed_lines(out) == ["-  LOG_LEVEL: info", "+  LOG_LEVEL: debug"], out
    assert f"--- live/ConfigMap/{ns}/shop-config" in out

    out = shop.synced()
    assert "release 2 of shop-dev" in out and "1 updated" in out and "3 unchanged" in out, out
    assert kube.core.read_namespaced_config_map("shop-config", ns).data["LOG_LEVEL"] == "debug"
    shop.assert_no_diff()

    code, out, err = shop.syncer("history")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["SEQ", "PUBLISHED"]
    assert len(lines) == 3, out
    assert lines[1].startswith("1 ") and "Ada Lovelace <ada@example.com>" in lines[1]
    assert lines[2].startswith("2 ") and "Grace Hopper <grace@example.com>" in lines[2]
    assert git(shop.repo, "rev-parse", "--short=12", "HEAD") in lines[2]


def test_drift_behind_syncers_back_is_shown_and_healed(shop: Shop, kube: Kube) -> None:
    ns = shop.namespace
    shop.synced()
    kube.core.patch_namespaced_config_map("shop-config", ns, {"data": {"LOG_LEVEL": "trace"}},
                                          field_manager="kubectl-edit")
    kube.apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 3}},
                                          field_manager="kubectl-patch")

    code, out, err = shop.diff()
    assert code == 1, err
    assert sorted(changed_lines(out)) == sorted([
        "-  LOG_LEVEL: trace", "+  LOG_LEVEL: info",
        "-  replicas: 3", "+  replicas: 1"]), out
    assert f"--- live/ConfigMap/{ns}/shop-config" in out
    assert f"--- live/Deployment/{ns}/web" in out

    out = shop.synced()
    assert "2 updated" in out, out
    assert kube.core.read_namespaced_config_map("shop-config", ns).data["LOG_LEVEL"] == "info"
    assert kube.apps.read_namespaced_deployment("web", ns).spec.replicas == 1
    shop.assert_no_diff()
