"""Helpers shared by the tests: git with fixed identities, the CLI run in-process, the
pre-push hook installed and pushed, the Widget CRD of tests/testdata."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from syncer.cli import main

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}

Run = tuple[int, str, str]


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full = {**os.environ, **GIT_ENV, **(env or {})}
    done = subprocess.run(["git", "-C", str(repo), *args], env=full, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """`syncer ARGS` in-process: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def commit_and_push(repo: Path, home: Path, message: str, *,
                    author: str = "Grace Hopper") -> None:
    """Commit everything and push main: the installed pre-push hook publishes."""
    env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "grace@example.com",
           "SYNCER_HOME": str(home)}
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env=env)
    git(repo, "push", "-q", "origin", "main", env=env)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def push_with_hook(repo: Path, home: Path, tmp_path: Path) -> None:
    """`syncer init` and `syncer hooks install` in `repo` (the working directory), a bare
    remote, then `git push` of main: the hook publishes release 1."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    assert main(["init"]) == 0
    assert main(["hooks", "install"]) == 0
    git(repo, "push", "-q", "origin", "main", env={"SYNCER_HOME": str(home)})


def widget_crd(group: str = "example.com") -> str:
    """The CRD of kind Widget (spec.size an integer) in `group`."""
    text = (Path(__file__).parent / "testdata" / "crd-widgets.yaml").read_text()
    return text.replace("example.com", group)


def one_line(stderr: str) -> str:
    """The one `syncer: error: …` line a failing command prints; fails on anything else."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("syncer: error: "), stderr
    return lines[0]
