"""Approvals in the SQLite ledger: signed, hash-chained entries under the contract's rules,
a forged or edited one detected on replay, and files from before approvals still read."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from syncer import keys
from syncer.approvals import ApprovalPolicy
from syncer.errors import LedgerError, LedgerTamperedError, RuleViolationError
from syncer.ledger.local import LocalLedger, _Entry

CHANNEL = "demo-prod"
COLUMNS = [f.name for f in dataclasses.fields(_Entry)]
ADMIN, PUBLISHER, ALICE, BOB, STRANGER = (keys.generate() for _ in range(5))


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        self.now += 1000
        return self.now


def publish(ledger: LocalLedger, n: int) -> None:
    blob = base64.urlsafe_b64encode(hashlib.sha256(b"%d" % n).digest()).decode().rstrip("=")
    ledger.publish(CHANNEL, blob_id=blob, sha256=hashlib.sha256(b"b%d" % n).hexdigest(),
                   commit=hashlib.sha1(b"c%d" % n).hexdigest(), key=PUBLISHER)


def version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def sql(path: Path, statement: str, *args: object) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(statement, args)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def ledger(path: Path) -> LocalLedger:
    """Two releases; Alice and Bob approve, two approvals needed; Alice approved seq 1."""
    ledger = LocalLedger(path, clock=Clock())
    ledger.register_channel(CHANNEL, admin=ADMIN, publishers=[PUBLISHER.public_key])
    publish(ledger, 1)
    publish(ledger, 2)
    assert version(path) == 1
    ledger.set_approvers(CHANNEL, admin=ADMIN, approvers=[ALICE.address, BOB.address],
                         threshold=2)
    assert ledger.approve(CHANNEL, 1, key=ALICE) == 1
    return ledger


def test_approvals_are_recorded_in_order(ledger: LocalLedger, path: Path) -> None:
    assert ledger.approval_policy(CHANNEL) == ApprovalPolicy((ALICE.address, BOB.address), 2)
    assert ledger.approve(CHANNEL, 2, key=BOB) == 1
    assert ledger.approve(CHANNEL, 2, key=ALICE) == 2
    reopened = LocalLedger(path)
    assert reopened.approvals(CHANNEL, 2) == [BOB.address, ALICE.address]
    assert reopened.approvals(CHANNEL, 1) == [ALICE.address]
    assert version(path) == 2
    with pytest.raises(LedgerError, match="no release seq 3"):
        reopened.approvals(CHANNEL, 3)


def test_refusals_write_nothing(ledger: LocalLedger, path: Path) -> None:
    before = path.read_bytes()
    for call, match in [
        (lambda: ledger.approve(CHANNEL, 1, key=STRANGER), "is not an approver"),
        (lambda: ledger.approve(CHANNEL, 1, key=ALICE), "has already approved seq 1"),
        (lambda: ledger.approve(CHANNEL, 3, key=BOB), "no release seq 3 to approve"),
        (lambda: ledger.set_approvers(CHANNEL, admin=ADMIN, approvers=[ALICE.address],
                                      threshold=2), "threshold 2 must be between 0 and"),
        (lambda: ledger.set_approvers(CHANNEL, admin=ALICE, approvers=[], threshold=0),
         "only the channel's admin can change its approvers"),
    ]:
        with pytest.raises(RuleViolationError, match=match):
            call()
    assert path.read_bytes() == before


def test_threshold_zero_lifts_the_gate(ledger: LocalLedger) -> None:
    ledger.set_approvers(CHANNEL, admin=ADMIN, approvers=[BOB.address], threshold=0)
    assert ledger.approval_policy(CHANNEL) == ApprovalPolicy((BOB.address,), 0)
    assert ledger.approvals(CHANNEL, 1) == [ALICE.address]  # kept


def append_row(path: Path, signer: keys.Keypair, **fields: object) -> None:
    """An attacker with a key of their own: a well-formed, linked, signed row."""
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    with closing(sqlite3.connect(path)) as db, db:
        row = db.execute(f"SELECT {names} FROM entries ORDER BY pos DESC LIMIT 1").fetchone()
        last = _Entry(**dict(zip(COLUMNS, row, strict=True)))
        entry = _Entry(CHANNEL, last.pos + 1, prev_hash=hashlib.sha256(last.body()).hexdigest(),
                       signer=signer.public_key, timestamp_ms=last.timestamp_ms + 1,
                       **fields)  # type: ignore[arg-type]
        entry = dataclasses.replace(entry, signature=signer.sign(entry.body()))
        db.execute(f"INSERT INTO entries ({names}) VALUES ({', '.join('?' * len(COLUMNS))})",
                   [getattr(entry, c) for c in COLUMNS])
        db.execute("UPDATE channels SET head_pos = ?, head_hash = ?",
                   (entry.pos, hashlib.sha256(entry.body()).hexdigest()))


def tampered(path: Path, match: str) -> None:
    ledger = LocalLedger(path)
    for read in (lambda: ledger.approvals(CHANNEL, 1), lambda: ledger.head(CHANNEL),
                 lambda: ledger.approval_policy(CHANNEL)):
        with pytest.raises(LedgerTamperedError, match=match):
            read()


def test_approval_by_a_stranger_is_detected(ledger: LocalLedger, path: Path) -> None:
    append_row(path, STRANGER, kind="approve", seq=2)
    tampered(path, rf"^ledger approval entry 7 \(of seq 2\) of channel {CHANNEL}: "
                   f"{STRANGER.address} is not an approver")


def test_approval_with_a_forged_signer_is_detected(ledger: LocalLedger, path: Path) -> None:
    append_row(path, STRANGER, kind="approve", seq=2)
    sql(path, "UPDATE entries SET signer = ? WHERE pos = 7", BOB.public_key)
    tampered(path, r"approval entry 7 \(of seq 2\) .*: signature does not verify$")


@pytest.mark.parametrize(("column", "value"), [("seq", 2), ("kind", "release")])
def test_edited_approval_is_detected(ledger: LocalLedger, path: Path, column: str,
                                     value: object) -> None:
    sql(path, f'UPDATE entries SET "{column}" = ? WHERE kind = \'approve\'', value)
    tampered(path, "signature does not verify$")


def test_edited_threshold_is_detected(ledger: LocalLedger, path: Path) -> None:
    subject = f'{{"approvers":["{ALICE.address}","{BOB.address}"],"threshold":1}}'
    sql(path, "UPDATE entries SET subject = ? WHERE kind = 'approvers'", subject)
    tampered(path, r"admin entry 5 \(approvers\) .*: signature does not verify$")


def test_approvers_set_by_a_stranger_are_detected(ledger: LocalLedger, path: Path) -> None:
    subject = f'{{"approvers":["{STRANGER.address}"],"threshold":1}}'
    append_row(path, STRANGER, kind="approvers", subject=subject)
    tampered(path, "only the channel's admin can change its approvers")


@pytest.mark.parametrize("subject", [
    '{"approvers":[],"threshold":1}',  # breaks the threshold rule
    '{"threshold":0, "approvers":[]}',  # not the canonical form
    "[" * 5000,  # nested deeper than the parser goes
    '{"approvers":[1],"threshold":1}',
])
def test_malformed_approvers_entry_is_detected(ledger: LocalLedger, path: Path,
                                               subject: str) -> None:
    append_row(path, ADMIN, kind="approvers", subject=subject)
    tampered(path, r"admin entry 7 \(approvers\) of channel demo-prod: ")


def test_deleted_approval_is_detected(ledger: LocalLedger, path: Path) -> None:
    sql(path, "DELETE FROM entries WHERE kind = 'approve'")
    tampered(path, "admin entry 6 is missing$")


def test_a_newer_schema_is_refused_in_one_line(ledger: LocalLedger, path: Path) -> None:
    sql(path, "PRAGMA user_version = 3")
    with pytest.raises(LedgerError, match="unknown ledger schema version 3"):
        ledger.head(CHANNEL)
