"""The deployment controller, as kube's writes a Deployment's status, in its steps.

* When a Deployment needs a new ReplicaSet (it was created, or its pod template changed),
  the controller at once sets the `deployment.kubernetes.io/revision` annotation and a
  `Progressing` condition, `NewReplicaSetCreated`; the full status (`observedGeneration`,
  replica counts, `Available` and `Progressing`, see `workloads.deployment_status`) follows
  two requests later (kube: some milliseconds). Any other spec change gets the full status
  at once.
* A status someone else wrote (a kwok-like tool patching `/status` to say the replicas are
  ready) is put back two requests later, as kube's controller puts back its own: a real
  deployment controller does not let a fake status stick.

The waits count requests (`clock`), so a client that polls sees each step after a fixed
number of polls.
"""

from __future__ import annotations

import copy
from typing import Any

from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.objects import Obj, meta
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.workloads import (
    MANAGER,
    condition,
    deployment_status,
    replica_set_name,
    template_hash,
)
from syncer_standins.kubeapi.writes import write_status

__all__ = ["Deployments"]

_REVISION = "deployment.kubernetes.io/revision"
_LATER = 2  # requests until the controller's next step


class Deployments:
    """The reactor; it remembers the revisions and the statuses it wrote."""

    def __init__(self) -> None:
        self._revisions: dict[str, tuple[str, int]] = {}
        self._written: dict[str, Any] = {}
        self._pending: set[str] = set()

    def __call__(self, state: ApiState, written: Written) -> None:
        rtype, after = written.rtype, written.after
        if rtype.custom or rtype.kind != "Deployment" or after is None:
            return
        uid = str(meta(after).get("uid"))
        if meta(after).get("deletionTimestamp") or uid in self._pending:
            return
        status = after.get("status") or {}
        if status.get("observedGeneration") != meta(after).get("generation"):
            self._roll_out(state, after, rtype=rtype)
        elif uid in self._written and status != self._written[uid]:
            self._later(state, after, rtype=rtype, resync=True)

    def _revision(self, deployment: Obj) -> tuple[int, bool]:
        """The revision of deployment's template, and whether it is a new one."""
        digest = template_hash((deployment.get("spec") or {}).get("template") or {})
        uid = str(meta(deployment).get("uid"))
        known = self._revisions.get(uid)
        revision = 1 if known is None else known[1] + (known[0] != digest)
        self._revisions[uid] = (digest, revision)
        return revision, known is None or known[0] != digest

    def _write(self, state: ApiState, deployment: Obj, status: Obj, *, rtype: ResourceType) -> None:
        new = copy.deepcopy(deployment)
        revision = self._revisions[str(meta(new).get("uid"))][1]
        meta(new).setdefault("annotations", {})[_REVISION] = str(revision)
        new["status"] = status
        self._written[str(meta(new).get("uid"))] = status
        write_status(state, new, rtype=rtype, manager=MANAGER)

    def _roll_out(self, state: ApiState, deployment: Obj, *, rtype: ResourceType) -> None:
        _, new_replica_set = self._revision(deployment)
        if not new_replica_set:
            self._write(state, deployment, self._status(state, deployment), rtype=rtype)
            return
        old = deployment.get("status") or {}
        created = condition(old, "Progressing", status="True", reason="NewReplicaSetCreated",
                            message=f'Created new replica set "{replica_set_name(deployment)}"')
        kept = [c for c in old.get("conditions") or [] if c.get("type") != "Progressing"]
        self._later(state, deployment, rtype=rtype, resync=False)
        self._write(state, deployment, {**old, "conditions": [*kept, created]}, rtype=rtype)

    def _status(self, state: ApiState, deployment: Obj, *, resync: bool = False) -> Obj:
        status = deployment_status(deployment, state.deployments_ready)
        old = deployment.get("status") or {}
        if resync and not state.deployments_ready and not any(
                c.get("type") == "Progressing" for c in old.get("conditions") or []):
            found = condition(old, "Progressing", status="True", reason="FoundNewReplicaSet",
                              message=f'Found new replica set "{replica_set_name(deployment)}"')
            available = [c for c in status["conditions"] if c["type"] == "Available"]
            status["conditions"] = [found, *available]
        return status

    def _later(self, state: ApiState, deployment: Obj, *, rtype: ResourceType,
               resync: bool) -> None:
        uid = str(meta(deployment).get("uid"))
        where = (str(meta(deployment).get("namespace")), str(meta(deployment)["name"]))
        self._pending.add(uid)

        def step() -> None:
            self._pending.discard(uid)
            live = state.store.get(rtype.stored_key, namespace=where[0], name=where[1])
            if live is None or meta(live).get("deletionTimestamp") or meta(live).get(
                    "uid") != uid:
                return
            self._write(state, live, self._status(state, live, resync=resync), rtype=rtype)

        state.clock.later(_LATER, step)
