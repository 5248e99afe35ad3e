"""Shared fixtures: real git repositories made from the example app, an isolated
$SYNCER_HOME, and the Kubernetes API stand-in (no kube-apiserver can run here; the
stand-in's own tests replay transcripts recorded against a real one)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
from helpers import git, push_with_hook
from syncer_standins.kubeapi import KubeApiServer

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "shop"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty $SYNCER_HOME for this test."""
    path = tmp_path / "syncer-home"
    monkeypatch.setenv("SYNCER_HOME", str(path))
    monkeypatch.delenv("SYNCER_CHANNEL", raising=False)
    return path


@pytest.fixture
def app_repo(tmp_path: Path) -> Path:
    """A git repository holding the example app, one commit on main."""
    repo = tmp_path / "app"
    shutil.copytree(EXAMPLE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial shop deployment")
    return repo


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeApiServer]:
    """The API stand-in on 127.0.0.1, with $KUBECONFIG pointing at it."""
    with KubeApiServer() as server:
        config = server.write_kubeconfig(tmp_path / "kubeconfig")
        monkeypatch.setenv("KUBECONFIG", str(config))
        yield server


@pytest.fixture
def core(api: KubeApiServer, tmp_path: Path) -> kubernetes.client.CoreV1Api:
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(tmp_path / "kubeconfig"),
                                       client_configuration=config)
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(config))


@pytest.fixture
def apps(core: kubernetes.client.CoreV1Api) -> kubernetes.client.AppsV1Api:
    return kubernetes.client.AppsV1Api(core.api_client)


@pytest.fixture
def pushed(app_repo: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Path:
    """The example app with syncer initialised, the hook installed and main pushed once."""
    monkeypatch.chdir(app_repo)
    monkeypatch.setenv("SYNCER_CHANNEL", "shop-dev")
    push_with_hook(app_repo, home, tmp_path)
    capsys.readouterr()
    return app_repo
