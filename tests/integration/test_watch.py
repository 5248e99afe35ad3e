"""`syncer watch`: the dev loop on a real work tree (watchdog on the file system), compared
with the Kubernetes API stand-in; the loop is stopped by an event the test holds, and each
result is awaited, never slept for."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import run
from syncer_standins.kubeapi import KubeApiServer

from syncer import devloop
from syncer.cli import build_parser
from syncer.commands.watch import checker, outcome_line

WAIT = 60.0  # a bound on a wait for an outcome, not a measurement


def replace(path: Path, old: str, new: str) -> None:
    """Edit `path` as one rename from outside the watched tree: one event, however slow
    the machine."""
    text = path.read_text()
    assert old in text
    fd, tmp = tempfile.mkstemp()
    with os.fdopen(fd, "w") as handle:
        handle.write(text.replace(old, new))
    os.replace(tmp, path)


@pytest.fixture
def loop(pushed: Path, api: KubeApiServer,
         capsys: pytest.CaptureFixture[str]) -> Iterator[queue.Queue[devloop.Outcome]]:
    """The loop of `syncer watch` on the synced example app, in a thread; its outcomes."""
    assert run(capsys, "sync")[0] == 0
    check = checker(build_parser().parse_args(["watch", "--repo", str(pushed)]))
    outcomes: queue.Queue[devloop.Outcome] = queue.Queue()
    stop = threading.Event()
    with devloop.watching(pushed) as changes:
        thread = threading.Thread(target=devloop.run, args=(changes.queue, check, outcomes.put),
                                  kwargs={"stop": stop, "options": devloop.LoopOptions(
                                      initial=False)})
        thread.start()
        try:
            yield outcomes
        finally:
            stop.set()
            thread.join(WAIT)
    assert not thread.is_alive()


def test_a_change_is_one_result_a_broken_template_one_error_and_the_loop_goes_on(
        pushed: Path, loop: queue.Queue[devloop.Outcome]) -> None:
    replace(pushed / "values" / "common.yaml", "Welcome to the shop", "Welcome back")
    first = loop.get(timeout=WAIT)
    assert first.ok and first.paths == ("values/common.yaml",)
    assert first.summary.startswith("1 to update (ConfigMap/shop-dev/shop-config), ")
    assert first.summary.endswith(" unchanged; policy: ok")

    replace(pushed / "templates" / "configmap.yaml.j2", "{% endfor %}", "{% endfor")
    second = loop.get(timeout=WAIT)
    assert not second.ok and second.paths == ("templates/configmap.yaml.j2",)
    assert "\n" not in second.summary and "configmap.yaml.j2" in second.summary
    line = outcome_line(second)
    assert " error templates/configmap.yaml.j2: " in line and "\n" not in line

    replace(pushed / "templates" / "configmap.yaml.j2", "{% endfor", "{% endfor %}")
    third = loop.get(timeout=WAIT)
    assert third.ok and third.summary == first.summary
    assert loop.empty()


def _sigint_blocked_and_ignored() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("start", [None, _sigint_blocked_and_ignored],
                         ids=["plain", "sigint-blocked-by-the-parent"])
def test_ctrl_c_ends_the_watch_with_exit_0(pushed: Path, start: Callable[[], None] | None
                                           ) -> None:
    # a process started with SIGINT blocked or ignored inherits that across exec (a test
    # runner's worker once started it so, and Ctrl-C did nothing)
    watch = subprocess.Popen([sys.executable, "-m", "syncer", "watch", "--no-cluster"],
                             cwd=pushed, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, preexec_fn=start)  # noqa: PLW1509
    try:
        assert watch.stdout is not None
        assert watch.stdout.readline().startswith(f"watching {pushed.resolve()} against the "
                                                  "head release")
        start = watch.stdout.readline()
        assert " ok    start: no change, " in start and start.rstrip().endswith(" ms)")
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=WAIT)  # drains both pipes while it stops
        assert watch.returncode == 0, err
        assert out.rstrip().endswith("stopped")
    finally:
        if watch.poll() is None:
            watch.kill()
