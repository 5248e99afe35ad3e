"""The bounded pool that runs a sync's API calls: order, bound, stop at the first failure."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from syncer import workpool


def _gate(n: int) -> tuple[Callable[[int], Callable[[], int]], list[int], threading.Lock]:
    """Tasks that record how many run at once; each returns its number."""
    running = [0, 0]  # now, most
    lock = threading.Lock()
    release = threading.Barrier(n, timeout=10) if n > 1 else None

    def task(i: int) -> Callable[[], int]:
        def call() -> int:
            with lock:
                running[0] += 1
                running[1] = max(running[1], running[0])
            if release is not None:
                release.wait()  # every worker is busy at the same moment
            with lock:
                running[0] -= 1
            return i
        return call

    return task, running, lock


def test_results_come_in_task_order_with_at_most_workers_at_once() -> None:
    task, running, _ = _gate(4)
    assert workpool.run([task(i) for i in range(12)], workers=4) == list(range(12))
    assert running[1] == 4


def test_one_worker_runs_in_the_calling_thread_in_order() -> None:
    seen: list[tuple[int, str]] = []

    def task(i: int) -> Callable[[], int]:
        return lambda: seen.append((i, threading.current_thread().name)) or i

    assert workpool.run([task(i) for i in range(5)], workers=1) == list(range(5))
    assert seen == [(i, threading.current_thread().name) for i in range(5)]


def test_the_first_failure_stops_what_has_not_started() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def task(i: int) -> Callable[[], int]:
        def call() -> int:
            with lock:
                started.append(i)
            if i == 1:
                raise ValueError("no")
            threading.Event().wait(0.02)  # as a request takes time: the pool sees the
            return i                      # failure before the workers run through the rest
        return call

    with pytest.raises(workpool.Stopped) as caught:
        workpool.run([task(i) for i in range(200)], workers=2)
    assert isinstance(caught.value.error, ValueError)
    assert 1 not in caught.value.done
    assert set(caught.value.done) == set(started) - {1}
    assert len(started) < 200, "every task started although the second failed"


def test_the_first_failure_in_task_order_is_reported() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def task(i: int) -> Callable[[], int]:
        def call() -> int:
            barrier.wait()  # all three fail together
            raise ValueError(f"task {i}")
        return call

    with pytest.raises(workpool.Stopped) as caught:
        workpool.run([task(i) for i in range(3)], workers=3)
    assert str(caught.value.error) == "task 0"
    assert caught.value.done == {}


def test_sequential_failure_reports_what_ran_before() -> None:
    def fail() -> int:
        raise KeyError("x")

    with pytest.raises(workpool.Stopped) as caught:
        workpool.run([lambda: 1, lambda: 2, fail, lambda: 4], workers=1)
    assert caught.value.done == {0: 1, 1: 2}


def test_tick_runs_in_the_calling_thread_and_its_error_stops_the_pool() -> None:
    ticks: list[str] = []
    event = threading.Event()

    def tick() -> None:
        ticks.append(threading.current_thread().name)
        if len(ticks) >= 2:
            raise RuntimeError("lock lost")

    def slow() -> int:
        event.wait(0.3)  # long after the second tick: the third call is cancelled by then
        return 0

    with pytest.raises(workpool.Stopped) as caught:
        workpool.run([slow, slow, slow], workers=2, tick=tick, poll=0.01)
    assert set(ticks) == {threading.current_thread().name}
    assert isinstance(caught.value.error, RuntimeError)
    assert str(caught.value.error) == "lock lost"
    assert caught.value.done == {0: 0, 1: 0}  # the two in flight finished, the third never ran


def test_a_tick_error_in_turn_is_reported_with_what_ran_before() -> None:
    def tick() -> None:
        if len(ran) == 2:
            raise RuntimeError("stop")

    ran: list[int] = []
    with pytest.raises(workpool.Stopped) as caught:
        workpool.run([lambda: ran.append(1), lambda: ran.append(2), lambda: ran.append(3)],
                     workers=1, tick=tick)
    assert caught.value.done == {0: None, 1: None} and ran == [1, 2]


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        workpool.run([lambda: 1], workers=0)
