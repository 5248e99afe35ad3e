"""The approval rules (as registry.move aborts) and the gate that picks the release to apply."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jsonschema
import pytest
import yaml

from syncer.approvals import DiffSummary, Gate, Pending, gate, summarize
from syncer.channelspec import ChannelSpec
from syncer.channelstatus import Outcome, OutcomeKind, PendingStatus, status_body
from syncer.errors import RuleViolationError
from syncer.ledger import rules
from syncer.model import Action, Change, ChangeSet, ObjectRef, Release

CHANNEL = "shop-prod"
ADMIN = "0x" + "ad" * 32
ALICE = "0x" + "a1" * 32
BOB = "0x" + "b0" * 32
CAROL = "0x" + "c0" * 32


def state(releases: int = 2) -> rules.ChannelState:
    found = rules.ChannelState(CHANNEL, admin=ADMIN)
    for seq in range(1, releases + 1):
        found.releases.append(Release(CHANNEL, seq, "A" * 43, "0" * 64, "1" * 40, ALICE, seq))
    return found


def test_set_approvers_and_approve_counts() -> None:
    channel = state()
    channel.set_approvers([ALICE, BOB.upper().replace("0X", "0x")], 2, by=ADMIN)
    assert (list(channel.approvers), channel.threshold) == ([ALICE, BOB], 2)
    assert channel.approve(2, by=BOB) == 1
    assert not channel.is_approved(2)
    assert channel.approve(2, by=ALICE) == 2
    assert channel.is_approved(2) and not channel.is_approved(1) and not channel.is_approved(3)
    assert channel.approvals == {2: [BOB, ALICE]}


@pytest.mark.parametrize(("approvers", "threshold", "match"), [
    ([ALICE], 2, "threshold 2 must be between 0 and the number of approvers \\(1\\)"),
    ([ALICE], -1, "threshold -1 must be between"),
    ([ALICE, ALICE], 1, f"approver {ALICE} is listed twice"),
    (["alice"], 1, "approver 'alice' is not a Sui address"),
])
def test_bad_approvers_refused(approvers: list[str], threshold: int, match: str) -> None:
    channel = state()
    with pytest.raises(RuleViolationError, match=f"^channel {CHANNEL}: {match}"):
        channel.set_approvers(approvers, threshold, by=ADMIN)
    assert (channel.approvers, channel.threshold) == ({}, 0)


def test_only_the_admin_sets_approvers() -> None:
    with pytest.raises(RuleViolationError, match="only the channel's admin can change its appr"):
        state().set_approvers([ALICE], 1, by=ALICE)


@pytest.mark.parametrize(("who", "seq", "match"), [
    (CAROL, 1, f"{CAROL} is not an approver of this channel"),  # ENotApprover
    (ALICE, 3, "no release seq 3 to approve"),  # ENoSuchRelease
    (ALICE, 0, "no release seq 0 to approve"),
    (ALICE, 1, f"{ALICE} has already approved seq 1"),  # EAlreadyApproved
])
def test_approve_refusals(who: str, seq: int, match: str) -> None:
    channel = state()
    channel.set_approvers([ALICE, BOB], 2, by=ADMIN)
    channel.approve(1, by=ALICE)
    with pytest.raises(RuleViolationError, match=match):
        channel.approve(seq, by=who)
    assert channel.approvals == {1: [ALICE]}


def test_not_an_approver_is_checked_before_the_seq() -> None:
    """registry.move asserts ENotApprover before ENoSuchRelease."""
    with pytest.raises(RuleViolationError, match="is not an approver"):
        state().approve(9, by=CAROL)


def test_approvals_kept_when_approvers_change() -> None:
    channel = state()
    channel.set_approvers([ALICE, BOB], 1, by=ADMIN)
    channel.approve(1, by=ALICE)
    channel.set_approvers([BOB], 1, by=ADMIN)
    assert channel.approvals == {1: [ALICE]} and channel.is_approved(1)
    with pytest.raises(RuleViolationError, match="is not an approver"):
        channel.approve(2, by=ALICE)


def approved(table: dict[int, list[str]]) -> object:
    return lambda seq: table.get(seq, [])


@pytest.mark.parametrize(("head", "applied", "threshold", "table", "expected"), [
    (3, 1, 0, {}, Gate(3)),  # no gate: the head
    (0, 0, 2, {}, Gate(None)),  # nothing published
    (3, 1, 1, {3: [ALICE]}, Gate(3)),
    (3, 1, 2, {2: [ALICE, BOB], 3: [ALICE]}, Gate(2, Pending(3, (ALICE,), 2))),
    (3, 1, 2, {3: [BOB]}, Gate(1, Pending(3, (BOB,), 2))),  # applied kept in place
    (2, 0, 1, {}, Gate(None, Pending(2, (), 1))),  # nothing approved, nothing applied
    (3, 3, 1, {}, Gate(3)),  # the head applied already
    (3, 2, 1, {1: [ALICE]}, Gate(2, Pending(3, (), 1))),  # never below the applied one
])
def test_gate(head: int, applied: int, threshold: int, table: dict[int, list[str]],
              expected: Gate) -> None:
    assert gate(head_seq=head, applied_seq=applied, threshold=threshold,
                approvals=approved(table)) == expected  # type: ignore[arg-type]


def test_gate_asks_only_down_to_the_first_approved() -> None:
    asked: list[int] = []

    def approvals(seq: int) -> list[str]:
        asked.append(seq)
        return [ALICE] if seq == 4 else []

    assert gate(head_seq=5, applied_seq=1, threshold=1, approvals=approvals).target == 4
    assert asked == [5, 4]


def test_pending_line() -> None:
    assert Pending(3, (ALICE,), 2).line() == "release 3 waits for 1 more approval (1/2)"
    assert Pending(3, (), 2).line() == "release 3 waits for 2 more approvals (0/2)"


def test_summarize_counts_and_names_only_refs() -> None:
    def change(action: Action, name: str) -> Change:
        ref = ObjectRef("", "Secret", "shop", name)
        return Change(ref, action, desired={"data": {"password": "aHVudGVyMg=="}})

    changes = ChangeSet((change(Action.UNCHANGED, "a"), change(Action.CREATE, "b"),
                         change(Action.UPDATE, "c"), change(Action.PRUNE, "d"),
                         *(change(Action.CREATE, f"e{i}") for i in range(12))))
    found = summarize(changes)
    assert (found.create, found.update, found.delete) == (13, 1, 1)
    assert found.refs[:3] == ("create Secret/shop/b", "update Secret/shop/c",
                              "prune Secret/shop/d")
    assert len(found.refs) == 10 and "aHVudGVyMg" not in repr(found)


def test_the_pending_status_fits_the_crd_and_goes_once_nothing_waits() -> None:
    spec = ChannelSpec("shop-dev", "syncer-system", "shop-dev", generation=3)
    waiting = PendingStatus(Pending(8, (ALICE,), 2), DiffSummary(0, 1, 0, ("update v1/x",)))
    outcome = Outcome(OutcomeKind.UNCHANGED, 1_800_000_000.0, "release 7 in place", seq=7,
                      pending=waiting)
    status = status_body(outcome, spec=spec)
    assert status["pending"] == {
        "seq": 8, "approvals": 1, "threshold": 2, "approvedBy": [ALICE],
        "message": "release 8 waits for 1 more approval (1/2)",
        "diff": {"create": 0, "update": 1, "delete": 0, "objects": ["update v1/x"]}}
    crd = yaml.safe_load((Path(__file__).parents[2] / "templates" / "syncer" /
                          "crd-channels.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    jsonschema.validate({"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
                         "metadata": {}, "spec": {}, "status": status}, schema)
    later = status_body(dataclasses.replace(outcome, pending=None), spec=spec, previous=status)
    assert "pending" not in later
