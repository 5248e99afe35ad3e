"""The SQLite ledger on a real file: the contract's rules, and tampering with the file."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syncer import keys
from syncer.errors import LedgerError, LedgerTamperedError, RuleViolationError
from syncer.ledger import Ledger
from syncer.ledger.local import LocalLedger, _Entry
from syncer.model import Release

CHANNEL = "demo-dev"
ENTRY_COLUMNS = [f.name for f in dataclasses.fields(_Entry)]
ADMIN = keys.generate()
PUBLISHER = keys.generate()
STRANGER = keys.generate()


def blob_id(n: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(b"blob%d" % n).digest()).decode().rstrip("=")


def sha(n: int) -> str:
    return hashlib.sha256(b"bundle%d" % n).hexdigest()


def commit(n: int) -> str:
    return hashlib.sha1(b"commit%d" % n).hexdigest()


class Clock:
    """A fake clock in milliseconds that moves one second per reading."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1000
        return self.now


def publish(ledger: LocalLedger, n: int, key: keys.Keypair = PUBLISHER) -> Release:
    return ledger.publish(CHANNEL, blob_id=blob_id(n), sha256=sha(n), commit=commit(n), key=key)


def sql(path: Path, statement: str, *args: object) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(statement, args)


def dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db, db:
        rows = list(db.iterdump())
    return rows


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def ledger(path: Path) -> LocalLedger:
    ledger = LocalLedger(path, clock=Clock())
    ledger.register_channel(CHANNEL, admin=ADMIN, publishers=[PUBLISHER.public_key])
    return ledger


@pytest.fixture
def three(ledger: LocalLedger) -> LocalLedger:
    for n in (1, 2, 3):
        publish(ledger, n)
    return ledger


def test_is_a_ledger(ledger: LocalLedger) -> None:
    assert isinstance(ledger, Ledger)


def test_register_then_publish_three(path: Path) -> None:
    clock = Clock()
    ledger = LocalLedger(path, clock=clock)
    ledger.register_channel(CHANNEL, admin=ADMIN, publishers=[PUBLISHER.public_key])
    assert ledger.channels() == [CHANNEL]
    assert (ledger.history(CHANNEL), ledger.head(CHANNEL)) == ([], None)
    published = [publish(ledger, n) for n in (1, 2, 3)]
    history = ledger.history(CHANNEL)
    assert history == published
    assert [r.seq for r in history] == [1, 2, 3]
    assert [(r.blob_id, r.sha256, r.commit) for r in history] == [
        (blob_id(n), sha(n), commit(n)) for n in (1, 2, 3)
    ]
    assert {r.publisher for r in history} == {PUBLISHER.address}
    assert [r.timestamp_ms for r in history] == sorted({r.timestamp_ms for r in history})
    assert history[-1].timestamp_ms == clock.now
    assert ledger.head(CHANNEL) == history[-1]
    assert ledger.release(CHANNEL, 2) == history[1]
    assert ledger.publishers(CHANNEL) == [PUBLISHER.address]
    assert ledger.admin(CHANNEL) == ADMIN.address


def test_unknown_publisher_refused_and_nothing_written(three: LocalLedger, path: Path) -> None:
    before = dump(path)
    with pytest.raises(RuleViolationError, match="is not allowed to publish") as err:
        publish(three, 4, key=STRANGER)
    assert str(err.value).startswith(f"channel {CHANNEL}: publisher {STRANGER.address} ")
    assert dump(path) == before


def test_rule_refusal_writes_nothing(three: LocalLedger, path: Path) -> None:
    before = path.read_bytes()
    with pytest.raises(RuleViolationError, match="blob_id"):
        three.publish(CHANNEL, blob_id="short", sha256=sha(4), commit=commit(4), key=PUBLISHER)
    with pytest.raises(RuleViolationError, match="commit"):
        three.publish(CHANNEL, blob_id=blob_id(4), sha256=sha(4), commit="abc", key=PUBLISHER)
    assert path.read_bytes() == before


def test_revoked_publisher_refused_for_good(three: LocalLedger) -> None:
    three.revoke_publisher(CHANNEL, admin=ADMIN, public_key=PUBLISHER.public_key)
    assert three.publishers(CHANNEL) == []
    with pytest.raises(RuleViolationError, match="has been revoked"):
        publish(three, 4)
    with pytest.raises(RuleViolationError, match="cannot be added again"):
        three.add_publisher(CHANNEL, admin=ADMIN, public_key=PUBLISHER.public_key)
    assert len(three.history(CHANNEL)) == 3


def test_added_publisher_can_publish(three: LocalLedger) -> None:
    three.add_publisher(CHANNEL, admin=ADMIN, public_key=STRANGER.public_key)
    assert three.publishers(CHANNEL) == [PUBLISHER.address, STRANGER.address]
    assert publish(three, 4, key=STRANGER).publisher == STRANGER.address


def test_only_the_admin_changes_publishers(ledger: LocalLedger, path: Path) -> None:
    before = dump(path)
    with pytest.raises(RuleViolationError, match="only the channel's admin"):
        ledger.add_publisher(CHANNEL, admin=PUBLISHER, public_key=STRANGER.public_key)
    with pytest.raises(RuleViolationError, match="only the channel's admin"):
        ledger.revoke_publisher(CHANNEL, admin=STRANGER, public_key=PUBLISHER.public_key)
    assert dump(path) == before


def test_channel_registration_rules(ledger: LocalLedger, tmp_path: Path) -> None:
    with pytest.raises(RuleViolationError, match="channel already exists"):
        ledger.register_channel(CHANNEL, admin=STRANGER, publishers=[])
    assert ledger.admin(CHANNEL) == ADMIN.address
    fresh = tmp_path / "fresh.sqlite"
    with pytest.raises(RuleViolationError, match="not a Kubernetes label value"):
        LocalLedger(fresh).register_channel("demo/dev", admin=ADMIN, publishers=[])
    assert not fresh.exists()
    with pytest.raises(RuleViolationError, match="already allowed"):
        LocalLedger(fresh).register_channel(
            "demo-prod", admin=ADMIN, publishers=[PUBLISHER.public_key] * 2
        )
    assert LocalLedger(fresh).channels() == []


def test_seq_follows_the_head(three: LocalLedger) -> None:
    assert publish(three, 4).seq == 4
    for seq in (0, 5, -1):
        with pytest.raises(LedgerError, match=f"channel {CHANNEL}: no release seq {seq}"):
            three.release(CHANNEL, seq)


def test_publishing_the_head_again_is_a_noop(three: LocalLedger, path: Path) -> None:
    before = dump(path)
    head = three.head(CHANNEL)
    assert publish(three, 3) == head
    assert dump(path) == before


def test_rollback_is_a_new_release(three: LocalLedger) -> None:
    rollback = publish(three, 1)
    assert (rollback.seq, rollback.commit) == (4, commit(1))
    assert len(three.history(CHANNEL)) == 4


def test_timestamps_never_go_back(path: Path) -> None:
    clock = Clock()
    ledger = LocalLedger(path, clock=clock)
    ledger.register_channel(CHANNEL, admin=ADMIN, publishers=[PUBLISHER.public_key])
    first = publish(ledger, 1)
    clock.now -= 60_000
    assert publish(ledger, 2).timestamp_ms == first.timestamp_ms


def test_unknown_channel_is_named(ledger: LocalLedger) -> None:
    for call in (
        lambda: ledger.head("nope"),
        lambda: ledger.history("nope"),
        lambda: ledger.publishers("nope"),
        lambda: ledger.release("nope", 1),
        lambda: ledger.add_publisher("nope", admin=ADMIN, public_key=STRANGER.public_key),
        lambda: ledger.publish("nope", blob_id=blob_id(1), sha256=sha(1), commit=commit(1),
                               key=PUBLISHER),
    ):  # fmt: skip
        with pytest.raises(LedgerError, match="^channel nope: no such channel") as err:
            call()
        assert not isinstance(err.value, LedgerTamperedError)


def test_absent_ledger_reads_empty_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite"
    assert LocalLedger(path).channels() == []
    with pytest.raises(LedgerError, match="no ledger at .*absent.sqlite"):
        LocalLedger(path).head(CHANNEL)
    assert not path.exists()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerError, match=f"^{path}: ledger transaction failed"):
        LocalLedger(path).channels()


def test_two_instances_see_each_other(ledger: LocalLedger, path: Path) -> None:
    other = LocalLedger(path, clock=Clock(start=1_800_000_000_000))
    publish(ledger, 1)
    assert [r.seq for r in other.history(CHANNEL)] == [1]
    publish(other, 2)
    assert ledger.head(CHANNEL) == other.head(CHANNEL)
    assert ledger.head(CHANNEL).seq == 2  # type: ignore[union-attr]
    other.register_channel("demo-prod", admin=ADMIN, publishers=[])
    assert ledger.channels() == [CHANNEL, "demo-prod"]


def test_concurrent_writers_are_serialized(ledger: LocalLedger, path: Path) -> None:
    errors: list[BaseException] = []

    def writer(first: int) -> None:
        mine = LocalLedger(path)
        try:
            for n in range(first, first + 5):
                publish(mine, n)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.seq for r in ledger.history(CHANNEL)] == list(range(1, 11))


def test_published_is_logged_with_context(
    ledger: LocalLedger, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="syncer.ledger.local"):
        release = publish(ledger, 1)
    record = next(r for r in caplog.records if r.getMessage() == "release published")
    assert (record.channel, record.seq, record.blob_id) == (  # type: ignore[attr-defined]
        CHANNEL, 1, release.blob_id,
    )  # fmt: skip


# Tampering: someone with write access to the file but no key.


def tampered(ledger: LocalLedger, match: str) -> None:
    with pytest.raises(LedgerTamperedError, match=match):
        ledger.history(CHANNEL)
    with pytest.raises(LedgerTamperedError, match=match):
        ledger.head(CHANNEL)
    with pytest.raises(LedgerTamperedError, match=match):
        publish(ledger, 9)


_COLUMNS = ("blob_id", "commit", "sha256", "timestamp_ms", "signer", "signature")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("blob_id", blob_id(9)),
        ("commit", commit(9)),
        ("sha256", sha(9)),
        ("timestamp_ms", 1_700_000_002_500),
        ("signer", STRANGER.public_key),
        ("signature", PUBLISHER.sign(b"something else")),
    ],
    ids=lambda value: value if value in _COLUMNS else "",  # keys differ per process
)
def test_edited_release_is_detected(
    three: LocalLedger, path: Path, column: str, value: object
) -> None:
    sql(path, f'UPDATE entries SET "{column}" = ? WHERE seq = 2', value)
    tampered(three, f"^ledger entry seq 2 of channel {CHANNEL}: signature does not verify$")


def test_deleted_middle_release_is_detected(three: LocalLedger, path: Path) -> None:
    sql(path, "DELETE FROM entries WHERE seq = 2")
    tampered(three, f"^ledger of channel {CHANNEL}: seq 2 is missing$")


def test_deleted_last_release_is_detected(three: LocalLedger, path: Path) -> None:
    sql(path, "DELETE FROM entries WHERE seq = 3")
    tampered(three, f"^ledger of channel {CHANNEL}: seq 3 is missing$")


def test_renumbered_release_is_detected(three: LocalLedger, path: Path) -> None:
    sql(path, "DELETE FROM entries WHERE seq = 2")
    sql(path, "UPDATE entries SET pos = pos - 1, seq = seq - 1 WHERE seq = 3")
    sql(path, "UPDATE channels SET head_pos = head_pos - 1, head_seq = 2")
    tampered(three, "seq 2 of channel demo-dev: signature does not verify")


def test_swapped_releases_are_detected(three: LocalLedger, path: Path) -> None:
    columns = '"blob_id", "sha256", "commit", "timestamp_ms", "signature", "prev_hash"'
    sql(path, f"CREATE TABLE saved AS SELECT seq, {columns} FROM entries WHERE seq IN (2, 3)")
    for seq, other in ((2, 3), (3, 2)):
        copied = (f"{c} = (SELECT {c} FROM saved WHERE seq = {other})" for c in columns.split(", "))
        sql(path, f"UPDATE entries SET {', '.join(copied)} WHERE seq = {seq}")
    tampered(three, "seq 2 of channel demo-dev: signature does not verify")


def test_deleted_admin_entry_is_detected(three: LocalLedger, path: Path) -> None:
    sql(path, "DELETE FROM entries WHERE kind = 'add'")
    tampered(three, f"^ledger of channel {CHANNEL}: admin entry 2 is missing$")


def test_edited_head_is_detected(three: LocalLedger, path: Path) -> None:
    sql(path, "UPDATE channels SET head_hash = ?", "0" * 64)
    tampered(three, "the channel's head does not match its last entry")


def test_removed_channel_row_is_detected(three: LocalLedger, path: Path) -> None:
    sql(path, "DELETE FROM channels")
    tampered(three, "the channel row was removed")
    assert three.channels() == []


def append_row(path: Path, signer: keys.Keypair, **fields: object) -> None:
    """What an attacker can do with a key of their own: a well-formed, linked, signed row."""
    names = ", ".join(f'"{c}"' for c in ENTRY_COLUMNS)
    with closing(sqlite3.connect(path)) as db, db:
        row = db.execute(f"SELECT {names} FROM entries ORDER BY pos DESC LIMIT 1").fetchone()
        last = _Entry(**dict(zip(ENTRY_COLUMNS, row, strict=True)))
        entry = _Entry(
            CHANNEL, last.pos + 1, prev_hash=entry_hash(last), signer=signer.public_key,
            timestamp_ms=last.timestamp_ms + 1, **fields,  # type: ignore[arg-type]
        )  # fmt: skip
        entry = dataclasses.replace(entry, signature=signer.sign(entry.body()))
        values = [getattr(entry, c) for c in ENTRY_COLUMNS]
        db.execute(f"INSERT INTO entries ({names}) VALUES ({', '.join('?' * len(values))})", values)
        head = (entry.pos, entry_hash(entry))
        db.execute("UPDATE channels SET head_pos = ?, head_hash = ?", head)


def entry_hash(entry: _Entry) -> str:
    return hashlib.sha256(entry.body()).hexdigest()


def test_publisher_added_without_the_admin_key_is_detected(three: LocalLedger, path: Path) -> None:
    append_row(path, STRANGER, kind="add", subject=STRANGER.public_key)
    tampered(three, r"^ledger admin entry 6 \(add\) of channel demo-dev: only the channel's admin")


def test_publisher_row_with_a_forged_signature_is_detected(three: LocalLedger, path: Path) -> None:
    append_row(path, STRANGER, kind="add", subject=STRANGER.public_key)
    sql(path, "UPDATE entries SET signer = ? WHERE pos = 6", ADMIN.public_key)
    tampered(three, r"^ledger admin entry 6 \(add\) of channel demo-dev: signature does not")


def test_release_by_a_stranger_is_detected(three: LocalLedger, path: Path) -> None:
    append_row(path, STRANGER, kind="release", seq=4, blob_id=blob_id(4), sha256=sha(4),
               commit=commit(4))  # fmt: skip
    tampered(three, f"seq 4 of channel demo-dev: publisher {STRANGER.address} is not allowed")


def test_release_that_skips_a_seq_is_detected(three: LocalLedger, path: Path) -> None:
    """A publisher with write access still cannot break the rules: reads apply them too."""
    append_row(path, PUBLISHER, kind="release", seq=5, blob_id=blob_id(5), sha256=sha(5),
               commit=commit(5))  # fmt: skip
    sql(path, "UPDATE channels SET head_seq = 5")
    tampered(three, "seq 5 of channel demo-dev: seq 5 must be head \\+ 1 = 4")


def test_rollback_of_the_tail_is_not_detected(three: LocalLedger, path: Path) -> None:
    """The documented limit: cutting the log and rewinding the head row is a rollback."""
    with closing(sqlite3.connect(path)) as db, db:
        prev = db.execute("SELECT prev_hash FROM entries WHERE seq = 3").fetchone()[0]
        db.execute("DELETE FROM entries WHERE seq = 3")
        db.execute("UPDATE channels SET head_pos = head_pos - 1, head_seq = 2, head_hash = ?",
                   (prev,))  # fmt: skip
    assert [r.seq for r in three.history(CHANNEL)] == [1, 2]


# Any single edit of any stored value is detected.


@pytest.fixture(scope="module")
def base_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("base") / "ledger.sqlite"
    ledger = LocalLedger(path, clock=Clock())
    ledger.register_channel(CHANNEL, admin=ADMIN, publishers=[PUBLISHER.public_key])
    for n in (1, 2):
        publish(ledger, n)
    ledger.add_publisher(CHANNEL, admin=ADMIN, public_key=STRANGER.public_key)
    publish(ledger, 3, key=STRANGER)
    ledger.revoke_publisher(CHANNEL, admin=ADMIN, public_key=STRANGER.public_key)
    publish(ledger, 4)
    with closing(sqlite3.connect(path)) as db, db:
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (BASE_ENTRIES,)
    return path


@pytest.fixture
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp) / "ledger.sqlite"


values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=70),
    st.binary(max_size=8),
    st.sampled_from([blob_id(7), sha(7), commit(7), STRANGER.public_key, "release", "add"]),
)


BASE_ENTRIES = 8  # register, add, release 1 and 2, add, release 3, revoke, release 4
TARGETS = [(pos, c) for pos in range(1, BASE_ENTRIES + 1) for c in ENTRY_COLUMNS] + [
    (0, c) for c in ("head_pos", "head_seq", "head_hash")  # 0: the channel row
]


@pytest.mark.parametrize("pos", range(1, BASE_ENTRIES + 1))
def test_removing_any_one_entry_is_detected(base_file: Path, scratch: Path, pos: int) -> None:
    shutil.copyfile(base_file, scratch)
    sql(scratch, "DELETE FROM entries WHERE pos = ?", pos)
    with pytest.raises(LedgerTamperedError, match=" is missing$"):
        LocalLedger(scratch).history(CHANNEL)


@given(target=st.sampled_from(TARGETS), value=values)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_single_edit_is_detected(
    base_file: Path, scratch: Path, target: tuple[int, str], value: object
) -> None:
    shutil.copyfile(base_file, scratch)
    pos, column = target
    table, where = ("channels", "1") if pos == 0 else ("entries", f"pos = {pos}")
    with closing(sqlite3.connect(scratch)) as db, db:
        before = db.execute(f'SELECT "{column}" FROM {table} WHERE {where}').fetchone()
        try:
            db.execute(f'UPDATE {table} SET "{column}" = ? WHERE {where}', (value,))
        except sqlite3.IntegrityError:  # NOT NULL or a duplicate position: not stored
            event("refused by SQLite")
            return
        after = db.execute(f'SELECT "{column}" FROM {table} WHERE {where}').fetchone()
    if before == after:
        event("same value stored")
        return
    event(f"edited {table}")
    with pytest.raises(LedgerTamperedError):
        LocalLedger(scratch).history(CHANNEL)
