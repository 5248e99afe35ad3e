"""Sync waves: the order a release's objects are applied in, by one key. Pure.

An object's wave is its annotation `syncer.io/wave: "<int>"` (default 0, from -100 to 100).
A sync applies wave by wave, lower first, and between waves waits until what the earlier
wave applied is healthy (`syncer.health`): a database migration Job in wave -1 runs to
completion before the Deployment of wave 0 rolls. Within a wave the order is the plan's kind
tiers (`plan.apply_order`: Namespaces and CRDs first, then cluster-scoped kinds, then
namespaced ones, admission webhook configurations last), then names, as gitops-engine's sync
tasks (phase, wave, kind, name) and Flux's staged apply order them.

A Namespace or CRD must come no later than the objects that need it: an object in an
earlier wave than its own Namespace or CRD could not be applied, so the release is refused
(`check`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from syncer.errors import PolicyError
from syncer.model import Obj, ObjectRef

__all__ = ["ANNOTATION_WAVE", "LIMIT", "check", "wave_of"]

ANNOTATION_WAVE = "syncer.io/wave"
LIMIT = 100
"""Waves run from -LIMIT to LIMIT: enough for any ordering, small enough to read."""


def wave_of(obj: Mapping[str, Any]) -> int:
    """The object's wave; PolicyError naming the object for a value that is not an integer
    between -LIMIT and LIMIT."""
    notes = (obj.get("metadata") or {}).get("annotations") or {}
    raw = notes.get(ANNOTATION_WAVE) if isinstance(notes, Mapping) else None
    if raw is None:
        return 0
    text = str(raw).strip()
    body = text[1:] if text[:1] in "+-" else text
    if not body.isdigit() or not body.isascii() or len(body) > 3 or abs(int(text)) > LIMIT:
        raise PolicyError(f"annotation {ANNOTATION_WAVE} must be an integer from -{LIMIT} to "
                          f"{LIMIT}, not {_shown(raw)}", where=str(ObjectRef.of(obj)))
    return int(text)


def check(objects: Iterable[Obj]) -> None:
    """Every wave annotation is valid, and no object comes in an earlier wave than the
    Namespace or the CRD (by group and kind) it needs from the same release."""
    objects = list(objects)
    waves = {ObjectRef.of(o): wave_of(o) for o in objects}
    namespaces = {r.name: w for r, w in waves.items() if (r.group, r.kind) == ("", "Namespace")}
    kinds = {_crd_kind(o): waves[ObjectRef.of(o)] for o in objects if _crd_kind(o)}
    for ref, wave in waves.items():
        for needed, what in ((namespaces.get(ref.namespace), f"Namespace {ref.namespace}"),
                             (kinds.get((ref.group, ref.kind)), "the CRD of its kind")):
            if needed is not None and needed > wave:
                raise PolicyError(f"in wave {wave}, before {what} (wave {needed}): it could "
                                  "not be applied", where=str(ref))


def _crd_kind(obj: Obj) -> tuple[str, str] | None:
    """The (group, kind) a CustomResourceDefinition defines; None for anything else."""
    if obj.get("kind") != "CustomResourceDefinition":
        return None
    spec = obj.get("spec")
    names = spec.get("names") if isinstance(spec, Mapping) else None
    if not isinstance(spec, Mapping) or not isinstance(names, Mapping):
        return None
    group, kind = spec.get("group"), names.get("kind")
    return (group, kind) if isinstance(group, str) and isinstance(kind, str) else None


def _shown(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 24 else text[:21] + "..."
