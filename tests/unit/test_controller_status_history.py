"""status.history of a Channel (`channelres.status_body`, pure): a release applied while
its objects were still Progressing settles to Applied once a later round finds it healthy
with nothing to change; other Unchanged rounds leave the history as it was."""

from __future__ import annotations

from syncer.channelspec import ChannelSpec
from syncer.channelstatus import Outcome, OutcomeKind, status_body

SPEC = ChannelSpec("shop-dev", "syncer-system", "shop-dev", generation=1, history_limit=3)
T0 = 1_800_000_000.0
SHA = {1: "1" * 64, 2: "2" * 64, 3: "3" * 64}


def outcome(kind: OutcomeKind, seq: int, at: float, message: str = "") -> Outcome:
    return Outcome(kind, at, message or f"release {seq} {kind.value}", seq=seq,
                   blob_id=f"blob{seq}", sha256=SHA[seq], commit="c" * 40)


def rows(status: dict[str, object]) -> list[tuple[object, ...]]:
    return [(h["seq"], h["outcome"], h["reason"], h["message"], h["time"])
            for h in status["history"]]  # type: ignore[attr-defined]


def test_a_progressing_release_found_healthy_is_applied_in_its_place() -> None:
    status = status_body(outcome(OutcomeKind.APPLIED, 1, T0), spec=SPEC)
    status = status_body(outcome(OutcomeKind.PROGRESSING, 2, T0 + 30,
                                 "release 2 applied; 1 objects progressing"),
                         spec=SPEC, previous=status)
    status = status_body(outcome(OutcomeKind.UNCHANGED, 2, T0 + 60,
                                 "release 2 in place, nothing to change"),
                         spec=SPEC, previous=status)
    assert rows(status) == [
        (2, "Applied", "ReleaseApplied", "release 2 in place, nothing to change",
         "2027-01-15T08:01:00Z"),
        (1, "Applied", "ReleaseApplied", "release 1 Applied", "2027-01-15T08:00:00Z")]
    assert status["lastApplied"]["time"] == "2027-01-15T08:00:30Z"  # type: ignore[index]


def test_an_unchanged_round_leaves_the_other_entries_alone() -> None:
    status = status_body(outcome(OutcomeKind.PROGRESSING, 1, T0), spec=SPEC)
    status = status_body(outcome(OutcomeKind.REFUSED, 3, T0 + 1), spec=SPEC, previous=status)
    before = rows(status)
    for seq in (2, 3):  # another release's round, or a refused one's seq: nothing settles
        assert rows(status_body(outcome(OutcomeKind.UNCHANGED, seq, T0 + 60), spec=SPEC,
                                previous=status)) == before
    failed = status_body(outcome(OutcomeKind.FAILED, 1, T0 + 2), spec=SPEC, previous=status)
    again = status_body(outcome(OutcomeKind.UNCHANGED, 1, T0 + 60), spec=SPEC,
                        previous=failed)
    assert rows(again) == rows(failed)  # only a Progressing entry settles
