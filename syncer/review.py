"""A review of what changes from one side to another: objects paired, each with its action,
masked unified diff and changed fields, and the policy findings of the side under review.
[pure]

A side is the live cluster, a release, a commit or the work tree (`syncer.sides`); what is
compared is two lists of objects, or the live objects against what the API server would make
of a release (`Pair` carries both). Secret values are masked before anything is kept: a
`Review` holds masked text and values only, so no output made from it can show one.
`as_data` is the machine form (`syncer diff -o json|yaml`).
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.diff import unified
from syncer.fieldpaths import FieldChange, changed_fields
from syncer.model import Obj, ObjectRef

__all__ = ["Finding", "ObjectReview", "Pair", "Review", "Verb", "as_data", "pair_objects",
           "redact", "review"]


class Verb(enum.Enum):
    """What happens to one object from the first side to the second."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    BLOCKED = "blocked"  # exists live and is not the channel's: a sync would refuse


@dataclass(frozen=True)
class Finding:
    """One policy result on the side under review: `deny` stops a publish, `warn` does not."""

    severity: str
    message: str

    @property
    def denies(self) -> bool:
        return self.severity == "deny"


@dataclass(frozen=True)
class Pair:
    """One object on both sides (None where it is absent); `note` says why it is blocked."""

    ref: ObjectRef
    before: Obj | None
    after: Obj | None
    note: str = ""

    def swapped(self) -> Pair:
        return Pair(self.ref, self.after, self.before, self.note)


@dataclass(frozen=True)
class ObjectReview:
    """One object's verb, masked unified diff and changed fields."""

    ref: ObjectRef
    verb: Verb
    diff: str = ""
    fields: tuple[FieldChange, ...] = ()

    @property
    def added(self) -> int:
        return sum(1 for line in self.diff.splitlines()[2:] if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.diff.splitlines()[2:] if line.startswith("-"))


@dataclass(frozen=True)
class Review:
    """Everything that differs from side `before` to side `after` for one channel."""

    before: str
    after: str
    channel: str
    objects: tuple[ObjectReview, ...]
    findings: tuple[Finding, ...] = ()

    def counts(self) -> dict[str, int]:
        return {v.value: sum(1 for o in self.objects if o.verb is v) for v in Verb}

    @property
    def changed(self) -> tuple[ObjectReview, ...]:
        return tuple(o for o in self.objects if o.verb is not Verb.UNCHANGED)

    @property
    def denied(self) -> bool:
        return any(f.denies for f in self.findings)

    @property
    def exit_code(self) -> int:
        """As `kubectl diff`: 0 when nothing differs, 1 when something does (or a policy
        denies the side under review)."""
        return 1 if self.changed or self.denied else 0


def pair_objects(before: Iterable[Obj], after: Iterable[Obj]) -> list[Pair]:
    """The objects of both sides paired by reference, sorted by it."""
    old = {ObjectRef.of(o): o for o in before}
    new = {ObjectRef.of(o): o for o in after}
    return [Pair(ref, old.get(ref), new.get(ref)) for ref in sorted(old.keys() | new.keys())]


def review(pairs: Sequence[Pair], *, labels: tuple[str, str], channel: str,
           unchanged: Iterable[ObjectRef] = (), findings: Iterable[Finding] = (),
           fields: bool = True) -> Review:
    """The review of `pairs`, diffs named `labels[0]/<ref>` and `labels[1]/<ref>`;
    `unchanged` are objects known to be equal without a diff (the live side's). `fields`
    False leaves out the changed fields (which only the machine form shows)."""
    reviewed = [_object(pair, labels, fields=fields) for pair in pairs]
    reviewed += [ObjectReview(ref, Verb.UNCHANGED) for ref in unchanged]
    return Review(labels[0], labels[1], channel, tuple(reviewed), tuple(findings))


def _object(pair: Pair, labels: tuple[str, str], *, fields: bool) -> ObjectReview:
    if pair.note:
        return ObjectReview(pair.ref, Verb.BLOCKED, f"# {pair.ref}: {pair.note}\n")
    text = unified(pair.ref, pair.before, pair.after, labels=labels)
    if not text:
        return ObjectReview(pair.ref, Verb.UNCHANGED)
    verb = (Verb.CREATE if pair.before is None else
            Verb.DELETE if pair.after is None else Verb.UPDATE)
    found = changed_fields(pair.before, pair.after) if fields else ()
    return ObjectReview(pair.ref, verb, text, found)


_MIN_REDACTED = 4  # shorter values would mask unrelated words; a 3-character Secret is no secret
_MASK = "++++++++"


def redact(message: str, objects: Iterable[Obj]) -> str:
    """`message` with every Secret value of `objects` (as written, and base64-decoded)
    masked: a policy's `messageExpression` may quote the object it judges."""
    values = sorted({v for obj in objects for v in _secret_values(obj)}, key=len, reverse=True)
    for value in values:
        message = message.replace(value, _MASK)
    return message


def _secret_values(obj: Obj) -> Iterable[str]:
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind.strip().casefold() != "secret":
        return []
    found: list[str] = []
    for section in ("data", "stringData"):
        values = obj.get(section)
        for value in values.values() if isinstance(values, dict) else ():
            if isinstance(value, str):
                found += [value, *_decoded(value)] if section == "data" else [value]
    return [v for v in found if len(v) >= _MIN_REDACTED]


def _decoded(value: str) -> list[str]:
    try:
        return [base64.b64decode(value, validate=True).decode()]
    except (binascii.Error, ValueError):
        return []


# --------------------------------------------------------------------------- machine form


def as_data(item: Review, *, sides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The machine form: the sides, counts, findings, and every object with its changes."""
    return {
        "channel": item.channel,
        "from": item.before,
        "to": item.after,
        **({"sides": dict(sides)} if sides else {}),
        "summary": item.counts(),
        "policy": [{"severity": f.severity, "message": f.message} for f in item.findings],
        "objects": [_object_data(o) for o in item.objects],
    }


def _object_data(item: ObjectReview) -> dict[str, Any]:
    ref = item.ref
    return {
        "group": ref.group, "kind": ref.kind, "namespace": ref.namespace, "name": ref.name,
        "action": item.verb.value, "added": item.added, "removed": item.removed,
        "changes": [{"path": c.path, "op": c.op, "old": c.old, "new": c.new}
                    for c in item.fields],
        "diff": item.diff,
    }
