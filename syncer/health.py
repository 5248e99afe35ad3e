"""The health of a live object, one rule per kind, in the manner of kstatus.  [pure]

After each wave the controller waits (bounded, by its clock) while any of the wave's objects
is PROGRESSING (`Status.final`). `of` reads only the object the API server returned; a field
of the wrong shape counts as absent, and nothing raises. The order is kstatus's
(sigs.k8s.io/cli-utils pkg/kstatus/status): a deletionTimestamp (kstatus: Terminating) and
an `observedGeneration` behind `generation` are PROGRESSING; a condition `Stalled=True` is
DEGRADED and `Reconciling=True` PROGRESSING; then the rule of the object's kind (`_RULES`);
a kind with none goes by its `Ready` condition, or is HEALTHY ("no health rule"). Where
kstatus and gitops-engine (pkg/health) part, each rule's docstring says which it follows.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from syncer.model import Obj

__all__ = ["Health", "Status", "of", "worst"]

_Fields = Mapping[str, Any]


class Status(enum.Enum):
    """How an object is doing, from best to worst."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"

    @property
    def final(self) -> bool:
        """Whether a wait on this object is over: it goes on only while PROGRESSING."""
        return self is not Status.PROGRESSING


_RANK: Final = {Status.HEALTHY: 0, Status.PROGRESSING: 1, Status.DEGRADED: 2}
_NO_DEADLINE: Final = 2**31 - 1  # progressDeadlineSeconds that the controller never checks


@dataclass(frozen=True)
class Health:
    """A status and one line that says why."""

    status: Status
    reason: str


def worst(healths: Iterable[Health]) -> Status:
    """DEGRADED over PROGRESSING over HEALTHY; HEALTHY when there is none."""
    return max((h.status for h in healths), key=_RANK.__getitem__, default=Status.HEALTHY)


def of(obj: Obj) -> Health:
    """The health of `obj`, a live object as the API server returns it; never raises."""
    found: object = obj  # anything but a mapping reads as an object of no known kind
    if not isinstance(found, Mapping):
        return _healthy("no health rule")
    key = (_str(found, "apiVersion").rpartition("/")[0], _str(found, "kind"))
    return _generic(found, workload=key in _WORKLOADS) or _RULES.get(key, _by_ready)(found)


def _map(value: Any, *keys: str) -> _Fields:
    """The mapping found under `keys`; empty when something on the way is not one."""
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _int(mapping: _Fields, key: str) -> int | None:
    value = mapping.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(mapping: _Fields, key: str, default: int = 0) -> int:
    found = _int(mapping, key)
    return default if found is None else found


def _str(mapping: _Fields, key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def _conditions(obj: _Fields) -> dict[str, _Fields]:
    """`status.conditions` by type, the first of each type."""
    found = _map(obj, "status").get("conditions")
    by_type: dict[str, _Fields] = {}
    for condition in found if isinstance(found, list) else []:
        if isinstance(condition, Mapping) and isinstance(condition.get("type"), str):
            by_type.setdefault(condition["type"], condition)
    return by_type


def _true(conditions: Mapping[str, _Fields], kind: str) -> bool:
    return _str(conditions.get(kind, {}), "status") == "True"


def _said(condition: _Fields) -> str:
    """A condition's reason and message, "Reason: message" or what there is of them."""
    return ": ".join(filter(None, (_str(condition, "reason"), _str(condition, "message"))))


def _line(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= 200 else one[:197] + "..."


def _health(status: Status, reason: str) -> Health:
    return Health(status, _line(reason))


_healthy = partial(_health, Status.HEALTHY)
_progressing = partial(_health, Status.PROGRESSING)
_degraded = partial(_health, Status.DEGRADED)


def _short(*checks: tuple[int, int, str]) -> Health | None:
    """PROGRESSING, saying the first of the (have, want, what) whose have falls short."""
    for have, want, what in checks:
        if have < want:
            return _progressing(f"{have} of {want} {what}")
    return None


def _generic(obj: _Fields, *, workload: bool) -> Health | None:
    """What decides for every kind, before its own rule. A workload's controller always
    writes `observedGeneration` once it has acted: until then it is PROGRESSING (kstatus
    asks this of DaemonSets only, gitops-engine of StatefulSets too)."""
    if _str(_map(obj, "metadata"), "deletionTimestamp"):
        return _progressing("being deleted (metadata.deletionTimestamp is set)")
    generation = _int(_map(obj, "metadata"), "generation")
    observed = _int(_map(obj, "status"), "observedGeneration")
    behind = observed is not None and generation is not None and observed < generation
    if behind or (observed is None and workload):
        seen = "" if observed is None else f" (observed: {observed})"
        return _progressing(f"waiting for the controller to observe generation {generation}{seen}")
    conditions = _conditions(obj)
    if _true(conditions, "Stalled"):
        return _degraded(f"stalled: {_said(conditions['Stalled'])}")
    if _true(conditions, "Reconciling"):
        return _progressing(f"reconciling: {_said(conditions['Reconciling'])}")
    return None


def _by_ready(obj: _Fields) -> Health:
    """A kind with no rule: by its `Ready` condition (False, Unknown: InProgress, as kstatus)."""
    ready = _conditions(obj).get("Ready")
    status = _str(ready or {}, "status")
    if ready is None or status not in ("True", "False", "Unknown"):
        return _healthy("no health rule")
    if status == "True":
        return _healthy(f"ready: {_said(ready) or 'Ready'}")
    return _progressing(f"not ready ({status}): {_said(ready) or 'no reason given'}")


def _deployment(obj: _Fields) -> Health:
    """Paused is HEALTHY, as in gitops-engine (Suspended, which holds no wave back; kstatus
    keeps it InProgress, which no wait outlasts); ProgressDeadlineExceeded is DEGRADED; then
    the counts and conditions as kstatus reads them (spec.replicas defaults to 1)."""
    spec, status = _map(obj, "spec"), _map(obj, "status")
    if spec.get("paused") is True:
        return _healthy("Deployment is paused: nothing rolls out until it is resumed")
    conditions = _conditions(obj)
    progressing = conditions.get("Progressing", {})
    if _str(progressing, "reason") == "ProgressDeadlineExceeded":
        return _degraded(f"progress deadline exceeded: {_str(progressing, 'message')}")
    return (_deployment_counts(spec, status) or _deployment_conditions(spec, conditions)
            or _healthy(f"{_count(status, 'availableReplicas')} of {_count(spec, 'replicas', 1)} "
                        "replicas available"))


def _deployment_counts(spec: _Fields, status: _Fields) -> Health | None:
    wanted, total = _count(spec, "replicas", 1), _count(status, "replicas")
    updated, available = _count(status, "updatedReplicas"), _count(status, "availableReplicas")
    if updated >= wanted and total > updated:
        return _progressing(f"{total - updated} old replicas pending termination")
    return _short((updated, wanted, "replicas updated"),
                  (available, updated, "updated replicas available"))


def _deployment_conditions(spec: _Fields, conditions: Mapping[str, _Fields]) -> Health | None:
    """kstatus: the rollout is complete only once `Progressing` says NewReplicaSetAvailable
    (unless no deadline is set, when the controller writes no such condition), and
    `Available` is True."""
    progressing = conditions.get("Progressing", {})
    deadline = _int(spec, "progressDeadlineSeconds")
    complete = (_str(progressing, "status") == "True"
                and _str(progressing, "reason") == "NewReplicaSetAvailable")
    if deadline not in (None, _NO_DEADLINE) and not complete:
        return _progressing(f"rollout not complete: {_said(progressing) or 'no Progressing'}")
    if not _true(conditions, "Available"):
        return _progressing(f"not available: {_said(conditions.get('Available', {})) or '?'}")
    return None


def _statefulset(obj: _Fields) -> Health:
    """kstatus's counts; OnDelete is HEALTHY once the replicas are ready (gitops-engine;
    kstatus waits for nothing); ordinals below the partition keep the old revision."""
    spec, status = _map(obj, "spec"), _map(obj, "status")
    wanted, total = _count(spec, "replicas", 1), _count(status, "replicas")
    ready = _count(status, "readyReplicas")
    if short := _short((total, wanted, "replicas created"), (ready, wanted, "replicas ready")):
        return short
    if total > wanted:
        return _progressing(f"{total - wanted} replicas pending termination")
    return _statefulset_rollout(spec, status)


def _statefulset_rollout(spec: _Fields, status: _Fields) -> Health:
    strategy = _map(spec, "updateStrategy")
    wanted, updated = _count(spec, "replicas", 1), _count(status, "updatedReplicas")
    if _str(strategy, "type") == "OnDelete":
        return _healthy(f"{wanted} replicas ready; pods are updated when deleted (OnDelete)")
    partition = max(_count(_map(strategy, "rollingUpdate"), "partition"), 0)
    if updated < wanted - partition:
        return _progressing(f"{updated} of {wanted - partition} replicas updated"
                            + (f" (partition {partition})" if partition else ""))
    if partition:
        return _healthy(f"partitioned rollout complete: {updated} replicas updated, "
                        f"ordinals below {partition} left at their revision")
    current, revision = _str(status, "currentRevision"), _str(status, "updateRevision")
    if current != revision:
        return _progressing(f"revision {revision or '?'} not current yet (current: {current})")
    return _healthy(f"{wanted} of {wanted} replicas ready at revision {revision or '?'}")


def _daemonset(obj: _Fields) -> Health:
    """kstatus's counts, `desiredNumberScheduled` required; with OnDelete, pods of the old
    template count (gitops-engine), still to be scheduled and available."""
    status = _map(obj, "status")
    desired = _int(status, "desiredNumberScheduled")
    if desired is None:
        return _progressing("waiting for the controller to count the nodes to run on")
    on_delete = _str(_map(obj, "spec", "updateStrategy"), "type") == "OnDelete"
    updated = desired if on_delete else _count(status, "updatedNumberScheduled")
    return (_short((_count(status, "currentNumberScheduled"), desired, "pods scheduled"),
                   (updated, desired, "pods updated"),
                   (_count(status, "numberAvailable"), desired, "pods available"))
            or _healthy(f"{desired} of {desired} pods available"))


def _job(obj: _Fields) -> Health:
    """Failed (or FailureTarget, after which it can only fail) is DEGRADED; Complete (or
    SuccessCriteriaMet, which precedes it) HEALTHY; Suspended HEALTHY as in kstatus. A
    running Job is PROGRESSING, as in gitops-engine (kstatus: Current once started), so
    that a wave waits for it."""
    conditions, status = _conditions(obj), _map(obj, "status")
    for failed in ("Failed", "FailureTarget"):
        if _true(conditions, failed):
            return _degraded(f"Job failed: {_said(conditions[failed]) or failed}")
    if _true(conditions, "Complete") or _true(conditions, "SuccessCriteriaMet"):
        return _healthy(f"Job complete: {_count(status, 'succeeded')} succeeded")
    if _true(conditions, "Suspended"):
        return _healthy("Job is suspended")
    if not _str(status, "startTime"):
        return _progressing("Job not started yet")
    counts = (f"{_count(status, key)} {key}" for key in ("active", "succeeded", "failed"))
    return _progressing(f"Job running: {', '.join(counts)}")


def _claim(obj: _Fields) -> Health:
    """Bound is HEALTHY; Lost DEGRADED (gitops-engine; kstatus: InProgress); else waiting."""
    phase = _str(_map(obj, "status"), "phase")
    volume = _str(_map(obj, "spec"), "volumeName") or "?"
    if phase == "Bound":
        return _healthy(f"bound to volume {volume}")
    if phase == "Lost":
        return _degraded(f"claim lost: volume {volume} is gone")
    return _progressing(f"claim {phase or 'not bound yet'}: waiting for a volume")


def _containers(status: _Fields) -> Iterable[_Fields]:
    """The statuses of the init containers, then of the others."""
    for key in ("initContainerStatuses", "containerStatuses"):
        found = status.get(key)
        yield from (c for c in found if isinstance(c, Mapping)) if isinstance(found, list) else ()


def _stuck(status: _Fields) -> str:
    """The first container (init or not) waiting for a reason it will not get past alone:
    CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError, ..."""
    for container in _containers(status):
        waiting = _map(container, "state", "waiting")
        reason = _str(waiting, "reason")
        if reason.startswith("Err") or reason.endswith(("Error", "BackOff")):
            return f"container {_str(container, 'name') or '?'}: {_said(waiting)}"
    return ""


def _exited(status: _Fields) -> str:
    """The first container (init or not) that exited with an error, and how."""
    for container in _containers(status):
        ended = _map(container, "state", "terminated")
        if code := _int(ended, "exitCode"):
            return f"container {_str(container, 'name') or '?'} exited with {code}: {_said(ended)}"
    return ""


def _pod(obj: _Fields) -> Health:
    """Succeeded, or Running and Ready, is HEALTHY; Failed is DEGRADED (gitops-engine;
    kstatus: Current); with restartPolicy Always (the default), a container stuck in a
    back-off or an error is DEGRADED, as gitops-engine has it."""
    status, conditions = _map(obj, "status"), _conditions(obj)
    phase = _str(status, "phase")
    if phase == "Succeeded":
        return _healthy("Pod succeeded")
    if phase == "Failed":
        return _degraded(f"Pod failed: {_said(status) or _exited(status) or 'no reason given'}")
    stuck = _stuck(status)
    if stuck and _str(_map(obj, "spec"), "restartPolicy") in ("", "Always"):
        return _degraded(stuck)
    if phase == "Running" and _true(conditions, "Ready"):
        return _healthy("Pod running and ready")
    scheduled = conditions.get("PodScheduled", {})
    if _str(scheduled, "status") == "False":
        return _progressing(f"Pod not scheduled: {_said(scheduled)}")
    return _progressing(f"Pod {phase or 'not reported yet'}, not ready")


def _crd(obj: _Fields) -> Health:
    """kstatus: names refused, or not established for a reason other than Installing, is
    DEGRADED; Established is HEALTHY; else PROGRESSING."""
    conditions = _conditions(obj)
    names = conditions.get("NamesAccepted", {})
    if _str(names, "status") == "False":
        return _degraded(f"names not accepted: {_said(names)}")
    established = conditions.get("Established", {})
    if _str(established, "status") == "True":
        return _healthy("CRD established")
    if _str(established, "status") == "False" and _str(established, "reason") != "Installing":
        return _degraded(f"CRD not established: {_said(established)}")
    return _progressing("CRD not established yet")


_WORKLOADS: Final = frozenset({("apps", "Deployment"), ("apps", "StatefulSet"),
                               ("apps", "DaemonSet")})
_RULES: Final[Mapping[tuple[str, str], Callable[[_Fields], Health]]] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("batch", "Job"): _job,
    ("", "PersistentVolumeClaim"): _claim,
    ("", "Pod"): _pod,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}
