"""Helpers of the cluster tier: unique names, waiting with a deadline, cleanup, and the
example app as a git repository whose syncer commands reach the cluster under test.

Nothing here assumes how fast the cluster is or what else it holds: every wait polls until a
deadline, and cleanup finds what a test made by its unique name prefix (namespaces) or CRD
group, never by anything another user of the cluster could also have.
"""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import urllib3
import yaml
from helpers import Run, commit_and_push, edit, run

ENV_VAR = "SYNCER_TEST_KUBECONFIG"
GROUP_DOMAIN = "syncer-test.example.com"
DEADLINE = 300.0
"""Seconds to wait for the cluster (a namespace with running pods can take a while to go)."""
APPLY_PATCH = "application/apply-patch+yaml"
CHANNEL = "shop-dev"
DIFF_FIXTURES = Path(__file__).parents[1] / "testdata" / "diff"

ApiException = kubernetes.client.exceptions.ApiException


def wait_until(check: Callable[[], bool], what: str, *, timeout: float = DEADLINE) -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)


def absent(read: Callable[[], object]) -> bool:
    """Whether `read` answers 404 (any other error is raised)."""
    try:
        read()
    except ApiException as e:
        if e.status == 404:
            return True
        raise
    return False


@dataclass(frozen=True)
class Names:
    """One test's names: namespaces under `prefix`, CRDs in `group` (both unique per run)."""

    prefix: str
    group: str

    def namespace(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        assert len(name) <= 63, f"namespace name too long: {name}"
        return name

    @property
    def app(self) -> str:
        """The namespace of the example app's channel shop-dev."""
        return self.namespace(CHANNEL)

    @property
    def inventory(self) -> str:
        """Where syncer keeps the channel's inventory ConfigMap (`--inventory-namespace`)."""
        return self.namespace("inventory")

    def owns_namespace(self, name: str) -> bool:
        return name == self.prefix or name.startswith(f"{self.prefix}-")

    def owns_group(self, group: str) -> bool:
        return group == self.group or group.endswith(f".{self.group}")


class Kube:
    """The cluster under test, through the official client."""

    def __init__(self, client: kubernetes.client.ApiClient) -> None:
        self.client = client
        self.core = kubernetes.client.CoreV1Api(client)
        self.apps = kubernetes.client.AppsV1Api(client)
        self.extensions = kubernetes.client.ApiextensionsV1Api(client)
        self.custom = kubernetes.client.CustomObjectsApi(client)

    def apply_as(self, manager: str, obj: Mapping[str, Any]) -> None:
        """Server-side apply of `obj` (a ConfigMap or a Deployment) by another field manager."""
        patch = {"ConfigMap": self.core.patch_namespaced_config_map,
                 "Deployment": self.apps.patch_namespaced_deployment}[obj["kind"]]
        meta = obj["metadata"]
        patch(meta["name"], meta["namespace"], dict(obj), field_manager=manager,
              _content_type=APPLY_PATCH)

    def remove_all(self, names: Names) -> None:
        """Delete every namespace and CRD that `names` owns and wait until they are gone.

        Every step is attempted even if another fails; the failures are raised at the end.
        """
        all_namespaces: list[Any] = self.core.list_namespace().items
        all_crds: list[Any] = self.extensions.list_custom_resource_definition().items
        namespaces = [str(n.metadata.name) for n in all_namespaces
                      if names.owns_namespace(str(n.metadata.name))]
        crds = [str(c.metadata.name) for c in all_crds if names.owns_group(str(c.spec.group))]
        failures: list[str] = []
        for name in crds:
            _attempt(failures, partial(self.extensions.delete_custom_resource_definition, name))
        for name in namespaces:
            _attempt(failures, partial(self.core.delete_namespace, name))
        for name in crds:
            _attempt(failures, partial(wait_until, partial(self.crd_gone, name),
                                       f"CRD {name} to be deleted"))
        for name in namespaces:
            _attempt(failures, partial(wait_until, partial(self.namespace_gone, name),
                                       f"namespace {name} to be deleted"))
        if failures:
            raise AssertionError("cleanup left things behind: " + "; ".join(failures))

    def crd_gone(self, name: str) -> bool:
        return absent(lambda: self.extensions.read_custom_resource_definition(name))

    def namespace_gone(self, name: str) -> bool:
        return absent(lambda: self.core.read_namespace(name))


def _attempt(failures: list[str], action: Callable[[], object]) -> None:
    """Run one cleanup step; note its failure in `failures` instead of raising."""
    try:
        action()
    except ApiException as e:
        # 404: gone already. 409: a namespace already terminating ("the system is ensuring
        # all content is removed from this namespace").
        if e.status not in (404, 409):
            failures.append(f"{e.status} {e.reason}: {str(e.body)[:200]}")
    except (AssertionError, urllib3.exceptions.HTTPError) as e:
        failures.append(str(e))


class Shop:
    """The example app (examples/shop) in a git repository with a bare remote and the
    pre-push hook, its channel `shop-dev` deploying to this test's namespace."""

    def __init__(self, repo: Path, home: Path, names: Names,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.repo = repo
        self.home = home
        self.names = names
        self.namespace = names.app
        self.capsys = capsys

    def push(self, message: str) -> None:
        """Commit everything and push: the hook publishes the next release."""
        commit_and_push(self.repo, self.home, message)

    def write(self, path: str, text: str) -> None:
        (self.repo / path).write_text(text)

    def remove(self, path: str) -> None:
        (self.repo / path).unlink()

    def edit(self, path: str, old: str, new: str) -> None:
        edit(self.repo / path, old, new)

    def allow_namespaces(self, *namespaces: str) -> None:
        """Let shop-dev's objects go to these namespaces too (syncer.yaml `namespaces`, which
        the default namespace-allowlist policy reads)."""
        self.edit("syncer.yaml", f"    namespace: {self.namespace}\n",
                  f"    namespace: {self.namespace}\n    namespaces: [{', '.join(namespaces)}]\n")

    def syncer(self, *args: str) -> Run:
        """`syncer ARGS`: exit code, stdout, stderr."""
        return run(self.capsys, *args)

    def sync(self, *args: str) -> Run:
        return self.syncer("sync", "--inventory-namespace", self.names.inventory, *args)

    def diff(self, *args: str) -> Run:
        return self.syncer("diff", "--inventory-namespace", self.names.inventory, *args)

    def synced(self) -> str:
        """`syncer sync`, which must succeed: what it printed."""
        code, out, err = self.sync()
        assert code == 0, f"syncer sync exited {code}: {err}"
        return out

    def assert_no_diff(self) -> None:
        """`syncer diff` finds nothing to change: exit 0, no output."""
        code, out, err = self.diff()
        assert (code, out) == (0, ""), f"syncer diff exited {code}:\n{out}{err}"


def changed_lines(diff: str) -> list[str]:
    """The removed and added lines of a unified diff, without its file headers."""
    return [line for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("---", "+++"))]


def diff_fixture_objects(names: Names) -> dict[str, list[dict[str, Any]]]:
    """The desired objects of tests/testdata/diff (identical ones once), each in a namespace
    of its own named after its fixture, since they share names: fixture name → the
    namespace and the object. Secrets lose their values, which no release may carry (the
    no-plaintext-secret rule), and pod templates get what the default policies require
    (`compliant`)."""
    out: dict[str, list[dict[str, Any]]] = {}
    seen: list[dict[str, Any]] = []
    for path in sorted(DIFF_FIXTURES.glob("*.yaml")):
        desired = compliant(yaml.safe_load(path.read_text())["desired"])
        if desired["kind"] == "Secret":
            desired = {k: v for k, v in desired.items() if k not in ("data", "stringData")}
        if desired in seen:
            continue
        seen.append(desired)
        namespace = names.namespace(path.stem)
        if desired["kind"] == "Namespace":
            out[path.stem] = [{**desired, "metadata": {**desired["metadata"], "name": namespace}}]
        else:
            out[path.stem] = [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                {**desired, "metadata": {**desired["metadata"], "namespace": namespace}}]
    return out


def compliant(obj: dict[str, Any]) -> dict[str, Any]:
    """A workload with what syncer's default policies require where it has none: runAsNonRoot
    on the pod, cpu and memory requests and a memory limit on each container."""
    template = (obj.get("spec") or {}).get("template")
    if obj.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet") or not template:
        return obj
    pod = template.setdefault("spec", {})
    pod.setdefault("securityContext", {}).setdefault("runAsNonRoot", True)
    for container in pod.get("containers") or []:
        resources = container.setdefault("resources", {})
        resources.setdefault("requests", {}).setdefault("cpu", "10m")
        resources["requests"].setdefault("memory", "16Mi")
        resources.setdefault("limits", {}).setdefault("memory", "1Gi")
    return obj


def kinds_of(objects: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(o["kind"]) for o in objects}


@contextmanager
def exclusive(kube: Kube, what: str) -> Iterator[None]:
    """Hold the lock `what` of the cluster under test against the other processes of this
    machine (the pytest-xdist workers, one per test file): for what tests must not share
    at once because it is cluster-wide and not theirs by name, such as syncer's own Channel
    CRD, which a test installs and deletes. Released when the block ends."""
    server = hashlib.sha256(str(kube.client.configuration.host).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"syncer-cluster-tier-{server}-{what}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def token_kubeconfig(kube: Kube, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig at `path` holding a token of the ServiceAccount `namespace/name`
    (TokenRequest), as a pod's mounted token; skips when the server cannot issue one."""
    request = kubernetes.client.AuthenticationV1TokenRequest(
        spec=kubernetes.client.V1TokenRequestSpec(audiences=[], expiration_seconds=600))
    try:
        token = kube.core.create_namespaced_service_account_token(name, namespace,
                                                                  request).status.token
    except kubernetes.client.exceptions.ApiException as e:
        if e.status in (404, 405):
            pytest.skip(f"this server cannot issue a ServiceAccount token (TokenRequest "
                        f"answered {e.status} {e.reason}): the install's RBAC is tried with "
                        "the ServiceAccount's own token on a real cluster only")
        raise
    config = kube.client.configuration
    cluster: dict[str, Any] = {"server": config.host}
    if config.ssl_ca_cert:
        cluster["certificate-authority"] = config.ssl_ca_cert
    elif not config.verify_ssl:
        cluster["insecure-skip-tls-verify"] = True
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "syncer",
        "clusters": [{"name": "cluster", "cluster": cluster}],
        "users": [{"name": "syncer", "user": {"token": token}}],
        "contexts": [{"name": "syncer", "context": {"cluster": "cluster", "user": "syncer"}}]}))
    return path
