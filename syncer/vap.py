"""ValidatingAdmissionPolicy (+ Binding) YAML, read and evaluated without a cluster, as
kube-apiserver evaluates it at admission.  [pure]

A policy is enforced through each binding that names it (`spec.policyName`); a policy with
no binding, or a binding whose policy is absent, does nothing, as in a cluster. For each
object the policy's `matchConstraints` and the binding's `matchResources` select
(`vapmatch`), the `matchConditions` must all hold, then each of `validations` is checked:
a false one fails with its `messageExpression`, its `message`, or `failed expression:
EXPR`. The binding's `validationActions` say what a failure is: `Deny` a denial, `Warn` and
`Audit` a warning (nothing here records an audit). An expression that does not compile or
evaluate follows the policy's `failurePolicy`: `Fail` (the default) denies, naming the
policy, the validation and the expression; `Ignore` turns it into a warning.

The CEL variables: `object`, `oldObject` (null), `namespaceObject`, `params` (the object the
binding's `paramRef` names among the release's objects and policy files), `request`
(operation CREATE, kind, resource, name, namespace) and `variables` (the policy's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from syncer import vapeval, vapmatch
from syncer.errors import CelError, PolicyError
from syncer.model import Obj, ObjectRef

__all__ = ["BUNDLE_ONLY", "Binding", "Policy", "PolicySet", "Verdict", "evaluate", "parse"]

GROUP: Final = "admissionregistration.k8s.io"
BUNDLE_ONLY: Final = "syncer.io/bundle-only"  # annotation: checked in bundles, not installed
_ACTIONS: Final = frozenset({"Deny", "Warn", "Audit"})


@dataclass(frozen=True)
class Policy:
    name: str
    spec: Mapping[str, Any]
    source: str
    obj: Obj

    @property
    def bundle_only(self) -> bool:
        annotations = (self.obj.get("metadata") or {}).get("annotations") or {}
        return str(annotations.get(BUNDLE_ONLY, "")).lower() == "true"


@dataclass(frozen=True)
class Binding:
    name: str
    policy: str
    actions: tuple[str, ...]
    spec: Mapping[str, Any]
    source: str
    obj: Obj


@dataclass(frozen=True)
class PolicySet:
    """Policies, their bindings, and the objects they may take as params."""

    policies: tuple[Policy, ...] = ()
    bindings: tuple[Binding, ...] = ()
    params: tuple[Obj, ...] = ()

    def __add__(self, other: PolicySet) -> PolicySet:
        return PolicySet(self.policies + other.policies, self.bindings + other.bindings,
                         self.params + other.params)

    def objects(self) -> list[Obj]:
        """Every document, as read (what `syncer policy install` applies)."""
        return [p.obj for p in self.policies] + [b.obj for b in self.bindings] + [
            *self.params]


@dataclass(frozen=True)
class Verdict:
    """One policy failing on one object, through one binding."""

    policy: str
    binding: str
    ref: str
    deny: bool
    message: str
    reason: str = "Invalid"
    warnings: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        if self.deny:
            return (f"{self.ref}: ValidatingAdmissionPolicy '{self.policy}' with binding "
                    f"'{self.binding}' denied request: {self.message}")
        return (f"{self.ref}: Validation failed for ValidatingAdmissionPolicy "
                f"'{self.policy}' with binding '{self.binding}': {self.message}")


# --- parse ---------------------------------------------------------------------------------

def parse(documents: Iterable[tuple[str, Any]]) -> PolicySet:
    """Policies, bindings and params from `(source, document)` pairs; a malformed policy or
    binding is a PolicyError naming its source and field. Other kinds are params."""
    policies: list[Policy] = []
    bindings: list[Binding] = []
    params: list[Obj] = []
    for source, doc in documents:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise PolicyError("a document must be a mapping", where=source)
        kind = doc.get("kind")
        if _group(doc) == GROUP and kind == "ValidatingAdmissionPolicy":
            policies.append(_policy(doc, source))
        elif _group(doc) == GROUP and kind == "ValidatingAdmissionPolicyBinding":
            bindings.append(_binding(doc, source))
        else:
            ObjectRef.of(doc)  # a param must at least be an object
            params.append(doc)
    return PolicySet(tuple(policies), tuple(bindings), tuple(params))


def _group(doc: Obj) -> str:
    api_version = doc.get("apiVersion")
    return api_version.rpartition("/")[0] if isinstance(api_version, str) else ""


def _name(doc: Obj, source: str) -> str:
    name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"),
                                                                 dict) else None
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{doc.get('kind')} has no metadata.name", where=source)
    return name


def _policy(doc: Obj, source: str) -> Policy:
    name = _name(doc, source)
    where = f"{source}: ValidatingAdmissionPolicy {name}"
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        raise PolicyError("spec must be a mapping", where=where)
    validations = spec.get("validations")
    if not isinstance(validations, list) or not validations:
        raise PolicyError("spec.validations must list at least one validation", where=where)
    for i, v in enumerate(validations):
        if not isinstance(v, dict) or not isinstance(v.get("expression"), str):
            raise PolicyError(f"spec.validations[{i}].expression must be a string",
                              where=where)
    for key in ("matchConditions", "variables"):
        entries = spec.get(key) or []
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("name"), str)
                and isinstance(e.get("expression"), str) for e in entries):
            raise PolicyError(f"spec.{key} must list mappings with name and expression",
                              where=where)
    if spec.get("failurePolicy", "Fail") not in ("Fail", "Ignore"):
        raise PolicyError("spec.failurePolicy must be Fail or Ignore", where=where)
    return Policy(name, spec, source, doc)


def _binding(doc: Obj, source: str) -> Binding:
    name = _name(doc, source)
    where = f"{source}: ValidatingAdmissionPolicyBinding {name}"
    spec = doc.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("policyName"), str):
        raise PolicyError("spec.policyName must name a policy", where=where)
    actions = spec.get("validationActions")
    if (not isinstance(actions, list) or not actions
            or not all(a in _ACTIONS for a in actions)):
        raise PolicyError("spec.validationActions must list Deny, Warn or Audit", where=where)
    return Binding(name, spec["policyName"], tuple(actions), spec, source, doc)


# --- evaluate ------------------------------------------------------------------------------

def evaluate(policies: PolicySet, objects: Sequence[Obj], *, namespace: str = "default",
             params: Sequence[Obj] = ()) -> list[Verdict]:
    """Every failure of every bound policy on every object, in object then binding order.
    `namespace` is the one that objects naming none are placed in; `params` are objects a
    binding's `paramRef` may name, besides the policy files' own."""
    for obj in objects:
        ObjectRef.of(obj)  # each has apiVersion, kind and name, or RenderError
    release = vapeval.release_context(objects, namespace)
    candidates = _index([*policies.params, *params, *objects], policies)
    by_name = {p.name: p for p in policies.policies}
    bound = [(by_name[b.policy], b) for b in policies.bindings if b.policy in by_name]
    verdicts: list[Verdict] = []
    for obj in objects:
        target = vapeval.target(obj, release)
        scope: vapeval.ObjectScope | None = None
        for policy, binding in bound:
            if (vapmatch.matches(policy.spec.get("matchConstraints"), target)
                    and vapmatch.matches(binding.spec.get("matchResources"), target)):
                scope = scope or vapeval.ObjectScope(vapeval.base_variables(target, release))
                verdicts.extend(_check(policy, binding, target, release,
                                       candidates=candidates, scope=scope))
    return verdicts


_Candidates = Mapping[tuple[Any, Any], Mapping[Any, Sequence[Obj]]]


def _index(objects: Sequence[Obj], policies: PolicySet) -> _Candidates:
    """The objects a paramRef may name, by (apiVersion, kind) of the policies' paramKinds,
    then by name."""
    kinds = {(k.get("apiVersion"), k.get("kind")) for p in policies.policies
             if isinstance(k := p.spec.get("paramKind"), dict)}
    found: dict[tuple[Any, Any], dict[Any, list[Obj]]] = {kind: {} for kind in kinds}
    for obj in objects:
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key in found:
            name = (obj.get("metadata") or {}).get("name")
            found[key].setdefault(name, []).append(obj)
    return found


def _check(policy: Policy, binding: Binding, target: vapmatch.Target, release: vapeval.Release, *,
           candidates: _Candidates, scope: vapeval.ObjectScope) -> list[Verdict]:
    run = _Run(policy, binding, target, scope)
    try:
        params = _params(policy, binding, target, release, candidates)
    except _NoParams as e:
        return [] if e.allow else [run.verdict(str(e), deny=True)]
    results = []
    for param in params:
        results.extend(run.validate(param))
    return results


class _NoParams(Exception):
    def __init__(self, message: str, *, allow: bool) -> None:
        super().__init__(message)
        self.allow = allow


def _params(policy: Policy, binding: Binding, target: vapmatch.Target, release: vapeval.Release,
            candidates: _Candidates) -> list[Obj | None]:
    kind = policy.spec.get("paramKind")
    if not isinstance(kind, dict):
        return [None]
    ref = binding.spec.get("paramRef")
    if not isinstance(ref, dict):
        raise _NoParams("the policy has a paramKind, the binding no paramRef", allow=False)
    namespace = ref.get("namespace") or (ObjectRef.of(target.obj).namespace
                                         or release.default_namespace)
    of_kind = candidates.get((kind.get("apiVersion"), kind.get("kind")), {})
    named = of_kind.get(ref["name"], []) if "name" in ref else [
        o for objects in of_kind.values() for o in objects]
    found = [o for o in named if _param_named(o, ref, namespace)]
    if not found:
        allow = ref.get("parameterNotFoundAction") == "Allow"
        raise _NoParams("no params found for policy binding with Deny "
                        "parameterNotFoundAction", allow=allow)
    return list(found)


def _param_named(obj: Obj, ref: Mapping[str, Any], namespace: str) -> bool:
    meta = obj.get("metadata") or {}
    if meta.get("namespace") not in (None, namespace):
        return False
    if "name" in ref:
        return bool(meta.get("name") == ref["name"])
    return vapmatch.selector_matches(ref.get("selector"), meta.get("labels") or {})


class _Run:
    """One policy, through one binding, on one object."""

    def __init__(self, policy: Policy, binding: Binding, target: vapmatch.Target,
                 scope: vapeval.ObjectScope) -> None:
        self.policy, self.binding, self.target, self.scope = policy, binding, target, scope
        self.ref = str(ObjectRef.of(target.obj))
        self.deny = "Deny" in binding.actions
        self.names: dict[str, str] = {}

    def verdict(self, message: str, *, deny: bool, reason: str = "Invalid") -> Verdict:
        return Verdict(self.policy.name, self.binding.name, self.ref, deny, message, reason)

    def validate(self, params: Obj | None) -> list[Verdict]:
        meta = (params or {}).get("metadata") or {}
        self.scope.use_params(params, "none" if params is None else
                              f"{params.get('kind')}/{meta.get('namespace')}/{meta.get('name')}")
        definitions = self.policy.spec.get("variables") or []
        self.names = vapeval.variable_keys(definitions, self.scope.params_key)
        try:
            for entry in definitions:
                self._define(entry)
            if not all(self._condition(c) for c in self.policy.spec.get("matchConditions") or []):
                return []
        except _Failed as e:
            return self._failed(e)
        return [v for i, rule in enumerate(self.policy.spec["validations"])
                for v in self._validation(i, rule)]

    def _define(self, entry: Mapping[str, Any]) -> None:
        try:
            self.scope.define(self.names[entry["name"]], entry["expression"], self.names)
        except CelError as e:
            raise _Failed(f"spec.variables[{entry['name']}] expression "
                          f"{entry['expression']!r}: {e.message}") from e

    def _condition(self, condition: Mapping[str, Any]) -> bool:
        at = f"spec.matchConditions[{condition['name']}]"
        return self._eval(at, condition["expression"]) is True

    def _validation(self, i: int, rule: Mapping[str, Any]) -> list[Verdict]:
        at = f"spec.validations[{i}]"
        try:
            passed = self._eval(at, rule["expression"])
            if not isinstance(passed, bool):
                raise _Failed(f"{at} expression {rule['expression']!r} gives "
                              f"{type(passed).__name__}, not bool")
        except _Failed as e:
            return self._failed(e)
        if passed:
            return []
        return [self.verdict(self._message(rule), deny=self.deny,
                             reason=str(rule.get("reason") or "Invalid"))]

    def _message(self, rule: Mapping[str, Any]) -> str:
        expression = rule.get("messageExpression")
        if isinstance(expression, str):
            try:
                text = self.scope.evaluate(expression, self.names)
                if isinstance(text, str) and text.strip() and "\n" not in text:
                    return text
            except CelError:
                pass  # kube falls back to the message, as here
        message = rule.get("message")
        if isinstance(message, str) and message:
            return message
        return f"failed expression: {rule['expression']}"

    def _eval(self, at: str, expression: str) -> Any:
        try:
            return self.scope.evaluate(expression, self.names)
        except CelError as e:
            raise _Failed(f"{at} expression {expression!r}: {e.message}") from e

    def _failed(self, e: _Failed) -> list[Verdict]:
        """An expression that cannot be evaluated: the policy's failurePolicy decides."""
        message = f"ValidatingAdmissionPolicy '{self.policy.name}' {e}"
        if self.policy.spec.get("failurePolicy", "Fail") == "Ignore":
            return [self.verdict(f"{message} (ignored: failurePolicy Ignore)", deny=False)]
        return [self.verdict(message, deny=True, reason="InternalError")]


class _Failed(Exception):
    """An expression that cannot be evaluated, named with where it is."""
