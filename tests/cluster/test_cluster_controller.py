"""`syncer run` on a real cluster, installed by `syncer install`: the controller's requests
through the server's own machinery, which the API stand-in only imitates: RBAC and
impersonation, Leases (the channel lock, the leader election), Events, and the Channel
CRD's status subresource.

Each test that needs the install makes it in namespaces of its own (the install's name is
its prefix too, with 0 replicas: the image need not be pullable):

    <prefix>-system    the install, its ServiceAccount `<prefix>-syncer`; the channels'
                       inventories and locks (`--inventory-namespace`)
    <prefix>-team      the Channel `shop-dev` and its ServiceAccount `deployer`; the install
                       may impersonate there (`impersonation.namespaces`)
    <prefix>-shop-dev  where the channel deploys the example app: the deployer's Role is
                       here, and only here
    <prefix>-other     a namespace where the deployer has no Role

`syncer run --once` runs as a process of its own, as in the pod, with one of two
credentials (the tests' parameter):

- `syncer-token`: a token of the installed ServiceAccount (TokenRequest), the pod's own
  identity: what passes proves the install's RBAC sufficient. A server that cannot issue a
  token (the API stand-in has no authentication) skips these;
- `test-kubeconfig`: the kubeconfig the tests run with. The channel's objects still go as
  the deployer (impersonated), whose RBAC the server applies; the rest shows the controller
  against the server whatever the install grants, so when only `syncer-token` fails, the
  install's RBAC is what falls short.

The Channel CRD (`channels.syncer.io`) is cluster-wide: a test installs it and deletes it
after, holding `exclusive(kube, "channels.syncer.io")` meanwhile, and a cluster that has it
already (a syncer is installed) is left alone: the test is skipped. The install's
ClusterRoles and ClusterRoleBindings (named after the test's prefix) are deleted after the
test; a run killed before its teardown can leave them, and the CRD: delete them by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from cluster_helpers import (
    APPLY_PATCH,
    CHANNEL,
    DEADLINE,
    ApiException,
    Kube,
    Names,
    Shop,
    absent,
    exclusive,
    token_kubeconfig,
    wait_until,
)
from helpers import run

from syncer import inventory
from syncer.clock import SystemClock
from syncer.cluster import KubeCluster, RetryPolicy, connect
from syncer.errors import ForbiddenError
from syncer.leader import ElectionConfig, LeaderElector

pytestmark = pytest.mark.cluster

CRD = "channels.syncer.io"
GROUP, VERSION, PLURAL = "syncer.io", "v1alpha1", "channels"
RBAC = "rbac.authorization.k8s.io"
LABEL_CHANNEL = "syncer.io/channel"
ANNOTATION_RELEASE = "syncer.io/release"
MICROTIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
LEADER = "syncer-leader"
HTTP_403 = re.compile(r"forbidden.*\(HTTP 403", re.IGNORECASE)


@dataclass(frozen=True)
class Setup:
    system: str  # the install's namespace: inventories and locks too
    name: str  # its ServiceAccount, roles and bindings
    team: str  # the Channel and its ServiceAccount `deployer`
    app: str  # where the channel deploys: the deployer's Role is here
    other: str  # no Role of the deployer here

    @property
    def deployer(self) -> str:
        return f"system:serviceaccount:{self.team}:deployer"


# --- the install and the channel's ServiceAccount ------------------------------------------

@pytest.fixture
def setup(kube: Kube, names: Names, shop: Shop, tmp_path: Path,
          capsys: pytest.CaptureFixture[str]) -> Iterator[Setup]:
    """syncer installed into this test's namespaces, the deployer's ServiceAccount and Role,
    and the example app published (release 1, with its Namespace: not synced)."""
    found = Setup(names.namespace("system"), f"{names.prefix}-syncer", names.namespace("team"),
                  shop.namespace, names.namespace("other"))
    for namespace in (found.team, found.app, found.other):
        kube.core.create_namespace({"metadata": {"name": namespace}})
    with exclusive(kube, CRD):
        if not absent(lambda: kube.extensions.read_custom_resource_definition(CRD)):
            pytest.skip(f"{CRD} exists: a syncer is installed in this cluster; not touching it")
        try:
            _install(found, tmp_path, capsys)
            _deployer(kube, found)
            yield found
        finally:
            _remove_cluster_scoped(kube, found.name)


def _install(setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"namespace": setup.system, "name": setup.name,
                                      "replicas": 0,
                                      "impersonation": {"namespaces": [setup.team]}}))
    code, out, err = run(capsys, "install", "--apply", "--values", str(values))
    assert code == 0, f"syncer install exited {code}: {out}{err}"


def _deployer(kube: Kube, setup: Setup) -> None:
    """The Channel's ServiceAccount, in the Channel's namespace, with a Role in the app's
    namespace alone: what a release of the example app needs, as templates/README.md says
    (list for the drift read, get, create and patch for server-side apply and its dry runs,
    delete for prunes)."""
    rbac = kubernetes.client.RbacAuthorizationV1Api(kube.client)
    kube.core.create_namespaced_service_account(setup.team, {"metadata": {"name": "deployer"}})
    rbac.create_namespaced_role(setup.app, {
        "metadata": {"name": "deployer"},
        "rules": [{"apiGroups": ["", "apps"],
                   "resources": ["configmaps", "services", "deployments"],
                   "verbs": ["get", "list", "create", "patch", "delete"]}]})
    _bind(kube, setup, setup.app, "deployer")
    wait_until(partial(may_list_configmaps, kube, setup, setup.app),
               "the deployer's Role to take effect", timeout=60)


def _bind(kube: Kube, setup: Setup, namespace: str, role: str) -> None:
    kubernetes.client.RbacAuthorizationV1Api(kube.client).create_namespaced_role_binding(
        namespace, {"metadata": {"name": role},
                    "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": "deployer",
                                  "namespace": setup.team}]})


def _remove_cluster_scoped(kube: Kube, name: str) -> None:
    """The install's ClusterRoles and ClusterRoleBindings, and the CRD (its Channels with it),
    deleted; waits until the CRD is gone."""
    rbac = kubernetes.client.RbacAuthorizationV1Api(kube.client)
    for delete in (rbac.delete_cluster_role_binding, rbac.delete_cluster_role):
        for each in (name, f"{name}-impersonate"):
            _ignore_missing(partial(delete, each))
    _ignore_missing(partial(kube.extensions.delete_custom_resource_definition, CRD))
    wait_until(lambda: kube.crd_gone(CRD), f"CRD {CRD} to be deleted")


def _ignore_missing(delete: Callable[[], object]) -> None:
    try:
        delete()
    except ApiException as e:
        if e.status != 404:
            raise


@pytest.fixture(params=["syncer-token", "test-kubeconfig"])
def credentials(request: pytest.FixtureRequest, kube: Kube, setup: Setup, kubeconfig: Path,
                tmp_path: Path) -> Path:
    """The kubeconfig `syncer run` is given (module docs)."""
    if request.param == "test-kubeconfig":
        return kubeconfig
    return token_kubeconfig(kube, setup.system, setup.name,
                            tmp_path / "syncer-token-kubeconfig")



# --- the app, the Channel and syncer run ---------------------------------------------------

def publish_without_namespace(shop: Shop, *, extra: str = "") -> None:
    """Release 2 of shop-dev: the example app without its Namespace (the cluster admin's
    here: the deployer may write only inside it), and `extra` as one more template."""
    shop.remove("templates/namespace.yaml.j2")
    if extra:
        shop.write("templates/extra.yaml", extra)
    shop.push("The namespace is not the deployer's to write")


def apply_channel(kube: Kube, setup: Setup, **spec: Any) -> dict[str, Any]:
    """The Channel, applied as an operator would (`kubectl apply --server-side`): following
    shop-dev as the deployer, with no `allowedNamespaces` (syncer's own lane check stops
    nothing: only the server does)."""
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Channel",
            "metadata": {"name": CHANNEL, "namespace": setup.team},
            "spec": {"channel": CHANNEL, "serviceAccountName": "deployer", "interval": "30s",
                     "resync": "5m", **spec}}
    kube.custom.patch_namespaced_custom_object(GROUP, VERSION, setup.team, PLURAL, CHANNEL,
                                               body, field_manager="kubectl",
                                               _content_type=APPLY_PATCH)
    return read_channel(kube, setup)  # the client decodes no answer of 201 (created)


def read_channel(kube: Kube, setup: Setup) -> dict[str, Any]:
    found: dict[str, Any] = kube.custom.get_namespaced_custom_object(GROUP, VERSION, setup.team,
                                                                     PLURAL, CHANNEL)
    return found


def condition(channel: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [c for c in channel.get("status", {}).get("conditions", []) if c["type"] == kind]
    assert len(found) == 1, f"condition {kind}: {channel.get('status')}"
    return dict(found[0])


def channel_events(kube: Kube, setup: Setup, reason: str) -> list[Any]:
    return [e for e in kube.core.list_namespaced_event(setup.team).items
            if e.involved_object.kind == "Channel" and e.involved_object.name == CHANNEL
            and e.reason == reason]


def syncer_run(setup: Setup, kubeconfig: Path, *, code: int = 0) -> str:
    """`syncer run --once` as its own process, with `kubeconfig`, as the pod runs it (leader
    election; the Channels of the team's namespace; inventories, locks and the leader Lease
    in the syncer's namespace): its log. It exits `code` (1: a Channel did not reach Ready)."""
    env = {**os.environ}
    env.pop("SYNCER_CHANNEL", None)
    command = [sys.executable, "-m", "syncer", "--log-format", "json", "run", "--once",
               "--kubeconfig", str(kubeconfig), "--namespace", setup.team,
               "--inventory-namespace", setup.system, "--metrics-address", "127.0.0.1",
               "--metrics-port", "0", "--health-timeout", "30", "--workers", "2",
               "--leader-elect", "--lease-name", LEADER]
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=DEADLINE, check=False)
    assert done.returncode == code, f"syncer run exited {done.returncode}:\n" \
                                    f"{done.stderr[-4000:]}"
    return done.stderr


def may_list_configmaps(kube: Kube, setup: Setup, namespace: str) -> bool:
    """Whether the deployer may list the ConfigMaps of `namespace` (a Role is in force a
    moment after it is bound: the server's authorizer reads RBAC from a cache)."""
    deployer = KubeCluster(kube.client).as_user(setup.deployer)
    try:
        deployer.list_objects(deployer.discover().require("", "ConfigMap"),
                              namespace=namespace, selector="")
    except ForbiddenError:
        return False
    return True


def configmap_names(kube: Kube, namespace: str) -> set[str]:
    return {c.metadata.name for c in kube.core.list_namespaced_config_map(namespace).items}


class LeaseWatch:
    """The Leases of a namespace as a watch reports them, on a thread of its own: (event
    type, Lease name, holder) in order."""

    def __init__(self, kube: Kube, namespace: str) -> None:
        self.api = kubernetes.client.CoordinationV1Api(kube.client)
        self.namespace = namespace
        self.seen: list[tuple[str, str, str]] = []
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._version = self.api.list_namespaced_lease(namespace).metadata.resource_version
        self._thread = threading.Thread(target=self._watch, daemon=True, name="lease-watch")
        self._thread.start()

    def _watch(self) -> None:
        try:
            while not self._stop.is_set():
                for event in kubernetes.watch.Watch().stream(
                        self.api.list_namespaced_lease, self.namespace,
                        resource_version=self._version, timeout_seconds=2):
                    lease = event["object"]
                    self._version = lease.metadata.resource_version
                    self.seen.append((event["type"], lease.metadata.name,
                                      lease.spec.holder_identity or ""))
        except Exception as e:  # reported by `events`, not lost with the thread
            self.error = e

    def events(self, name: str) -> list[tuple[str, str]]:
        """(type, holder) of the Lease `name`, so far."""
        assert self.error is None, f"the watch of Leases failed: {self.error}"
        return [(kind, holder) for kind, found, holder in list(self.seen) if found == name]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


# --- the tests -----------------------------------------------------------------------------

def test_run_applies_a_release_as_the_channels_service_account(
        kube: Kube, shop: Shop, setup: Setup, credentials: Path) -> None:
    """On a real server, `syncer run --once --leader-elect` with the pod's credentials takes
    the leader Lease, applies the head of shop-dev as the Channel's ServiceAccount
    (impersonated: the server checks that syncer may act as it, then that it may write
    there), takes and deletes the channel's lock Lease, records the inventory, writes the
    Channel's status through its status subresource, creates a ReleaseApplied Event about
    it and gives the leader Lease up. With `syncer-token`, every one of those requests
    passed the install's RBAC: it is sufficient."""
    publish_without_namespace(shop)
    apply_channel(kube, setup)
    lock = inventory.lease_name(CHANNEL)
    leases = LeaseWatch(kube, setup.system)
    try:
        log = syncer_run(setup, credentials)
        wait_until(lambda: ("DELETED", lock) in {(t, n) for t, n, _ in leases.seen}
                   and leases.events(LEADER)[-1:] == [("MODIFIED", "")],
                   f"the watch to see Lease {lock} deleted and {LEADER} given up", timeout=30)
    finally:
        leases.close()
    seen = leases.events(lock)
    assert seen[0][0] == "ADDED" and seen[0][1] and seen[-1][0] == "DELETED", (seen, log)
    assert absent(lambda: leases.api.read_namespaced_lease(lock, setup.system))
    elected = leases.events(LEADER)  # taken before the pass, given up after it
    assert elected[0][0] == "ADDED" and elected[0][1] and elected[-1] == ("MODIFIED", ""), (
        elected, log)

    for read in (kube.core.read_namespaced_config_map("shop-config", setup.app),
                 kube.apps.read_namespaced_deployment("web", setup.app),
                 kube.core.read_namespaced_service("web", setup.app)):
        assert read.metadata.labels[LABEL_CHANNEL] == CHANNEL
        assert read.metadata.annotations[ANNOTATION_RELEASE] == "2"
    record = kube.core.read_namespaced_config_map(inventory.configmap_name(CHANNEL),
                                                  setup.system)
    assert record.data["release"] == "2"

    channel = read_channel(kube, setup)
    status = channel["status"]
    ready = condition(channel, "Ready")
    # The pods may never run (no node may pull the image): Progressing is as good here.
    assert (ready["status"], ready["reason"]) in {("True", "ReleaseApplied"),
                                                  ("Unknown", "Progressing")}, status
    assert status["lastApplied"]["seq"] == 2 and status["head"]["seq"] == 2, status
    assert status["observedGeneration"] == channel["metadata"]["generation"]
    assert status["inventory"] == {"count": 3}
    assert _status_managers(channel) == {("syncer-controller", "Apply", "status")}

    events = channel_events(kube, setup, "ReleaseApplied")
    assert len(events) == 1, [e.reason for e in kube.core.list_namespaced_event(setup.team).items]
    assert events[0].type == "Normal"
    assert events[0].involved_object.uid == channel["metadata"]["uid"]
    assert "release 2 applied" in events[0].message


def _status_managers(channel: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(manager, operation, subresource) of whoever owns a field of the status."""
    return {(m["manager"], m["operation"], m.get("subresource", ""))
            for m in channel["metadata"].get("managedFields", [])
            if "f:status" in (m.get("fieldsV1") or {})}


def test_a_write_outside_the_service_accounts_lane_is_refused_by_the_server(
        kube: Kube, shop: Shop, setup: Setup, credentials: Path) -> None:
    """On a real server, the Channel's ServiceAccount cannot reach past its Role whatever a
    release says, even with syncer's own lane check off (no `allowedNamespaces`): a
    ConfigMap of the release in a namespace where it has no Role is refused by the server
    (403): first its drift read (LIST), then, once it may read there, its dry-run write. The
    release Fails, its status and a ReleaseFailed Event name the place and the refusal, and
    nothing of the release is written anywhere (every dry run comes before any write)."""
    stray = (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n"
             f"  namespace: {setup.other}\ndata:\n  owner: someone-else\n")
    shop.allow_namespaces(setup.other)  # syncer.yaml allows it: only the server refuses
    publish_without_namespace(shop, extra=stray)
    apply_channel(kube, setup)
    before = configmap_names(kube, setup.other)

    syncer_run(setup, credentials, code=1)
    message = _failed(kube, setup)
    assert setup.other in message and HTTP_403.search(message), message
    assert "cannot list" in message, message

    rbac = kubernetes.client.RbacAuthorizationV1Api(kube.client)
    rbac.create_namespaced_role(setup.other, {
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]})
    _bind(kube, setup, setup.other, "reader")
    wait_until(partial(may_list_configmaps, kube, setup, setup.other),
               "the deployer's new Role to take effect", timeout=60)
    syncer_run(setup, credentials, code=1)
    message = _failed(kube, setup)
    assert f"ConfigMap/{setup.other}/stray" in message and HTTP_403.search(message), message

    assert configmap_names(kube, setup.other) == before
    assert "shop-config" not in configmap_names(kube, setup.app)
    assert absent(lambda: kube.apps.read_namespaced_deployment("web", setup.app))
    assert len(channel_events(kube, setup, "ReleaseFailed")) == 2
    assert not channel_events(kube, setup, "ReleaseApplied")


def _failed(kube: Kube, setup: Setup) -> str:
    """The message of the Channel's Ready condition, which must say release 2 Failed."""
    channel = read_channel(kube, setup)
    status = channel["status"]
    ready = condition(channel, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ReleaseFailed"), status
    assert "lastApplied" not in status, status
    assert status["history"][0]["seq"] == 2 and status["history"][0]["outcome"] == "Failed"
    assert ready["message"] == status["history"][0]["message"]
    return str(ready["message"])


def test_the_channel_status_is_a_subresource_and_reports_the_generation_it_saw(
        kube: Kube, shop: Shop, setup: Setup, kubeconfig: Path) -> None:
    """On a real server, the Channel CRD's status subresource: the controller's status
    writes do not bump `metadata.generation` nor touch the spec, an operator's spec change
    bumps it and leaves the status as it was (even a status in the operator's body is
    ignored), and the controller's next status has `observedGeneration` equal to the new
    generation, in the status and in each condition. (With the tests' own kubeconfig: the
    subresource is the subject here, not the RBAC.)"""
    publish_without_namespace(shop)
    created = apply_channel(kube, setup)
    assert created["metadata"]["generation"] == 1

    syncer_run(setup, kubeconfig)
    first = read_channel(kube, setup)
    assert first["metadata"]["generation"] == 1, first["metadata"]
    assert first["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    _assert_observed(first, 1)
    assert first["spec"] == created["spec"]

    changed = apply_channel(kube, setup, resync="10m")
    assert changed["metadata"]["generation"] == 2
    assert changed["status"] == first["status"]
    ignored = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Channel",
               "metadata": {"name": CHANNEL, "namespace": setup.team},
               "status": {"health": "Degraded", "observedGeneration": 99}}
    kube.custom.patch_namespaced_custom_object(GROUP, VERSION, setup.team, PLURAL, CHANNEL,
                                               ignored, field_manager="intruder",
                                               _content_type=APPLY_PATCH)
    assert read_channel(kube, setup)["status"] == first["status"]

    syncer_run(setup, kubeconfig)
    second = read_channel(kube, setup)
    assert second["metadata"]["generation"] == 2, second["metadata"]
    _assert_observed(second, 2)
    assert second["spec"]["resync"] == "10m"
    assert second["status"]["lastApplied"] == first["status"]["lastApplied"]


def _assert_observed(channel: dict[str, Any], generation: int) -> None:
    status = channel["status"]
    assert status["observedGeneration"] == generation, status
    assert {c["type"]: c["observedGeneration"] for c in status["conditions"]} == {
        "Ready": generation, "Reconciling": generation, "Stalled": generation}, status


# --- leader election -----------------------------------------------------------------------

TIMINGS = {"lease_s": 3, "renew_deadline_s": 2.0, "retry_s": 0.5}


@pytest.fixture
def lease_namespace(kube: Kube, names: Names) -> str:
    namespace = names.namespace("leader")
    kube.core.create_namespace({"metadata": {"name": namespace}})
    return namespace


def elector(kubeconfig: Path, namespace: str, identity: str) -> LeaderElector:
    """A replica's elector with a connection of its own, as `syncer run --leader-elect`
    makes it (requests bounded, not retried: the next step is the retry)."""
    config = ElectionConfig(namespace=namespace, identity=identity, **TIMINGS)  # type: ignore[arg-type]
    cluster = connect(kubeconfig=kubeconfig, timeout=1.0, retry=RetryPolicy(attempts=1))
    return LeaderElector(cluster, cluster.discover(), config, clock=SystemClock())


class Replica:
    """An elector stepping on a thread of its own (`LeaderElector.run`), on the real clock."""

    def __init__(self, elector: LeaderElector) -> None:
        self.elector = elector
        self.stop = threading.Event()
        self.thread = threading.Thread(target=elector.run, args=(self.stop,), daemon=True,
                                       name=elector.config.identity)
        self.thread.start()

    def halt(self) -> None:
        """Stop stepping and release the Lease, as a replica told to stop does."""
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def test_leader_election_on_the_real_server(kube: Kube, kubeconfig: Path,
                                            lease_namespace: str) -> None:
    """On a real server and the real clock (a 3 s Lease renewed every 0.5 s): of two
    replicas one leads and the other follows while it renews, for longer than the Lease
    lasts; the Lease carries the leader's identity, duration, MicroTimes (six fractional
    digits, as the server keeps them) and transitions; when the leader releases it, the
    follower takes over at its next step; the released Lease is left free."""
    cluster = connect(kubeconfig=kubeconfig)
    leases = cluster.discover().require("coordination.k8s.io", "Lease")
    a = Replica(elector(kubeconfig, lease_namespace, "replica-a"))
    wait_until(lambda: a.elector.is_leader, "replica-a to lead", timeout=30)
    b = Replica(elector(kubeconfig, lease_namespace, "replica-b"))
    try:
        first = _lease(cluster, leases, lease_namespace)
        _check_lease(first, holder="replica-a", duration=3, transitions=0)
        time.sleep(2 * TIMINGS["lease_s"])  # past a whole Lease: the renewals keep it
        renewed = _lease(cluster, leases, lease_namespace)
        _check_lease(renewed, holder="replica-a", duration=3, transitions=0)
        assert renewed["spec"]["renewTime"] > first["spec"]["renewTime"]
        assert renewed["spec"]["acquireTime"] == first["spec"]["acquireTime"]
        assert a.elector.is_leader and not b.elector.is_leader
        assert b.elector.leader() == "replica-a"

        a.halt()
        assert not a.elector.is_leader
        wait_until(lambda: b.elector.is_leader, "replica-b to take over", timeout=10)
        taken = _lease(cluster, leases, lease_namespace)
        _check_lease(taken, holder="replica-b", duration=3, transitions=1)
        assert taken["spec"]["acquireTime"] > renewed["spec"]["acquireTime"]
    finally:
        a.halt()
        b.halt()
    freed = _lease(cluster, leases, lease_namespace)
    assert freed["spec"].get("holderIdentity", "") == ""
    assert freed["spec"]["leaseDurationSeconds"] == 1
    assert freed["spec"]["leaseTransitions"] == 1


def _lease(cluster: KubeCluster, leases: Any, namespace: str) -> dict[str, Any]:
    """The leader Lease as the server returns it (JSON, times as text)."""
    found = cluster.get(leases, namespace=namespace, name="syncer-leader")
    assert found is not None
    return found


def _check_lease(lease: dict[str, Any], *, holder: str, duration: int,
                 transitions: int) -> None:
    spec = lease["spec"]
    assert spec["holderIdentity"] == holder, spec
    assert spec["leaseDurationSeconds"] == duration, spec
    assert spec.get("leaseTransitions", 0) == transitions, spec
    for key in ("acquireTime", "renewTime"):
        assert MICROTIME.fullmatch(spec[key]), spec
