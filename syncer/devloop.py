"""The dev loop of `syncer watch`: file changes in the work tree, debounced, each answered by
one check whose outcome is reported with how long it took.

`FileChanges` turns watchdog's events into paths on a queue (what happens under `.git/` is
left out: a commit or a fetch is no edit). `run` waits for a first change, gathers those that
follow within `debounce` seconds (an editor's save is often several events), runs `check`
once and hands the `Outcome` to `emit`; a check that raises a `SyncerError` (a broken
template, bad YAML, a refused policy) is an outcome too, and the loop goes on. `stop` ends
the loop between two changes. The check itself is the caller's: the command renders the work
tree and compares it, through the same code as `syncer diff worktree`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from syncer.errors import SyncerError

__all__ = ["FileChanges", "LoopOptions", "Outcome", "run", "watching"]

log = logging.getLogger(__name__)

_POLL: Final = 0.1  # how often a wait for the first change looks at `stop`
_JOIN_TIMEOUT: Final = 5.0  # seconds the watcher's threads get to stop


@dataclass(frozen=True)
class Outcome:
    """One check: whether it succeeded, its one-line summary, its duration and the changed
    paths that started it (relative to the watched root when under it)."""

    ok: bool
    summary: str
    seconds: float
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoopOptions:
    debounce: float = 0.1
    initial: bool = True  # check once before the first change
    max_paths: int = 3  # changed paths named in an outcome


class FileChanges(FileSystemEventHandler):
    """watchdog's events under `root`, as paths on `queue` (nothing under `.git/`)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.queue: queue.Queue[str] = queue.Queue()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = raw.decode() if isinstance(raw, bytes) else str(raw)
            if path and not self._ignored(path):
                self.queue.put(self._relative(path))

    def _ignored(self, path: str) -> bool:
        return ".git" in Path(path).parts

    def _relative(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path


@contextmanager
def watching(root: Path) -> Iterator[FileChanges]:
    """An observer of `root` and everything under it, for the duration of the block."""
    changes = FileChanges(root)
    observer = Observer()
    observer.schedule(changes, str(root), recursive=True)
    observer.start()
    try:
        yield changes
    finally:
        observer.stop()
        # watchdog's threads are daemons: a join that does not end in time must not keep
        # the process from exiting (a Ctrl-C in CI once waited here for over a minute)
        observer.join(timeout=_JOIN_TIMEOUT)
        if observer.is_alive():
            log.warning("the file watcher did not stop in time; exiting without it")


def run(changes: queue.Queue[str], check: Callable[[], str], emit: Callable[[Outcome], None],
        *, stop: threading.Event, options: LoopOptions = LoopOptions()) -> None:
    """Check after every (debounced) change until `stop` is set."""
    if options.initial:
        emit(_checked(check, ()))
    while not stop.is_set():
        paths = _next_changes(changes, stop, options.debounce)
        if paths:
            emit(_checked(check, tuple(sorted(paths))[:options.max_paths]))


def _next_changes(changes: queue.Queue[str], stop: threading.Event,
                  debounce: float) -> set[str]:
    """The first change and those following it within `debounce` seconds of each other;
    empty when `stop` is set first."""
    found: set[str] = set()
    while not stop.is_set() and not found:
        try:
            found.add(changes.get(timeout=_POLL))
        except queue.Empty:
            continue
    while found and not stop.is_set():
        try:
            found.add(changes.get(timeout=debounce))
        except queue.Empty:
            break
    return found


def _checked(check: Callable[[], str], paths: tuple[str, ...]) -> Outcome:
    started = time.perf_counter()
    try:
        summary, ok = check(), True
    except SyncerError as e:
        summary, ok = str(e), False
    seconds = time.perf_counter() - started
    log.debug("checked", extra={"ok": ok, "seconds": round(seconds, 3), "paths": paths})
    return Outcome(ok, summary, seconds, paths)
