"""Time, injectable: what the loop, leader election and health waits read and wait on.

Domain code never calls `time.sleep` or `time.time` itself: it takes a `Clock`, so that
tests can step time instead of waiting for it, and so that every wait can be cut short by
a stop signal (SIGTERM, a lost Lease) instead of running out.

`SystemClock` is the real one. A test clock only has to provide the same three methods.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Wall time, seconds since the epoch: for what others read (Lease, status)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never goes back: for deadlines."""
        ...

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait `seconds`, or until `stop` is set; whether `stop` is set."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is None:
            time.sleep(max(seconds, 0.0))
            return False
        return stop.wait(max(seconds, 0.0))
