"""The embedded ledger: one SQLite file, the same rules as the Move contract, tamper-evident.

Each change is an entry of the channel's log, signed and hash-chained: entry 1 registers the
channel, signed by the admin key it names; `add`/`revoke` entries, signed by that key, change
the publishers, and `approvers` entries (subject: canonical JSON `{"approvers": [addresses],
"threshold": K}`) set the approvers and threshold; `release` entries are signed by their
publisher, `approve` entries (seq: the release approved) by their approver. Ed25519 signs a
canonical JSON encoding of every field (channel, position, kind, subject, seq, blob_id,
sha256, commit, timestamp_ms, previous entry's hash, signer's public key). The channel row
keeps the position, seq and hash of the last entry. Every read replays the whole log
(signatures, links, positions, the contract's rules, so a publisher must have been allowed
when it published and an approver listed when it approved, and the channel row) and raises
`LedgerTamperedError` naming the channel and the entry ("seq 2", "admin entry 3 (add)",
"approval entry 5 (of seq 2)"). A write replays first, then takes the new entry through the
same code in one transaction: a refused write leaves the file as it was.

What an attacker who can write the file, but holds no key, can and cannot do:

- Detected: editing any field of any entry (the signer's key and the kind included); removing,
  duplicating, reordering or inserting entries anywhere in the log; removing the last entries
  while the channel row names the old head; editing the head; adding, revoking or re-enabling a
  publisher; forging an approval or changing the approvers or threshold; moving an entry to
  another channel; removing a channel row but not its entries.
- Not detected: a rollback. Cutting a channel's log back to an earlier entry and setting the
  channel row to match gives a state that was once genuine, as restoring an older copy of the
  file does: it can hide the latest releases or approvals, or undo a revocation. Only a
  reader that remembers the highest seq it saw notices (the in-cluster syncer records the seq
  it applied); on Sui there is no such gap.
- Not detected: deleting a whole channel, or replacing it by one registered with the attacker's
  own admin and publisher keys (all signatures then verify). Pin the admin address
  (`LocalLedger.admin`) out of band to notice the latter.
- Schema: version 1 files hold the first four kinds; the first `approvers` or `approve` entry
  sets `PRAGMA user_version` to 2, so that an older syncer refuses the file in one line
  ("unknown ledger schema version 2") rather than calling it tampered. Version 1 files stay
  readable and writable as they are.
- Not prevented: corrupting the file (reads then fail), reading it (it holds no secret, only
  what is public on chain too). Times are the writers' clocks (kept non-decreasing), not Sui's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path
from typing import Final

from syncer import keys
from syncer.approvals import ApprovalPolicy
from syncer.errors import ConfigError, LedgerError, LedgerTamperedError, RuleViolationError
from syncer.keys import Keypair
from syncer.ledger import rules
from syncer.model import Release

__all__ = ["LocalLedger", "wall_clock_ms"]

log = logging.getLogger(__name__)

_SCHEMA_VERSION: Final = 1
_APPROVALS_VERSION: Final = 2  # a file with approvers or approve entries
_APPROVAL_KINDS: Final = frozenset({"approvers", "approve"})
_MAX_SUBJECT: Final = 64 * 1024  # an approvers entry's JSON: about 1,000 approvers
_DOMAIN: Final = "syncer.local-ledger.v1"
_GENESIS: Final = "0" * 64
_BUSY_TIMEOUT_S: Final = 30.0
_UNLINKED: Final = "does not link to the entry before it (removed, reordered or edited)"
_SCHEMA: Final = (
    """CREATE TABLE channels (  -- the head: position, release seq and hash of the last entry
    name TEXT PRIMARY KEY, head_pos INTEGER NOT NULL, head_seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL
)""",
    """CREATE TABLE entries (
    channel      TEXT NOT NULL,
    pos          INTEGER NOT NULL,  -- 1, 2, ... within the channel
    kind         TEXT NOT NULL,     -- register | add | revoke | release | approvers | approve
    subject      TEXT,              -- add, revoke: the publisher's public key; approvers: JSON
    seq          INTEGER,           -- release, approve (the seq approved); the three below
                                    -- release only
    blob_id      TEXT,
    sha256       TEXT,
    "commit"     TEXT,
    timestamp_ms INTEGER NOT NULL,
    prev_hash    TEXT NOT NULL,
    signer       TEXT NOT NULL,     -- public key: the admin's, or the publisher's for a release
    signature    TEXT NOT NULL,
    PRIMARY KEY (channel, pos)
)""",
    f"PRAGMA user_version = {_SCHEMA_VERSION}",
)


def wall_clock_ms() -> int:
    """Milliseconds since the epoch, by the wall clock."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class _Entry:
    """One row of `entries`, columns in field order."""

    channel: str
    pos: int
    kind: str
    timestamp_ms: int
    prev_hash: str
    signer: str
    subject: str | None = None
    seq: int | None = None
    blob_id: str | None = None
    sha256: str | None = None
    commit: str | None = None
    signature: str = ""

    def body(self) -> bytes:
        """The canonical bytes that are signed and hashed: every field but the signature."""
        signed = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "signature"}
        text = json.dumps({"domain": _DOMAIN, **signed}, sort_keys=True, separators=(",", ":"))
        return text.encode("ascii")

    @property
    def where(self) -> str:
        if self.kind == "release":
            return f"ledger entry seq {self.seq} of channel {self.channel}"
        if self.kind == "approve":
            return (f"ledger approval entry {self.pos} (of seq {self.seq}) "
                    f"of channel {self.channel}")
        return f"ledger admin entry {self.pos} ({self.kind}) of channel {self.channel}"


_COLUMNS: Final = tuple(f.name for f in fields(_Entry))
_COLUMN_LIST: Final = ", ".join(f'"{c}"' for c in _COLUMNS)
_OPTIONAL: Final = frozenset({"subject", "seq", "blob_id", "sha256", "commit"})
_INTS: Final = frozenset({"pos", "timestamp_ms", "seq"})


def _entry_of(channel: str, row: Sequence[object]) -> _Entry:
    """A row as an entry, after checking the type of every column."""
    for name, value in zip(_COLUMNS, row, strict=True):
        if value is None and name in _OPTIONAL:
            continue
        if type(value) is not (int if name in _INTS else str):
            raise LedgerTamperedError(
                f"column {name} of entry at position {row[1]!r} has the wrong type",
                where=f"ledger of channel {channel}",
            )
    return _Entry(*row)  # type: ignore[arg-type]


@dataclass
class _Chain:
    """A channel's log as read so far: the contract's state, and where the chain stands."""

    channel: str
    registry: rules.ChannelState | None = None
    pos: int = 0
    last_hash: str = _GENESIS
    last_ts: int = 0

    @property
    def head_seq(self) -> int:
        return self.registry.head_seq if self.registry else 0

    @property
    def state(self) -> rules.ChannelState:
        if self.registry is None:
            where = f"ledger of channel {self.channel}"
            raise LedgerTamperedError("the registration entry is missing", where=where)
        return self.registry

    def apply(self, entry: _Entry) -> None:
        """Take `entry` into the log; RuleViolationError or ConfigError if it is refused."""
        rules.check_timestamp(self.channel, entry.timestamp_ms, previous_ms=self.last_ts)
        signer = keys.address_of(entry.signer)
        if (entry.kind == "register") != (entry.pos == 1):
            raise self._refuse("the first entry, and only it, registers the channel")
        if entry.kind == "register":
            self.registry = rules.ChannelState(self.channel, admin=signer)
        elif entry.kind == "release":
            self.state.append(_release_of(entry, signer))
        elif entry.kind == "add" and entry.subject:
            self.state.add_publisher(keys.address_of(entry.subject), by=signer)
        elif entry.kind == "revoke" and entry.subject:
            self.state.revoke_publisher(keys.address_of(entry.subject), by=signer)
        elif entry.kind == "approvers" and entry.subject:
            approvers, threshold = _policy_of(self.channel, entry.subject)
            self.state.set_approvers(approvers, threshold, by=signer)
        elif entry.kind == "approve" and entry.seq is not None:
            self.state.approve(entry.seq, by=signer)
        else:
            raise self._refuse(f"malformed {entry.kind!r} entry")
        self.pos, self.last_ts = entry.pos, entry.timestamp_ms
        self.last_hash = hashlib.sha256(entry.body()).hexdigest()

    def _refuse(self, message: str) -> RuleViolationError:
        return RuleViolationError(message, where=f"channel {self.channel}")


def _policy_subject(approvers: Sequence[str], threshold: int) -> str:
    """An approvers entry's subject: canonical JSON of the approvers and the threshold."""
    body = {"approvers": list(approvers), "threshold": threshold}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _policy_of(channel: str, subject: str) -> tuple[list[str], int]:
    """An approvers entry's subject read back: anything but what `_policy_subject` writes
    is refused."""
    try:
        body = json.loads(subject) if len(subject) <= _MAX_SUBJECT else None
    except (ValueError, RecursionError):
        body = None
    approvers = body.get("approvers") if isinstance(body, dict) else None
    threshold = body.get("threshold") if isinstance(body, dict) else None
    if not isinstance(approvers, list) or type(threshold) is not int or \
            not all(isinstance(a, str) for a in approvers) or \
            _policy_subject(approvers, threshold) != subject:
        raise RuleViolationError("malformed approvers entry", where=f"channel {channel}")
    return approvers, threshold


def _release_of(entry: _Entry, publisher: str) -> Release:
    seq, blob_id, sha256, commit = entry.seq, entry.blob_id, entry.sha256, entry.commit
    if seq is None or blob_id is None or sha256 is None or commit is None:
        raise RuleViolationError("release entry lacks seq, blob_id, sha256 or commit")
    return Release(entry.channel, seq, blob_id, sha256, commit, publisher, entry.timestamp_ms)


def _replay(channel: str, rows: Sequence[Sequence[object]], tip: Sequence[object]) -> _Chain:
    """Verify a channel's whole log and its head row; the contract's state it leads to."""
    chain = _Chain(channel)
    for row in rows:
        entry = _entry_of(channel, row)
        if entry.pos != chain.pos + 1:
            raise _out_of_place(chain, entry)
        if not keys.verify(entry.signer, entry.body(), entry.signature):
            raise LedgerTamperedError("signature does not verify", where=entry.where)
        if entry.prev_hash != chain.last_hash:
            raise LedgerTamperedError(_UNLINKED, where=entry.where)
        try:
            chain.apply(entry)
        except (RuleViolationError, ConfigError) as e:
            raise LedgerTamperedError(e.message, where=entry.where) from e
    _check_tip(chain, tip)
    return chain


def _out_of_place(chain: _Chain, entry: _Entry) -> LedgerTamperedError:
    seq_before = entry.seq - 1 if entry.kind == "release" and entry.seq else chain.head_seq
    gap = _gap(chain, seq=seq_before, pos=entry.pos - 1)
    return gap or LedgerTamperedError(f"position {entry.pos} is out of order", where=entry.where)


def _gap(chain: _Chain, *, seq: int, pos: int) -> LedgerTamperedError | None:
    """The first missing entry, if the log should reach release `seq` and position `pos`."""
    where = f"ledger of channel {chain.channel}"
    if seq > chain.head_seq:
        return LedgerTamperedError(f"seq {chain.head_seq + 1} is missing", where=where)
    if pos > chain.pos:
        return LedgerTamperedError(f"admin entry {chain.pos + 1} is missing", where=where)
    return None


def _check_tip(chain: _Chain, tip: Sequence[object]) -> None:
    """The channel row must name the log's last entry: a cut-off tail shows here."""
    head_pos, head_seq, head_hash = tip
    if not isinstance(head_seq, int) or not isinstance(head_pos, int):
        head_seq = head_pos = -1
    if gap := _gap(chain, seq=head_seq, pos=head_pos):
        raise gap
    if (head_pos, head_seq, head_hash) != (chain.pos, chain.head_seq, chain.last_hash):
        where = f"ledger of channel {chain.channel}"
        raise LedgerTamperedError("the channel's head does not match its last entry", where=where)


class LocalLedger:
    """The `Ledger` in a SQLite file; each call opens its own short transaction."""

    def __init__(self, path: Path, *, clock: Callable[[], int] = wall_clock_ms) -> None:
        self._path = path
        self._clock = clock

    def register_channel(
        self, channel: str, *, admin: Keypair, publishers: Sequence[str]
    ) -> None:
        """Add the channel to the file; it is found again by its name alone."""
        rules.check_channel(channel)
        with self._writing() as db:
            found = db.execute("SELECT name FROM channels WHERE name = ?", (channel,)).fetchall()
            rules.check_new_channel(channel, existing=[r[0] for r in found])
            db.execute("INSERT INTO channels VALUES (?, 0, 0, ?)", (channel, _GENESIS))
            chain = _Chain(channel)
            self._append(db, chain, self._draft(chain, admin, "register"), admin)
            for public_key in publishers:
                draft = replace(self._draft(chain, admin, "add"), subject=public_key)
                self._append(db, chain, draft, admin)
        log.info("channel registered", extra={"channel": channel, "admin": admin.address})

    def add_publisher(self, channel: str, *, admin: Keypair, public_key: str) -> None:
        self._change(channel, admin, kind="add", public_key=public_key)

    def revoke_publisher(self, channel: str, *, admin: Keypair, public_key: str) -> None:
        self._change(channel, admin, kind="revoke", public_key=public_key)

    def set_approvers(self, channel: str, *, admin: Keypair, approvers: Sequence[str],
                      threshold: int) -> None:
        listed = rules.check_approvers(channel, approvers, threshold)
        with self._writing() as db:
            chain = self._chain(db, channel)
            subject = _policy_subject(listed, threshold)
            draft = replace(self._draft(chain, admin, "approvers"), subject=subject)
            self._append(db, chain, draft, admin)
        log.info("approvers set", extra={"channel": channel, "approvers": listed,
                                         "threshold": threshold})

    def approve(self, channel: str, seq: int, *, key: Keypair) -> int:
        with self._writing() as db:
            chain = self._chain(db, channel)
            self._append(db, chain, replace(self._draft(chain, key, "approve"), seq=seq), key)
        count = len(chain.state.approvals[seq])
        log.info("release approved", extra={"channel": channel, "seq": seq,
                                            "approver": key.address, "approvals": count})
        return count

    def approvals(self, channel: str, seq: int) -> list[str]:
        state = self._read(channel)
        if not 1 <= seq <= state.head_seq:
            raise LedgerError(f"no release seq {seq}", where=f"channel {channel}")
        return list(state.approvals.get(seq, ()))

    def approval_policy(self, channel: str) -> ApprovalPolicy:
        state = self._read(channel)
        return ApprovalPolicy(tuple(state.approvers), state.threshold)

    def channels(self) -> list[str]:
        with self._reading() as db:
            names = db.execute("SELECT name FROM channels ORDER BY name") if db else ()
            return [r[0] for r in names]

    def publishers(self, channel: str) -> list[str]:
        return list(self._read(channel).allowed)

    def admin(self, channel: str) -> str:
        """The address of the channel's admin key: pin it to notice a replaced channel."""
        return self._read(channel).admin

    def head(self, channel: str) -> Release | None:
        return self._read(channel).head

    def history(self, channel: str) -> list[Release]:
        return self._read(channel).releases

    def release(self, channel: str, seq: int) -> Release:
        releases = self._read(channel).releases
        if not 1 <= seq <= len(releases):
            raise LedgerError(f"no release seq {seq}", where=f"channel {channel}")
        return releases[seq - 1]

    def entry_hash(self, channel: str, seq: int) -> str:
        """The SHA-256 of the signed entry that recorded release `seq` (the hash the entry
        after it links to), read in the transaction that verified the whole log."""
        with self._reading() as db:
            if db is None:
                raise _unknown(channel)
            if not 1 <= seq <= self._chain(db, channel).head_seq:
                raise LedgerError(f"no release seq {seq}", where=f"channel {channel}")
            query = (f"SELECT {_COLUMN_LIST} FROM entries WHERE channel = ? AND kind = "
                     "'release' AND seq = ?")
            row = db.execute(query, (channel, seq)).fetchone()
        return hashlib.sha256(_entry_of(channel, row).body()).hexdigest()

    def publish(
        self, channel: str, *, blob_id: str, sha256: str, commit: str, key: Keypair
    ) -> Release:
        with self._writing() as db:
            chain = self._chain(db, channel)
            state = chain.state
            allowed, revoked = state.allowed, state.revoked
            rules.check_publisher(channel, key.address, allowed=allowed, revoked=revoked)
            head = state.head
            if head is not None and rules.is_noop(
                head, blob_id=blob_id, sha256=sha256, commit=commit
            ):
                log.info("commit is already the head", extra=_context(head))
                return head
            draft = replace(self._draft(chain, key, "release"), seq=state.head_seq + 1)
            draft = replace(draft, blob_id=blob_id, sha256=sha256, commit=commit)
            self._append(db, chain, draft, key)
        release = state.releases[-1]
        log.info("release published", extra=_context(release))
        return release

    def _change(self, channel: str, admin: Keypair, *, kind: str, public_key: str) -> None:
        address = keys.address_of(public_key)
        with self._writing() as db:
            chain = self._chain(db, channel)
            draft = replace(self._draft(chain, admin, kind), subject=public_key)
            self._append(db, chain, draft, admin)
        extra = {"channel": channel, "publisher": address, "action": kind}
        log.info("publishers changed", extra=extra)

    def _draft(self, chain: _Chain, key: Keypair, kind: str) -> _Entry:
        """The next entry of the log; time never goes back, as on chain."""
        now = max(self._clock(), chain.last_ts)
        return _Entry(chain.channel, chain.pos + 1, kind, now, chain.last_hash, key.public_key)

    def _append(self, db: sqlite3.Connection, chain: _Chain, draft: _Entry, key: Keypair) -> None:
        """Sign `draft`, take it through the rules, and write it with the new head."""
        entry = replace(draft, signature=key.sign(draft.body()))
        chain.apply(entry)
        marks = ", ".join("?" * len(_COLUMNS))
        db.execute(f"INSERT INTO entries ({_COLUMN_LIST}) VALUES ({marks})", astuple(entry))
        if entry.kind in _APPROVAL_KINDS:
            db.execute(f"PRAGMA user_version = {_APPROVALS_VERSION}")
        db.execute(
            "UPDATE channels SET head_pos = ?, head_seq = ?, head_hash = ? WHERE name = ?",
            (chain.pos, chain.head_seq, chain.last_hash, chain.channel),
        )

    def _read(self, channel: str) -> rules.ChannelState:
        with self._reading() as db:
            if db is None:
                raise LedgerError(f"no ledger at {self._path} (no channel is registered here): "
                                  "run `syncer init`, or set $SYNCER_HOME to where the ledger is",
                                  where=f"channel {channel}")
            return self._chain(db, channel).state

    def _chain(self, db: sqlite3.Connection, channel: str) -> _Chain:
        """The verified log of `channel`; LedgerError if there is no such channel."""
        query = "SELECT head_pos, head_seq, head_hash FROM channels WHERE name = ?"
        tip = db.execute(query, (channel,)).fetchone()
        query = f"SELECT {_COLUMN_LIST} FROM entries WHERE channel = ? ORDER BY pos"
        rows = db.execute(query, (channel,)).fetchall()
        if tip is None and rows:
            where = f"ledger of channel {channel}"
            raise LedgerTamperedError("the channel row was removed", where=where)
        if tip is None:
            raise _unknown(channel)
        return _replay(channel, rows, tip)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A read transaction, or None when there is no ledger yet (nothing is created)."""
        if not self._path.exists():
            yield None
            return
        with self._transaction("BEGIN") as db:
            yield db if self._has_schema(db) else None

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (one writer at a time); the file, its folder and the schema
        are created on first use."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LedgerError(f"cannot create the ledger's folder: {e.strerror}",
                              where=str(self._path.parent)) from e
        with self._transaction("BEGIN IMMEDIATE") as db:
            if not self._has_schema(db):
                for statement in _SCHEMA:
                    db.execute(statement)
            yield db

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        where = str(self._path)
        try:
            db = sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as e:
            raise LedgerError(f"cannot open the ledger: {e}", where=where) from e
        try:
            db.execute(begin)
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as e:
            raise LedgerError(f"ledger transaction failed: {e}", where=where) from e
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()

    def _has_schema(self, db: sqlite3.Connection) -> bool:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, _SCHEMA_VERSION, _APPROVALS_VERSION):
            raise LedgerError(f"unknown ledger schema version {version}", where=str(self._path))
        return bool(version != 0)


def _unknown(channel: str) -> LedgerError:
    return LedgerError("no such channel in the ledger", where=f"channel {channel}")


def _context(release: Release) -> dict[str, object]:
    return {k: getattr(release, k) for k in ("channel", "seq", "blob_id", "commit", "publisher")}
