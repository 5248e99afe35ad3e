"""A `syncer.clock.Clock` for tests whose time moves only when the code under test waits
(or the test calls `advance`): waits return at once, and never sleep for real."""

from __future__ import annotations

import threading


class ManualClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._lock = threading.Lock()
        self._now = start
        self.waits: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self.waits.append(seconds)
        if stop is not None and stop.is_set():
            return True
        self.advance(max(seconds, 0.0))
        return stop is not None and stop.is_set()
