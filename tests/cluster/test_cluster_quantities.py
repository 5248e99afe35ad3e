"""Quantities on a real API server: written in forms the server rewrites (`0.5` → `500m`,
`1024Mi` → `1Gi`) in every kind of field that holds one, synced twice: the second sync plans
nothing and `syncer diff` is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_helpers import Kube, Shop

pytestmark = pytest.mark.cluster

QUANTITIES = Path(__file__).parents[1] / "testdata" / "quantities.yaml"


def test_rewritten_quantities_are_not_drift(shop: Shop, kube: Kube) -> None:
    shop.write("templates/quantities.yaml", QUANTITIES.read_text())
    shop.push("Quantities in every field that has them")
    shop.synced()
    limits = kube.core.read_namespaced_limit_range("q-limits", shop.namespace).spec.limits[0]
    assert limits.default == {"cpu": "500m", "memory": "1Gi"}, "the server kept the text"
    out = shop.synced()
    assert "0 created, 0 updated, 0 pruned" in out, out
    shop.assert_no_diff()
