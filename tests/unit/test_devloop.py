"""The dev loop's debouncing and error handling, with changes put on its queue by hand and a
stop event (no file system, no sleeps)."""

from __future__ import annotations

import queue
import threading

from syncer import devloop
from syncer.errors import RenderError


class Checks:
    """A check that answers from a script, stopping the loop after the last answer."""

    def __init__(self, stop: threading.Event, *answers: str | Exception) -> None:
        self.stop, self.answers, self.calls = stop, list(answers), 0

    def __call__(self) -> str:
        self.calls += 1
        answer = self.answers.pop(0)
        if not self.answers:
            self.stop.set()
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_changes_already_queued_are_one_check_naming_their_paths() -> None:
    changes: queue.Queue[str] = queue.Queue()
    for path in ("values/b.yaml", "templates/a.yaml", "values/b.yaml"):
        changes.put(path)
    stop, outcomes = threading.Event(), []
    check = Checks(stop, "1 to update")
    devloop.run(changes, check, outcomes.append, stop=stop,
                options=devloop.LoopOptions(initial=False))
    assert check.calls == 1
    assert [(o.ok, o.summary, o.paths) for o in outcomes] == [
        (True, "1 to update", ("templates/a.yaml", "values/b.yaml"))]


def test_an_error_is_one_outcome_and_the_loop_goes_on() -> None:
    changes: queue.Queue[str] = queue.Queue()
    stop, outcomes = threading.Event(), []
    broken = RenderError("unexpected end of template", where="templates/a.yaml.j2:3")

    def emit(outcome: devloop.Outcome) -> None:
        outcomes.append(outcome)
        changes.put("templates/a.yaml.j2")  # the next edit, once this one is reported

    devloop.run(changes, Checks(stop, "no change", broken, "no change"), emit, stop=stop)
    assert [(o.ok, o.summary) for o in outcomes] == [
        (True, "no change"),
        (False, "templates/a.yaml.j2:3: unexpected end of template"),
        (True, "no change")]
    assert outcomes[0].paths == () and outcomes[1].paths == ("templates/a.yaml.j2",)


def test_a_stop_before_any_change_ends_the_loop_without_a_check() -> None:
    stop = threading.Event()
    stop.set()
    calls: list[devloop.Outcome] = []
    devloop.run(queue.Queue(), lambda: "never", calls.append, stop=stop,
                options=devloop.LoopOptions(initial=False))
    assert calls == []
