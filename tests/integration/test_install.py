"""`syncer install`: syncer's own install printed, applied to the Kubernetes API stand-in as
the channel syncer-install, and its RBAC shown to be enough for the syncer's bookkeeping and
nothing more, by the stand-in's RBAC authorizer (requests made as the syncer's
ServiceAccount with `Impersonate-User`, as its token would make them in the pod)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run
from syncer_standins.kubeapi import KubeApiServer
from syncer_standins.kubeapi import rbac as standin_rbac
from syncer_standins.kubeapi.errors import ApiError as StandinApiError

from syncer import __version__, install, inventory, policy, policyfiles
from syncer.cluster import KubeCluster, connect
from syncer.errors import ForbiddenError
from syncer.lock import ChannelLock
from syncer.model import LABEL_CHANNEL

ROOT = Path(__file__).parents[2]
NS = "syncer-system"
SA = f"system:serviceaccount:{NS}:syncer"
KINDS = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
         "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment",
         "PodDisruptionBudget"}
# The rights templates/README.md documents, rule by rule: (apiGroups, resources, verbs).
CLUSTER_RULES = [(["syncer.io"], ["channels"], ["get", "list", "watch"]),
                 (["syncer.io"], ["channels/status"], ["patch"]),
                 ([""], ["events"], ["create"])]
NAMESPACE_RULES = [(["coordination.k8s.io"], ["leases"], ["get", "create", "update", "delete"]),
                   ([""], ["configmaps"], ["get", "create", "patch"])]
IMPERSONATE_RULES = [([""], ["serviceaccounts"], ["impersonate"])]


def printed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "install", *args)
    assert code == 0, err
    return [d for d in yaml.safe_load_all(out) if d]


def named(objects: list[dict[str, Any]], kind: str, name: str,
          namespace: str | None = None) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name
                and o["metadata"].get("namespace") == namespace]
    return found


def rules(role: dict[str, Any]) -> list[tuple[list[str], list[str], list[str]]]:
    return [(r["apiGroups"], r["resources"], r["verbs"]) for r in role["rules"]]


@pytest.fixture
def cluster(api: KubeApiServer, tmp_path: Path) -> KubeCluster:
    return connect(kubeconfig=tmp_path / "kubeconfig")


@pytest.fixture
def installed(cluster: KubeCluster) -> KubeCluster:
    install.apply(cluster, install.build())
    return cluster


def has_channel_crd() -> bool:
    return any(o["kind"] == "CustomResourceDefinition" for o in install.build().objects)


# --- printing -------------------------------------------------------------------------------

def test_install_prints_every_object_once_in_apply_order(
        capsys: pytest.CaptureFixture[str]) -> None:
    objects = printed(capsys)
    assert {o["kind"] for o in objects} == KINDS - (set() if has_channel_crd() else
                                                    {"CustomResourceDefinition"})
    assert objects[0]["kind"] == "Namespace" and objects[0]["metadata"]["name"] == NS
    assert all(o["metadata"]["labels"][LABEL_CHANNEL] == install.CHANNEL for o in objects)
    assert policy.check(objects, policyfiles.defaults(), namespace=NS) == []
    assert printed(capsys) == objects  # deterministic
    listed = yaml.safe_load(run(capsys, "install", "-o", "json")[1])
    assert listed["kind"] == "List" and listed["items"] == objects


def test_the_deployment_runs_syncer_run_as_the_issue_asks(
        capsys: pytest.CaptureFixture[str]) -> None:
    deployment = named(printed(capsys), "Deployment", "syncer", NS)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 2
    assert container["image"] == f"ghcr.io/syncer-dev/syncer:{__version__}"
    assert container["args"][container["args"].index("run"):] == [
        "run", "--namespace", NS, "--inventory-namespace", NS, "--metrics-port", "8080",
        "--leader-elect"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is True and pod["serviceAccountName"] == "syncer"
    home = next(e["value"] for e in container["env"] if e["name"] == "SYNCER_HOME")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts[f"{home}/profiles.yaml"]["subPath"] == "profiles.yaml"
    assert {v["name"]: v for v in pod["volumes"]}[mounts[home]["name"]]["emptyDir"]


def test_values_override_the_defaults(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({
        "namespace": "gitops", "image": "registry.example.com/syncer:dev", "replicas": 3,
        "resources": {"limits": {"memory": "2Gi"}},
        "profiles": {"testnet": {"ledger": {"registries": {"shop": "0x1"}}}}}))
    objects = printed(capsys, "--values", str(values))
    deployment = named(objects, "Deployment", "syncer", "gitops")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert (container["image"], deployment["spec"]["replicas"]) == (
        "registry.example.com/syncer:dev", 3)
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    # inventories, locks, the Lease and key Secrets where its Role lets it write: its own
    args = container["args"]
    assert args[args.index("--inventory-namespace") + 1] == "gitops"
    profiles = named(objects, "ConfigMap", "syncer-profiles", "gitops")["data"]["profiles.yaml"]
    assert yaml.safe_load(profiles) == {
        "profiles": {"testnet": {"ledger": {"registries": {"shop": "0x1"}}}}}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["syncer.io/profiles-sha256"] == hashlib.sha256(
        profiles.encode()).hexdigest()  # new profiles, new pods
    binding = named(objects, "ClusterRoleBinding", "syncer")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "syncer",
                                    "namespace": "gitops"}]


@pytest.mark.parametrize(("values", "message"), [
    ("replica: 3\n", "unknown key 'replica'"),
    ("resources: {request: {cpu: 1}}\n", "unknown key 'resources.request'"),
    ("replicas: two\n", "replicas must be a number, not a string"),
    ("namespace: Syncer\n", "namespace 'Syncer' is not a DNS label"),
    ("impersonation: {namespaces: [syncer-system]}\n", "names a namespace twice"),
    ("profiles: {testnet: {blobs: {}}}\n", "profiles.testnet"),
    ("- a list\n", "values must be a mapping"),
])
def test_bad_values_are_refused_naming_the_key(
        values: str, message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(values)
    code, out, err = run(capsys, "install", "--values", str(path))
    assert (code, out) == (2, "")
    assert message in err and str(path) in err


def test_impersonation_is_bound_where_channels_are(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    default = printed(capsys)
    assert [(o["kind"], o["metadata"].get("namespace")) for o in default
            if o["metadata"]["name"] == "syncer-impersonate"] == [
        ("ClusterRole", None), ("RoleBinding", NS)]
    values = tmp_path / "values.yaml"
    values.write_text("impersonation: {namespaces: [team-b, team-a]}\n")
    listed = printed(capsys, "--values", str(values))
    assert sorted(o["metadata"].get("namespace") for o in listed
                  if o["kind"] == "RoleBinding" and o["metadata"]["name"] == "syncer-impersonate"
                  ) == [NS, "team-a", "team-b"]
    values.write_text("impersonation: {allNamespaces: true}\n")
    everywhere = printed(capsys, "--values", str(values))
    assert [o["kind"] for o in everywhere if o["metadata"]["name"] == "syncer-impersonate"] == [
        "ClusterRole", "ClusterRoleBinding"]


def test_the_roles_grant_exactly_what_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    objects = printed(capsys)
    assert rules(named(objects, "ClusterRole", "syncer")) == CLUSTER_RULES
    assert rules(named(objects, "Role", "syncer", NS)) == NAMESPACE_RULES
    assert rules(named(objects, "ClusterRole", "syncer-impersonate")) == IMPERSONATE_RULES
    granted = {o["roleRef"]["name"] for o in objects if o["kind"].endswith("Binding")}
    assert granted == {"syncer", "syncer-impersonate"}
    assert not [r for o in objects if o["kind"] in ("Role", "ClusterRole")
                for r in o["rules"] if "*" in r["verbs"] + r["resources"] + r["apiGroups"]]


# --- applying -------------------------------------------------------------------------------

def test_apply_then_again_changes_nothing(cluster: KubeCluster,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    count = len(install.build().objects)
    code, out, err = run(capsys, "install", "--apply")
    assert code == 0, err
    assert out.startswith(f"syncer {__version__} into namespace {NS} (channel syncer-install)")
    assert out.splitlines()[-1].startswith(f"{count} created, 0 updated, 0 pruned")
    discovery = cluster.discover()
    if has_channel_crd():
        crd = cluster.get(discovery.require("apiextensions.k8s.io", "CustomResourceDefinition"),
                          namespace="", name="channels.syncer.io")
        assert {"type": "Established", "status": "True"}.items() <= next(
            c for c in (crd or {})["status"]["conditions"] if c["type"] == "Established").items()
    code, out, err = run(capsys, "install", "--apply")
    assert code == 0, err
    assert out.splitlines()[1:] == [f"0 created, 0 updated, 0 pruned, {count} unchanged, "
                                    "0 skipped, 0 blocked"]
    record = cluster.get(discovery.require("", "ConfigMap"), namespace=NS,
                         name=inventory.configmap_name(install.CHANNEL))
    found = inventory.from_configmap(record or {})
    assert (found.seq, found.blob_id, found.commit, len(found.entries)) == (
        0, "install", f"syncer-{__version__}", count)


def test_a_dry_run_changes_nothing(cluster: KubeCluster,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "install", "--apply", "--dry-run")
    assert code == 0, err
    assert "create (dry run) Namespace/syncer-system" in out
    assert cluster.get(cluster.discover().require("", "Namespace"), namespace="",
                       name=NS) is None


def test_what_a_newer_install_drops_is_pruned(installed: KubeCluster) -> None:
    templates = install.read_templates(install.template_dir())
    del templates["poddisruptionbudget.yaml.j2"]
    result = install.apply(installed, install.build(templates=templates))
    assert [str(c.ref) for c in result.pruned] == ["PodDisruptionBudget/syncer-system/syncer"]
    pdbs = installed.discover().require("policy", "PodDisruptionBudget")
    assert installed.get(pdbs, namespace=NS, name="syncer") is None


def test_an_existing_namespace_is_adopted(cluster: KubeCluster) -> None:
    namespaces = cluster.discover().require("", "Namespace")
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
                  namespaces, manager="kubectl")
    result = install.apply(cluster, install.build())
    assert "Namespace/syncer-system" in {str(c.ref) for c in result.applied}
    labels = (cluster.get(namespaces, namespace="", name=NS) or {})["metadata"]["labels"]
    assert labels[LABEL_CHANNEL] == install.CHANNEL


def test_the_namespace_keeps_its_labels_after_an_install_that_writes(
        installed: KubeCluster) -> None:
    install.apply(installed, install.build({"replicas": 1}))
    namespaces = installed.discover().require("", "Namespace")
    labels = (installed.get(namespaces, namespace="", name=NS) or {})["metadata"]["labels"]
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"


# --- the syncer's own rights ----------------------------------------------------------------

def test_the_syncer_may_keep_locks_and_inventories_in_its_namespace(
        installed: KubeCluster) -> None:
    syncer = installed.as_user(SA)
    discovery = syncer.discover()
    clock = [1_800_000_000.0]
    with ChannelLock(syncer, discovery, channel="shop-dev", namespace=NS, duration_s=60,
                     clock=lambda: clock[0]) as lock:  # get, create
        clock[0] += 30
        lock.renew()  # update
        assert lock.renewed == clock[0]
    leases = discovery.require("coordination.k8s.io", "Lease")  # deleted on the way out
    assert syncer.get(leases, namespace=NS, name=inventory.lease_name("shop-dev")) is None
    record = inventory.Inventory("shop-dev", 3, "blob", "c0ffee", ())
    syncer.apply(inventory.to_configmap(record, namespace=NS), discovery.require("", "ConfigMap"))
    found = syncer.get(discovery.require("", "ConfigMap"), namespace=NS,
                       name=inventory.configmap_name("shop-dev"))
    assert inventory.from_configmap(found or {}) == record
    event = {"apiVersion": "v1", "kind": "Event",
             "metadata": {"name": "shop-dev.1", "namespace": NS},
             "involvedObject": {"kind": "Channel", "name": "shop-dev", "namespace": NS},
             "reason": "ReleaseApplied", "message": "release 3 applied", "type": "Normal"}
    assert syncer.create(event, discovery.require("", "Event"))["reason"] == "ReleaseApplied"


@pytest.mark.skipif(not has_channel_crd(), reason="templates/syncer has no Channel CRD yet")
def test_the_syncer_reads_channels_and_writes_only_their_status(
        installed: KubeCluster) -> None:
    channels = installed.discover().require("syncer.io", "Channel")
    channel = {"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
               "metadata": {"name": "shop-dev", "namespace": NS},
               "spec": {"serviceAccountName": "shop-dev-deployer"}}
    installed.apply(channel, channels, manager="operator")
    syncer = installed.as_user(SA)
    assert [c["metadata"]["name"] for c in syncer.list_objects(channels, namespace="",
                                                               selector="")] == ["shop-dev"]
    status = {**channel, "status": {"health": "Healthy"}}
    written = syncer.apply(status, channels, subresource="status", manager="syncer-controller")
    assert written["status"]["health"] == "Healthy"
    with pytest.raises(ForbiddenError):
        syncer.apply({**channel, "spec": {"suspend": True}}, channels, manager="syncer")


def test_the_syncer_may_impersonate_service_accounts_only_where_channels_are(
        installed: KubeCluster, api: KubeApiServer) -> None:
    user = standin_rbac.user_of({"impersonate-user": SA})

    def impersonate(namespace: str) -> None:
        standin_rbac.authorize(api.state, user, standin_rbac.Attributes(
            "impersonate", "", "serviceaccounts", namespace=namespace, name="deployer"))

    impersonate(NS)
    for elsewhere in ("kube-system", "default"):
        with pytest.raises(StandinApiError) as refused:
            impersonate(elsewhere)
        assert (refused.value.code, refused.value.reason) == (403, "Forbidden")


@pytest.mark.parametrize("attempt", [
    "create a Deployment", "list Secrets cluster-wide", "read a Secret of its namespace",
    "delete a CRD", "write a Lease elsewhere", "change a Role", "list Deployments"])
def test_the_syncer_is_refused_everything_else(installed: KubeCluster, attempt: str) -> None:
    syncer = installed.as_user(SA)
    found = syncer.discover()
    secrets, leases = found.require("", "Secret"), found.require("coordination.k8s.io", "Lease")
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "web", "namespace": "default"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                      "metadata": {"labels": {"a": "b"}},
                      "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "x", "namespace": "default"}}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "syncer", "namespace": NS}, "rules": []}
    actions = {
        "create a Deployment": lambda: syncer.apply(deployment,
                                                    found.require("apps", "Deployment")),
        "list Secrets cluster-wide": lambda: syncer.list_objects(secrets, namespace="",
                                                                 selector=""),
        "read a Secret of its namespace": lambda: syncer.get(secrets, namespace=NS, name="x"),
        "delete a CRD": lambda: syncer.delete(
            found.require("apiextensions.k8s.io", "CustomResourceDefinition"), namespace="",
            name="channels.syncer.io"),
        "write a Lease elsewhere": lambda: syncer.create(lease, leases),
        "change a Role": lambda: syncer.apply(role, found.require("rbac.authorization.k8s.io",
                                                                  "Role")),
        "list Deployments": lambda: syncer.list_objects(found.require("apps", "Deployment"),
                                                        namespace="", selector=""),
    }
    with pytest.raises(ForbiddenError, match=f'User "{SA}" cannot'):
        actions[attempt]()


# --- where the templates come from ----------------------------------------------------------

def test_the_wheel_carries_the_templates_and_install_reads_them_there(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d",
                    str(tmp_path / "dist")], cwd=ROOT, check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("syncer-*.whl")
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    shipped = sorted(p.name for p in (tmp_path / "site" / "syncer" / "data" / "install").iterdir())
    assert shipped == sorted(p.name for p in (ROOT / "templates" / "syncer").iterdir())
    probe = ("import json, syncer.install as i\n"
             "print(json.dumps([str(i.template_dir()), len(i.build().objects)]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, check=True, text=True,
                          capture_output=True, env={"PYTHONPATH": str(tmp_path / "site")})
    where, count = yaml.safe_load(done.stdout)
    assert where == str(tmp_path / "site" / "syncer" / "data" / "install")
    assert count == len(install.build().objects)
    assert Path(str(install.template_dir())) == ROOT / "templates" / "syncer"  # the checkout
