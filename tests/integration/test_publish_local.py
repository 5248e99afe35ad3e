"""The write path on the embedded backends, with real git repositories."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers import git

from syncer import keys
from syncer.blobstore import blob_id_of
from syncer.blobstore.local import LocalBlobStore
from syncer.bundle import unpack
from syncer.errors import (
    BlobIntegrityError,
    BundleError,
    ConfigError,
    GitError,
    PolicyError,
    RenderError,
    RuleViolationError,
)
from syncer.gitsource import open_repo, read_commit
from syncer.ledger.local import LocalLedger
from syncer.publish import PublishOptions, publish, rebuild

Backends = tuple[keys.Keypair, LocalBlobStore, LocalLedger]


@pytest.fixture
def backends(tmp_path: Path) -> Backends:
    key = keys.generate()
    ledger = LocalLedger(tmp_path / "ledger.sqlite")
    for channel in ("shop-dev", "shop-prod"):
        ledger.register_channel(channel, admin=key, publishers=[key.public_key])
    return key, LocalBlobStore(tmp_path / "blobs"), ledger


def _publish(repo: Path, backends: Backends, **options: object) -> list[int]:
    key, blobs, ledger = backends
    opts = PublishOptions(**{"branch": "main", **options})  # type: ignore[arg-type]
    return [p.release.seq for p in publish(open_repo(repo), key=key, blobs=blobs,
                                           ledger=ledger, options=opts)]


def test_reads_the_commit_not_the_work_tree(app_repo: Path) -> None:
    (app_repo / "values" / "dev.yaml").write_text("uncommitted: true\n")
    info, files = read_commit(open_repo(app_repo), "HEAD", sources=["templates", "values"])
    assert b"uncommitted" not in files["values/dev.yaml"]
    assert info.author == "Ada Lovelace" and info.message.startswith("Initial shop")
    assert "syncer.yaml" in files and all(
        p == "syncer.yaml" or p.startswith(("templates/", "values/")) for p in files)


def test_same_commit_same_blob_and_no_new_release(app_repo: Path, backends: Backends) -> None:
    _, blobs, ledger = backends
    assert _publish(app_repo, backends) == [1]
    assert _publish(app_repo, backends) == [1]
    assert len(ledger.history("shop-dev")) == 1
    assert ledger.history("shop-prod") == []
    head = ledger.head("shop-dev")
    assert head is not None and head.commit == git(app_repo, "rev-parse", "HEAD")
    data = blobs.get(head.blob_id, sha256=head.sha256)
    assert blob_id_of(data) == head.blob_id
    assert unpack(data).manifest.source.author_email == "ada@example.com"


def test_new_commit_new_release(app_repo: Path, backends: Backends) -> None:
    _publish(app_repo, backends)
    (app_repo / "values" / "dev.yaml").write_text("env: dev\nreplicas: 2\nlogLevel: info\n")
    git(app_repo, "commit", "-qam", "Two replicas")
    assert _publish(app_repo, backends) == [2]
    assert _publish(app_repo, backends, channels=("shop-prod",)) == [1]


def test_a_release_is_rebuilt_from_its_commit_byte_for_byte(app_repo: Path,
                                                              backends: Backends) -> None:
    _, blobs, ledger = backends
    _publish(app_repo, backends)
    (app_repo / "values" / "dev.yaml").write_text("env: dev\nreplicas: 2\nlogLevel: info\n")
    git(app_repo, "commit", "-qam", "Two replicas")
    first = ledger.release("shop-dev", 1)
    assert rebuild(open_repo(app_repo), first) == blobs.get(first.blob_id, sha256=first.sha256)
    other = dataclasses.replace(first, commit=git(app_repo, "rev-parse", "HEAD"))
    with pytest.raises(BlobIntegrityError, match=f"blob {first.blob_id}: SHA-256"):
        rebuild(open_repo(app_repo), other)


def test_replaced_blob_bytes_are_refused(app_repo: Path, backends: Backends) -> None:
    _, blobs, ledger = backends
    _publish(app_repo, backends)
    head = ledger.head("shop-dev")
    assert head is not None
    path = blobs.root / head.blob_id
    path.write_bytes(path.read_bytes().replace(b"info", b"warn"))
    with pytest.raises(BlobIntegrityError, match=f"blob {head.blob_id}: SHA-256"):
        blobs.get(head.blob_id, sha256=head.sha256)


def test_unknown_publisher_refused_nothing_recorded(app_repo: Path, backends: Backends) -> None:
    _, blobs, ledger = backends
    with pytest.raises(RuleViolationError, match="is not allowed to publish"):
        _publish(app_repo, (keys.generate(), blobs, ledger))
    assert ledger.history("shop-dev") == []
    assert not (blobs.root.exists() and any(blobs.root.iterdir()))  # no blob left behind


def test_plaintext_secret_refused_at_publish(app_repo: Path, backends: Backends) -> None:
    (app_repo / "templates" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n")
    git(app_repo, "add", "-A")
    git(app_repo, "commit", "-qm", "Add a secret")
    with pytest.raises(PolicyError, match="Secret/db") as caught:
        _publish(app_repo, backends)
    assert "hunter2" not in str(caught.value)
    assert not (backends[1].root.exists() and any(backends[1].root.iterdir()))


def test_template_error_names_file_and_line(app_repo: Path, backends: Backends) -> None:
    path = app_repo / "templates" / "configmap.yaml.j2"
    path.write_text(path.read_text().replace("values.greeting", "values.greting"))
    git(app_repo, "commit", "-qam", "Typo")
    with pytest.raises(RenderError, match=r"^templates/configmap.yaml.j2:7: .*'greting'"):
        _publish(app_repo, backends)
    assert backends[2].history("shop-dev") == []


BOMB = "".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]\n"]
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 9)])


@pytest.mark.parametrize("where", ["templates/bomb.yaml", "values/common.yaml"])
def test_an_alias_bomb_is_refused_at_publish(app_repo: Path, backends: Backends,
                                             where: str) -> None:
    """A 1 KB bomb in a manifest or a values file: refused in one line, nothing stored."""
    if where.startswith("templates"):
        body = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: boom}}\n{BOMB}"
    else:
        body = (app_repo / where).read_text() + BOMB
    (app_repo / where).write_text(body)
    git(app_repo, "add", "-A")
    git(app_repo, "commit", "-qm", "Billion laughs")
    with pytest.raises(RenderError, match=rf"^{where}:\d+: expands to more than"):
        _publish(app_repo, backends)
    assert backends[2].history("shop-dev") == []
    assert not (backends[1].root.exists() and any(backends[1].root.iterdir()))


@pytest.mark.parametrize(("manifest", "words"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
     r"ConfigMap/shop-dev/Bad_Name: metadata.name 'Bad_Name' must be a DNS subdomain"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a/b}\n", "cannot be a name"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: 9lives}\nspec: {ports: [{port: 1}]}\n",
     "must be a DNS label"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok, namespace: Not_A_Namespace}\n",
     "metadata.namespace 'Not_A_Namespace' is not a valid namespace name"),
    ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
     "metadata: {name: reader, namespace: shop-dev}\n", "is cluster-scoped"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-config, namespace: shop-dev}\n",
     "duplicate object once namespaces are set"),
])
def test_a_release_that_could_never_sync_is_refused_at_publish(
        app_repo: Path, backends: Backends, manifest: str, words: str) -> None:
    """Issue 8, finding 10: such releases were published, then every sync failed."""
    (app_repo / "templates" / "extra.yaml").write_text(manifest)
    git(app_repo, "add", "-A")
    git(app_repo, "commit", "-qm", "Something the API server refuses")
    with pytest.raises(RenderError, match=rf"^channel shop-dev at [0-9a-f]{{12}}: .*{words}"):
        _publish(app_repo, backends)
    assert backends[2].history("shop-dev") == []
    assert not (backends[1].root.exists() and any(backends[1].root.iterdir()))


def test_a_release_crd_decides_its_kinds_scope_at_publish(app_repo: Path,
                                                          backends: Backends) -> None:
    (app_repo / "templates" / "crd.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: gizmos.example.com}\nspec: {group: example.com, scope: Cluster,\n"
        "  names: {kind: Gizmo, plural: gizmos}, versions: []}\n---\n"
        "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g, namespace: shop-dev}\n")
    git(app_repo, "add", "-A")
    git(app_repo, "commit", "-qm", "A cluster-scoped kind given a namespace")
    with pytest.raises(RenderError, match="Gizmo/shop-dev/g: is cluster-scoped"):
        _publish(app_repo, backends)


def test_empty_release_refused(app_repo: Path, backends: Backends) -> None:
    git(app_repo, "rm", "-rq", "templates")
    git(app_repo, "commit", "-qm", "Remove everything")
    with pytest.raises(PolicyError, match="renders no objects"):
        _publish(app_repo, backends)


def test_no_channel_for_branch_and_bad_commit(app_repo: Path, backends: Backends) -> None:
    with pytest.raises(ConfigError, match="no channel follows branch 'feature'"):
        _publish(app_repo, backends, branch="feature")
    with pytest.raises(GitError, match="no commit 'nope'"):
        _publish(app_repo, backends, rev="nope")


def test_symlink_in_sources_refused(app_repo: Path, backends: Backends) -> None:
    (app_repo / "templates" / "link.yaml").symlink_to("/etc/passwd")
    git(app_repo, "add", "-A")
    git(app_repo, "commit", "-qm", "A link")
    with pytest.raises(BundleError, match="templates/link.yaml: symbolic links"):
        _publish(app_repo, backends)
