"""Label selectors (`labelSelector=`) and the field selectors kube supports on every type.

`selector_matches` evaluates a LabelSelector object (matchLabels, matchExpressions).
Label selector grammar, as in `k8s.io/apimachinery/pkg/labels`: comma-joined requirements,
each one of `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)`,
`key notin (a,b)`, `key>N`, `key<N`. Field selectors: `metadata.name` and
`metadata.namespace` with `=`, `==` or `!=`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from syncer_standins.kubeapi.errors import ApiError, bad_request

__all__ = [
    "Selector",
    "parse_field_selector",
    "parse_label_selector",
    "selectable_fields",
    "selector_matches",
]

Requirement = Callable[[Mapping[str, str]], bool]

_SET = re.compile(r"^\s*(!?)\s*([^\s!=<>,()]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_CMP = re.compile(r"^\s*([^\s!=<>,()]+)\s*(==|!=|=|>|<)\s*([^\s!=<>,()]*)\s*$")
_FIELDS = ("metadata.name", "metadata.namespace")


class Selector:
    """A conjunction of requirements over a string map (labels, or selectable fields)."""

    def __init__(self, requirements: list[Requirement]) -> None:
        self.requirements = requirements

    def matches(self, values: Mapping[str, str]) -> bool:
        return all(requirement(values) for requirement in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        return self.matches((obj.get("metadata") or {}).get("labels") or {})


def _split(text: str) -> list[str]:
    """Split on the commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _set_requirement(key: str, *, negate: str, operator: str, values: str) -> Requirement:
    if not operator:
        return (lambda labels: key not in labels) if negate else (lambda labels: key in labels)
    allowed = {value.strip() for value in values.split(",") if value.strip()}
    if operator == "in":
        return lambda labels: labels.get(key) in allowed
    return lambda labels: key not in labels or labels[key] not in allowed


def _compare_requirement(key: str, operator: str, *, value: str) -> Requirement:
    if operator in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if operator == "!=":
        return lambda labels: labels.get(key) != value
    if not re.fullmatch(r"-?\d+", value):
        raise bad_request(f"unable to parse requirement: for 'gt', 'lt' operators, the value "
                          f"must be an integer: {value}")
    bound = int(value)
    sign = 1 if operator == ">" else -1
    return lambda labels: bool(re.fullmatch(r"-?\d+", labels.get(key, "x"))) and (
        sign * (int(labels[key]) - bound) > 0
    )


def _requirement(text: str) -> Requirement:
    found = _SET.match(text)
    if found and not (found.group(1) and found.group(3)):
        negate, key, operator, values = (group or "" for group in found.groups())
        return _set_requirement(key, negate=negate, operator=operator, values=values)
    compared = _CMP.match(text)
    if compared:
        key, operator, value = compared.groups()
        return _compare_requirement(key, operator, value=value)
    raise bad_request(f"unable to parse requirement: found '{text.strip()}', expected: "
                      "identifier, key operator (=, ==, !=, in, notin, >, <) value")


def parse_label_selector(text: str) -> Selector:
    """Parse a label selector; raises a 400 ApiError when it does not parse."""
    if not text.strip():
        return Selector([])
    return Selector([_requirement(part) for part in _split(text)])


def parse_field_selector(text: str) -> Selector:
    requirements: list[Requirement] = []
    for part in filter(str.strip, text.split(",")):
        found = _CMP.match(part)
        if not found or found.group(2) not in ("=", "==", "!="):
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        if found.group(1) not in _FIELDS:
            raise ApiError(400, f'"{found.group(1)}" is not a known field selector: only '
                           '"metadata.name", "metadata.namespace"', "BadRequest")
        key, operator, value = found.groups()
        requirements.append(_compare_requirement(key, operator, value=value))
    return Selector(requirements)


def selectable_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata") or {}
    return {
        "metadata.name": str(metadata.get("name", "")),
        "metadata.namespace": str(metadata.get("namespace", "")),
    }


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = str(expression.get("key", "")), expression.get("operator")
    values = set(expression.get("values") or [])
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector object (`matchLabels`, `matchExpressions`) against labels; a missing
    or empty selector matches everything."""
    if not selector:
        return True
    wanted = selector.get("matchLabels") or {}
    return all(labels.get(key) == value for key, value in wanted.items()) and all(
        _expression_matches(e, labels) for e in selector.get("matchExpressions") or [])
