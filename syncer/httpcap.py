"""Reading an HTTP answer from outside without trusting its size: the body is streamed and
refused as soon as it is known to pass its cap, never read whole first."""

from __future__ import annotations

from collections.abc import Callable

import httpx

__all__ = ["Expired", "Oversize", "read_capped"]


class Oversize(Exception):
    """A body longer than its cap."""


class Expired(Exception):
    """The read deadline passed while a body streamed in."""


def read_capped(response: httpx.Response, cap: int, *,
                expired: Callable[[], bool] = lambda: False) -> bytes:
    """The body of a streamed `response`: Oversize past `cap` bytes (at once when its
    Content-Length says so), Expired when `expired()` turns true between chunks."""
    announced = response.headers.get("content-length", "")
    if announced.isdigit() and "content-encoding" not in response.headers \
            and int(announced) > cap:
        raise Oversize
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > cap:
            raise Oversize
        if expired():
            raise Expired
        chunks.append(chunk)
    return b"".join(chunks)
