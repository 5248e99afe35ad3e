"""The plaintext-Secret policy of the default set, and the inventory record."""

from __future__ import annotations

import pytest

from syncer import inventory as inv
from syncer import policy
from syncer.errors import ClusterError, PolicyError
from syncer.policyfiles import defaults
from syncer.vap import Verdict


def check(objects: list[dict[str, object]]) -> list[Verdict]:
    return policy.check(objects, defaults())


def enforce(objects: list[dict[str, object]], *, where: str) -> None:
    policy.enforce(objects, where=where, policies=defaults())


def test_plaintext_secret_refused_and_value_not_shown() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
              "stringData": {"password": "hunter2"}}
    assert [v.policy for v in check([secret])] == ["syncer-no-plaintext-secret"]
    with pytest.raises(PolicyError) as caught:
        enforce([secret], where="channel c")
    assert "Secret/db" in str(caught.value) and "hunter2" not in str(caught.value)
    empty = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "e"}, "data": {}}
    assert check([empty]) == []


@pytest.mark.parametrize(("api_version", "kind"), [
    ("/v1", "Secret"), ("v1 ", "Secret"), ("V1", "Secret"), ("v9", "Secret"),
    ("core/v1", "Secret"), ("v1", "secret"), ("v1", " Secret"),
])
def test_the_secret_check_does_not_trust_the_apiversion(api_version: str,
                                                        kind: str) -> None:
    """The API server takes `/v1` as `v1`; the bundle is public whatever the server says."""
    secret = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "db"},
              "data": {"password": "aHVudGVyMg=="}}
    assert [v.policy for v in check([secret])] == ["syncer-no-plaintext-secret"]


def test_inventory_roundtrip_and_names() -> None:
    objs = [{"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "namespace": "shop"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]
    record = inv.Inventory.of("shop-dev", seq=2, blob_id="B" * 43, commit="c" * 40,
                              objects=objs)
    back = inv.from_configmap(inv.to_configmap(record))
    assert back == record
    assert {str(r) for r in back.refs} == {"Deployment/shop/web", "Namespace/shop"}
    assert inv.configmap_name("shop-dev") == "syncer-inventory-shop-dev"
    assert inv.configmap_name("Shop_Dev") != inv.configmap_name("shop-dev")


def test_malformed_inventory_refuses_to_prune() -> None:
    cm = inv.to_configmap(inv.Inventory("c", 1, "B" * 43, "c" * 40, ()))
    cm["data"]["entries"] = "{not json"
    with pytest.raises(ClusterError, match="refusing to prune"):
        inv.from_configmap(cm)
