"""Which fields of the built-in kinds are resource quantities, and their values.  [pure]

kube-apiserver decodes a `resource.Quantity` into a number and writes it back in canonical
form: `cpu: 0.5` comes back as `500m`, `memory: 1024Mi` as `1Gi`, `sizeLimit: 1000000` as `1M`.
Comparing such a field as text would see drift on every sync, so `diff` compares it by value,
but only where the kind's schema says the field is a quantity: a ConfigMap value `1Gi` or a
custom resource's field is stored as sent and compared as text.

`STRUCTS` is the part of the Go types of k8s.io/api v1.36 that leads to a quantity: for each
struct, its fields that are or hold one, written `q` (a quantity), `{T}` (a map of T), `[T]`
(a list of T) or a struct name. `ROOTS` maps a kind to its root struct. The tests check this
table against the full table of Go types the Kubernetes stand-in decodes with, so that it
cannot miss a field that table knows; RuntimeClass and CSIStorageCapacity are added here.

Other fields the server rewrites, and why they need nothing here:

- `metav1.Time` loses its fraction of a second: manifests do not set times.
- A Secret's `stringData` is folded into `data`: `diff` does that for both sides.
- Quantities in custom resources are not decoded by the server: stored as sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

__all__ = ["QUANTITY", "ROOTS", "STRUCTS", "child", "item", "root", "same", "value"]

QUANTITY: Final = "q"
_POD_TEMPLATE: Final = {"template": "PodTemplateSpec"}
_RESOURCES: Final = {"limits": "{q}", "requests": "{q}"}
_METRIC_SOURCE: Final = {"target": "MetricTarget"}
_METRIC_STATUS: Final = {"current": "MetricValueStatus"}

STRUCTS: Final[Mapping[str, Mapping[str, str]]] = {
    # core/v1
    "Pod": {"spec": "PodSpec", "status": "PodStatus"},
    "PodTemplate": _POD_TEMPLATE,
    "PodTemplateSpec": {"spec": "PodSpec"},
    "PodSpec": {"volumes": "[Volume]", "initContainers": "[Container]",
                "containers": "[Container]", "ephemeralContainers": "[Container]",
                "overhead": "{q}", "resources": "ResourceRequirements"},
    "Container": {"env": "[EnvVar]", "resources": "ResourceRequirements"},
    "EnvVar": {"valueFrom": "EnvVarSource"},
    "EnvVarSource": {"resourceFieldRef": "ResourceFieldSelector"},
    "ResourceFieldSelector": {"divisor": "q"},
    "ResourceRequirements": _RESOURCES,
    "Volume": {"emptyDir": "EmptyDirVolumeSource", "downwardAPI": "DownwardAPIVolumeSource",
               "projected": "ProjectedVolumeSource", "ephemeral": "EphemeralVolumeSource"},
    "EmptyDirVolumeSource": {"sizeLimit": "q"},
    "DownwardAPIVolumeSource": {"items": "[DownwardAPIVolumeFile]"},
    "DownwardAPIVolumeFile": {"resourceFieldRef": "ResourceFieldSelector"},
    "ProjectedVolumeSource": {"sources": "[VolumeProjection]"},
    "VolumeProjection": {"downwardAPI": "DownwardAPIVolumeSource"},
    "EphemeralVolumeSource": {"volumeClaimTemplate": "PersistentVolumeClaimTemplate"},
    "PersistentVolumeClaimTemplate": {"spec": "PersistentVolumeClaimSpec"},
    "PodStatus": {"initContainerStatuses": "[ContainerStatus]",
                  "containerStatuses": "[ContainerStatus]",
                  "ephemeralContainerStatuses": "[ContainerStatus]",
                  "allocatedResources": "{q}", "resources": "ResourceRequirements",
                  "nodeAllocatableResourceClaimStatuses":
                      "[NodeAllocatableResourceClaimStatus]"},
    "ContainerStatus": {"allocatedResources": "{q}", "resources": "ResourceRequirements"},
    "NodeAllocatableResourceClaimStatus": {"mapping": "[NodeAllocatableMappedResources]",
                                           "overhead": "[NodeAllocatableOverheadResources]"},
    "NodeAllocatableMappedResources": {"quantity": "q"},
    "NodeAllocatableOverheadResources": {"perPod": "q", "perContainer": "q"},
    "PersistentVolumeClaim": {"spec": "PersistentVolumeClaimSpec",
                              "status": "PersistentVolumeClaimStatus"},
    "PersistentVolumeClaimSpec": {"resources": "VolumeResourceRequirements"},
    "VolumeResourceRequirements": _RESOURCES,
    "PersistentVolumeClaimStatus": {"capacity": "{q}", "allocatedResources": "{q}"},
    "PersistentVolume": {"spec": "PersistentVolumeSpec"},
    "PersistentVolumeSpec": {"capacity": "{q}"},
    "LimitRange": {"spec": "LimitRangeSpec"},
    "LimitRangeSpec": {"limits": "[LimitRangeItem]"},
    "LimitRangeItem": {"max": "{q}", "min": "{q}", "default": "{q}", "defaultRequest": "{q}",
                       "maxLimitRequestRatio": "{q}"},
    "ResourceQuota": {"spec": "ResourceQuotaSpec", "status": "ResourceQuotaStatus"},
    "ResourceQuotaSpec": {"hard": "{q}"},
    "ResourceQuotaStatus": {"hard": "{q}", "used": "{q}"},
    "ReplicationController": {"spec": "WorkloadSpec"},
    # apps/v1, batch/v1: every workload's spec holds a pod template
    "Deployment": {"spec": "WorkloadSpec"},
    "DaemonSet": {"spec": "WorkloadSpec"},
    "ReplicaSet": {"spec": "WorkloadSpec"},
    "Job": {"spec": "WorkloadSpec"},
    "WorkloadSpec": _POD_TEMPLATE,
    "StatefulSet": {"spec": "StatefulSetSpec"},
    "StatefulSetSpec": {**_POD_TEMPLATE, "volumeClaimTemplates": "[PersistentVolumeClaim]"},
    "CronJob": {"spec": "CronJobSpec"},
    "CronJobSpec": {"jobTemplate": "JobTemplateSpec"},
    "JobTemplateSpec": {"spec": "WorkloadSpec"},
    # autoscaling/v2
    "HorizontalPodAutoscaler": {"spec": "HorizontalPodAutoscalerSpec",
                                "status": "HorizontalPodAutoscalerStatus"},
    "HorizontalPodAutoscalerSpec": {"metrics": "[MetricSpec]",
                                    "behavior": "HorizontalPodAutoscalerBehavior"},
    "MetricSpec": {"object": "MetricSource", "pods": "MetricSource", "resource": "MetricSource",
                   "containerResource": "MetricSource", "external": "MetricSource"},
    "MetricSource": _METRIC_SOURCE,
    "MetricTarget": {"value": "q", "averageValue": "q"},
    "HorizontalPodAutoscalerBehavior": {"scaleUp": "HPAScalingRules",
                                        "scaleDown": "HPAScalingRules"},
    "HPAScalingRules": {"tolerance": "q"},
    "HorizontalPodAutoscalerStatus": {"currentMetrics": "[MetricStatus]"},
    "MetricStatus": {"object": "MetricStatusSource", "pods": "MetricStatusSource",
                     "resource": "MetricStatusSource", "containerResource": "MetricStatusSource",
                     "external": "MetricStatusSource"},
    "MetricStatusSource": _METRIC_STATUS,
    "MetricValueStatus": {"value": "q", "averageValue": "q"},
    # node.k8s.io/v1, storage.k8s.io/v1
    "RuntimeClass": {"overhead": "Overhead"},
    "Overhead": {"podFixed": "{q}"},
    "CSIStorageCapacity": {"capacity": "q", "maximumVolumeSize": "q"},
}

ROOTS: Final[Mapping[tuple[str, str], str]] = {
    ("", "Pod"): "Pod",
    ("", "PodTemplate"): "PodTemplate",
    ("", "PersistentVolumeClaim"): "PersistentVolumeClaim",
    ("", "PersistentVolume"): "PersistentVolume",
    ("", "LimitRange"): "LimitRange",
    ("", "ResourceQuota"): "ResourceQuota",
    ("", "ReplicationController"): "ReplicationController",
    ("apps", "Deployment"): "Deployment",
    ("apps", "StatefulSet"): "StatefulSet",
    ("apps", "DaemonSet"): "DaemonSet",
    ("apps", "ReplicaSet"): "ReplicaSet",
    ("batch", "Job"): "Job",
    ("batch", "CronJob"): "CronJob",
    ("autoscaling", "HorizontalPodAutoscaler"): "HorizontalPodAutoscaler",
    ("node.k8s.io", "RuntimeClass"): "RuntimeClass",
    ("storage.k8s.io", "CSIStorageCapacity"): "CSIStorageCapacity",
}
"""The kinds that hold a quantity somewhere, by (group, kind)."""

_NANO: Final = Decimal("1e9")


def root(group: str, kind: str) -> str | None:
    """The type of a kind's object, or None when no field of it is a quantity."""
    return ROOTS.get((group, kind))


def child(node: str | None, name: str) -> str | None:
    """The type of field (or map key) `name` under a value of type `node`."""
    if node is None:
        return None
    if node.startswith("{"):
        return node[1:-1]
    fields = STRUCTS.get(node)
    return fields.get(name) if fields else None


def item(node: str | None) -> str | None:
    """The type of the items of a list of type `node`."""
    return node[1:-1] if node is not None and node.startswith("[") else None


def value(text: object) -> Decimal | None:
    """The value of a quantity as the server keeps it, or None if `text` is not one.

    Parsed by the official client's `parse_quantity`; a float goes through its shortest text
    (`0.1` is `100m`, not the binary fraction), and the result is rounded up to a whole
    nano-unit as the server does (`1.5n` is `2n`).
    """
    if not _plausible(text):
        return None
    # imported here: importing the client package takes about 0.3 s, and a drift check that
    # finds the same text on both sides (nearly every one) never parses
    from kubernetes.utils.quantity import parse_quantity  # noqa: PLC0415

    try:
        parsed: Decimal = parse_quantity(str(text) if isinstance(text, float) else text)
        if not parsed.is_finite():
            return None
        return (parsed * _NANO).to_integral_value(rounding="ROUND_CEILING") / _NANO
    except (ValueError, ArithmeticError):  # InvalidOperation and Overflow are both
        return None


def _plausible(text: object) -> bool:
    """A number, or a short string without surrounding blanks."""
    if isinstance(text, bool):
        return False
    if isinstance(text, float):
        return math.isfinite(text)
    if isinstance(text, str):
        return bool(text) and text == text.strip() and len(text) <= 64
    return isinstance(text, int)


def same(want: object, have: object) -> bool:
    """Whether two quantities have the same value (False if either is not a quantity)."""
    a = value(want)
    return a is not None and a == value(have)
