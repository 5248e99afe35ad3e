"""What the server itself sets on a write (kube's registry strategies), never owned by anyone.

* create: `uid`, `creationTimestamp`, `generation: 1` (workloads, Ingress, NetworkPolicy,
  PodDisruptionBudget, CRDs, custom resources), the empty status of kinds with a status
  subresource, Namespace `spec.finalizers: [kubernetes]` and `status.phase: Active`, CRD
  status (`conditions: null`, empty accepted names, stored versions), Service cluster IPs
  (from 10.96.0.0/12, sequential) and node ports (from 30000); a Job's selector and pod
  labels from its uid (`controller-uid`, `job-name`, and their `batch.kubernetes.io/` forms)
  unless `manualSelector`; the storage-protection finalizer of PersistentVolume(Claim)s;
* update: system metadata is kept, `generation` bumps when anything but metadata and status
  changes, status is kept (it changes only through `/status`), allocated Service values stay;
* status subresource writes change only `status` (and annotations, as kube allows for
  Deployments).
"""

from __future__ import annotations

import copy
import itertools
import threading

from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.fieldset import FieldSet
from syncer_standins.kubeapi.objects import Obj, go_encoded, meta, new_uid
from syncer_standins.kubeapi.schema import TypedSchema, allowed_top_level, builtin_schema
from syncer_standins.kubeapi.typed import same

__all__ = [
    "Allocator",
    "ignored_fields",
    "prepare_create",
    "prepare_status_write",
    "prepare_update",
    "zero_object",
]

_GENERATION_KINDS = frozenset({
    "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
    "CronJob", "Ingress", "NetworkPolicy", "PodDisruptionBudget", "CustomResourceDefinition",
    "HorizontalPodAutoscaler", "ValidatingAdmissionPolicy", "MutatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicyBinding",
})
# Finalizers admission adds on create (StorageObjectInUseProtection).
_CREATE_FINALIZERS = {"PersistentVolumeClaim": "kubernetes.io/pvc-protection",
                      "PersistentVolume": "kubernetes.io/pv-protection"}
_EMPTY_STATUS: dict[str, Obj] = {
    "Namespace": {"phase": "Active"},
    "Service": {"loadBalancer": {}},
    "Pod": {"phase": "Pending", "qosClass": "BestEffort"},
    "PersistentVolumeClaim": {"phase": "Pending"},
    "PersistentVolume": {"phase": "Pending"},
    "StatefulSet": {"replicas": 0, "availableReplicas": 0},
    "ReplicaSet": {"replicas": 0},
    "ReplicationController": {"replicas": 0},
    "DaemonSet": {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                  "desiredNumberScheduled": 0, "numberReady": 0},
}
_CRD_NAMES_ZERO = {"plural": "", "kind": ""}
_CRD_ZERO: Obj = {
    "spec": {"group": "", "names": _CRD_NAMES_ZERO, "scope": "", "versions": None},
    "status": {"conditions": None, "acceptedNames": _CRD_NAMES_ZERO, "storedVersions": None},
}
_SYSTEM_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "generation")


class Allocator:
    """Hands out Service cluster IPs and node ports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ips = (f"10.96.{n // 250}.{n % 250 + 1}" for n in itertools.count(9))
        self._ports = itertools.count(30000)

    def ip(self) -> str:
        with self._lock:
            return next(self._ips)

    def node_port(self) -> int:
        with self._lock:
            return next(self._ports)


def _tracks_generation(rtype: ResourceType) -> bool:
    return rtype.custom or rtype.kind in _GENERATION_KINDS


def zero_object(rtype: ResourceType) -> Obj:
    """The empty object a create is compared with: the Go zero struct as kube encodes it
    (`spec: {}`, `status: {}`, `containers: null` in a pod template...)."""
    if rtype.custom:
        return {}
    if rtype.kind == "CustomResourceDefinition":
        return copy.deepcopy(_CRD_ZERO)
    schema = builtin_schema(rtype.kind, rtype.group)
    if isinstance(schema, TypedSchema):
        zero: Obj = go_encoded({}, schema)
        zero.pop("metadata", None)
        return zero
    zero = {"spec": {}} if "spec" in allowed_top_level(rtype.kind) else {}
    return {**zero, "status": {}} if rtype.has_status else zero


def ignored_fields(rtype: ResourceType, obj: Obj, *, subresource: str) -> FieldSet:
    """Fields a write through this endpoint may not set, hence never owns."""
    if subresource == "status":
        ignored = FieldSet.of(*(("f:" + key,) for key in obj
                                if key not in ("apiVersion", "kind", "metadata", "status")))
        for key in obj.get("metadata") or {}:
            if key != "annotations":
                ignored.insert(("f:metadata", "f:" + key))
        return ignored
    return FieldSet.of(("f:status",)) if rtype.has_status else FieldSet()


def _status_for_create(obj: Obj, rtype: ResourceType) -> None:
    if rtype.kind == "CustomResourceDefinition" and not rtype.custom:
        versions = (obj.get("spec") or {}).get("versions") or []
        stored = [v.get("name") for v in versions if v.get("storage")]
        obj["status"] = {"conditions": None, "acceptedNames": {"plural": "", "kind": ""},
                         "storedVersions": stored}
    elif rtype.custom and rtype.has_status:
        obj.pop("status", None)
    elif rtype.has_status:
        obj["status"] = copy.deepcopy(_EMPTY_STATUS.get(rtype.kind, {}))


def _allocate(spec: Obj, *, allocator: Allocator, old: Obj | None) -> None:
    old_spec = (old or {}).get("spec") or {}
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if key not in spec and key in old_spec:
            spec[key] = old_spec[key]
    if spec.get("type") == "ExternalName":
        return
    if "clusterIP" not in spec:
        spec["clusterIP"] = allocator.ip()
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    old_ports = {p.get("port"): p.get("nodePort") for p in old_spec.get("ports") or []}
    for port in spec.get("ports") or [] if spec.get("type") in ("NodePort", "LoadBalancer") else []:
        if "nodePort" not in port:
            port["nodePort"] = old_ports.get(port.get("port")) or allocator.node_port()


def prepare_create(obj: Obj, rtype: ResourceType, *, now: str, allocator: Allocator) -> None:
    metadata = meta(obj)
    for key in ("resourceVersion", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"):
        metadata.pop(key, None)
    metadata["uid"] = new_uid()
    metadata["creationTimestamp"] = now
    metadata.pop("generation", None)
    if _tracks_generation(rtype):
        metadata["generation"] = 1
    if not rtype.namespaced:
        metadata.pop("namespace", None)
    _status_for_create(obj, rtype)
    if not rtype.custom:
        _kind_specific_create(obj, rtype.kind, allocator=allocator)


def _kind_specific_create(obj: Obj, kind: str, *, allocator: Allocator) -> None:
    if kind == "Namespace":
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    if kind == "Service":
        _allocate(obj.setdefault("spec", {}), allocator=allocator, old=None)
    if kind == "Job":
        _job_selector(obj)
    finalizers = meta(obj).get("finalizers") or []
    if kind in _CREATE_FINALIZERS and _CREATE_FINALIZERS[kind] not in finalizers:
        meta(obj)["finalizers"] = [*finalizers, _CREATE_FINALIZERS[kind]]


def _job_selector(job: Obj) -> None:
    """A Job without `manualSelector` selects its pods by its uid, and labels them so."""
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector"):
        return
    metadata = meta(job)
    uid, name = str(metadata["uid"]), str(metadata.get("name", ""))
    labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
              "controller-uid": uid, "job-name": name}
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    spec["manualSelector"] = False
    template = meta(spec.setdefault("template", {}))
    template["labels"] = {**(template.get("labels") or {}), **labels}
    if not metadata.get("labels"):
        metadata["labels"] = dict(template["labels"])


def _content(obj: Obj) -> Obj:
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


def prepare_update(old: Obj, obj: Obj, *, rtype: ResourceType, allocator: Allocator) -> None:
    metadata, old_meta = meta(obj), old.get("metadata") or {}
    metadata.pop("resourceVersion", None)
    for key in _SYSTEM_META:
        metadata.pop(key, None)
        if key in old_meta:
            metadata[key] = old_meta[key]
    if _tracks_generation(rtype) and not same(_content(old), _content(obj)):
        metadata["generation"] = int(old_meta.get("generation", 0)) + 1
    if rtype.has_status:
        obj.pop("status", None)
        if "status" in old:
            obj["status"] = copy.deepcopy(old["status"])
    if rtype.kind == "Namespace" and not rtype.custom:
        obj.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
    if rtype.kind == "Service" and not rtype.custom:
        _allocate(obj.setdefault("spec", {}), allocator=allocator, old=old)


def prepare_status_write(old: Obj, obj: Obj) -> Obj:
    """The object a /status write leaves: old, with obj's status and annotations."""
    result = copy.deepcopy(old)
    result.pop("status", None)
    if "status" in obj:
        result["status"] = copy.deepcopy(obj["status"])
    annotations = (obj.get("metadata") or {}).get("annotations")
    meta(result).pop("annotations", None)
    if annotations is not None:
        meta(result)["annotations"] = copy.deepcopy(annotations)
    return result
