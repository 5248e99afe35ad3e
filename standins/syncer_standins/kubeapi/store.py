"""In-memory storage: every object, one resourceVersion counter, and the recent events.

Like etcd behind kube-apiserver, every real write bumps a single global counter, and the
object written carries the new value as `metadata.resourceVersion` (a DELETED event too).
The event history is what watches replay: a watch from a resourceVersion older than the
oldest event kept gets `410 Expired`, as from kube's watch cache. History starts when the
server is ready (`start_history`), so the seeded objects are already "too old" to replay.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "Store", "StoreKey", "TooOld"]

StoreKey = tuple[str, str]  # (group, plural)
Obj = dict[str, Any]


@dataclass(frozen=True)
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    key: StoreKey
    obj: Obj
    previous: Obj | None


class TooOld(Exception):
    def __init__(self, oldest: int) -> None:
        super().__init__(f"oldest resourceVersion kept: {oldest}")
        self.oldest = oldest


def _where(obj: Obj) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


class Store:
    """Thread-safe object storage. Callers hold `lock` around read-modify-write sequences."""

    def __init__(self, *, history: int = 10_000) -> None:
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._rv = 0
        self._objects: dict[StoreKey, dict[tuple[str, str], Obj]] = {}
        self._events: deque[Event] = deque()
        self._history = history
        self._floor = 0
        self.stopped = False

    @property
    def resource_version(self) -> int:
        with self.lock:
            return self._rv

    def get(self, key: StoreKey, *, namespace: str, name: str) -> Obj | None:
        with self.lock:
            found = self._objects.get(key, {}).get((namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def items(self, key: StoreKey, namespace: str | None = None) -> list[Obj]:
        """Objects of one resource (one namespace, or all), in etcd key order."""
        with self.lock:
            bucket = self._objects.get(key, {})
            found = [obj for where, obj in sorted(bucket.items())
                     if namespace is None or where[0] == namespace]
            return copy.deepcopy(found)

    def keys(self) -> list[StoreKey]:
        with self.lock:
            return [key for key, bucket in self._objects.items() if bucket]

    def write(self, key: StoreKey, obj: Obj) -> Obj:
        """Create or replace obj; returns the stored copy with its new resourceVersion."""
        with self.lock:
            where = _where(obj)
            bucket = self._objects.setdefault(key, {})
            previous = bucket.get(where)
            self._rv += 1
            stored = copy.deepcopy(obj)
            stored.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
            bucket[where] = stored
            kind = "ADDED" if previous is None else "MODIFIED"
            self._record(Event(self._rv, kind, key, copy.deepcopy(stored), previous))
            return copy.deepcopy(stored)

    def remove(self, key: StoreKey, *, namespace: str, name: str) -> Obj | None:
        """Delete an object; returns its last state, carrying the deletion's resourceVersion."""
        with self.lock:
            previous = self._objects.get(key, {}).pop((namespace, name), None)
            if previous is None:
                return None
            self._rv += 1
            last = copy.deepcopy(previous)
            last["metadata"]["resourceVersion"] = str(self._rv)
            self._record(Event(self._rv, "DELETED", key, copy.deepcopy(last), previous))
            return last

    def _record(self, event: Event) -> None:
        self._events.append(event)
        while len(self._events) > self._history:
            self._floor = self._events.popleft().rv
        self._changed.notify_all()

    def start_history(self) -> None:
        """Forget the events so far: watches may start from the current resourceVersion on."""
        with self.lock:
            self._events.clear()
            self._floor = self._rv

    def events_after(self, rv: int) -> list[Event]:
        """Events newer than rv; raises TooOld when some may have been forgotten."""
        with self.lock:
            if rv < self._floor:
                raise TooOld(self._floor)
            return [event for event in self._events if event.rv > rv]

    def wait(self, timeout: float) -> None:
        """Sleep until the next write (or stop, or timeout); call with `lock` held."""
        if not self.stopped:
            self._changed.wait(timeout)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            self._changed.notify_all()
