"""A broken aggregated API on a real cluster: an APIService of this test's group pointing at
a Service that does not exist, which kube-apiserver's aggregator answers with a plain-text
503 for anything under its group version (as for a metrics-server that is gone). A sync of
the example app carries on and says which group version it skipped; a release with an
object of that group is refused before anything is written.

The APIService (`v1.<this test's group>`) is deleted at the end of the test; a run killed
before that leaves it behind: delete it by hand (`kubectl delete apiservice v1.t…`).
"""

from __future__ import annotations

import kubernetes
import pytest
from cluster_helpers import Kube, Names, Shop, wait_until

pytestmark = pytest.mark.cluster


def unavailable(registration: kubernetes.client.ApiregistrationV1Api, name: str) -> bool:
    conditions = registration.read_api_service(name).status.conditions or []
    return any(c.type == "Available" and c.status == "False" for c in conditions)


def test_a_broken_aggregated_api_stops_only_what_needs_it(shop: Shop, kube: Kube,
                                                          names: Names) -> None:
    registration = kubernetes.client.ApiregistrationV1Api(kube.client)
    name, group_version = f"v1.{names.group}", f"{names.group}/v1"
    registration.create_api_service({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": name},
        "spec": {"group": names.group, "version": "v1", "insecureSkipTLSVerify": True,
                 "groupPriorityMinimum": 100, "versionPriority": 100,
                 "service": {"namespace": shop.namespace, "name": "nothing-here"}}})
    try:
        wait_until(lambda: unavailable(registration, name), f"APIService {name} unavailable")
        code, _, err = shop.sync()
        assert code == 0, err
        assert f"API group skipped: its discovery failed group_version={group_version}" in err
        shop.assert_no_diff()

        shop.edit("values/dev.yaml", "logLevel: info", "logLevel: debug")
        shop.write("templates/gadget.yaml",
                   f"apiVersion: {group_version}\nkind: Gadget\nmetadata: {{name: g1}}\n")
        shop.push("Debug logs, and an object of the broken API")
        code, _, err = shop.sync()
        line = err.strip().splitlines()[-1]
        assert code == 2 and line.startswith(
            f"syncer: error: Gadget/g1: the API group {group_version} is unavailable: "), err
        assert "(HTTP 503" in line
        config = kube.core.read_namespaced_config_map("shop-config", shop.namespace)
        assert config.data["LOG_LEVEL"] == "info"  # nothing was applied
    finally:
        registration.delete_api_service(name)
