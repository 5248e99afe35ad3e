"""Shared fixtures: real git repositories made from the example app, an isolated
$SYNCER_HOME, and the Kubernetes API stand-in (no kube-apiserver can run here; the
stand-in's own tests replay transcripts recorded against a real one)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, edit, git, push_with_hook
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


_PUSH_SETTINGS = ("SYNCER_PROFILE", "SYNCER_KEY", "SYNCER_BIN")
"""What syncer reads from the environment, besides $SYNCER_HOME and $SYNCER_CHANNEL."""


@pytest.fixture(scope="session")
def pushed_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `pushed` makes, made once per test process: a folder holding `app` (the example
    app, syncer initialised, the hook installed, main pushed), `syncer-home` (its key,
    ledger with release 1, blob store) and `remote.git`. A push costs seconds, most of
    them the Walrus blob ID's erasure coding; a copy of the result, milliseconds."""
    base = tmp_path_factory.mktemp("pushed-once")
    repo, home = base / "app", base / "syncer-home"
    shutil.copytree(EXAMPLE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial shop deployment")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNCER_HOME", str(home))
        patch.setenv("SYNCER_CHANNEL", "shop-dev")
        patch.chdir(repo)
        push_with_hook(repo, home, base)
    return base


@pytest.fixture
def pushed(app_repo: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str], pushed_once: Path) -> Path:
    """The example app with syncer initialised, the hook installed and main pushed once
    (release 1 of shop-dev): a copy of `pushed_once` of this test's own, its remote
    pointed at its own copy of the bare repository. A test that prepared its $SYNCER_HOME
    or set what a push reads (a profile of its own, a key, another syncer) pushes itself."""
    monkeypatch.chdir(app_repo)
    monkeypatch.setenv("SYNCER_CHANNEL", "shop-dev")
    if home.exists() or any(os.environ.get(k) for k in _PUSH_SETTINGS):
        push_with_hook(app_repo, home, tmp_path)
        capsys.readouterr()
        return app_repo
    _copy_pushed(pushed_once, app_repo, home, tmp_path)
    monkeypatch.chdir(app_repo)
    capsys.readouterr()
    return app_repo


def _copy_pushed(made: Path, app_repo: Path, home: Path, tmp_path: Path) -> None:
    """This test's own copy of a pushed app, home and remote made once (`pushed_once`)."""
    for path in (app_repo, home, tmp_path / "remote.git"):
        if path.exists():
            shutil.rmtree(path)
    shutil.copytree(made / "app", app_repo, symlinks=True)
    shutil.copytree(made / "syncer-home", home, symlinks=True)
    shutil.copytree(made / "remote.git", tmp_path / "remote.git", symlinks=True)
    git(app_repo, "remote", "set-url", "origin", str(tmp_path / "remote.git"))


def debug_logging(repo: Path, home: Path) -> None:
    """Release 2: shop-config's LOG_LEVEL becomes debug (a commit, pushed by the hook)."""
    edit(repo / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    commit_and_push(repo, home, "Debug logs")


@pytest.fixture(scope="session")
def pushed_twice_once(pushed_once: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pushed_once` and then release 2 (`debug_logging`), made once per test process."""
    base = tmp_path_factory.mktemp("pushed-twice")
    repo, home = base / "app", base / "syncer-home"
    _copy_pushed(pushed_once, repo, home, base)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNCER_HOME", str(home))
        patch.setenv("SYNCER_CHANNEL", "shop-dev")
        patch.chdir(repo)
        debug_logging(repo, home)
    return base


@pytest.fixture
def pushed_twice(app_repo: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str], pushed_twice_once: Path) -> Path:
    """As `pushed`, and then release 2 of shop-dev (`debug_logging`), neither synced: a copy
    of `pushed_twice_once`, or pushed here when `pushed` would push by itself."""
    monkeypatch.chdir(app_repo)
    monkeypatch.setenv("SYNCER_CHANNEL", "shop-dev")
    if home.exists() or any(os.environ.get(k) for k in _PUSH_SETTINGS):
        push_with_hook(app_repo, home, tmp_path)
        debug_logging(app_repo, home)
    else:
        _copy_pushed(pushed_twice_once, app_repo, home, tmp_path)
        monkeypatch.chdir(app_repo)
    capsys.readouterr()
    return app_repo
