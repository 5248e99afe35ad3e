"""One object's admission context: its CEL activation, shared by every policy evaluated on
it, and what the release tells of it (resource, scope, namespace, base variables).  [pure]

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
from dataclasses import dataclass
from typing import Any, Final

from syncer import cel, vapmatch
from syncer.kinds import crd_scopes, defined_kind
from syncer.model import Obj, ObjectRef

__all__ = ["ObjectScope", "Release", "base_variables", "namespace_labels", "namespace_object",
           "release_context", "rewrite", "target", "variable_keys"]

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


# --- the object in its release -----------------------------------------------------------

@dataclass(frozen=True)
class Release:
    """What the release tells about each object's context."""

    namespaces: Mapping[str, Obj]
    crd_plurals: Mapping[str, str]
    crd_scopes: Mapping[tuple[str, str], bool]
    default_namespace: str


def release_context(objects: Sequence[Obj], namespace: str) -> Release:
    """The release's Namespaces, CRD plurals and scopes, and its default namespace."""
    namespaces = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Namespace"
                  and str(o.get("apiVersion")).rpartition("/")[0] == ""}
    plurals = {}
    for crd in objects:
        if crd.get("kind") == "CustomResourceDefinition":
            names = (crd.get("spec") or {}).get("names") or {}
            if isinstance(names.get("plural"), str):
                plurals[defined_kind(crd)[1]] = names["plural"]
    return Release(namespaces, plurals, crd_scopes(objects), namespace)


def target(obj: Obj, release: Release) -> vapmatch.Target:
    """The object as admission sees it: resource, scope, its namespace's labels."""
    ref = ObjectRef.of(obj)
    version = str(obj["apiVersion"]).rpartition("/")[2]
    namespaced = vapmatch.is_namespaced(ref.group, ref.kind, release.crd_scopes)
    ns_labels = None
    if namespaced:
        ns_labels = namespace_labels(namespace_object(
            ref.namespace or release.default_namespace, release))
    return vapmatch.Target(obj, ref.group, version,
                           vapmatch.plural(ref.kind, release.crd_plurals), namespaced,
                           ns_labels)


def namespace_object(name: str, release: Release) -> Obj:
    found = release.namespaces.get(name)
    if found is None:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    return found


def namespace_labels(namespace: Obj) -> dict[str, str]:
    meta = namespace.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    labels["kubernetes.io/metadata.name"] = meta["name"]
    return labels


def base_variables(target: vapmatch.Target, release: Release) -> dict[str, Any]:
    """`object`, `oldObject`, `namespaceObject` and `request` of an admission of `target`."""
    ref = ObjectRef.of(target.obj)
    namespace = (ref.namespace or release.default_namespace) if target.namespaced else ""
    ns_object = namespace_object(namespace, release) if namespace else None
    if ns_object is not None:
        meta = dict(ns_object.get("metadata") or {})
        meta["labels"] = namespace_labels(ns_object)
        ns_object = {**ns_object, "metadata": meta}
    request = {
        "operation": "CREATE", "name": ref.name, "namespace": namespace, "dryRun": False,
        "kind": {"group": ref.group, "version": target.version, "kind": ref.kind},
        "resource": {"group": ref.group, "version": target.version,
                     "resource": target.resource},
        "userInfo": {"username": "syncer"},
    }
    obj = target.obj
    if namespace and not ref.namespace:  # as admitted: placed in the default namespace
        obj = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
    return {"object": obj, "oldObject": None, "namespaceObject": ns_object,
            "request": request}
