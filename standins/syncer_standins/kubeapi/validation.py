"""The 422 checks the stand-in makes, worded as kube-apiserver words them.

Checked: the object name (DNS-1123 subdomain; DNS-1123 label for Namespaces; DNS-1035 label
for Services; a path segment for RBAC objects; `<plural>.<group>` for CRDs), label keys and
values, and for workloads a selector that matches the pod template's labels and at least one
container; on update, workload selectors and a Job's pod template may not change (kube
prints the new template as its internal Go struct, see `godump`). Nothing else is validated
(no required fields beyond these, no value ranges).
"""

from __future__ import annotations

import json
import re
from typing import Any

from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.godump import go_json, pod_template

__all__ = ["Cause", "validate_name", "validate_object", "validate_update"]

Cause = tuple[str, str, str]  # reason, field, message

_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1035 = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_QUALIFIED = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    f"for validation is '{_SUBDOMAIN}')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    f"used for validation is '{_LABEL}')"
)
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    f"'abc-123', regex used for validation is '{_DNS1035}')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    f"'my_value',  or '12345', regex used for validation is '{_LABEL_VALUE}')"
)
_QUALIFIED_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    f"for validation is '{_QUALIFIED}')"
)
_WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def _invalid(path: str, value: Any, *, message: str) -> Cause:
    """A FieldValueInvalid cause; the value printed as JSON, maps sorted, as kube prints it."""
    shown = value if isinstance(value, _Shown) else go_json(_sorted_maps(value))
    return "FieldValueInvalid", path, f"Invalid value: {shown}: {message}"


class _Shown(str):
    """A value already printed (as `godump` prints internal structs)."""


def _sorted_maps(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_maps(value[key]) for key in sorted(value)}
    return value


def _selector(selector: Any) -> Any:
    """A LabelSelector in field order, its labels sorted."""
    if not isinstance(selector, dict):
        return selector
    ordered = {key: selector[key] for key in ("matchLabels", "matchExpressions") if key in selector}
    if isinstance(ordered.get("matchLabels"), dict):
        ordered["matchLabels"] = dict(sorted(ordered["matchLabels"].items()))
    return _Shown(go_json(ordered))


def _name_rule(rtype: ResourceType) -> tuple[str, str, int]:
    if rtype.kind == "Namespace":
        return _LABEL, _LABEL_MSG, 63
    if rtype.kind == "Service":
        return _DNS1035, _DNS1035_MSG, 63
    return _SUBDOMAIN, _SUBDOMAIN_MSG, 253


def validate_name(name: str, rtype: ResourceType) -> list[Cause]:
    if rtype.group == "rbac.authorization.k8s.io":
        bad = name in (".", "..") or "/" in name or "%" in name
        message = "may not contain '/' or '%'" if name not in (".", "..") else "may not be '.'"
        return [_invalid("metadata.name", name, message=message)] if bad else []
    regex, message, limit = _name_rule(rtype)
    if len(name) > limit:
        return [_invalid("metadata.name", name, message=f"must be no more than {limit} characters")]
    return [] if re.fullmatch(regex, name) else [_invalid("metadata.name", name, message=message)]


def _crd_name(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    expected = f"{names.get('plural', '')}.{spec.get('group', '')}"
    name = obj["metadata"]["name"]
    if name == expected:
        return []
    return [_invalid("metadata.name", name, message='must be spec.names.plural+"."+spec.group')]


def _label_key(key: str) -> list[str]:
    prefix, _, name = key.rpartition("/")
    problems = [] if re.fullmatch(_QUALIFIED, name) and len(name) <= 63 else [_QUALIFIED_MSG]
    if prefix and not re.fullmatch(_SUBDOMAIN, prefix):
        problems.append("prefix part " + _SUBDOMAIN_MSG)
    return problems


def _labels(labels: Any) -> list[Cause]:
    causes: list[Cause] = []
    for key, value in (labels or {}).items():
        causes += [_invalid("metadata.labels", key, message=problem) for problem in _label_key(key)]
        text = value if isinstance(value, str) else str(value)
        if len(text) > 63 or not re.fullmatch(_LABEL_VALUE, text):
            causes.append(_invalid("metadata.labels", text, message=_LABEL_VALUE_MSG))
    return causes


def _workload(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    causes: list[Cause] = []
    if not (template.get("spec") or {}).get("containers"):
        causes.append(("FieldValueRequired", "spec.template.spec.containers",
                       "Required value"))
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not spec.get("selector"):
        causes.append(("FieldValueRequired", "spec.selector", "Required value"))
    elif any(labels.get(key) != value for key, value in match.items()):
        causes.append(_invalid("spec.template.metadata.labels", labels,
                               message="`selector` does not match template `labels`"))
    return causes


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _immutable(path: str, value: Any) -> Cause:
    return _invalid(path, value, message="field is immutable")


def validate_update(old: dict[str, Any], new: dict[str, Any], rtype: ResourceType) -> list[Cause]:
    """The 422 causes of an update: fields that may not change (workload selectors, a Job's
    pod template)."""
    if rtype.custom or rtype.kind not in (*_WORKLOADS, "Job"):
        return []
    before, after = _spec(old), _spec(new)
    causes: list[Cause] = []
    if json.dumps(before.get("selector"), sort_keys=True) != json.dumps(
            after.get("selector"), sort_keys=True):
        causes.append(_immutable("spec.selector", _selector(after.get("selector"))))
    if rtype.kind == "Job" and json.dumps(before.get("template"), sort_keys=True) != json.dumps(
            after.get("template"), sort_keys=True):
        shown = _Shown(pod_template(after.get("template") or {}))
        causes.append(_immutable("spec.template", shown))
    return causes


def validate_object(obj: dict[str, Any], rtype: ResourceType) -> list[Cause]:
    """Every 422 cause of obj (empty when valid)."""
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name", ""))
    if not name:
        return [("FieldValueRequired", "metadata.name",
                 "Required value: name or generateName is required")]
    causes = validate_name(name, rtype)
    if rtype.kind == "CustomResourceDefinition" and not rtype.custom and not causes:
        causes += _crd_name(obj)
    causes += _labels(metadata.get("labels"))
    if rtype.kind in _WORKLOADS and not rtype.custom:
        causes += _workload(obj)
    return causes
