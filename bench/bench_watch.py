#!/usr/bin/env python3
"""`syncer watch` on the demo repository (examples/shop): how long from a saved file to the
printed result, against the live cluster (a kube-apiserver stand-in in this process, release
1 synced into it) and against the head release (--no-cluster); and, measured in the same run
as the baseline, a plain render of the work tree (its files read, then rendered for the
channel: no bundle, no policy, no diff).

Each change rewrites values/common.yaml (the greeting) by one rename, as an editor's atomic
save does. "change → result" runs from that rename to the outcome handed to the printer: the
watchdog event, the debounce (0.1 s, on purpose: it waits for the rest of an editor's save),
and the check. "check" is the check alone: bundle the work tree's sources as publish would,
render, run the policies, compare (server-side dry run of every changed object on the live
side). The ratio is the check's median over the plain render's.

Usage: python bench/bench_watch.py [--changes 20]
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNEL = "shop-dev"
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench Mark", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench Mark", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
WAIT = 60.0


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], env={**os.environ, **GIT_ENV}, check=True,
                   capture_output=True)


def prepare(base: Path) -> Path:
    """The demo app in a git repository, release 1 published to a fresh $SYNCER_HOME."""
    from syncer.cli import main  # noqa: PLC0415

    repo = base / "app"
    shutil.copytree(ROOT / "examples" / "shop", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "demo")
    os.environ.update(SYNCER_HOME=str(base / "home"), SYNCER_CHANNEL=CHANNEL)
    os.chdir(repo)
    for command in (["init"], ["publish", "--channel", CHANNEL]):
        if main(command) != 0:
            raise SystemExit(f"syncer {' '.join(command)} failed")
    return repo


def plain_render(repo: Path) -> float:
    """Seconds to read the work tree's sources and render the channel, nothing else."""
    from syncer.config import parse_config  # noqa: PLC0415
    from syncer.render import render_channel  # noqa: PLC0415

    started = time.perf_counter()
    config = parse_config((repo / "syncer.yaml").read_bytes())
    files = {p.relative_to(repo).as_posix(): p.read_bytes()
             for source in (*config.sources, "syncer.yaml")
             for p in sorted((repo / source).rglob("*") if (repo / source).is_dir()
                             else [repo / source]) if p.is_file()}
    objects = render_channel(files, config=config, channel=config.channel(CHANNEL))
    assert objects
    return time.perf_counter() - started


def save(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp()
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


@contextmanager
def watch_loop(repo: Path, argv: list[str]) -> Iterator[queue.Queue[object]]:
    from syncer import devloop  # noqa: PLC0415
    from syncer.cli import build_parser  # noqa: PLC0415
    from syncer.commands.watch import checker  # noqa: PLC0415

    check = checker(build_parser().parse_args(["watch", *argv]))
    outcomes: queue.Queue[object] = queue.Queue()
    stop = threading.Event()
    with devloop.watching(repo) as changes:
        thread = threading.Thread(target=devloop.run, args=(changes.queue, check, outcomes.put),
                                  kwargs={"stop": stop,
                                          "options": devloop.LoopOptions(initial=False)})
        thread.start()
        try:
            yield outcomes
        finally:
            stop.set()
            thread.join(WAIT)


def measure(repo: Path, argv: list[str], changes: int) -> tuple[list[float], list[float]]:
    """(change → result, check) seconds of each change."""
    values = repo / "values" / "common.yaml"
    original = values.read_text()
    seen, checks = [], []
    with watch_loop(repo, argv) as outcomes:
        for i in range(changes + 1):  # the first warms up (imports, connections): not kept
            started = time.perf_counter()
            save(values, original.replace("Welcome to the shop", f"Welcome, visitor {i}"))
            outcome = outcomes.get(timeout=WAIT)
            elapsed = time.perf_counter() - started
            if not outcome.ok:  # type: ignore[attr-defined]
                raise SystemExit(f"the check failed: {outcome.summary}")  # type: ignore[attr-defined]
            if i:
                seen.append(elapsed)
                checks.append(outcome.seconds)  # type: ignore[attr-defined]
    save(values, original)
    return seen, checks


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{statistics.median(values) * 1000:7.1f} {p90 * 1000:7.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    from syncer_standins.kubeapi import KubeApiServer  # noqa: PLC0415

    from syncer.cli import main as syncer  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp, KubeApiServer() as server:
        os.environ["KUBECONFIG"] = str(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
        repo = prepare(Path(tmp))
        if syncer(["sync"]) != 0:
            raise SystemExit("syncer sync failed")
        plain_render(repo)
        renders = [plain_render(repo) for _ in range(args.changes)]
        rows = {"live cluster (stand-in)": measure(repo, ["--repo", str(repo)], args.changes),
                "head release (--no-cluster)": measure(repo, ["--repo", str(repo),
                                                              "--no-cluster"], args.changes)}
    base = statistics.median(renders)
    print(f"syncer watch on examples/shop, {args.changes} changes each; Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{'':30} {'median':>7} {'p90':>7}  (ms)")
    print(f"{'plain render (baseline)':30} {ms(renders)}")
    for name, (seen, checks) in rows.items():
        print(f"{name:30}")
        print(f"{'  change → result':30} {ms(seen)}")
        print(f"{'  check':30} {ms(checks)}  = {statistics.median(checks) / base:.1f}x "
              "the plain render")
    return 0


if __name__ == "__main__":
    sys.exit(main())
