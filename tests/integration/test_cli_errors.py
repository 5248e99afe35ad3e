"""Every failure is one line on stderr and exit 2; `--debug` adds the traceback and keeps
the exit code (issue 8, finding 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git, one_line, run

Done = subprocess.CompletedProcess[bytes]


def syncer(*args: str | bytes, cwd: Path, env: dict[str, str]) -> Done:
    return subprocess.run([sys.executable, "-m", "syncer", *args], cwd=cwd, capture_output=True,
                          env={**os.environ, **env}, check=False)


def test_a_template_that_includes_itself(app_repo: Path, home: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(app_repo)
    assert run(capsys, "init")[0] == 0
    (app_repo / "templates" / "loop.yaml.j2").write_text('{% include "templates/loop.yaml.j2" %}\n')
    git(app_repo, "add", "-A")
    git(app_repo, "commit", "-qm", "Recursion")
    code, _, err = run(capsys, "publish")
    assert code == 2
    assert "templates/loop.yaml.j2: template error: it recurses without end" in one_line(err)
    code, _, err = run(capsys, "--debug", "publish")
    assert code == 2 and "Traceback" in err and err.rstrip().endswith("recurses without end "
                                                                      "(a macro or an include "
                                                                      "that calls itself)")


def test_a_blob_path_that_is_a_directory(pushed: Path, home: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    blob = next((home / "blobs").iterdir())
    blob.unlink()
    blob.mkdir()
    code, out, err = run(capsys, "history")
    assert code == 1 and "cannot read it" in err and "? (cannot read it" in out  # a finding
    code, _, err = run(capsys, "show", "1")
    assert code == 2 and f"{blob}: cannot read it" in one_line(err)


def test_a_kubeconfig_with_a_yaml_syntax_error(pushed: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nclusters: [\n")
    code, _, err = run(capsys, "diff", "--kubeconfig", str(broken))
    assert code == 2 and "cannot load cluster credentials" in one_line(err)


def test_a_channel_name_that_is_not_utf8(pushed: Path, home: Path) -> None:
    done = syncer(b"history", b"--channel", b"shop-\xff", cwd=pushed,
                  env={"SYNCER_HOME": str(home)})
    assert done.returncode == 2, done.stderr
    one_line(done.stderr.decode(errors="replace"))


def test_debug_keeps_exit_2(pushed: Path, home: Path) -> None:
    done = syncer("--debug", "show", "9", cwd=pushed, env={"SYNCER_HOME": str(home)})
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("syncer: error: ")


def test_history_exits_1_when_a_bundle_was_altered(pushed: Path, home: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 8, finding 10: history said nothing was wrong (exit 0)."""
    blob = next((home / "blobs").iterdir())
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    code, out, _ = run(capsys, "history")
    assert code == 1 and "SHA-256 of the bytes is" in out


def test_a_missing_home_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 8, finding 10: it said 'no such channel in the ledger'."""
    monkeypatch.setenv("SYNCER_HOME", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "history", "--channel", "shop-dev")
    assert code == 2 and "no ledger at" in one_line(err) and "syncer init" in err
