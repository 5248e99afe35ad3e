"""The `Warning` headers one request collects (unknown fields, admission policies that warn).

kube-apiserver sends each warning as its own header, `Warning: 299 - "<text>"`, with the
double quotes inside the text backslash-escaped. A request's warnings are gathered in a
context variable: `collecting()` around the request, `warn()` anywhere below it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["collecting", "header_value", "warn"]

_WARNINGS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "kubeapi_warnings", default=None)


def warn(text: str) -> None:
    """Add a warning to the current request's answer (ignored outside `collecting`)."""
    found = _WARNINGS.get()
    if found is not None and text not in found:
        found.append(text)


@contextlib.contextmanager
def collecting() -> Iterator[list[str]]:
    """Collect the warnings of the request served inside; yields the list they go to."""
    found: list[str] = []
    token = _WARNINGS.set(found)
    try:
        yield found
    finally:
        _WARNINGS.reset(token)


def header_value(text: str) -> str:
    """One Warning header's value: code 299, no agent, the text quoted."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'
