"""Applying on a real cluster: a CRD and its custom resource in one release, a release the
server's dry run refuses (nothing applied), and `syncer diff` clean after a sync for every kind
of examples/ and of the diff fixtures (tests/testdata/diff), with the server's defaults."""

from __future__ import annotations

import pytest
import yaml
from cluster_helpers import Kube, Names, Shop, absent, diff_fixture_objects, kinds_of
from helpers import widget_crd

pytestmark = pytest.mark.cluster


def test_crd_and_its_custom_resource_in_one_release(shop: Shop, kube: Kube,
                                                    names: Names) -> None:
    ns = shop.namespace
    shop.synced()
    shop.write("templates/crd.yaml", widget_crd(names.group))
    shop.write("templates/widget.yaml", f"apiVersion: {names.group}/v1\nkind: Widget\n"
               "metadata: {name: w1}\nspec: {size: 3}\n")
    shop.push("Widgets")

    out = shop.synced()
    created = [line.split()[1] for line in out.splitlines() if line.startswith("  create")]
    assert created == [f"CustomResourceDefinition/widgets.{names.group}",
                       f"Widget/{ns}/w1"], out
    widget = kube.custom.get_namespaced_custom_object(names.group, "v1", ns, "widgets", "w1")
    assert widget["spec"] == {"size": 3}
    assert widget["metadata"]["labels"]["syncer.io/channel"] == "shop-dev"
    shop.assert_no_diff()


def test_release_refused_by_the_servers_dry_run_applies_nothing(shop: Shop, kube: Kube) -> None:
    ns = shop.namespace
    shop.synced()
    before = kube.core.read_namespaced_config_map("shop-config", ns)
    shop.edit("values/dev.yaml", "logLevel: info", "logLevel: debug")
    shop.write("templates/broken.yaml", """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  selector: {matchLabels: {app: one}}
  template:
    metadata: {labels: {app: another}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: c
          image: registry.k8s.io/pause:3.10
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 16Mi}}
""")
    shop.push("Debug logging, and a Deployment whose selector matches no pod of its own")

    code, out, err = shop.sync()
    assert code == 2, out
    # the one error line; warnings may come before it, e.g. about a broken aggregated API
    # that another test of this tier puts in the same cluster meanwhile
    errors = [line for line in err.splitlines() if line.startswith("syncer: error: ")]
    assert len(errors) == 1, err
    assert errors[0].startswith(f"syncer: error: Deployment/{ns}/broken: "), err
    assert "(HTTP 422)" in errors[0], err
    after = kube.core.read_namespaced_config_map("shop-config", ns)
    assert after.data["LOG_LEVEL"] == "info"
    assert after.metadata.resource_version == before.metadata.resource_version
    assert absent(lambda: kube.apps.read_namespaced_deployment("broken", ns))


def test_diff_clean_after_sync_for_every_kind(shop: Shop, kube: Kube, names: Names) -> None:
    fixtures = diff_fixture_objects(names)
    shop.allow_namespaces(*(o["metadata"]["name"] for objects in fixtures.values()
                            for o in objects if o["kind"] == "Namespace"))
    for stem, objects in fixtures.items():
        shop.write(f"templates/fixture-{stem}.yaml", yaml.safe_dump_all(objects))
    shop.push("The desired objects of the diff fixtures")
    code, out, err = shop.syncer("show", "2")
    assert code == 0, err
    release = [o for o in yaml.safe_load_all(out) if o]  # the example app's and the fixtures'
    kinds = kinds_of(release)
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "Secret"} <= kinds, kinds

    out = shop.synced()
    assert f"{len(release)} created, 0 updated, 0 pruned" in out, out
    shop.assert_no_diff()
    out = shop.synced()  # the plan, not only the server's dry run, sees no change
    assert f"0 created, 0 updated, 0 pruned, {len(release)} unchanged" in out, out
    for objects in fixtures.values():
        namespace = objects[0]["metadata"]["name"]
        assert kube.core.read_namespace(namespace).status.phase == "Active"
