"""Pretend workload controllers: the status a Deployment, StatefulSet or DaemonSet gets.

Nothing runs: no ReplicaSets, Pods or ControllerRevisions are created. After each write
that changes a workload's generation, its controller writes a status (manager
`kube-controller-manager`, subresource `status`; for Deployments when, see `deployments`):

* with `deployments_ready` (the default), every replica is ready, updated and available,
  as after a successful rollout; DaemonSets have no node to run on, so nothing is desired;
* without it, a Deployment gets what a cluster without nodes reports (kube's controller
  with no node to run the pods):
  replicas unavailable, `Available=False`, `Progressing=True`; StatefulSets report no
  ready replica.

Jobs and CronJobs get no status.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from syncer_standins.kubeapi.objects import Obj, meta, now
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.writes import write_status

__all__ = [
    "MANAGER",
    "condition",
    "deployment_status",
    "replica_set_name",
    "template_hash",
    "workloads",
]

_SAFE = "bcdfghjklmnpqrstvwxz2456789"
MANAGER = "kube-controller-manager"


def template_hash(template: Any) -> str:
    """Ten characters from kube's safe alphabet, derived from the pod template."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE[byte % len(_SAFE)] for byte in digest[:10])


def condition(old: Obj, kind: str, *, status: str, reason: str, message: str) -> Obj:
    """A Deployment condition; its transition time kept while its status stays."""
    stamp = now()
    found = (c for c in old.get("conditions") or [] if c.get("type") == kind)
    previous: Obj = next(found, {})
    since = previous.get("lastTransitionTime", stamp) if previous.get("status") == status else stamp
    return {"type": kind, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": since, "reason": reason, "message": message}


def _replicas(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1))


def replica_set_name(deployment: Obj) -> str:
    return f"{meta(deployment)['name']}-{template_hash(_template(deployment))}"


def _template(obj: Obj) -> Any:
    return (obj.get("spec") or {}).get("template") or {}


def deployment_status(deployment: Obj, ready: bool) -> Obj:
    old, replicas = deployment.get("status") or {}, _replicas(deployment)
    replica_set = replica_set_name(deployment)
    status: Obj = {"observedGeneration": meta(deployment).get("generation", 1)}
    counts = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas") if ready else (
        "replicas", "updatedReplicas", "unavailableReplicas")
    status.update({name: replicas for name in counts if replicas})
    status["terminatingReplicas"] = 0
    if ready:
        available = condition(old, "Available", status="True",
                               reason="MinimumReplicasAvailable",
                               message="Deployment has minimum availability.")
        progressing = condition(old, "Progressing", status="True",
                                 reason="NewReplicaSetAvailable",
                                 message=f'ReplicaSet "{replica_set}" has successfully progressed.')
    else:
        available = condition(old, "Available", status="False",
                               reason="MinimumReplicasUnavailable",
                               message="Deployment does not have minimum availability.")
        progressing = condition(old, "Progressing", status="True", reason="ReplicaSetUpdated",
                                 message=f'ReplicaSet "{replica_set}" is progressing.')
    status["conditions"] = [available, progressing]
    return status


def statefulset_status(statefulset: Obj, ready: bool) -> Obj:
    replicas = _replicas(statefulset)
    revision = f"{meta(statefulset)['name']}-{template_hash(_template(statefulset))}"
    running = replicas if ready else 0
    return {"observedGeneration": meta(statefulset).get("generation", 1), "replicas": replicas,
            "readyReplicas": running, "currentReplicas": replicas, "updatedReplicas": replicas,
            "currentRevision": revision, "updateRevision": revision, "collisionCount": 0,
            "availableReplicas": running}


def daemonset_status(daemonset: Obj, ready: bool) -> Obj:
    return {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
            "numberReady": 0, "observedGeneration": meta(daemonset).get("generation", 1)}


_STATUS = {"StatefulSet": statefulset_status, "DaemonSet": daemonset_status}


def workloads(state: ApiState, written: Written) -> None:
    """A reactor: writes the status of StatefulSets and DaemonSets whose generation was not
    observed yet (Deployments have their own controller, `deployments`)."""
    rtype, after = written.rtype, written.after
    status_of = None if rtype.custom else _STATUS.get(rtype.kind)
    if status_of is None or after is None or meta(after).get("deletionTimestamp"):
        return
    if (after.get("status") or {}).get("observedGeneration") == meta(after).get("generation"):
        return
    new = copy.deepcopy(after)
    new["status"] = status_of(after, state.deployments_ready)
    write_status(state, new, rtype=rtype, manager=MANAGER)
