"""Run independent calls on a bounded pool of threads, stopping at the first failure.

The API calls of one sync stage (the dry runs of every change, or the applies of one kind)
do not depend on each other, and each waits mostly on the network: run up to `workers` at
once. When one fails, no further call starts; calls already running finish (an HTTP request
is not cut in the middle), and `Stopped` reports the first failure in task order together
with every call that completed. With `workers=1` the calls run one after the other in the
calling thread.

`tick` is called in the calling thread at least every `poll` seconds while calls run: the
channel lock renews its Lease there, and a sync told to stop raises there. A `tick` that
raises stops the pool as a failed call would, its error reported first.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

__all__ = ["Stopped", "run"]

T = TypeVar("T")


class Stopped(Exception, Generic[T]):
    """A call failed: `error` is the first failure in task order, `done` maps the index of
    every call that completed to its result."""

    def __init__(self, error: BaseException, done: Mapping[int, T]) -> None:
        super().__init__(str(error))
        self.error = error
        self.done = dict(done)


def run(tasks: Sequence[Callable[[], T]], *, workers: int,
        tick: Callable[[], None] = lambda: None, poll: float = 1.0) -> list[T]:
    """The results of `tasks`, in task order; `Stopped` if any raised."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers == 1 or len(tasks) <= 1:
        return _in_turn(tasks, tick)
    done: dict[int, T] = {}
    failed: dict[int, BaseException] = {}
    pool = cf.ThreadPoolExecutor(max_workers=min(workers, len(tasks)),
                                 thread_name_prefix="syncer-apply")
    try:
        running = {pool.submit(task): index for index, task in enumerate(tasks)}
        while running:
            if not failed:
                try:
                    tick()
                except Exception as e:  # as a failure before every call still to finish
                    failed[-1] = e
                    running = _started(running)
            finished, _ = cf.wait(running, timeout=poll, return_when=cf.FIRST_EXCEPTION)
            for future in finished:
                index = running.pop(future)
                error = future.exception()
                if error is None:
                    done[index] = future.result()
                else:
                    failed[index] = error
            if failed:
                running = _started(running)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failed:
        raise Stopped(failed[min(failed)], done)
    return [done[index] for index in range(len(tasks))]


def _started(running: dict[cf.Future[T], int]) -> dict[cf.Future[T], int]:
    """Cancel the calls not started yet (they never will), keep those running."""
    for future in running:
        future.cancel()
    return {f: i for f, i in running.items() if not f.cancelled()}


def _in_turn(tasks: Sequence[Callable[[], T]], tick: Callable[[], None]) -> list[T]:
    done: list[T] = []
    for task in tasks:
        try:
            tick()
            done.append(task())
        except Exception as e:
            raise Stopped(e, dict(enumerate(done))) from e
    return done
