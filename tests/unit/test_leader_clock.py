"""Leader election reads and waits on time only through the `Clock` it is given
(`syncer.clock`): never `time.sleep`, `time.time` or a wait of its own, so that a test
steps its time and a stop signal cuts its waits short. Checked on its source, since the
elector itself needs an API server (tests/integration/test_leader.py)."""

from __future__ import annotations

import ast
import inspect

import syncer.leader

TREE = ast.parse(inspect.getsource(syncer.leader))
TIMELY = {"sleep", "wait", "time", "monotonic", "now", "perf_counter", "Timer"}


def test_no_module_that_tells_or_waits_on_time_is_imported() -> None:
    imported = {alias.name for node in ast.walk(TREE) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(TREE)
                 if isinstance(node, ast.ImportFrom)}
    assert not imported & {"time", "datetime", "asyncio", "sched", "signal"}


def test_every_read_of_time_and_every_wait_is_the_clocks() -> None:
    calls = {ast.unparse(node.func) for node in ast.walk(TREE)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in TIMELY}
    assert calls == {"self.clock.monotonic", "self.clock.now", "self.clock.wait"}
