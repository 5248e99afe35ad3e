"""What decoding an object into its Go struct does to it, for the built-in kinds `gotypes`
describes, as kube-apiserver v1.36 decodes:

* unknown fields (`spec.bogus`, `spec.template.spec.containers[0].x`) are dropped; the
  request's `fieldValidation` says what else happens: `Warn` (the default) adds a
  `unknown field "spec.bogus"` warning, `Strict` refuses the object (400), `Ignore` nothing
  (server-side apply never gets here: unknown fields are its 500, see `typed.validate`);
* quantities become canonical (`quantities`), metav1.Time loses its fraction of a second,
  and a MicroTime must have exactly six fractional digits (anything else is a 400, as Go's
  time layout `2006-01-02T15:04:05.000000Z07:00` demands).

`DecodeError` carries the reason; `writes` words the 400 around it (`Lease in version "v1"
cannot be handled as a Lease: ...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from syncer_standins.kubeapi import quantities
from syncer_standins.kubeapi.schema import ANY, Schema

__all__ = ["DecodeError", "Decoded", "decode", "micro_time_error"]

_STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
_MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
_ZONE = re.compile(r"Z|[+-]\d\d:\d\d")


class DecodeError(ValueError):
    """A value the Go struct cannot hold."""


@dataclass
class Decoded:
    value: Any
    unknown: list[str] = field(default_factory=list)  # JSON paths, e.g. spec.bogus


def micro_time_error(text: str) -> str | None:
    """Go's complaint about a MicroTime not written with exactly six fractional digits."""
    head = re.match(_STAMP, text)
    if head is None:
        return f'parsing time "{text}" as "{_MICRO_LAYOUT}": cannot parse "{text}" as "2006"'
    rest = text[head.end():]
    fraction = re.match(r"\.\d{6}", rest)
    if fraction is None:
        return f'parsing time "{text}" as "{_MICRO_LAYOUT}": cannot parse "{rest}" as ".000000"'
    zone = rest[fraction.end():]
    if not _ZONE.fullmatch(zone):
        return f'parsing time "{text}" as "{_MICRO_LAYOUT}": cannot parse "{zone}" as "Z07:00"'
    return None


def _time(text: str) -> str:
    """metav1.Time keeps whole seconds."""
    found = re.fullmatch(rf"({_STAMP})\.\d+(Z)", text)
    return f"{found.group(1)}{found.group(2)}" if found else text


def _scalar(value: Any, code: str) -> Any:
    if value is None or isinstance(value, (dict, list)):
        return value
    if code == "q":
        try:
            return quantities.canonical(value)
        except ValueError as err:
            raise DecodeError(str(err)) from err
    if code == "m" and isinstance(value, str):
        problem = micro_time_error(value)
        if problem:
            raise DecodeError(problem)
    if code == "t" and isinstance(value, str):
        return _time(value)
    return value


def _walk(value: Any, schema: Schema, *, path: str, out: Decoded) -> Any:
    if schema.scalar:
        return _scalar(value, schema.scalar)
    if isinstance(value, list):
        return [_walk(item, schema.item(), path=f"{path}[{index}]", out=out)
                for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for name, child in value.items():
        where = f"{path}.{name}" if path else name
        sub = schema.child(name)
        if sub is None:
            out.unknown.append(where)
        else:
            kept[name] = _walk(child, sub, path=where, out=out)
    return kept


def decode(obj: Any, schema: Schema) -> Decoded:
    """obj as its Go struct holds it, and the unknown fields dropped on the way."""
    out = Decoded(None)
    out.value = _walk(obj, schema or ANY, path="", out=out)
    return out
