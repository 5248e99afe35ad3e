"""`syncer diff` between any two sides, on real git repositories, the embedded ledger and blob
store, and the Kubernetes API stand-in where a side is live: the work tree against a commit,
a commit against a release, a release against live (both ways), the work tree against live;
the machine forms, exit codes, `--pr` Markdown, and colours only on a terminal."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import threading
from pathlib import Path

import kubernetes
import pytest
import yaml
from helpers import edit, git, one_line, run

from syncer.cli import main

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SECRET_VALUE = "Zq7hunter2Xv9"


@pytest.fixture
def no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach a cluster fails: the sides compared must not need one."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))


@pytest.fixture
def repo(app_repo: Path, home: Path, no_cluster: None,
         monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example app, one commit, no syncer init: no ledger, no cluster."""
    monkeypatch.chdir(app_repo)
    return app_repo


def changed_lines(out: str) -> list[str]:
    return [ln for ln in out.splitlines()
            if ln[:1] in "+-" and not ln.startswith(("---", "+++"))]


def test_work_tree_against_a_commit_needs_no_ledger_nor_cluster(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(repo / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    (repo / "templates" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {a: b}\n")
    (repo / ".gitignore").write_text("templates/ignored.yaml\n")
    (repo / "templates" / "ignored.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored}\n")
    (repo / "templates" / "service.yaml").unlink()
    code, out, err = run(capsys, "diff", "HEAD", "worktree", "--channel", "shop-dev")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith("# HEAD (commit ") and lines[0].endswith("-> the work tree")
    assert lines[1].split() == ["KIND", "NAMESPACE", "NAME", "ACTION", "+", "-"]
    rows = {tuple(ln.split()[:4]) for ln in lines[2:5]}
    assert rows == {("ConfigMap", "shop-dev", "shop-config", "update"),
                    ("ConfigMap", "shop-dev", "extra", "create"),
                    ("Service", "shop-dev", "web", "delete")}
    assert "1 to create, 1 to update, 1 to delete, 2 unchanged" in out
    assert "--- HEAD/ConfigMap/shop-dev/shop-config" in out
    logged = [ln for ln in changed_lines(out) if "LOG_LEVEL" in ln]
    assert logged == ["-  LOG_LEVEL: info", "+  LOG_LEVEL: debug"]
    assert "ignored" not in out

    code, out, _ = run(capsys, "diff", "git:HEAD", "worktree", "--channel", "shop-dev",
                       "-o", "json")
    data = json.loads(out)
    assert code == 1 and data["summary"] == {"create": 1, "update": 1, "delete": 1,
                                             "unchanged": 2, "blocked": 0}
    assert data["sides"]["from"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert "commit" not in data["sides"]["to"]
    config = next(o for o in data["objects"] if o["name"] == "shop-config")
    assert config["changes"] == [{"path": ".data.LOG_LEVEL", "op": "change", "old": "info",
                                  "new": "debug"}]
    assert git(repo, "status", "--porcelain")  # nothing was committed or staged for us
    assert run(capsys, "diff", "HEAD", "HEAD", "--channel", "shop-dev")[:2] == (0, "")


def test_a_commit_against_a_release(pushed: Path, home: Path, no_cluster: None,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    edit(pushed / "values" / "dev.yaml", "replicas: 1", "replicas: 2")
    git(pushed, "commit", "-q", "-am", "Two replicas")  # committed, not pushed
    code, out, err = run(capsys, "diff", "@1", "HEAD", "-o", "yaml")
    assert code == 1, err
    data = yaml.safe_load(out)
    assert data["sides"]["from"]["seq"] == 1 and data["sides"]["from"]["channel"] == "shop-dev"
    web = next(o for o in data["objects"] if o["kind"] == "Deployment")
    assert web["action"] == "update"
    assert web["changes"] == [{"path": ".spec.replicas", "op": "change", "old": 1, "new": 2}]
    assert run(capsys, "diff", "seq:1", "HEAD~1")[:2] == (0, "")
    code, out, _ = run(capsys, "diff", "HEAD", "@head")
    assert code == 1 and "-  replicas: 2" in out and "+  replicas: 1" in out


def test_a_release_against_live_both_ways(
        pushed: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    assert run(capsys, "diff", "live", "@1")[:2] == (0, "")
    core.patch_namespaced_config_map("shop-config", "shop-dev",
                                     {"data": {"LOG_LEVEL": "patched"}}, field_manager="ops")
    code, out, err = run(capsys, "diff", "live", "@1", "-o", "json")
    assert code == 1, err
    data = json.loads(out)
    assert data["from"] == "live" and data["to"] == "desired"
    assert data["summary"]["update"] == 1 and data["summary"]["unchanged"] == 3
    (config,) = [o for o in data["objects"] if o["action"] != "unchanged"]
    assert config["changes"] == [{"path": ".data.LOG_LEVEL", "op": "change",
                                  "old": "patched", "new": "info"}]
    assert config["diff"].startswith("--- live/ConfigMap/shop-dev/shop-config\n")

    code, out, _ = run(capsys, "diff", "@1", "live")
    assert code == 1
    assert changed_lines(out) == ["-  LOG_LEVEL: info", "+  LOG_LEVEL: patched"]
    assert "--- desired/ConfigMap/shop-dev/shop-config" in out


def test_the_work_tree_against_live_masks_secret_values(
        pushed: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    edit(pushed / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    (pushed / "templates" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ntype: Opaque\n"
        f"stringData: {{password: {SECRET_VALUE}}}\n")
    code, out, err = run(capsys, "diff", "worktree")
    assert code == 1, err
    rows = {tuple(ln.split()[:4]) for ln in out.splitlines()[2:4]}
    assert rows == {("ConfigMap", "shop-dev", "shop-config", "update"),
                    ("Secret", "shop-dev", "db", "create")}
    assert "+  LOG_LEVEL: debug" in out and "password: ++++++++" in out
    assert re.search(r"^policy deny: .*Secret", out, re.MULTILINE)
    outputs = [out] + [run(capsys, "diff", "worktree", "-o", form)[1] for form in ("json",
                                                                                   "yaml")]
    for shown in outputs:
        assert SECRET_VALUE not in shown and "WnE3aHVudGVyMlh2OQ" not in shown
    assert core.read_namespaced_config_map("shop-config", "shop-dev").data["LOG_LEVEL"] == \
        "info"  # a dry run only


@pytest.mark.parametrize("sides", [["no-such-rev", "worktree"], ["live", "live"],
                                   ["--seq", "1", "@1"], ["@9", "HEAD"], ["--pr", "main"]])
def test_errors_are_one_line_and_exit_2(pushed: Path, no_cluster: None, sides: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", *sides)
    assert code == 2
    one_line(err)


def test_the_work_tree_is_bundled_as_a_commit_would_be(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "templates" / "link.yaml").symlink_to(repo / "templates" / "service.yaml")
    code, _, err = run(capsys, "diff", "HEAD", "worktree", "--channel", "shop-dev")
    assert code == 2 and "symbolic links cannot be bundled" in one_line(err)
    (repo / "templates" / "link.yaml").unlink()
    (repo / "templates" / "bad.yaml.j2").write_text("{{ values.nope.nothing }}\n")
    code, _, err = run(capsys, "diff", "HEAD", "worktree", "--channel", "shop-dev")
    assert code == 2 and "templates/bad.yaml.j2" in one_line(err)
    (repo / "templates" / "bad.yaml.j2").unlink()
    (repo / "notes").mkdir()
    (repo / "notes" / "big.yaml").write_bytes(b"x" * 9_000_000)  # not a source: not read
    assert run(capsys, "diff", "HEAD", "worktree", "--channel", "shop-dev")[:2] == (0, "")


def test_pull_request_report(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo / "values" / "common.yaml", 'tag: "1.4.2"', 'tag: "1.5.0"')
    git(repo, "commit", "-q", "-am", "Shop 1.5.0")
    code, out, err = run(capsys, "diff", "--pr", "main...feature")
    assert code == 1, err
    assert out.startswith("## syncer diff main...feature: ")
    for channel in ("shop-dev", "shop-prod"):
        section = out.split(f"### Channel `{channel}`")[1].split("### Channel")[0]
        assert "| Deployment | " + channel + " | web | update | 1 | 1 |" in section
        assert "**Policy:**" in section
        assert f"<summary>Deployment/{channel}/web (update, +1 -1)</summary>" in section
        assert "```diff\n" in section
        assert "-        image: ghcr.io/example/shop:1.4.2" in section
        assert "+        image: ghcr.io/example/shop:1.5.0" in section
    code, out, _ = run(capsys, "diff", "--pr", "main..main", "--channel", "shop-dev")
    assert code == 0 and "No changes: " in out and "shop-prod" not in out

    code, out, _ = run(capsys, "diff", "--pr", "main..feature", "-o", "json")
    data = json.loads(out)
    assert code == 1 and [c["channel"] for c in data["channels"]] == ["shop-dev", "shop-prod"]

    (repo / "templates" / "broken.yaml.j2").write_text("{{ values.nope.nothing }}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Broken")
    code, out, _ = run(capsys, "diff", "--pr", "main..feature")
    assert code == 2 and out.count("**Error:** ") == 2 and "broken.yaml.j2" in out


def test_colours_only_when_asked_or_on_a_terminal(
        repo: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    edit(repo / "values" / "dev.yaml", "logLevel: info", "logLevel: debug")
    args = ("diff", "HEAD", "worktree", "--channel", "shop-dev")
    code, plain, _ = run(capsys, *args)
    assert code == 1 and not ANSI.search(plain)
    code, coloured, _ = run(capsys, *args, "--color", "always")
    assert code == 1 and "\x1b[32m+  LOG_LEVEL: debug" in coloured
    assert ANSI.sub("", coloured) == plain
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert ANSI.search(on_a_terminal(args))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(on_a_terminal(args))
    assert run(capsys, *args, "--color", "never")[1] == plain


def on_a_terminal(args: tuple[str, ...]) -> str:
    """What `syncer ARGS` prints with a pseudo-terminal as its stdout (read by a thread as it
    comes, so that a full terminal buffer cannot block the command)."""
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal was closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    with open(follower, "w", closefd=True) as terminal, \
            contextlib.redirect_stdout(terminal):
        assert terminal.isatty()
        assert main(list(args)) == 1
    reader.join(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()
