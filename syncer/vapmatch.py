"""Which objects a ValidatingAdmissionPolicy applies to: resource rules, namespace and object
selectors, as kube-apiserver matches an admission request.  [pure]

Without a cluster, an object of a release is taken as a CREATE (a rule that lists UPDATE
matches too: a sync creates or updates), its resource is its kind's plural (`Deployment` is
`deployments`; a CRD of the release gives its own plural), and its namespace's labels are
those of the release's Namespace object, else the one label every namespace carries,
`kubernetes.io/metadata.name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from syncer.kinds import CLUSTER_SCOPED
from syncer.model import Obj

__all__ = ["Target", "matches", "plural", "selector_matches"]

_IRREGULAR: Final = {
    "Endpoints": "endpoints", "PodSecurityPolicy": "podsecuritypolicies",
    "Ingress": "ingresses", "IngressClass": "ingressclasses", "NetworkPolicy":
    "networkpolicies", "PriorityClass": "priorityclasses", "StorageClass": "storageclasses",
    "RuntimeClass": "runtimeclasses",
}
_LOCAL_OPERATIONS: Final = frozenset({"CREATE", "UPDATE", "*"})


@dataclass(frozen=True)
class Target:
    """One object as admission sees it: its resource, scope, and namespace's labels."""

    obj: Obj
    group: str
    version: str
    resource: str
    namespaced: bool
    namespace_labels: Mapping[str, str] | None  # None: cluster-scoped (or unknown)

    @property
    def labels(self) -> Mapping[str, str]:
        meta = self.obj.get("metadata") or {}
        labels = meta.get("labels") if isinstance(meta, dict) else None
        return labels if isinstance(labels, dict) else {}


def plural(kind: str, crd_plurals: Mapping[str, str] | None = None) -> str:
    """The resource name of a kind, as discovery would say it."""
    kind = kind.strip()
    if crd_plurals and kind in crd_plurals:
        return crd_plurals[kind]
    if kind in _IRREGULAR:
        return _IRREGULAR[kind]
    low = kind.lower()
    if low.endswith("y") and low[-2:-1] not in ("a", "e", "i", "o", "u"):
        return low[:-1] + "ies"
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return low + "es"
    return low + "s"


def is_namespaced(group: str, kind: str, crd_scopes: Mapping[tuple[str, str], bool]) -> bool:
    """Whether a kind is namespaced (built-in table, then the release's CRDs)."""
    if (group, kind) in crd_scopes:
        return crd_scopes[(group, kind)]
    return (group, kind) not in CLUSTER_SCOPED


def matches(constraints: Mapping[str, Any] | None, target: Target) -> bool:
    """Whether `matchConstraints` (or a binding's `matchResources`) selects the object."""
    if not constraints:
        return True
    rules = constraints.get("resourceRules")
    if rules is not None and not any(_rule_matches(r, target) for r in _list(rules)):
        return False
    if any(_rule_matches(r, target) for r in _list(constraints.get("excludeResourceRules"))):
        return False
    if not _namespace_selected(constraints.get("namespaceSelector"), target):
        return False
    return selector_matches(constraints.get("objectSelector"), target.labels)


def _namespace_selected(selector: Any, target: Target) -> bool:
    if not target.namespaced:
        if target.group == "" and target.obj.get("kind") == "Namespace":
            return selector_matches(selector, target.labels)
        return True  # another cluster-scoped object: never skipped by a namespace selector
    return selector_matches(selector, target.namespace_labels or {})


def _rule_matches(rule: Any, target: Target) -> bool:
    if not isinstance(rule, dict):
        return False
    operations = set(_list(rule.get("operations")))
    if not operations & _LOCAL_OPERATIONS:
        return False
    name = (target.obj.get("metadata") or {}).get("name")
    names = _list(rule.get("resourceNames"))
    scope = rule.get("scope", "*")
    return (_listed(rule.get("apiGroups"), target.group)
            and _listed(rule.get("apiVersions"), target.version)
            and _resource_listed(rule.get("resources"), target.resource)
            and (not names or name in names)
            and (scope == "*" or (scope == "Namespaced") == target.namespaced))


def _listed(values: Any, wanted: str) -> bool:
    values = _list(values)
    return "*" in values or wanted in values


def _resource_listed(values: Any, resource: str) -> bool:
    values = _list(values)
    return "*" in values or "*/*" in values or resource in values


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions) against labels; none or `{}` selects
    everything."""
    if not isinstance(selector, dict):
        return True
    wanted = selector.get("matchLabels") or {}
    if isinstance(wanted, dict) and any(labels.get(k) != v for k, v in wanted.items()):
        return False
    return all(_expression_holds(e, labels) for e in _list(selector.get("matchExpressions")))


def _expression_holds(expression: Any, labels: Mapping[str, str]) -> bool:
    if not isinstance(expression, dict):
        return False
    key, operator = str(expression.get("key")), expression.get("operator")
    values = _list(expression.get("values"))
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False
