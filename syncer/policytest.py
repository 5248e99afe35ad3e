"""`syncer policy test`: expected verdicts of policies on fixture objects, as `kyverno test`
checks them.  [pure]

A test file (YAML, in a policies directory's `tests/`):

    policies: [../no-root.yaml]        # policy files, relative to the test file
                                       # (default: every *.yaml of the policies directory)
    resources: [fixtures/web.yaml]     # object files, relative to the test file
    namespace: shop                    # for objects naming none (default: default)
    namespaces: [shop-jobs]            # more namespaces the channel allows (namespace allowlist)
    results:
      - policy: no-root                # a ValidatingAdmissionPolicy's name
        resource: Deployment/web       # Kind/name or Kind/namespace/name
        result: deny                   # admit | deny | warn
        message: may run as root       # optional: a part of the message

The default set applies to every test, beside the listed policies, as at publish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from syncer import policy, vap
from syncer.config import ChannelConfig
from syncer.errors import PolicyError
from syncer.model import Obj, ObjectRef

__all__ = ["Expected", "Outcome", "TestFile", "parse_test", "run_test"]

RESULTS: Final = ("admit", "deny", "warn")
_KEYS: Final = frozenset({"policies", "resources", "namespace", "namespaces", "results",
                          "name", "description"})


@dataclass(frozen=True)
class Expected:
    policy: str
    resource: str
    result: str
    message: str | None = None


@dataclass(frozen=True)
class TestFile:
    __test__ = False  # not a pytest class

    policies: tuple[str, ...] | None
    resources: tuple[str, ...]
    namespace: str
    namespaces: tuple[str, ...]
    results: tuple[Expected, ...]


@dataclass(frozen=True)
class Outcome:
    expected: Expected
    got: str
    message: str

    @property
    def passed(self) -> bool:
        if self.got != self.expected.result:
            return False
        return self.expected.message is None or self.expected.message in self.message


def parse_test(data: Any, *, where: str) -> TestFile:
    """A test file's content, each problem a PolicyError naming the file and the field."""
    if not isinstance(data, dict):
        raise PolicyError("a test file must be a mapping with resources and results",
                          where=where)
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise PolicyError(f"unknown key {unknown[0]!r}", where=where)
    policies = data.get("policies")
    return TestFile(
        policies=None if policies is None else _strings(policies, "policies", where),
        resources=_strings(data.get("resources"), "resources", where),
        namespace=str(data.get("namespace") or "default"),
        namespaces=_strings(data.get("namespaces") or [], "namespaces", where),
        results=tuple(_expected(r, i, where) for i, r in enumerate(_list(data, where))),
    )


def _list(data: Mapping[str, Any], where: str) -> list[Any]:
    results = data.get("results")
    if not isinstance(results, list) or not results:
        raise PolicyError("results must list at least one expected result", where=where)
    return results


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{key} must be a list of strings", where=where)
    return tuple(value)


def _expected(entry: Any, i: int, where: str) -> Expected:
    at = f"{where}: results[{i}]"
    if not isinstance(entry, dict):
        raise PolicyError("must be a mapping with policy, resource and result", where=at)
    fields = [entry.get(k) for k in ("policy", "resource", "result")]
    if not all(isinstance(f, str) and f for f in fields):
        raise PolicyError("policy, resource and result must be strings", where=at)
    if entry["result"] not in RESULTS:
        raise PolicyError(f"result must be one of {', '.join(RESULTS)}, not "
                          f"{entry['result']!r}", where=at)
    message = entry.get("message")
    if message is not None and not isinstance(message, str):
        raise PolicyError("message must be a string", where=at)
    return Expected(entry["policy"], entry["resource"], entry["result"], message)


def run_test(test: TestFile, policies: vap.PolicySet, objects: Sequence[Obj], *,
             where: str) -> list[Outcome]:
    """Each expected result against the policies' verdicts on the objects."""
    names = {p.name for p in policies.policies}
    refs = {_ref_names(o, test.namespace): o for o in objects}
    channel = ChannelConfig("policy-test", test.namespace, namespaces=test.namespaces)
    verdicts = policy.check(objects, policies, channel=channel)
    outcomes = []
    for expected in test.results:
        if expected.policy not in names:
            raise PolicyError(f"no policy {expected.policy!r} (known: "
                              f"{', '.join(sorted(names))})", where=where)
        if not any(expected.resource in keys for keys in refs):
            raise PolicyError(f"no resource {expected.resource!r} among the resources",
                              where=where)
        outcomes.append(_outcome(expected, verdicts, test.namespace))
    return outcomes


def _ref_names(obj: Obj, namespace: str) -> tuple[str, ...]:
    ref = ObjectRef.of(obj)
    kind_name = f"{ref.kind}/{ref.name}"
    return (str(ref), kind_name, f"{ref.kind}/{ref.namespace or namespace}/{ref.name}")


def _outcome(expected: Expected, verdicts: Sequence[vap.Verdict], namespace: str) -> Outcome:
    mine = [v for v in verdicts if v.policy == expected.policy
            and _same_ref(v.ref, expected.resource, namespace)]
    denied = [v for v in mine if v.deny]
    if denied:
        return Outcome(expected, "deny", denied[0].message)
    if mine:
        return Outcome(expected, "warn", mine[0].message)
    return Outcome(expected, "admit", "")


def _same_ref(ref: str, wanted: str, namespace: str) -> bool:
    parts = ref.split("/")
    if len(parts) == 2:
        return wanted in (ref, f"{parts[0]}/{namespace}/{parts[1]}")
    return wanted in (ref, f"{parts[0]}/{parts[2]}")
