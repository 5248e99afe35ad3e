"""Policies where they are checked: `syncer publish` refuses before anything is stored, a sync
refuses a release that breaks one, `syncer policy test` and `syncer policy install` (against
the Kubernetes API stand-in)."""

from __future__ import annotations

import shutil
from pathlib import Path

import kubernetes
import pytest
from helpers import git, one_line, run
from syncer_standins.kubeapi import KubeApiServer

from syncer import bundle, keys
from syncer.blobstore.local import LocalBlobStore
from syncer.errors import PolicyError
from syncer.gitsource import open_repo, read_commit
from syncer.ledger.local import LocalLedger
from syncer.publish import PublishOptions, publish
from syncer.reconcile import load

ROOT = Path(__file__).parents[2]
LATEST = ("          image: {{ values.image.repository }}:{{ values.image.tag }}\n",
          "          image: nginx:latest\n")


@pytest.fixture
def local(tmp_path: Path) -> tuple[keys.Keypair, LocalBlobStore, LocalLedger]:
    key = keys.generate()
    ledger = LocalLedger(tmp_path / "ledger.sqlite")
    ledger.register_channel("shop-dev", admin=key, publishers=[key.public_key])
    return key, LocalBlobStore(tmp_path / "blobs"), ledger


def use_latest(repo: Path) -> None:
    path = repo / "templates" / "deployment.yaml.j2"
    path.write_text(path.read_text().replace(*LATEST))
    git(repo, "commit", "-qam", "Run whatever nginx is newest")


def test_publish_refuses_a_violating_commit_and_stores_nothing(
        app_repo: Path, local: tuple[keys.Keypair, LocalBlobStore, LocalLedger]) -> None:
    key, blobs, ledger = local
    use_latest(app_repo)
    with pytest.raises(PolicyError) as caught:
        publish(open_repo(app_repo), key=key, blobs=blobs, ledger=ledger,
                options=PublishOptions(channels=("shop-dev",)))
    assert str(caught.value) == (
        f"channel shop-dev at {git(app_repo, 'rev-parse', 'HEAD')[:12]}: Deployment/web: "
        "ValidatingAdmissionPolicy 'syncer-no-latest-image' with binding "
        "'syncer-no-latest-image' denied request: container web has image nginx:latest, "
        "which is untagged or :latest: name a version tag or a digest")
    assert ledger.history("shop-dev") == []
    assert not (blobs.root.exists() and any(blobs.root.iterdir()))


def test_a_sync_refuses_a_release_that_breaks_a_policy(
        app_repo: Path, local: tuple[keys.Keypair, LocalBlobStore, LocalLedger]) -> None:
    """A release recorded by another tool (or an older syncer) is checked again at sync."""
    key, blobs, ledger = local
    use_latest(app_repo)
    info, files = read_commit(open_repo(app_repo), "HEAD", sources=["templates", "values"])
    stored = blobs.put(bundle.build(info, files))
    release = ledger.publish("shop-dev", blob_id=stored.blob_id, sha256=stored.sha256,
                             commit=info.commit, key=key)
    with pytest.raises(PolicyError, match=r"^release 1 of shop-dev: Deployment/web: "
                                          r"ValidatingAdmissionPolicy 'syncer-no-latest"):
        load(release, blobs=blobs)


# --- syncer policy test ---------------------------------------------------------------------

@pytest.fixture
def policies(tmp_path: Path) -> Path:
    """A copy of the repository's example policies/ directory."""
    path = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", path)
    return path


def test_policy_test_passes_on_the_example(policies: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "test", str(policies))
    assert code == 0
    assert "shop.yaml  shop-max-replicas       Deployment/too-many  deny      deny   pass" in out
    assert out.splitlines()[-1] == "5 passed, 0 failed"


def test_policy_test_exits_1_on_a_mismatch(policies: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    test = policies / "tests" / "shop.yaml"
    test.write_text(test.read_text().replace(
        "{policy: shop-team-label, resource: Deployment/too-many, result: warn",
        "{policy: shop-team-label, resource: Deployment/too-many, result: admit"))
    code, out, _ = run(capsys, "policy", "test", str(policies))
    assert code == 1
    assert "Deployment/too-many  admit     warn   FAIL" in out
    assert "4 passed, 1 failed" in out


@pytest.mark.parametrize(("change", "problem"), [
    (("result: deny", "result: refuse"), "result must be one of admit, deny, warn"),
    (("fixtures/deployments.yaml", "fixtures/absent.yaml"), "absent.yaml: cannot be read"),
    (("policy: shop-max-replicas, resource: Deployment/web",
      "policy: shop-max-replicas, resource: Deployment/nope"), "no resource 'Deployment/nope'"),
])
def test_policy_test_exits_2_on_bad_input(policies: Path, capsys: pytest.CaptureFixture[str],
                                          change: tuple[str, str], problem: str) -> None:
    test = policies / "tests" / "shop.yaml"
    test.write_text(test.read_text().replace(*change, 1))
    code, _, err = run(capsys, "policy", "test", str(policies))
    assert code == 2 and problem in one_line(err)


def test_policy_test_of_the_default_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "test", "--defaults")
    assert code == 0 and out.splitlines()[-1] == "13 passed, 0 failed"


# --- syncer policy install ------------------------------------------------------------------

def test_policy_install_prints_all_but_the_bundle_only_policy(
        policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "policy", "install", str(policies))
    assert code == 0
    assert "syncer-no-plaintext-secret" not in out and "name: shop-max-replicas" in out
    assert "name: syncer-no-latest-image" in out and "name: replica-limits" in out
    assert err == ("syncer: skipped syncer-no-plaintext-secret: bundle-only (a cluster sees "
                   "Secrets decrypted)\n")


def test_policy_install_applies_them_and_the_server_enforces(
        api: KubeApiServer, core: kubernetes.client.CoreV1Api, policies: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    core.create_namespace({"metadata": {"name": "syncer-system"}})
    code, out, err = run(capsys, "policy", "install", str(policies), "--apply")
    assert code == 0, out + err
    admission = kubernetes.client.AdmissionregistrationV1Api(core.api_client)
    names = {p.metadata.name for p in
             admission.list_validating_admission_policy().items}
    assert names == {"syncer-no-latest-image", "syncer-require-resources",
                     "syncer-no-privileged", "syncer-run-as-non-root",
                     "syncer-namespace-allowlist", "shop-max-replicas", "shop-team-label"}
    assert run(capsys, "policy", "install", str(policies), "--apply")[0] == 0
    pod = {"metadata": {"name": "p", "labels": {"app.kubernetes.io/managed-by": "syncer"}},
           "spec": {"securityContext": {"runAsNonRoot": True}, "containers": [
               {"name": "c", "image": "nginx:latest", "resources": {
                   "requests": {"cpu": "1m", "memory": "1Mi"}, "limits": {"memory": "1Mi"}}}]}}
    core.create_namespace({"metadata": {"name": "shop"}})
    with pytest.raises(kubernetes.client.ApiException) as caught:
        core.create_namespaced_pod("shop", pod, dry_run="All")
    assert "syncer-no-latest-image" in str(caught.value.body)
    deployment = {"metadata": {"name": "d", "labels": {"team": "shop"}}, "spec": {
        "replicas": 8, "selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}}, "spec": pod["spec"]}}}
    apps = kubernetes.client.AppsV1Api(core.api_client)
    with pytest.raises(kubernetes.client.ApiException) as caught:
        apps.create_namespaced_deployment("shop", deployment, dry_run="All")
    assert "asks for 8 replicas, more than 5" in str(caught.value.body)  # params from the CM
