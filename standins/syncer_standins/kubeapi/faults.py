"""Faults on demand, for tests of what a client does when the API server misbehaves.

`KubeApiServer.faults.add(Fault(...))` makes the server answer matching requests badly: a
Status with the given code (500, 409, 429 with `Retry-After`, 503...), after a delay (a
client timeout), or not at all (the connection is cut; with `dies`, every request from
then on is cut, as when the server dies). A fault
lets `skip` matching requests through first, then acts `times` times. Faults are not
kube behaviour: they stand for a server that is overloaded, restarting or broken.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Fault", "Faults"]


@dataclass
class Fault:
    """What to do to the requests whose method and path match."""

    method: str = "*"  # or GET, PATCH, ...
    path: str = ""  # a regular expression searched in the path
    dry_run: bool | None = None  # only dry runs (True), only real writes (False), any (None)
    status: int = 500
    reason: str = "InternalError"
    message: str = "injected fault"
    retry_after: int | None = None
    skip: int = 0
    times: int = 1
    delay: float = 0.0  # seconds before answering
    cut: bool = False  # close the connection without an answer
    dies: bool = False  # cut this and every later request, until `Faults.clear`
    seen: int = field(default=0, init=False)

    def matches(self, method: str, path: str, dry_run: bool) -> bool:
        return (self.method in ("*", method) and re.search(self.path, path) is not None
                and self.dry_run in (None, dry_run))


class Faults:
    """The faults armed on one server; thread-safe."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self._lock = threading.Lock()
        self._dead: Fault | None = None
        self.latency = 0.0
        """Seconds every request waits before it is served, as on the way to a remote
        kube-apiserver and its etcd; the waits of concurrent requests overlap (benchmarks
        use it to see what sending requests at once gains where a request takes time)."""

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._armed.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault; a server that died answers again."""
        with self._lock:
            self._armed.clear()
            self._dead = None

    def take(self, method: str, path: str, query: Mapping[str, str]) -> Fault | None:
        """The fault that acts on this request, if any (counting it)."""
        dry_run = query.get("dryRun") == "All"
        with self._lock:
            if self._dead is not None:
                return self._dead
            for fault in self._armed:
                if not fault.matches(method, path, dry_run):
                    continue
                fault.seen += 1
                if fault.skip < fault.seen <= fault.skip + fault.times:
                    self._dead = Fault(cut=True) if fault.dies else None
                    return self._dead or fault
        return None
