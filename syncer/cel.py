"""CEL as Kubernetes evaluates it in a ValidatingAdmissionPolicy: the adapter over the
`cel` library (common-expression-language, Rust) and the Kubernetes extensions.  [pure]

Each expression is compiled once (cached by its text). Variables are plain JSON values.
The Kubernetes extension libraries that common policies use are registered as functions;
CEL calls `x.f(a)` as `f(x, a)`, so each is one Python function over both forms:

* quantity: `quantity(s)`, `isQuantity(s)`, and on a quantity `compareTo`, `isGreaterThan`,
  `isLessThan`, `add`, `sub`, `sign`, `isInteger`, `asInteger`, `asApproximateFloat`;
  a quantity is the map `{"@quantity": "<text>"}`, so `==` compares the text as written;
* strings: `charAt`, `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`,
  `split`, `join`, `substring`, `trim`, `reverse`, `format` (verbs %s %d %f %e %x %o %b);
* lists: `isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`;
* regex: `find`, `findAll` (Python's `re`, which reads RE2's common syntax alike).

Not supported (an expression using one fails to compile, naming it): `url`, `isURL`, `ip`,
`isIP`, `cidr`, `isCIDR`, `semver`, `isSemver`, `authorizer`, `authorizer`-based checks,
the `optional` library (`obj.?field`, `optional.of`, `orValue`), `sets.*`, `base64.*`,
`math.*` and CEL's type checking (errors surface when evaluating, as with `dyn`).
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import itertools
import logging
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from syncer import quantities
from syncer.errors import CelError

if TYPE_CHECKING:
    import cel as _cel

__all__ = ["QUANTITY_KEY", "UNSUPPORTED", "Activation", "compile_expression", "evaluate",
           "extensions_used", "functions"]

QUANTITY_KEY: Final = "@quantity"
UNSUPPORTED: Final = frozenset({
    "url", "isURL", "ip", "isIP", "cidr", "isCIDR", "semver", "isSemver", "authorizer",
    "optional", "orValue", "hasValue", "ofNonZeroValue", "sets", "base64", "math",
    "getScheme", "getHost", "getPort", "getEscapedPath", "getQuery", "family",
    "isLoopback", "containsIP", "containsCIDR", "prefixLength", "masked",
})
_MAX_EXPRESSION: Final = 5_000  # kube's limit on the size of a validation expression
_MAX_FIND_ALL: Final = 10_000



def _library() -> ModuleType:
    """The library's compiled module. Importing the package `cel` also imports its command
    line tool (typer, prompt_toolkit and rich: about 0.3 s in every syncer process that checks
    a policy, ten times the module itself), so the compiled module is loaded on its own when
    the package holds it where this version does, else through the package."""
    found = importlib.util.find_spec("cel")
    for folder in (found.submodule_search_locations or []) if found else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"cel{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("cel.cel", str(path))
                spec = importlib.util.spec_from_loader("cel.cel", loader)
                if spec is not None:
                    module = importlib.util.module_from_spec(spec)
                    loader.exec_module(module)
                    return module
    import cel  # noqa: PLC0415

    return cel


if not TYPE_CHECKING:
    _cel = _library()

# Every error is raised again by this adapter, with the policy and expression named: the
# library's own warning line would say the same thing without them.
logging.getLogger("cel").setLevel(logging.ERROR)


@functools.lru_cache(maxsize=4096)
def compile_expression(expression: str) -> _cel.Program:
    """The expression's program, compiled once (CelError if it does not compile or calls a
    function this adapter does not support)."""
    if len(expression) > _MAX_EXPRESSION:
        raise CelError(f"expression is longer than {_MAX_EXPRESSION} characters")
    if ".?" in expression or "?." in expression:
        raise CelError("optional field selection (.?field) is not supported")
    try:
        program = _cel.compile(expression)
    except (ValueError, RuntimeError) as e:
        raise CelError(f"does not compile: {_first_line(e)}") from e
    _refuse_unsupported(program)
    return program


class Activation:
    """Variables converted to CEL once, for every expression evaluated over them (converting
    an object costs about ten times evaluating an expression on it). Not thread-safe: one
    per evaluation of a policy on an object."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._context = _cel.Context(variables=dict(variables))
        self._registered: set[str] = set()

    def set(self, name: str, value: Any) -> None:
        """Add or replace one variable."""
        self._context.add_variable(name, value)

    def evaluate(self, expression: str) -> Any:
        """The expression's value, or CelError. The extension functions it calls are
        registered first (registering all of them costs more than most evaluations)."""
        program = compile_expression(expression)
        for name in extensions_used(expression) - self._registered:
            self._context.add_function(name, functions()[name])
            self._registered.add(name)
        try:
            return program.execute(self._context)
        except Exception as e:  # the library raises KeyError, TypeError, RuntimeError...
            raise CelError(f"{type(e).__name__}: {_first_line(e)}") from e


def evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    """The expression's value over `variables` (JSON values), or CelError."""
    return Activation(variables).evaluate(expression)


@functools.lru_cache(maxsize=4096)
def extensions_used(expression: str) -> frozenset[str]:
    """The extension functions an expression calls (CelError if it does not compile)."""
    return frozenset(compile_expression(expression).functions()) & functions().keys()


def _refuse_unsupported(program: _cel.Program) -> None:
    used = set(program.functions()) | set(program.variables())
    names = sorted(used & UNSUPPORTED)
    if names:
        raise CelError(f"uses {', '.join(names)}, which syncer's CEL does not support "
                       "(see docs/policies.md)")


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]


# --- quantity ------------------------------------------------------------------------------

def _qvalue(q: Any) -> Decimal:
    text = q.get(QUANTITY_KEY) if isinstance(q, dict) else None
    number = quantities.value(text) if isinstance(text, str) else None
    if number is None:
        raise ValueError(f"{q!r} is not a quantity")
    return number


def _quantity(text: Any) -> dict[str, str]:
    if not isinstance(text, str) or quantities.value(text) is None:
        raise ValueError(f"quantities must match the regular expression of "
                         f"resource.Quantity: {text!r}")
    return {QUANTITY_KEY: text}


def _is_quantity(text: Any) -> bool:
    return isinstance(text, str) and quantities.value(text) is not None


def _compare(a: Any, b: Any) -> int:
    x, y = _qvalue(a), _qvalue(b)
    return (x > y) - (x < y)


def _as_integer(q: Any) -> int:
    number = _qvalue(q)
    if number != number.to_integral_value() or abs(number) >= 2**63:
        raise ValueError(f"cannot convert {q[QUANTITY_KEY]!r} to an integer")
    return int(number)


def _plain(number: Decimal) -> dict[str, str]:
    text = format(number.normalize(), "f")
    return {QUANTITY_KEY: text}


def _add(a: Any, b: Any) -> dict[str, str]:
    return _plain(_qvalue(a) + (Decimal(b) if isinstance(b, int) else _qvalue(b)))


def _sub(a: Any, b: Any) -> dict[str, str]:
    return _plain(_qvalue(a) - (Decimal(b) if isinstance(b, int) else _qvalue(b)))


def _sign(q: Any) -> int:
    number = _qvalue(q)
    return (number > 0) - (number < 0)


_QUANTITY: Final[dict[str, Callable[..., Any]]] = {
    "quantity": _quantity,
    "isQuantity": _is_quantity,
    "compareTo": _compare,
    "isGreaterThan": lambda a, b: _compare(a, b) > 0,
    "isLessThan": lambda a, b: _compare(a, b) < 0,
    "add": _add,
    "sub": _sub,
    "sign": _sign,
    "isInteger": lambda q: _qvalue(q) == _qvalue(q).to_integral_value(),
    "asInteger": _as_integer,
    "asApproximateFloat": lambda q: float(_qvalue(q)),
}


# --- strings and lists ---------------------------------------------------------------------

def _index_of(target: Any, item: Any, start: int = 0) -> int:
    if isinstance(target, str):
        if not 0 <= start <= len(target):
            raise ValueError(f"index out of range: {start}")
        return target.find(item, start)
    return next((i for i, x in enumerate(target) if x == item), -1)


def _last_index_of(target: Any, item: Any, end: int | None = None) -> int:
    if isinstance(target, str):
        return target.rfind(item, 0, None if end is None else end + len(item))
    return next((i for i in range(len(target) - 1, -1, -1) if target[i] == item), -1)


def _substring(text: str, start: int, end: int | None = None) -> str:
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"substring out of range: [{start}:{end}] of {len(text)}")
    return text[start:end]


def _split(text: str, sep: str, limit: int = -1) -> list[str]:
    if limit == 0:
        return []
    if sep == "":
        parts = list(text)
        return parts if limit < 0 else [*parts[:limit - 1], "".join(parts[limit - 1:])]
    return text.split(sep, limit - 1 if limit > 0 else -1)


def _replace(text: str, old: str, new: str, limit: int = -1) -> str:
    return text.replace(old, new, limit)


def _join(items: list[str], sep: str = "") -> str:
    return sep.join(items)


def _ascii(text: str, upper: bool) -> str:
    return "".join(c.upper() if upper and c.isascii() else c.lower() if c.isascii() else c
                   for c in text)


def _min(items: list[Any]) -> Any:
    if not items:
        raise ValueError("min called on an empty list")
    return min(items)


def _max(items: list[Any]) -> Any:
    if not items:
        raise ValueError("max called on an empty list")
    return max(items)


def _find(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    return found.group(0) if found else ""


def _find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    cap = _MAX_FIND_ALL if limit < 0 else min(limit, _MAX_FIND_ALL)
    return [m.group(0) for _, m in zip(range(cap), re.finditer(pattern, text), strict=False)]


def _format(template: str, args: list[Any]) -> str:
    """`"%s has %d".format([a, b])`: the verbs of Kubernetes' strings library."""
    values = iter(args)

    def verb(m: re.Match[str]) -> str:
        if m.group(0) == "%%":
            return "%"
        value = next(values)
        kind = m.group(0)[-1]
        if kind == "s":
            return _format_string(value)
        return str(("%" + m.group(0)[1:]) % value)

    return re.sub(r"%%|%(\.\d+)?[sdfexob]", verb, template)


def _format_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_format_string(v) for v in value) + "]"
    return "null" if value is None else str(value)


_STRINGS_AND_LISTS: Final[dict[str, Callable[..., Any]]] = {
    "charAt": lambda s, i: s[i] if 0 <= i < len(s) else _raise(f"index out of range: {i}"),
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda s: _ascii(s, upper=False),
    "upperAscii": lambda s: _ascii(s, upper=True),
    "replace": _replace,
    "split": _split,
    "join": _join,
    "substring": _substring,
    "trim": lambda s: s.strip(),
    "reverse": lambda s: s[::-1],
    "format": _format,
    "isSorted": lambda items: all(a <= b for a, b in itertools.pairwise(items)),
    "sum": sum,
    "min": _min,
    "max": _max,
    "find": _find,
    "findAll": _find_all,
}


def _raise(message: str) -> Any:
    raise ValueError(message)


@functools.cache
def functions() -> dict[str, Callable[..., Any]]:
    """Every extension function by name (a fresh dict is not needed: callers only read)."""
    return {**_QUANTITY, **_STRINGS_AND_LISTS}
