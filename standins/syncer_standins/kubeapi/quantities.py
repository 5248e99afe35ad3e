"""Resource quantities (`cpu: 500m`, `memory: 1Gi`) in kube's canonical form.

kube-apiserver stores a `resource.Quantity` as a number and writes it back canonically,
whatever form it was sent in (a YAML number is accepted too):

* a binary-SI value (`Ki`, `Mi`, `Gi`...) of at least 1024 that is a whole number is written
  in the largest power-of-1024 unit that keeps it whole: `1024Mi` -> `1Gi`, `0.5Gi` ->
  `512Mi`, `1536Mi` stays `1536Mi`;
* anything else is decimal: the shortest whole number of a unit whose exponent is a
  multiple of three (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`; `e3`-style for a
  value sent with an exponent): `0.5` -> `500m`, `"2.0"` -> `2`, `2000` -> `2k`.
  Precision below a nano is rounded up, as kube does.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, localcontext
from fractions import Fraction

__all__ = ["QUANTITY_PATTERN", "canonical"]

QUANTITY_PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_FORM = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_SUFFIX_OF = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_SUFFIX = {power: suffix for suffix, power in _BINARY.items()}
_NANO = Fraction(1, 10**9)


def _parse(text: str) -> tuple[Fraction, str]:
    """The value and its format: "binary", "exponent" or "decimal"."""
    found = _FORM.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'")
    sign, number, suffix = found.groups()
    value = Fraction(Decimal(number)) * (-1 if sign == "-" else 1)
    if suffix in _BINARY:
        return value * 1024 ** _BINARY[suffix], "binary"
    if suffix[:1] in ("e", "E"):
        return value * Fraction(10) ** int(suffix[1:]), "exponent"
    return value * Fraction(10) ** _DECIMAL[suffix], "decimal"


def _round_up_to_nano(value: Fraction) -> Fraction:
    if (value / _NANO).denominator == 1:
        return value
    with localcontext() as context:
        context.prec = 60
        nanos = (Decimal(value.numerator) / Decimal(value.denominator) * 10**9).to_integral_value(
            rounding=ROUND_CEILING)
    return Fraction(int(nanos), 10**9)


def _binary(value: Fraction) -> str | None:
    if value.denominator != 1 or abs(value) < 1024:
        return None
    whole, power = int(value), 0
    while power < 6 and whole % 1024 == 0:
        whole, power = whole // 1024, power + 1
    return f"{whole}{_BINARY_SUFFIX.get(power, '')}"


def _decimal(value: Fraction, *, exponent_form: bool) -> str:
    if value == 0:
        return "0"
    exponent = -9
    while exponent < 18 and (value / Fraction(10) ** (exponent + 3)).denominator == 1:
        exponent += 3
    mantissa = int(value / Fraction(10) ** exponent)
    if exponent_form:
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    return f"{mantissa}{_SUFFIX_OF[exponent]}"


def canonical(value: str | int | float) -> str:
    """The canonical text of a quantity; ValueError when it is not one."""
    if isinstance(value, bool):
        raise ValueError("a quantity is a string or a number")
    text = repr(value) if isinstance(value, float) else str(value)
    amount, form = _parse(text)
    amount = _round_up_to_nano(amount)
    if form == "binary":
        found = _binary(amount)
        if found is not None:
            return found
    return _decimal(amount, exponent_form=form == "exponent")
