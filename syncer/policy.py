"""Rules every release must keep, checked at publish and again before a sync. Pure.

Walrus blobs are public: anyone can read a bundle. So a Secret whose `data` or `stringData`
holds values in plain text must never be published (encrypted Secrets come later).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from syncer import waves
from syncer.errors import PolicyError
from syncer.model import Obj, ObjectRef

__all__ = ["Violation", "check", "enforce", "reads_as_secret"]


@dataclass(frozen=True)
class Violation:
    """One object breaking one rule."""

    ref: ObjectRef
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.ref}: {self.message} [{self.rule}]"


def check(objects: Iterable[Obj]) -> list[Violation]:
    """Every violation of the built-in rules, in object order."""
    return [v for obj in objects for v in _plaintext_secret(obj)]


def enforce(objects: Iterable[Obj], *, where: str) -> None:
    """Raise PolicyError naming the first violation (and how many there are), or the first
    wave annotation that is invalid or out of order (`waves.check`)."""
    objects = list(objects)
    found = check(objects)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise PolicyError(f"{found[0]}{more}", where=where)
    waves.check(objects)


def reads_as_secret(obj: Obj) -> bool:
    """Whether the object's kind reads as Secret, whatever its apiVersion says: the API server
    takes `/v1` as `v1`, and a bundle is public even if the server would refuse the object.
    A custom kind named Secret in another group counts too (rare, and the safe side)."""
    kind = obj.get("kind")
    return isinstance(kind, str) and kind.strip().casefold() == "secret"


def _plaintext_secret(obj: Obj) -> list[Violation]:
    """A Secret (`reads_as_secret`) with values in `data` or `stringData`."""
    if not reads_as_secret(obj):
        return []
    fields = [f for f in ("data", "stringData") if obj.get(f)]
    if not fields:
        return []
    return [Violation(ObjectRef.of(obj), "no-plaintext-secret",
                      f"Secret has plaintext {' and '.join(fields)}; bundles are public on "
                      "Walrus, so Secrets must not carry values")]
