"""`syncer install --apply` on a real cluster, and its RBAC tried with the installed
ServiceAccount's own token, as the pod would hold it: enough for the syncer's bookkeeping
(locks, inventories, Channel status, Events) and for acting as a Channel's ServiceAccount,
which writes in its lane; refused by the server everywhere else.

The install gets this test's names: its namespace under the run's prefix, `name` (its
ServiceAccount, roles and bindings) the prefix too, 0 replicas (the image need not be
pullable from the cluster). Its ClusterRoles and ClusterRoleBindings, and the Channel CRD
if this test made it, are deleted after it; a cluster that has the Channel CRD already (a
syncer installed) is left alone: the test is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from cluster_helpers import Kube, Names, absent, exclusive, token_kubeconfig, wait_until
from helpers import run

from syncer import inventory
from syncer.cluster import KubeCluster, connect
from syncer.errors import ForbiddenError
from syncer.lock import ChannelLock

pytestmark = pytest.mark.cluster

CRD = "channels.syncer.io"
RBAC = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Installed:
    namespace: str  # the syncer's
    name: str  # its ServiceAccount, roles and bindings
    team: str  # a namespace whose Channels' ServiceAccounts it may impersonate
    other: str  # a namespace outside any lane

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


@pytest.fixture
def installed(kube: Kube, names: Names, kubeconfig: Path, tmp_path: Path,
              capsys: pytest.CaptureFixture[str]) -> Iterator[Installed]:
    with exclusive(kube, CRD):  # cluster-wide: one test (of any worker) installs it at a time
        yield from _installed(kube, names, tmp_path, capsys)


def _installed(kube: Kube, names: Names, tmp_path: Path,
               capsys: pytest.CaptureFixture[str]) -> Iterator[Installed]:
    if not absent(lambda: kube.extensions.read_custom_resource_definition(CRD)):
        pytest.skip(f"{CRD} exists: a syncer is installed in this cluster; not touching it")
    found = Installed(names.namespace("system"), f"{names.prefix}-syncer",
                      names.namespace("team"), names.namespace("other"))
    for namespace in (found.team, found.other):
        kube.core.create_namespace({"metadata": {"name": namespace}})
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"namespace": found.namespace, "name": found.name,
                                      "replicas": 0,
                                      "impersonation": {"namespaces": [found.team]}}))
    try:
        code, out, err = run(capsys, "install", "--apply", "--values", str(values))
        assert code == 0, f"syncer install exited {code}: {err}"
        code, out, err = run(capsys, "install", "--apply", "--values", str(values))
        assert (code, out.splitlines()[-1].split(", ")[:3]) == (
            0, ["0 created", "0 updated", "0 pruned"]), f"{out}{err}"
        yield found
    finally:
        _remove_cluster_scoped(kube, found.name)


def _remove_cluster_scoped(kube: Kube, name: str) -> None:
    rbac = kubernetes.client.RbacAuthorizationV1Api(kube.client)
    for delete in (rbac.delete_cluster_role_binding, rbac.delete_cluster_role):
        for each in (name, f"{name}-impersonate"):
            _ignore_missing(lambda d=delete, n=each: d(n))
    _ignore_missing(lambda: kube.extensions.delete_custom_resource_definition(CRD))
    wait_until(lambda: kube.crd_gone(CRD), f"CRD {CRD} to be deleted")


def _ignore_missing(action: Any) -> None:
    try:
        action()
    except kubernetes.client.exceptions.ApiException as e:
        if e.status != 404:
            raise


def token_cluster(kube: Kube, installed: Installed, tmp_path: Path) -> KubeCluster:
    """The cluster as the installed ServiceAccount, with a token of its own; skips when the
    server cannot issue one."""
    return connect(kubeconfig=token_kubeconfig(kube, installed.namespace, installed.name,
                                               tmp_path / "syncer-kubeconfig"))


def deployer(kube: Kube, namespace: str) -> str:
    """A Channel's ServiceAccount in `namespace`, which may write ConfigMaps there."""
    rbac = kubernetes.client.RbacAuthorizationV1Api(kube.client)
    kube.core.create_namespaced_service_account(namespace, {"metadata": {"name": "deployer"}})
    rbac.create_namespaced_role(namespace, {
        "metadata": {"name": "deployer"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                   "verbs": ["get", "list", "create", "patch", "delete"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "deployer"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "deployer"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}]})
    return f"system:serviceaccount:{namespace}:deployer"


def configmap(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "release-object", "namespace": namespace},
            "data": {"k": "v"}}


def test_install_applies_and_the_crd_is_established(kube: Kube, installed: Installed) -> None:
    crd = kube.extensions.read_custom_resource_definition(CRD)
    assert any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)
    deployment = kube.apps.read_namespaced_deployment(installed.name, installed.namespace)
    assert deployment.spec.template.spec.service_account_name == installed.name
    record = kube.core.read_namespaced_config_map(
        inventory.configmap_name("syncer-install"), installed.namespace)
    assert record.data["blobId"] == "install"


def test_the_service_accounts_token_is_enough_for_the_bookkeeping(
        kube: Kube, installed: Installed, tmp_path: Path) -> None:
    syncer = token_cluster(kube, installed, tmp_path)
    found = syncer.discover()
    with ChannelLock(syncer, found, channel="shop-dev", namespace=installed.namespace):
        pass
    record = inventory.Inventory("shop-dev", 1, "blob", "c0ffee", ())
    syncer.apply(inventory.to_configmap(record, namespace=installed.namespace),
                 found.require("", "ConfigMap"))
    channels = found.require("syncer.io", "Channel")
    channel = {"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
               "metadata": {"name": "shop-dev", "namespace": installed.team}, "spec": {}}
    kube.custom.create_namespaced_custom_object("syncer.io", "v1alpha1", installed.team,
                                                "channels", channel)
    assert syncer.list_objects(channels, namespace="", selector="")
    syncer.apply({**channel, "status": {"health": "Healthy"}}, channels, subresource="status",
                 manager="syncer-controller")
    syncer.create({"apiVersion": "v1", "kind": "Event",
                   "metadata": {"name": "shop-dev.1", "namespace": installed.team},
                   "involvedObject": {"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
                                      "name": "shop-dev", "namespace": installed.team},
                   "reason": "ReleaseApplied", "message": "release 1 applied",
                   "type": "Normal"}, found.require("", "Event"))


def test_as_a_channels_service_account_it_writes_in_the_lane_and_nowhere_else(
        kube: Kube, installed: Installed, tmp_path: Path) -> None:
    syncer = token_cluster(kube, installed, tmp_path)
    configmaps = syncer.discover().require("", "ConfigMap")
    channel_sa = syncer.as_user(deployer(kube, installed.team))
    channel_sa.apply(configmap(installed.team), configmaps, dry_run=True)
    channel_sa.apply(configmap(installed.team), configmaps)
    assert channel_sa.list_objects(configmaps, namespace=installed.team, selector="")
    with pytest.raises(ForbiddenError):  # outside the ServiceAccount's lane
        channel_sa.apply(configmap(installed.other), configmaps)
    with pytest.raises(ForbiddenError):  # a ServiceAccount where no Channel may be
        syncer.as_user(deployer(kube, installed.other)).apply(configmap(installed.other),
                                                              configmaps)


def test_the_service_account_itself_is_refused_everything_else(
        kube: Kube, installed: Installed, tmp_path: Path) -> None:
    syncer = token_cluster(kube, installed, tmp_path)
    found = syncer.discover()
    secrets = found.require("", "Secret")
    with pytest.raises(ForbiddenError):
        syncer.apply(configmap(installed.team), found.require("", "ConfigMap"))
    with pytest.raises(ForbiddenError):
        syncer.list_objects(secrets, namespace="", selector="")
    with pytest.raises(ForbiddenError):
        syncer.list_objects(secrets, namespace=installed.namespace, selector="")
    with pytest.raises(ForbiddenError):
        syncer.list_objects(found.require("apps", "Deployment"), namespace=installed.team,
                            selector="")
    with pytest.raises(ForbiddenError):
        syncer.as_user("system:serviceaccount:kube-system:default").list_objects(
            found.require("", "ConfigMap"), namespace="kube-system", selector="")
