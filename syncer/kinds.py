"""What can be known of a release without a cluster: the scope of the built-in kinds, the
release's own CRDs, and the names the API server accepts.  [pure]

`syncer publish` uses it to refuse a release that could never sync (two objects that are
one once namespaces are filled in, a namespace on a cluster-scoped object, a name the
server refuses) before anything is stored; the sync checks the same against discovery.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

from syncer.errors import RenderError
from syncer.model import Obj, ObjectRef

__all__ = ["CLUSTER_SCOPED", "check_names", "crd_scopes", "defined_kind", "offline_scope"]

CLUSTER_SCOPED: Final = frozenset({
    ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"), ("", "ComponentStatus"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("storage.k8s.io", "StorageClass"), ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"), ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("scheduling.k8s.io", "PriorityClass"), ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "ResourceSlice"),
})
_CRD: Final = ("apiextensions.k8s.io", "CustomResourceDefinition")
_SEGMENT_FORBIDDEN: Final = re.compile(r"[/%]")
_DNS_LABEL: Final = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_1035: Final = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_SUBDOMAIN: Final = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_LABEL_NAMED: Final = frozenset({("", "Namespace"), ("", "Service")})
_SUBDOMAIN_NAMED: Final = frozenset({
    ("", "ConfigMap"), ("", "Secret"), ("", "ServiceAccount"), ("", "PersistentVolumeClaim"),
    ("", "PersistentVolume"), ("apps", "Deployment"), ("apps", "StatefulSet"),
    ("apps", "DaemonSet"), ("batch", "Job"), ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"), ("autoscaling", "HorizontalPodAutoscaler"),
    ("storage.k8s.io", "StorageClass"), ("scheduling.k8s.io", "PriorityClass"), _CRD,
})


def offline_scope(objects: Iterable[Obj]) -> Callable[[str, str], bool | None]:
    """Whether (group, kind) is namespaced: built-in kinds by the table, the release's own
    CRDs by their `scope`, any other kind taken as namespaced (a CRD installed apart)."""
    own = crd_scopes(objects)

    def scope(group: str, kind: str) -> bool | None:
        if (group, kind) in own:
            return own[(group, kind)]
        return (group, kind) not in CLUSTER_SCOPED

    return scope


def check_names(objects: Iterable[Obj]) -> None:
    """RenderError naming the first object whose name or namespace the server refuses."""
    for obj in objects:
        ref = ObjectRef.of(obj)
        problem = _name_problem(ref) or _namespace_problem(ref.namespace)
        if problem:
            raise RenderError(problem, where=str(ref))


def _name_problem(ref: ObjectRef) -> str:
    name, kind = ref.name, (ref.group, ref.kind)
    if name in (".", "..") or _SEGMENT_FORBIDDEN.search(name) or len(name) > 253:
        return f"metadata.name {name[:80]!r} cannot be a name (no '/', '%', '.' or '..')"
    if kind in _LABEL_NAMED:
        pattern = _DNS_LABEL if kind == ("", "Namespace") else _DNS_1035
        if not pattern.fullmatch(name):
            return (f"metadata.name {name[:80]!r} must be a DNS label: lowercase letters, "
                    "digits and '-', at most 63")
    elif kind in _SUBDOMAIN_NAMED and not _SUBDOMAIN.fullmatch(name):
        return (f"metadata.name {name[:80]!r} must be a DNS subdomain: lowercase letters, "
                "digits, '-' and '.'")
    return ""


def _namespace_problem(namespace: str) -> str:
    if namespace and not _DNS_LABEL.fullmatch(namespace):
        return f"metadata.namespace {namespace[:80]!r} is not a valid namespace name"
    return ""


def crd_scopes(objects: Iterable[Obj]) -> dict[tuple[str, str], bool]:
    """(group, kind) → namespaced, for each kind a CRD among `objects` defines."""
    return {defined_kind(o): (o.get("spec") or {}).get("scope") != "Cluster"
            for o in objects if (ObjectRef.of(o).group, o.get("kind")) == _CRD}


def defined_kind(crd: Obj) -> tuple[str, str]:
    """The (group, kind) a CRD defines."""
    spec = crd.get("spec") or {}
    return str(spec.get("group")), str((spec.get("names") or {}).get("kind"))
