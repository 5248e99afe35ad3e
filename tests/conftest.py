"""Shared fixtures: real git repositories made from the example app, isolated $SYNCER_HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "shop"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full = {**os.environ, **GIT_ENV, **(env or {})}
    done = subprocess.run(["git", "-C", str(repo), *args], env=full, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty $SYNCER_HOME for this test."""
    path = tmp_path / "syncer-home"
    monkeypatch.setenv("SYNCER_HOME", str(path))
    monkeypatch.delenv("SYNCER_CHANNEL", raising=False)
    return path


@pytest.fixture
def app_repo(tmp_path: Path) -> Iterator[Path]:
    """A git repository holding the example app, one commit on main."""
    repo = tmp_path / "app"
    shutil.copytree(EXAMPLE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial shop deployment")
    yield repo
