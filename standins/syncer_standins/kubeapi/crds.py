"""The CRD controllers of kube-apiserver: names, establishing, storage, cleanup.

As kube-apiserver v1.36 does, with its timing replaced by the request clock (`clock`):

* right after a CRD is created, the naming controller accepts its names:
  `NamesAccepted=True`, and `Established=False` with reason `Installing`;
* two requests later it is `Established` (kube takes some milliseconds): from then on its
  resources are in discovery and served;
* its custom resources' storage is ready two requests after that; until then every request
  for them answers `429 TooManyRequests`, `storage is (re)initializing`, `Retry-After: 1`
  (as kube answers while the watch cache initialises; not a 404);
* a CRD marked for deletion loses its custom resources, then goes itself.

A client that polls the CRD until `Established` and then its resources until they answer
(as kubectl and syncer do) sees what it sees with kube, in a fixed number of requests.
"""

from __future__ import annotations

import copy

from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.deletes import CRD_FINALIZER
from syncer_standins.kubeapi.errors import too_many_requests
from syncer_standins.kubeapi.objects import Obj, meta, now
from syncer_standins.kubeapi.registry import CRD_KEY, is_established
from syncer_standins.kubeapi.state import ApiState, Written
from syncer_standins.kubeapi.writes import remove, write_status

__all__ = ["check_storage", "crds"]

_ESTABLISHING = 2  # requests from the create to Established
_INITIALISING = 4  # requests from the create to storage that serves
_MANAGER = "kube-apiserver"
_NAMES_MESSAGE = "the initial names have been accepted"


def _accepted(crd: Obj) -> Obj:
    names = (crd.get("spec") or {}).get("names") or {}
    order = ("plural", "singular", "shortNames", "kind", "listKind", "categories")
    return {key: names[key] for key in order if key in names}


def _with_conditions(crd: Obj, *, established: bool) -> Obj:
    stamp = now()
    new = copy.deepcopy(crd)
    new["status"]["acceptedNames"] = _accepted(crd)
    new["status"]["conditions"] = [
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": stamp,
         "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True" if established else "False",
         "lastTransitionTime": stamp,
         "reason": "InitialNamesAccepted" if established else "Installing",
         "message": _NAMES_MESSAGE},
    ]
    return new


def _key(crd: Obj) -> tuple[str, str]:
    spec = crd.get("spec") or {}
    return str(spec.get("group", "")), str((spec.get("names") or {}).get("plural", ""))


def _establish(state: ApiState, name: str, *, rtype: ResourceType) -> None:
    crd = state.store.get(CRD_KEY, namespace="", name=name)
    if crd is None or meta(crd).get("deletionTimestamp") or is_established(crd):
        return
    write_status(state, _with_conditions(crd, established=True), rtype=rtype, manager=_MANAGER)


def _created(state: ApiState, crd: Obj, *, rtype: ResourceType) -> None:
    name = str(meta(crd)["name"])
    write_status(state, _with_conditions(crd, established=False), rtype=rtype, manager=_MANAGER)
    state.initialising[_key(crd)] = state.clock.now + _INITIALISING
    state.clock.later(_ESTABLISHING, lambda: _establish(state, name, rtype=rtype))


def _deleted(state: ApiState, crd: Obj, *, rtype: ResourceType) -> None:
    key = _key(crd)
    for custom in state.registry.stored_types():
        for obj in state.store.items(key) if custom.stored_key == key else []:
            remove(state, obj, rtype=custom)
    state.initialising.pop(key, None)
    remove(state, crd, rtype=rtype)


def crds(state: ApiState, written: Written) -> None:
    """The reactor: names and establishing for new CRDs, cleanup for deleted ones."""
    rtype, before, after = written.rtype, written.before, written.after
    if rtype.custom or rtype.kind != "CustomResourceDefinition" or after is None:
        return
    if before is None and not meta(after).get("deletionTimestamp"):
        _created(state, after, rtype=rtype)
    elif CRD_FINALIZER in (meta(after).get("finalizers") or []):
        _deleted(state, after, rtype=rtype)


def check_storage(state: ApiState, key: tuple[str, str]) -> None:
    """429 while the storage of a new CRD's resources initialises."""
    ready = state.initialising.get(key)
    if ready is None:
        return
    if state.clock.now < ready:
        raise too_many_requests("storage is (re)initializing", retry_after=1)
    state.initialising.pop(key, None)
