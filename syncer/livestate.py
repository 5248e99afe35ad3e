"""Reading what the cluster holds for one channel, in few requests, for `plan.decide`.

- `read` lists each kind and namespace the release or the inventory touches once, without
  a label selector, and splits what it finds: objects carrying the channel's label
  (`managed`), and objects at a desired object's place without it (`others`: not the
  channel's to change, unless the release adopts them).
- `held` looks into the Namespaces and CRDs a prune would delete (and with them everything
  inside, or every custom resource of their kind): what is there that the channel does not
  manage. A top-level object counts; dependents (with ownerReferences), Events, the
  Endpoints of the channel's Services and what the cluster puts in every namespace do not.
  What cannot be read counts too: no prune on a guess, and that includes every API group
  whose discovery failed (`Discovery.unavailable`): what it holds in a namespace is unknown.
- `unread` lists the inventory's objects of such a group: they can be neither listed nor
  pruned, so the plan keeps them, and the inventory with them, until the group answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

from syncer import inventory as inv
from syncer import plan
from syncer.cluster import Cluster, Discovery, Resource
from syncer.errors import ClusterError
from syncer.kinds import defined_kind
from syncer.model import LABEL_CHANNEL, Obj, ObjectRef

__all__ = ["held", "read", "unread"]

_EVERY_NAMESPACE: Final = {("", "ConfigMap", "kube-root-ca.crt"),
                           ("", "ConfigMap", "openshift-service-ca.crt"),
                           ("", "ServiceAccount", "default")}
_NOT_CONTENT: Final = {("", "Event"), ("events.k8s.io", "Event")}
_SHOWN: Final = 10


def read(cluster: Cluster, discovery: Discovery, *, channel: str, desired: Iterable[Obj],
         refs: Iterable[ObjectRef]) -> tuple[dict[ObjectRef, Obj], dict[ObjectRef, Obj]]:
    """(managed, others): one LIST per kind and namespace of the desired objects and `refs`."""
    wanted = {ObjectRef.of(o) for o in desired}
    places: set[tuple[Resource, str]] = set()
    for ref in wanted | set(refs):
        resource = discovery.find(ref.group, ref.kind)
        if resource is not None:
            places.add((resource, ref.namespace if resource.namespaced else ""))
    managed: dict[ObjectRef, Obj] = {}
    others: dict[ObjectRef, Obj] = {}
    for resource, namespace in sorted(places, key=lambda p: (p[0].plural, p[1])):
        for obj in cluster.list_objects(resource, namespace=namespace, selector=""):
            ref = ObjectRef.of(obj)
            if _channel_of(obj) == channel:
                managed[ref] = obj
            elif ref in wanted:
                others[ref] = obj
    return managed, others


def unread(discovery: Discovery, entries: Iterable[inv.Entry]) -> dict[ObjectRef, Obj]:
    """The inventory entries whose kind is unknown because their API group failed
    discovery, each as the inventory records it (apiVersion, kind, namespace, name)."""
    return {entry.ref: _recorded(entry) for entry in entries
            if discovery.find(entry.ref.group, entry.kind) is None
            and discovery.unavailable_in(entry.ref.group)}


def _recorded(entry: inv.Entry) -> Obj:
    meta = {"name": entry.name, **({"namespace": entry.namespace} if entry.namespace else {})}
    return {"apiVersion": entry.api_version, "kind": entry.kind, "metadata": meta}


def held(cluster: Cluster, discovery: Discovery, *, channel: str,
         candidates: Iterable[ObjectRef],
         managed: Mapping[ObjectRef, Obj]) -> dict[ObjectRef, tuple[str, ...]]:
    """For each Namespace or CRD prune candidate, what in it the channel does not manage."""
    out: dict[ObjectRef, tuple[str, ...]] = {}
    for ref in candidates:
        if (ref.group, ref.kind) == plan.NAMESPACE:
            found = _in_namespace(cluster, discovery, ref.name, channel, managed)
        else:
            found = _of_crd(cluster, discovery, managed[ref], channel)
        if found:
            out[ref] = tuple(found)
    return out


def _in_namespace(cluster: Cluster, discovery: Discovery, namespace: str, channel: str,
                  managed: Mapping[ObjectRef, Obj]) -> list[str]:
    services = {r.name for r in managed if (r.group, r.kind, r.namespace) ==
                ("", "Service", namespace)}
    found = [_unknown(gv) for gv in sorted(discovery.unavailable)]
    for resource in _namespaced_content(discovery):
        found += _foreign(cluster, resource, namespace, channel,
                          skip=lambda ref: _cluster_made(ref, services))
        if len(found) >= _SHOWN:
            break
    return found


def _of_crd(cluster: Cluster, discovery: Discovery, crd: Obj, channel: str) -> list[str]:
    group, kind = defined_kind(crd)
    resource = discovery.find(group, kind)
    if resource is None:  # not served: no custom resource of it can exist, unless unknown
        return [_unknown(gv) for gv in sorted(discovery.unavailable_in(group))]
    return _foreign(cluster, resource, "", channel, skip=lambda ref: False)


def _foreign(cluster: Cluster, resource: Resource, namespace: str, channel: str, *,
             skip: Callable[[ObjectRef], bool]) -> list[str]:
    """Top-level objects of `resource` in `namespace` (all, if "") not of the channel."""
    try:
        objects = cluster.list_objects(resource, namespace=namespace, selector="")
    except ClusterError as e:
        return [f"{resource.plural} could not be read ({e.message})"]
    return [str(ref) for obj in objects
            if _channel_of(obj) != channel and not _owned(obj)
            and not skip(ref := ObjectRef.of(obj))]


def _unknown(group_version: str) -> str:
    return f"what API group {group_version} holds (its discovery failed)"


def _namespaced_content(discovery: Discovery) -> list[Resource]:
    return sorted((r for r in discovery.by_kind.values()
                   if r.namespaced and r.listable and (r.group, r.kind) not in _NOT_CONTENT),
                  key=lambda r: (r.group, r.kind))


def _cluster_made(ref: ObjectRef, services: set[str]) -> bool:
    """What the cluster itself puts in a namespace: its defaults, a Service's Endpoints."""
    if (ref.group, ref.kind, ref.name) in _EVERY_NAMESPACE:
        return True
    return (ref.group, ref.kind) == ("", "Endpoints") and ref.name in services


def _channel_of(obj: Obj) -> object:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL_CHANNEL)


def _owned(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("ownerReferences"))
