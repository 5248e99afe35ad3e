#!/usr/bin/env python3
"""The two CEL libraries from PyPI, measured in one run on the expressions syncer evaluates:
`common-expression-language` (Rust, imported as `cel`, what syncer uses) and `cel-python`
(pure Python, imported as `celpy`, what the kube-apiserver stand-in uses).

Every expression of the shipped policies (the default set and the example `policies/`:
variables, matchConditions, validations, messageExpressions) is evaluated on every
fixture object it applies to, with the variables syncer gives it, plus the Kubernetes
extension functions syncer registers (on both libraries, the same Python functions).
Correctness: both must give the same value, or both fail. Speed: each expression compiled
once, then the median time of one evaluation over the same variables, the variables'
conversion included (each library converts them at every call here).

Usage: python bench/bench_cel.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cel as rust_cel
import celpy
import yaml
from celpy.adapter import json_to_cel

from syncer import cel, policyfiles, vap, vapeval

ROOT = Path(__file__).parents[1]
FIXTURES = [ROOT / "syncer/data/policies/tests/fixtures/good.yaml",
            ROOT / "syncer/data/policies/tests/fixtures/bad.yaml",
            ROOT / "policies/tests/fixtures/deployments.yaml"]
EXTENSIONS = [
    "quantity('500m').isLessThan(quantity('1'))", "quantity('2Gi').compareTo(quantity('1Gi'))",
    "isQuantity('10Mi')", "'Hello'.lowerAscii()", "'a,b,c'.split(',')",
    "['a', 'b'].join('-')", "'abc'.indexOf('c')", "'abcdef'.substring(2, 4)",
    "[1, 2, 3].isSorted()", "[1, 2, 3].sum()", "[3, 1, 2].min()",
    "'a1b22'.findAll('[0-9]+')", "'nginx:1.25'.find('[0-9.]+$')",
]


def cases() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(label, expression, variables) for each expression and fixture it applies to."""
    policies = policyfiles.defaults() + policyfiles.from_files(
        {f"policies/{p.name}": p.read_bytes() for p in (ROOT / "policies").glob("*.yaml")})
    objects = [o for path in FIXTURES for o in yaml.safe_load_all(path.read_text()) if o]
    params = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"shop": "allowed"},
              "metadata": {"name": "syncer-channel-namespaces"}}
    for policy in policies.policies:
        for obj in objects:
            yield from _policy_cases(policy, obj, policies.params[0] if "max" in policy.name
                                     else params, policies)
    for expression in EXTENSIONS:
        yield "extension", expression, {}


def _policy_cases(policy: vap.Policy, obj: dict[str, Any], params: dict[str, Any],
                  policies: vap.PolicySet) -> Iterator[tuple[str, str, dict[str, Any]]]:
    one = vap.PolicySet((policy,), tuple(b for b in policies.bindings
                                         if b.policy == policy.name), ())
    if not any(True for _ in _matching(one, obj, params)):
        return
    namespace = (obj.get("metadata") or {}).get("namespace") or "shop"
    variables: dict[str, Any] = {
        "object": obj, "oldObject": None, "params": params,
        "namespaceObject": {"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": namespace}},
        "request": {"operation": "CREATE", "namespace": namespace,
                    "name": obj["metadata"]["name"],
                    "resource": {"group": obj["apiVersion"].rpartition("/")[0],
                                 "resource": obj["kind"].lower() + "s"}}}
    defined: dict[str, Any] = {}
    for entry in policy.spec.get("variables") or []:
        yield policy.name, entry["expression"], {**variables, "variables": dict(defined)}
        defined[entry["name"]] = cel.evaluate(vapeval.rewrite(entry["expression"], ()),
                                              {**variables, "variables": defined})
    variables["variables"] = defined
    for key in ("matchConditions", "validations"):
        for entry in policy.spec.get(key) or []:
            yield policy.name, entry["expression"], variables
            if "messageExpression" in entry:
                yield policy.name, entry["messageExpression"], variables


def _matching(one: vap.PolicySet, obj: dict[str, Any],
              params: dict[str, Any]) -> Iterator[vap.Verdict]:
    """Whether the policy applies at all: its verdicts with every validation failing."""
    spec = {**one.policies[0].spec, "validations": [{"expression": "false"}],
            "variables": [], "matchConditions": []}
    forced = vap.PolicySet((vap.Policy(one.policies[0].name, spec, "", one.policies[0].obj),),
                           one.bindings, ())
    labelled = {**obj, "metadata": {**obj["metadata"], "labels": {
        "app.kubernetes.io/managed-by": "syncer"}}}
    yield from vap.evaluate(forced, [labelled], namespace="shop", params=[params])


def _celpy_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return json_to_cel(fn(*(_plain(a) for a in args)))
    return call


def _plain(value: Any) -> Any:
    if isinstance(value, celpy.celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celpy.celtypes.IntType, celpy.celtypes.UintType)):
        return int(value)
    if isinstance(value, celpy.celtypes.StringType):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


class Engines:
    def __init__(self) -> None:
        self.env = celpy.Environment()
        self.celpy_functions = {n: _celpy_function(f) for n, f in cel.functions().items()}

    def rust(self, expression: str) -> Callable[[dict[str, Any]], Any]:
        program = rust_cel.compile(expression)
        return lambda v: program.execute(rust_cel.Context(variables=v,
                                                          functions=cel.functions()))

    def python(self, expression: str) -> Callable[[dict[str, Any]], Any]:
        program = self.env.program(self.env.compile(expression),
                                   functions=self.celpy_functions)
        return lambda v: _plain(program.evaluate({k: json_to_cel(x) for k, x in v.items()}))


def outcome(run: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, run()
    except Exception as e:  # both libraries raise their own errors
        return False, type(e).__name__


def timed(run: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.suppress(Exception):  # an error is a result too, timed alike
            run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    engines = Engines()
    rows, mismatches = [], 0
    for label, expression, variables in cases():
        rust = engines.rust(expression)
        python = engines.python(expression)
        a = outcome(lambda r=rust, v=variables: r(v))
        b = outcome(lambda p=python, v=variables: p(v))
        same = a == b or (not a[0] and not b[0])
        mismatches += not same
        rows.append((label, expression, same, timed(lambda r=rust, v=variables: r(v),
                                                    args.repeat),
                     timed(lambda p=python, v=variables: p(v), max(args.repeat // 10, 5))))
        if not same:
            print(f"MISMATCH {label}: {expression!r}: cel {a!r}, celpy {b!r}")
    print(f"{'policy':28} {'cel (Rust) ms':>14} {'cel-python ms':>14} {'ratio':>7}  expression")
    for label, expression, _, rust_s, python_s in rows:
        text = " ".join(expression.split())
        print(f"{label:28} {rust_s * 1e3:14.3f} {python_s * 1e3:14.3f} "
              f"{python_s / rust_s:7.1f}  {text[:60]}")
    rust_total = sum(r[3] for r in rows)
    python_total = sum(r[4] for r in rows)
    print(f"\n{len(rows)} evaluations, {mismatches} mismatches; median of one evaluation: "
          f"cel {statistics.median(r[3] for r in rows) * 1e3:.3f} ms, cel-python "
          f"{statistics.median(r[4] for r in rows) * 1e3:.3f} ms; all evaluations: cel "
          f"{rust_total * 1e3:.1f} ms, cel-python {python_total * 1e3:.1f} ms, "
          f"ratio {python_total / rust_total:.1f}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
