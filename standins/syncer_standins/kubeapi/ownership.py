"""Field ownership: `managedFields`, server-side apply and the tracking of plain updates.

This follows structured-merge-diff's `Updater` as kube-apiserver wires it:

* **apply** merges the configuration into the live object, removes the fields this manager
  applied last time but no longer applies (unless another manager owns them), then checks
  the changed fields against the other managers: a field another manager owns is a conflict
  (409), or with `force` moves to the applier. The applier then owns exactly what its
  configuration sets.
* **update** (create, replace, merge patch) gives the manager the fields it added or changed
  and takes them from everybody else; removed fields leave every manager.
* `apiVersion`, `kind`, `metadata.name`, `metadata.namespace` and the other server-set
  metadata are never owned; `ignored` fields (status on the main resource, the rest on the
  status subresource) are never owned either.
* An entry's `time` changes only when its manager changes the object; a no-op apply leaves
  the object, and so `managedFields`, untouched.

Simplification: one API version per resource, so managers never need conversion, and the cap
of ten `Update` managers is not applied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncer_standins.kubeapi.errors import ApiError
from syncer_standins.kubeapi.fieldset import FieldSet, path_string
from syncer_standins.kubeapi.schema import Schema
from syncer_standins.kubeapi.typed import (
    compare,
    ensure_named,
    merge,
    remove_items,
    same,
    to_field_set,
)

__all__ = [
    "ApplyConflict",
    "Change",
    "Managed",
    "ManagerKey",
    "Managers",
    "apply",
    "decode",
    "encode",
    "update",
]

_STRIP = FieldSet.of(
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *(("f:metadata", "f:" + name) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion",
    )),
)


@dataclass(frozen=True)
class ManagerKey:
    """What identifies a managedFields entry (the API version too, but there is only one)."""

    manager: str
    operation: str = "Apply"
    subresource: str = ""

    def describe(self, api_version: str) -> str:
        """The manager as conflict messages print it."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        return f"{text} using {api_version}" if self.operation == "Update" else text


@dataclass
class Managed:
    fields: FieldSet
    api_version: str
    time: str | None


Managers = dict[ManagerKey, Managed]


def decode(entries: Any) -> Managers:
    managers: Managers = {}
    for entry in entries if isinstance(entries, list) else []:
        key = ManagerKey(
            str(entry.get("manager", "")),
            str(entry.get("operation", "Update")),
            str(entry.get("subresource", "")),
        )
        fields = FieldSet.from_fields_v1(entry.get("fieldsV1") or {})
        previous = managers.get(key)
        if previous is not None:
            fields = fields.union(previous.fields)
        managers[key] = Managed(fields, str(entry.get("apiVersion", "")), entry.get("time"))
    return managers


def _sort_key(item: tuple[ManagerKey, Managed]) -> tuple[str, str, str, str, str]:
    key, managed = item
    return key.operation, managed.time or "", key.manager, key.subresource, managed.api_version


def encode(managers: Mapping[ManagerKey, Managed]) -> list[dict[str, Any]]:
    """Entries in kube's order: Apply before Update, then by time, manager, subresource."""
    entries = []
    for key, managed in sorted(managers.items(), key=_sort_key):
        entry: dict[str, Any] = {
            "manager": key.manager, "operation": key.operation, "apiVersion": managed.api_version,
        }
        if managed.time is not None:
            entry["time"] = managed.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = managed.fields.to_fields_v1()
        if key.subresource:
            entry["subresource"] = key.subresource
        entries.append(entry)
    return entries


class ApplyConflict(Exception):
    """An apply changed fields other managers own; `conflicts` is [(manager, path)]."""

    def __init__(self, conflicts: list[tuple[str, str]]) -> None:
        super().__init__(_conflict_message(conflicts))
        self.conflicts = conflicts

    def to_api_error(self) -> ApiError:
        causes = [
            {"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": path}
            for who, path in self.conflicts
        ]
        return ApiError(409, str(self), "Conflict", {"causes": causes})


def _conflict_message(conflicts: list[tuple[str, str]]) -> str:
    if len(conflicts) == 1:
        who, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {who}: {path}"
    lines: list[str] = []
    for who in sorted({who for who, _ in conflicts}):
        lines.append(f"conflicts with {who}:")
        lines += [f"- {path}" for other, path in conflicts if other == who]
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def _finish(managers: Managers) -> Managers:
    result = {}
    for key, managed in managers.items():
        fields = managed.fields.difference(_STRIP)
        if not fields.empty():
            result[key] = Managed(fields, managed.api_version, managed.time)
    return result


@dataclass(frozen=True)
class Change:
    """Who writes, and how: shared by `apply` and `update`."""

    schema: Schema
    key: ManagerKey
    api_version: str
    now: str
    ignored: FieldSet


def _disown(
    merged: dict[str, Any], last: FieldSet, *, owned: FieldSet, schema: Schema
) -> dict[str, Any]:
    """Remove what the applier applied last time, no longer applies, and nobody else owns."""
    disowned = ensure_named(last, schema).difference(ensure_named(owned, schema))
    pruned: dict[str, Any] = remove_items(merged, disowned, schema=schema)
    return pruned


def _without(managers: Managers, lost: dict[ManagerKey, FieldSet], removed: FieldSet) -> Managers:
    return {
        key: Managed(m.fields.difference(lost.get(key, FieldSet()).union(removed)),
                     m.api_version, m.time)
        for key, m in managers.items()
    }


def apply(
    live: dict[str, Any], config: dict[str, Any], *, managers: Managers, change: Change,
    force: bool,
) -> tuple[dict[str, Any], Managers]:
    """Server-side apply of config over live (both without managedFields)."""
    schema, key = change.schema, change.key
    merged = merge(live, config, schema=schema)
    applied = to_field_set(config, schema).recursive_difference(change.ignored)
    others = {k: v for k, v in managers.items() if k != key}
    last = managers.get(key)
    if last is not None and not last.fields.empty():
        owned = applied
        for managed in others.values():
            owned = owned.union(managed.fields)
        merged = _disown(merged, last.fields, owned=owned, schema=schema)
    diff = compare(live, merged, schema=schema).exclude(change.ignored)
    touched = diff.modified.union(diff.added)
    conflicts = {k: m.fields.intersection(touched) for k, m in others.items()}
    conflicts = {k: c for k, c in conflicts.items() if not c.empty()}
    if conflicts and not force:
        raise ApplyConflict(_conflict_list(conflicts, others))
    result = _without(others, conflicts, diff.removed)
    unchanged = last is not None and same(live, merged)
    time = last.time if unchanged and last is not None else change.now
    result[key] = Managed(applied, change.api_version, time)
    return merged, _finish(result)


def _conflict_list(
    conflicts: dict[ManagerKey, FieldSet], others: Managers
) -> list[tuple[str, str]]:
    found = []
    for key in sorted(conflicts, key=lambda k: (k.manager, k.operation, k.subresource)):
        who = key.describe(others[key].api_version)
        found += [(who, path_string(path)) for path in conflicts[key].paths()]
    return found


def update(
    live: dict[str, Any], new: dict[str, Any], *, managers: Managers, change: Change
) -> Managers:
    """Ownership after a plain write (create: live is the kind's empty object)."""
    diff = compare(live, new, schema=change.schema)
    excluded = diff.exclude(change.ignored)
    touched = excluded.modified.union(excluded.added)
    result = _without(managers, dict.fromkeys(managers, touched), excluded.removed)
    taken = diff.modified.union(diff.added).difference(diff.removed)
    taken = taken.recursive_difference(change.ignored).difference(_STRIP)
    if not taken.empty():
        previous = result.get(change.key)
        if previous is not None:
            taken = taken.union(previous.fields)
        result[change.key] = Managed(taken, change.api_version, change.now)
    return _finish(result)
