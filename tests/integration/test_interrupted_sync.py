"""Syncs killed at a random point, and syncs run at once (issue 8, findings 6 and 7).

Each sync is a real `syncer sync` process against the Kubernetes API stand-in. Two releases
of 100 ConfigMaps each, with no name in common, alternate; every sync is SIGKILLed at a
random moment of its writing (0 to 0.3 s after its first apply). Then one more sync of a
release with neither set: nothing of either may be left (an orphan), and every object of
that release must be there. `SYNCER_KILL_RUNS` sets
how many syncs are killed (5 by default; the issue's measure is 50).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, git, run

BULK = ("{% for i in range(100) %}\n---\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: PREFIX-{{ i }}}\ndata: {n: '{{ i }}'}\n{% endfor %}\n")
RUNS = int(os.environ.get("SYNCER_KILL_RUNS", "5"))


def sync_process(repo: Path, home: Path, *args: str,
                 verbose: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "SYNCER_HOME": str(home), "SYNCER_CHANNEL": "shop-dev"}
    command = [sys.executable, "-m", "syncer", *(["-v"] if verbose else []), "sync", *args]
    return subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def kill_while_writing(process: subprocess.Popen[str], *, after: float) -> None:
    """SIGKILL `after` seconds past the sync's first write to the cluster (its log line
    `applied`), or let it end if it writes nothing."""
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("info: applied"):
            time.sleep(after)
            break
    process.send_signal(signal.SIGKILL)
    process.communicate()


def labelled(core: kubernetes.client.CoreV1Api) -> set[str]:
    found = core.list_namespaced_config_map("shop-dev", label_selector="syncer.io/channel")
    return {c.metadata.name for c in found.items}


def release_with(repo: Path, home: Path, prefix: str | None, message: str) -> None:
    bulk = repo / "templates" / "bulk.yaml.j2"
    if prefix is None:
        git(repo, "rm", "-q", str(bulk))
    else:
        bulk.write_text(BULK.replace("PREFIX", prefix))
    commit_and_push(repo, home, message)


def test_killed_syncs_leave_nothing_a_later_sync_cannot_prune(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    release_with(pushed, home, "left", "100 ConfigMaps")  # release 2
    release_with(pushed, home, "right", "100 other ConfigMaps")  # release 3
    chance = random.Random(RUNS)
    for attempt in range(RUNS):
        process = sync_process(pushed, home, "--seq", str(2 + attempt % 2), verbose=True)
        kill_while_writing(process, after=chance.uniform(0.0, 0.3))
    release_with(pushed, home, None, "Neither set")  # release 4
    code, out, err = run(capsys, "sync")
    assert code == 0, err
    assert labelled(core) == {"shop-config"}, out
    assert run(capsys, "diff")[0] == 0


def test_two_syncs_at_once_leave_one_release_whole(
        pushed: Path, home: Path, core: kubernetes.client.CoreV1Api,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync")[0] == 0
    release_with(pushed, home, "left", "100 ConfigMaps")  # release 2
    release_with(pushed, home, "right", "100 other ConfigMaps")  # release 3
    first = sync_process(pushed, home, "--seq", "2")
    second = sync_process(pushed, home, "--seq", "3")
    outcomes = {2: first.communicate(), 3: second.communicate()}
    codes = {2: first.returncode, 3: second.returncode}
    assert sorted(codes.values()) in ([0, 0], [0, 2]), outcomes
    for seq, (_, err) in outcomes.items():
        if codes[seq] == 2:
            assert "another sync" in err or "being synced by" in err, err
    inventory = core.read_namespaced_config_map("syncer-inventory-shop-dev", "syncer-system")
    recorded = int(inventory.data["release"])
    assert codes[recorded] == 0
    assert run(capsys, "diff", "--seq", str(recorded))[0] == 0  # one release, whole...
    prefix = {2: "left", 3: "right"}[recorded]
    assert labelled(core) == {f"{prefix}-{i}" for i in range(100)} | {"shop-config"}  # alone
