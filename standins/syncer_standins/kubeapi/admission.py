"""ValidatingAdmissionPolicy: CEL policies and their bindings, as kube-apiserver v1.36 runs them.

Every create and update (dry runs included, controller writes too) is checked against each
ValidatingAdmissionPolicyBinding whose policy exists and matches the request:

* matching: the policy's `matchConstraints` and the binding's `matchResources` (resource
  rules by operation, group, version, resource and scope; namespace and object selectors);
* each `validations[].expression` is a CEL expression over `object`, `oldObject`,
  `request` (operation, namespace, name...) and `namespaceObject`; it is compiled once;
* a validation that is false fails with its `message`, its `messageExpression`, or
  `failed expression: EXPR`; one that cannot be evaluated follows the `failurePolicy`;
* the binding's `validationActions` say what a failure does: `Deny` refuses the request
  (the code of the validation's `reason`, 422 Invalid by default, with kube's message
  `deployments.apps "x" is forbidden: ValidatingAdmissionPolicy 'P' with binding 'B' denied
  request: MESSAGE`), `Warn` adds a `Warning` header (`Validation failed for
  ValidatingAdmissionPolicy 'P' with binding 'B': MESSAGE`), `Audit` does nothing here.

* `variables` are evaluated in order into `variables`, `matchConditions` must all hold, and
  a binding's `paramRef` names the `params` object (by name, in its namespace or the
  request's), its `parameterNotFoundAction` (Deny, the default, or Allow) deciding when
  there is none.

A new binding is enforced from the next request (kube takes up to a second or so). Not
emulated: a `paramRef` selector, `auditAnnotations`, the type checking that fills a
policy's status, and the Kubernetes CEL extension libraries (quantity, strings, lists...).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import celpy
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from syncer_standins.kubeapi import notices
from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.errors import ApiError
from syncer_standins.kubeapi.selectors import selector_matches
from syncer_standins.kubeapi.state import ApiState

__all__ = ["Review", "admit", "compiled", "evaluate"]

Obj = dict[str, Any]
_GROUP = "admissionregistration.k8s.io"
_CODES = {"Unauthorized": 401, "Forbidden": 403, "Invalid": 422, "RequestEntityTooLarge": 413}
_ENVIRONMENT = celpy.Environment()


@dataclass(frozen=True)
class Review:
    """One request as admission sees it."""

    rtype: ResourceType
    operation: str  # CREATE | UPDATE | DELETE
    namespace: str
    name: str
    obj: Obj | None
    old: Obj | None
    subresource: str = ""


@functools.cache
def compiled(expression: str) -> celpy.Runner:
    """The CEL program of an expression, compiled once (CELParseError if it does not parse)."""
    return _ENVIRONMENT.program(_ENVIRONMENT.compile(expression))


def evaluate(expression: str, variables: Obj) -> Any:
    """An expression's value over plain JSON variables (CELEvalError if it cannot be had);
    `variables` (the policy's own) already holds CEL values."""
    activation = {name: value if name == "variables" else json_to_cel(value)
                  for name, value in variables.items()}
    return compiled(expression).evaluate(activation)


def _listed(values: Any, wanted: str) -> bool:
    return isinstance(values, list) and ("*" in values or wanted in values)


def _resource_listed(resources: Any, review: Review) -> bool:
    if not isinstance(resources, list):
        return False
    plural, sub = review.rtype.plural, review.subresource
    wanted = {f"{plural}/{sub}", f"*/{sub}", f"{plural}/*", "*/*"} if sub else {plural, "*"}
    return bool(wanted & set(resources))


def _rule_matches(rule: Obj, review: Review) -> bool:
    scope = rule.get("scope") or "*"
    in_scope = scope == "*" or (scope == "Namespaced") == review.rtype.namespaced
    return (in_scope and _listed(rule.get("operations"), review.operation)
            and _listed(rule.get("apiGroups"), review.rtype.group)
            and _listed(rule.get("apiVersions"), review.rtype.version)
            and _resource_listed(rule.get("resources"), review))


def _labels(obj: Obj | None) -> Obj:
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def _matches(state: ApiState, match: Obj | None, review: Review) -> bool:
    if not match:
        return True
    rules = match.get("resourceRules")
    if rules is not None and not any(_rule_matches(rule, review) for rule in rules):
        return False
    if any(_rule_matches(rule, review) for rule in match.get("excludeResourceRules") or []):
        return False
    namespace = _namespace(state, review)
    if review.rtype.namespaced and not selector_matches(match.get("namespaceSelector"),
                                                         _labels(namespace)):
        return False
    objects = [obj for obj in (review.obj, review.old) if obj is not None]
    return any(selector_matches(match.get("objectSelector"), _labels(obj)) for obj in objects)


def _namespace(state: ApiState, review: Review) -> Obj | None:
    if not review.namespace:
        return None
    return state.store.get(("", "namespaces"), namespace="", name=review.namespace)


def _variables(state: ApiState, review: Review) -> Obj:
    request = {"operation": review.operation, "namespace": review.namespace,
               "name": review.name, "resource": {"group": review.rtype.group,
                                                  "version": review.rtype.version,
                                                  "resource": review.rtype.plural}}
    return {"object": review.obj, "oldObject": review.old, "request": request,
            "namespaceObject": _namespace(state, review), "params": None}


def _failure(validation: Obj, variables: Obj) -> str | None:
    """None when the validation holds, else its message."""
    expression = str(validation.get("expression", ""))
    if bool(evaluate(expression, variables)):
        return None
    if validation.get("messageExpression"):
        try:
            return str(evaluate(str(validation["messageExpression"]), variables))
        except (CELEvalError, CELParseError):
            pass
    return str(validation.get("message") or f"failed expression: {expression}")


def _prepared(spec: Obj, variables: Obj) -> bool:
    """Fill `variables.variables`; whether every matchCondition holds (CELEvalError, CELParseError
    if one cannot be evaluated)."""
    values = celpy.celtypes.MapType({})
    variables["variables"] = values
    for entry in spec.get("variables") or []:
        values[celpy.celtypes.StringType(entry["name"])] = evaluate(entry["expression"],
                                                                    variables)
    return all(bool(evaluate(str(c.get("expression")), variables))
               for c in spec.get("matchConditions") or [])


def _failures(policy: Obj, variables: Obj) -> list[tuple[str, str]]:
    """(reason, message) of each failing validation of policy."""
    spec = policy.get("spec") or {}
    found = []
    try:
        if not _prepared(spec, variables):
            return []
    except (CELEvalError, CELParseError) as err:
        if spec.get("failurePolicy", "Fail") == "Ignore":
            return []
        return [("InternalError", f"expression resulted in error: {err}")]
    for validation in spec.get("validations") or []:
        try:
            message = _failure(validation, variables)
        except (CELEvalError, CELParseError) as err:
            if spec.get("failurePolicy", "Fail") == "Ignore":
                continue
            message = f"expression '{validation.get('expression')}' resulted in error: {err}"
        if message is not None:
            found.append((str(validation.get("reason") or "Invalid"), message))
    return found


def _denied(review: Review, reason: str, text: str) -> ApiError:
    rtype = review.rtype
    qualified = f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural
    details: Obj = {"name": review.name}
    if rtype.group:
        details["group"] = rtype.group
    details.update(kind=rtype.plural, causes=[{"message": text}])
    return ApiError(_CODES.get(reason, 422), f'{qualified} "{review.name}" is forbidden: {text}',
                    reason, details)


def _bindings(state: ApiState) -> list[tuple[Obj, Obj]]:
    """(binding, policy) pairs whose policy exists."""
    policies = {str((p.get("metadata") or {}).get("name")): p
                for p in state.store.items((_GROUP, "validatingadmissionpolicies"))}
    pairs = []
    for binding in state.store.items((_GROUP, "validatingadmissionpolicybindings")):
        policy = policies.get(str((binding.get("spec") or {}).get("policyName")))
        if policy is not None:
            pairs.append((binding, policy))
    return pairs


_NOT_FOUND = "no params found for policy binding with Deny parameterNotFoundAction"


def _params(state: ApiState, policy: Obj, binding: Obj, review: Review) -> tuple[bool, Obj | None]:
    """(found, params): the object the binding's paramRef names, when the policy has a
    paramKind; found is False when it names none that exists."""
    kind = (policy.get("spec") or {}).get("paramKind")
    ref = (binding.get("spec") or {}).get("paramRef")
    if not isinstance(kind, dict):
        return True, None
    if not isinstance(ref, dict) or "name" not in ref:
        return False, None
    group = str(kind.get("apiVersion", "")).rpartition("/")[0]
    namespace = str(ref.get("namespace") or review.namespace)
    stored = state.store.keys()
    for key in stored:
        for where in (namespace, ""):
            obj = state.store.get(key, namespace=where, name=str(ref["name"])) \
                if key[0] == group else None
            if obj is not None and obj.get("kind") == kind.get("kind"):
                return True, obj
    return False, None


def admit(state: ApiState, review: Review) -> None:
    """Run the bound policies over a request: raise for a Deny, warn for a Warn."""
    for binding, policy in _bindings(state):
        spec, binding_spec = policy.get("spec") or {}, binding.get("spec") or {}
        if not (_matches(state, spec.get("matchConstraints"), review)
                and _matches(state, binding_spec.get("matchResources"), review)):
            continue
        actions = binding_spec.get("validationActions") or []
        names = (f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' with binding "
                 f"'{binding['metadata']['name']}'")
        found, params = _params(state, policy, binding, review)
        if not found:
            action = (binding_spec.get("paramRef") or {}).get("parameterNotFoundAction")
            if action == "Allow":
                continue
            failures = [("Invalid", _NOT_FOUND)]
        else:
            failures = _failures(policy, {**_variables(state, review), "params": params})
        for reason, message in failures:
            if "Deny" in actions:
                raise _denied(review, reason, f"{names} denied request: {message}")
            if "Warn" in actions:
                notices.warn(f"Validation failed for {names}: {message}")
