"""Bounds on rendering: a template from a repository is hostile input too.

- Output: a template may write at most `Limits.max_output` characters; rendering stops as
  soon as it passes them (it is streamed, never built whole first).
- Operators: `*` and `**` are intercepted by the sandbox, so `"x" * 10**12` or a huge
  power is refused before Python tries to build it.
- Time: on the main thread, a template gets `Limits.max_seconds` of wall time (a timer
  signal interrupts a loop that writes nothing); rendering off the main thread has the
  output and operator bounds only.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["BoundedSandbox", "Limits", "OverLimit", "capped", "deadline"]

_MAX_SEQUENCE = 1_000_000  # items or characters one `*` may build
_MAX_POWER_BITS = 65_536


@dataclass(frozen=True)
class Limits:
    max_output: int = 8 * 1024 * 1024
    max_seconds: float = 10.0


class OverLimit(Exception):
    """Rendering passed one of the bounds; the message says which."""


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with `*` and `**` refused when their result would be huge."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) \
                and right > 0 and abs(left).bit_length() * right > _MAX_POWER_BITS:
            raise OverLimit(f"{left} ** {right} is too large a number")
        return super().call_binop(context, operator, left, right)


def _check_repeat(sequence: Any, times: Any) -> None:
    if isinstance(sequence, str | list | tuple) and isinstance(times, int) \
            and len(sequence) * times > _MAX_SEQUENCE:
        raise OverLimit(f"repeating {len(sequence)} items {times} times is too large")


def capped(chunks: Iterable[str], limit: int) -> Iterator[str]:
    """`chunks`, stopping with OverLimit once they pass `limit` characters."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise OverLimit(f"the output passed {limit} characters")
        yield chunk


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """OverLimit in the block once `seconds` have passed (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise OverLimit(f"rendering took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
