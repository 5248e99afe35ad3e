"""The resource-quota controller: a ResourceQuota's `status.hard` and `status.used`.

As kube's controller does, right after a quota's `spec.hard` changes it writes `status.hard`
(the canonical `spec.hard`) and `status.used` (manager `kube-controller-manager`,
subresource `status`). Usage is what the stand-in can count: objects for the object-count
resources (`pods`, `configmaps`, `count/deployments.apps`...); compute and storage usage
(`requests.cpu`, `limits.memory`...) is `0`, since nothing runs here. Usage is computed when
the quota's spec changes, not again as objects come and go (a simplification).
"""

from __future__ import annotations

import copy

from syncer_standins.kubeapi.objects import meta
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.writes import write_status

__all__ = ["quotas"]

_MANAGER = "kube-controller-manager"
_COUNTED = {"pods": ("", "pods"), "services": ("", "services"),
            "configmaps": ("", "configmaps"), "secrets": ("", "secrets"),
            "persistentvolumeclaims": ("", "persistentvolumeclaims"),
            "replicationcontrollers": ("", "replicationcontrollers"),
            "resourcequotas": ("", "resourcequotas")}


def _counted(name: str) -> tuple[str, str] | None:
    if name.startswith("count/"):
        plural, _, group = name[len("count/"):].partition(".")
        return group, plural
    return _COUNTED.get(name)


def _used(state: ApiState, name: str, *, namespace: str) -> str:
    key = _counted(name)
    if key is None:
        return "0"
    return str(len(state.store.items(key, namespace)))


def quotas(state: ApiState, written: Written) -> None:
    """The reactor: status for quotas whose `spec.hard` is not mirrored yet."""
    rtype, after = written.rtype, written.after
    if rtype.custom or rtype.kind != "ResourceQuota" or after is None:
        return
    hard = (after.get("spec") or {}).get("hard") or {}
    if meta(after).get("deletionTimestamp") or (after.get("status") or {}).get("hard") == hard:
        return
    namespace = str(meta(after).get("namespace"))
    new = copy.deepcopy(after)
    new["status"] = {"hard": dict(hard),
                     "used": {name: _used(state, name, namespace=namespace) for name in hard}}
    write_status(state, new, rtype=rtype, manager=_MANAGER)
