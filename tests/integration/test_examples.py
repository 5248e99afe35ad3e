"""Every example runs: examples/demo.py end to end, as README's first command runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).parents[2] / "examples" / "demo.py"


def test_demo_runs_every_step() -> None:
    done = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert out.count("\n=== ") == 9
    assert "shop-dev: 2 releases audited, clean" in out
    assert "message:    Shop: debug logging in dev" in out  # explain: release 2's commit
    assert "published release 1 of shop-dev" in out and "published release 2 of shop-dev" in out
    assert "-  LOG_LEVEL: info\n+  LOG_LEVEL: debug" in out
    assert "Grace Hopper <grace@example.com>" in out
    assert out.rstrip().endswith("demo finished: every step above ran for real")
