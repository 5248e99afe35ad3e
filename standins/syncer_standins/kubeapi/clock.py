"""The stand-in's clock: it counts requests, not seconds.

Some of kube's controllers act a moment after the write that wakes them, and clients are
written to poll for it (a new CRD is `Established` some milliseconds later; a Deployment's
controller writes its status in two steps; it puts back a status someone else wrote). To
show those in-between states deterministically, the stand-in lets such work wait for a
number of requests instead of a time: `later(steps, action)` runs action at the start of
the `steps`-th request after the current one, before that request is served. A client that
polls therefore sees the change after a fixed number of polls, whatever the machine's speed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Clock"]


class Clock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0  # requests started so far
        self._pending: list[tuple[int, int, Callable[[], None]]] = []
        self._order = 0

    def later(self, steps: int, action: Callable[[], None]) -> None:
        """Run action when the `steps`-th request from now starts."""
        with self._lock:
            self._order += 1
            self._pending.append((self.now + steps, self._order, action))

    def tick(self) -> None:
        """A request starts: advance, then run what is due, oldest first."""
        with self._lock:
            self.now += 1
            due = sorted(item for item in self._pending if item[0] <= self.now)
            self._pending = [item for item in self._pending if item[0] > self.now]
        for _, _, action in due:
            action()
