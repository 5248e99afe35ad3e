"""One object's CEL activation, shared by every policy evaluated on it.  [pure]

Converting an object to CEL costs about ten times evaluating an expression on it, so each
object is converted once (`ObjectScope`), and a policy's `variables` are kept in it under
a key of their definition: `variables.podSpec` in an expression is read as the identifier
of that definition (its expression, the definitions before it in the policy, and the
params), so the policies that define the same variables alike (the default set's pod
policies all define `podSpec` and `containers`) compute them once per object. Only the
`variables.NAME` form is supported (not `variables['NAME']`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from syncer import cel

__all__ = ["ObjectScope", "rewrite"]

_VARIABLE: Final = re.compile(r"(?<![\w.])variables\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_LITERAL: Final = re.compile(r"""[rRbB]*('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\])*'"""
                             r'''|"(?:\\.|[^"\\])*")''', re.DOTALL)


class ObjectScope:
    """The activation of one object: its base variables, the current params, the policy
    variables computed so far."""

    def __init__(self, base: Mapping[str, Any]) -> None:
        self._activation = cel.Activation({**base, "params": None})
        self._params_key = ""
        self._known: set[str] = set()

    def use_params(self, params: Any, key: str) -> None:
        if key != self._params_key:
            self._activation.set("params", params)
            self._params_key = key

    @property
    def params_key(self) -> str:
        return self._params_key

    def define(self, key: str, expression: str, names: Mapping[str, str]) -> None:
        """Evaluate a policy variable once per object (CelError if it cannot be)."""
        if key in self._known:
            return
        self._activation.set(key, self.evaluate(expression, names))
        self._known.add(key)

    def evaluate(self, expression: str, names: Mapping[str, str]) -> Any:
        """The expression's value, `variables.NAME` read through `names` (CelError)."""
        return self._activation.evaluate(rewrite(expression, tuple(sorted(names.items()))))


def variable_keys(definitions: Sequence[Mapping[str, Any]], params_key: str) -> dict[str, str]:
    """Each variable's name → the identifier of its definition."""
    keys: dict[str, str] = {}
    chain = hashlib.sha256(params_key.encode())
    for entry in definitions:
        chain.update(f"\0{entry['name']}\0{entry['expression']}".encode())
        keys[str(entry["name"])] = "syncer_v_" + chain.copy().hexdigest()[:24]
    return keys


@functools.lru_cache(maxsize=4096)
def rewrite(expression: str, names: tuple[tuple[str, str], ...]) -> str:
    """`variables.NAME` as the identifier `names` gives it, outside string literals; a name
    not defined stays as written (and fails as undefined when evaluated)."""
    if not names or "variables" not in expression:
        return expression
    table = dict(names)
    out: list[str] = []
    at = 0
    for literal in _LITERAL.finditer(expression):
        out.append(_rename(expression[at:literal.start()], table))
        out.append(literal.group(0))
        at = literal.end()
    out.append(_rename(expression[at:], table))
    return "".join(out)


def _rename(code: str, table: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: table.get(m.group(1), m.group(0)), code)
