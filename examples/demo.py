#!/usr/bin/env python3
"""The syncer demo: from a git commit to an applied, diffed, audited release.

Runs on the embedded backends (local blob store, local ledger under a fresh $SYNCER_HOME)
against the Kubernetes API stand-in (`python -m syncer_standins.kubeapi`), which stores objects
but runs no workloads. Every step prints the command it runs and what that command printed:

 1. an app repository made from examples/shop, with a bare remote to push to;
 2. `syncer init` (key, channels) and `syncer hooks install`;
 3. commit and `git push`: the pre-push hook publishes release 1;
 4. `syncer sync`: the objects are created;
 5. a value changes, commit and push: release 2;
 6. `syncer diff` shows exactly that change;
 7. `syncer sync` applies it; `syncer diff` is clean;
 8. `syncer history` lists both releases with their commits and authors;
 9. `syncer audit` checks every release again: blob, SHA-256, blob ID, the ledger's chain,
    the commit and its files; `syncer explain` follows a live object back to its release.

Usage: python examples/demo.py [--keep]   (--keep leaves the work directory in place)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent / "shop"
CHANNEL = "shop-dev"
AUTHORS = {
    "ada": ("Ada Lovelace", "ada@example.com"),
    "grace": ("Grace Hopper", "grace@example.com"),
}


class Demo:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.repo = work / "shop"
        self.env = {**os.environ, "SYNCER_HOME": str(work / "syncer-home"),
                    "KUBECONFIG": str(work / "kubeconfig"), "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_CONFIG_GLOBAL": os.devnull, "SYNCER_CHANNEL": CHANNEL}
        self.env.pop("SYNCER_BIN", None)
        self.step_no = 0

    def step(self, title: str) -> None:
        self.step_no += 1
        print(f"\n=== {self.step_no}. {title}", flush=True)

    def run(self, *cmd: str, expect: int = 0, author: str = "ada") -> str:
        name, email = AUTHORS[author]
        env = {**self.env, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        shown = " ".join(["syncer", *cmd[3:]] if cmd[:3] == _SYNCER else cmd)
        print(f"$ {shown}", flush=True)
        done = subprocess.run(cmd, cwd=self.repo, env=env, capture_output=True, text=True,
                              check=False)
        text = (done.stdout + done.stderr).rstrip()
        if text:
            print(text, flush=True)
        if done.returncode != expect:
            raise SystemExit(f"demo: `{shown}` exited {done.returncode}, expected {expect}")
        return done.stdout

    def syncer(self, *args: str, expect: int = 0) -> str:
        return self.run(*_SYNCER, *args, expect=expect)


_SYNCER = (sys.executable, "-m", "syncer")


def start_api(work: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "syncer_standins.kubeapi", "--port", "0",
           "--kubeconfig", str(work / "kubeconfig")]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    if "listening" not in line:
        server.kill()
        raise SystemExit(f"demo: the Kubernetes API stand-in did not start: {line!r}")
    print(line, flush=True)
    return server


def run(demo: Demo) -> None:
    demo.step("An app repository made from examples/shop, and a bare remote")
    shutil.copytree(EXAMPLE, demo.repo)
    demo.run("git", "init", "-q", "-b", "main", str(demo.work / "remote.git"), "--bare")
    demo.run("git", "init", "-q", "-b", "main")
    demo.run("git", "remote", "add", "origin", str(demo.work / "remote.git"))
    demo.step("syncer init: a publisher key, the channels registered in the local ledger")
    demo.syncer("init")
    demo.syncer("hooks", "install")
    demo.step("Commit and push: the pre-push hook publishes release 1")
    demo.run("git", "add", "-A")
    demo.run("git", "commit", "-q", "-m", "Shop: first deployment")
    demo.run("git", "push", "-q", "origin", "main")
    demo.step("syncer sync: release 1 into the cluster")
    demo.syncer("sync")
    demo.step("Change a value, commit and push as another author: release 2")
    values = demo.repo / "values" / "dev.yaml"
    values.write_text(values.read_text().replace("logLevel: info", "logLevel: debug"))
    demo.run("git", "commit", "-q", "-am", "Shop: debug logging in dev", author="grace")
    demo.run("git", "push", "-q", "origin", "main", author="grace")
    demo.step("syncer diff: the head release against the live cluster (exit 1: changes)")
    demo.syncer("diff", expect=1)
    demo.step("syncer sync: release 2 applied; syncer diff is now clean (exit 0)")
    demo.syncer("sync")
    demo.syncer("diff")
    demo.step("syncer history: both releases, their commits and authors")
    demo.syncer("history")
    demo.step("syncer audit: every release verified again; syncer explain: a live object's "
              "chain")
    demo.syncer("audit")
    demo.syncer("explain", f"configmap/{CHANNEL}/shop-config")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="syncer-demo-"))
    server = start_api(work)
    try:
        run(Demo(work))
        kept = f"; its files are in {work}" if args.keep else ""
        print(f"\ndemo finished: every step above ran for real{kept}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
