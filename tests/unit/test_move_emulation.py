"""The Move package and the code that stands in for it cannot drift apart.

No Move compiler runs here, and the Sui stand-in re-implements `move/sources/registry.move`
by hand (`syncer_standins.sui.registry`); syncer's own Sui ledger names its abort codes
(`syncer.ledger._sui_codec.ABORTS`) and the golden transactions (`tests/testdata/sui`) pin
the calls it makes. This test reads the Move source with a small parser of its declarations
(no PyPI tree-sitter grammar for Move handles Sui Move's 2024 syntax) and compares:

- every function that changes state (an `entry fun`, or a `public fun` taking a `&mut`
  parameter): its name, whether it is `entry`, its parameters' names, types and reference
  kinds, with the emulation's `FUNCTIONS`;
- every abort constant (name and code) with the emulation's `ABORT_NAMES` and syncer's
  `ABORTS`; and every abort the emulation raises names a code that the Move function (or a
  helper it calls) can abort with;
- every event struct's fields with what the emulation emits for it;
- the golden transactions' function and argument count with the Move function's
  parameters (the `TxContext` is not an argument).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from syncer_standins.sui import registry as emulation

from syncer.ledger._sui_codec import ABORTS

ROOT = Path(__file__).parents[2]
SOURCE = (ROOT / "move" / "sources" / "registry.move").read_text()
EMULATION = Path(emulation.__file__).read_text()
GOLDEN = ROOT / "tests" / "testdata" / "sui"

_CONST = re.compile(r"^const (E\w+): u64 = (\d+);", re.M)
_FUN = re.compile(r"^(public )?(entry )?fun (\w+)\((.*?)\)[^{]*\{", re.M | re.S)
_STRUCT = re.compile(r"^public struct (\w+) has copy, drop \{(.*?)^\}", re.M | re.S)
_EMIT = re.compile(r"event::emit\((\w+) \{")
_ABORT = re.compile(r"(?:assert!\(.*?,\s*|abort\s+)(E\w+)\)?", re.S)


@dataclass(frozen=True)
class MoveFun:
    name: str
    public: bool
    entry: bool
    params: tuple[emulation.Param, ...]
    body: str


def move_functions() -> dict[str, MoveFun]:
    """Every function of the module, with its parameters and its body."""
    found = {}
    matches = list(_FUN.finditer(SOURCE))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(SOURCE)
        found[m[3]] = MoveFun(m[3], bool(m[1]), bool(m[2]), params(m[4]),
                              SOURCE[m.end():end])
    return found


def params(text: str) -> tuple[emulation.Param, ...]:
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, kind = (s.strip() for s in part.partition(":"))
        ref = "&mut" if kind.startswith("&mut ") else "&" if kind.startswith("&") else None
        out.append(emulation.Param(name, kind.removeprefix("&mut ").removeprefix("&"), ref))
    return tuple(out)


def changes_state(fun: MoveFun) -> bool:
    return fun.entry or (fun.public and any(p.ref == "&mut" for p in fun.params))


def aborts(fun: MoveFun, functions: dict[str, MoveFun], seen: frozenset[str] = frozenset()
           ) -> set[str]:
    """The abort constants `fun` can abort with, through the module's helpers too."""
    found = set(_ABORT.findall(fun.body))
    for other in functions.values():
        if other.name not in seen and re.search(rf"\b{other.name}\(", fun.body):
            found |= aborts(other, functions, seen | {fun.name})
    return found


def test_the_functions_that_change_state_are_the_emulations() -> None:
    functions = move_functions()
    moving = {f.name: f for f in functions.values() if changes_state(f)}
    assert set(moving) == set(emulation.FUNCTIONS)
    for name, (entry, expected) in emulation.FUNCTIONS.items():
        assert moving[name].entry == entry, name
        assert moving[name].params == expected, name


def test_the_abort_codes_are_the_same_everywhere() -> None:
    constants = {int(code): name for name, code in _CONST.findall(SOURCE)}
    assert constants == emulation.ABORT_NAMES
    assert set(ABORTS) == set(constants)


def test_every_abort_the_emulation_raises_is_one_the_move_function_can_raise() -> None:
    functions = move_functions()
    raised = set(re.findall(r'MoveAbort\((\d+), "(\w+)"\)', EMULATION))
    # the admin check raises ENotAdmin (6) for the function its callers name
    raised |= {("6", f) for f in re.findall(r'_admin_of\([^)]*"(\w+)"\)', EMULATION)}
    assert raised  # the pattern still finds them
    for code, function in raised:
        name = emulation.ABORT_NAMES[int(code)]
        assert name in aborts(functions[function], functions), (function, name)


def test_every_event_has_the_fields_the_emulation_emits() -> None:
    structs = {name: re.findall(r"^\s*(\w+):", body, re.M)
               for name, body in _STRUCT.findall(SOURCE)}
    emitted = set(_EMIT.findall(SOURCE))
    assert emitted == {"Published", "Approved", "PublisherAdded", "PublisherRevoked"}
    release = emulation.ReleaseValue(1, 0, b"", "c", "0x0", 0).json()
    by_emulation = {}
    for call in ast.walk(ast.parse(EMULATION)):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "emit":
            event, fields = call.args
            assert isinstance(event, ast.Constant) and isinstance(fields, ast.Dict)
            keys = [k.value if isinstance(k, ast.Constant) else None for k in fields.keys]
            names = [k for k in keys if k is not None]
            if None in keys:  # `**release.json()`
                names += list(release)
            by_emulation[event.value] = names
    assert set(by_emulation) == emitted
    for event in emitted:
        assert by_emulation[event] == structs[event], event


def test_the_golden_transactions_call_the_move_functions_with_their_arguments() -> None:
    functions = move_functions()
    goldens = sorted(GOLDEN.glob("golden-*.yaml"))
    assert goldens
    for path in goldens:
        transaction = yaml.safe_load(path.read_text())["transaction"]
        module, function = transaction["target"].split("::")[1:]
        assert module == emulation.MODULE, path.name
        wanted = [p for p in functions[function].params if p.kind != "TxContext"]
        assert len(transaction["arguments"]) == len(wanted), path.name
        assert len(transaction["inputs"]) == len(wanted), path.name
