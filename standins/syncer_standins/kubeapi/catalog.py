"""The built-in resource types kube-apiserver v1.36 serves, as its discovery documents list them.

The table below reproduces, group by group and in the server's order, the resources of the
discovery answers of kube-apiserver v1.36: Kind, plural, scope (`+` namespaced, `-`
cluster), verbs (`*` = all eight, `*-dc` = all but deletecollection), short names, categories
and subresources. Every type listed is stored generically (create/get/list/update/patch/
apply/delete/watch); none runs a workload.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from syncer_standins.kubeapi.errors import Resource

__all__ = [
    "BUILTIN_TYPES",
    "GROUP_ORDER",
    "ResourceType",
    "Subresource",
    "storage_version_hash",
]

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_GPU = ("get", "patch", "update")

# A line per group version, then one per resource (a line starting with 8 spaces continues).
_TABLE = """
v1
    Binding bindings + create
    ComponentStatus componentstatuses - get,list short=cs
    ConfigMap configmaps + * short=cm
    Endpoints endpoints + * short=ep
    Event events + * short=ev
    LimitRange limitranges + * short=limits
    Namespace namespaces - *-dc short=ns sub=finalize,status
    Node nodes - * short=no sub=proxy,status
    PersistentVolumeClaim persistentvolumeclaims + * short=pvc sub=status
    PersistentVolume persistentvolumes - * short=pv sub=status
    Pod pods + * short=po cat=all sub=attach,binding,ephemeralcontainers,eviction,
        exec,log,portforward,proxy,resize,status
    PodTemplate podtemplates + *
    ReplicationController replicationcontrollers + * short=rc cat=all sub=scale,status
    ResourceQuota resourcequotas + * short=quota sub=status
    Secret secrets + *
    ServiceAccount serviceaccounts + * short=sa sub=token
    Service services + * short=svc cat=all sub=proxy,status
apiregistration.k8s.io/v1
    APIService apiservices - * cat=api-extensions sub=status
apps/v1
    ControllerRevision controllerrevisions + *
    DaemonSet daemonsets + * short=ds cat=all sub=status
    Deployment deployments + * short=deploy cat=all sub=scale,status
    ReplicaSet replicasets + * short=rs cat=all sub=scale,status
    StatefulSet statefulsets + * short=sts cat=all sub=scale,status
events.k8s.io/v1
    Event events + * short=ev
authentication.k8s.io/v1
    SelfSubjectReview selfsubjectreviews - create
    TokenReview tokenreviews - create
authorization.k8s.io/v1
    LocalSubjectAccessReview localsubjectaccessreviews + create
    SelfSubjectAccessReview selfsubjectaccessreviews - create
    SelfSubjectRulesReview selfsubjectrulesreviews - create
    SubjectAccessReview subjectaccessreviews - create
autoscaling/v2
    HorizontalPodAutoscaler horizontalpodautoscalers + * short=hpa cat=all sub=status
autoscaling/v1
    HorizontalPodAutoscaler horizontalpodautoscalers + * short=hpa cat=all sub=status
batch/v1
    CronJob cronjobs + * short=cj cat=all sub=status
    Job jobs + * cat=all sub=status
certificates.k8s.io/v1
    CertificateSigningRequest certificatesigningrequests - * short=csr sub=approval,status
networking.k8s.io/v1
    IngressClass ingressclasses - *
    Ingress ingresses + * short=ing sub=status
    IPAddress ipaddresses - * short=ip
    NetworkPolicy networkpolicies + * short=netpol
    ServiceCIDR servicecidrs - * sub=status
policy/v1
    PodDisruptionBudget poddisruptionbudgets + * short=pdb sub=status
rbac.authorization.k8s.io/v1
    ClusterRoleBinding clusterrolebindings - *
    ClusterRole clusterroles - *
    RoleBinding rolebindings + *
    Role roles + *
storage.k8s.io/v1
    CSIDriver csidrivers - *
    CSINode csinodes - *
    CSIStorageCapacity csistoragecapacities + *
    StorageClass storageclasses - * short=sc
    VolumeAttachment volumeattachments - * sub=status
    VolumeAttributesClass volumeattributesclasses - * short=vac
admissionregistration.k8s.io/v1
    MutatingAdmissionPolicy mutatingadmissionpolicies - * cat=api-extensions
    MutatingAdmissionPolicyBinding mutatingadmissionpolicybindings - * cat=api-extensions
    MutatingWebhookConfiguration mutatingwebhookconfigurations - * cat=api-extensions
    ValidatingAdmissionPolicy validatingadmissionpolicies - * cat=api-extensions sub=status
    ValidatingAdmissionPolicyBinding validatingadmissionpolicybindings - * cat=api-extensions
    ValidatingWebhookConfiguration validatingwebhookconfigurations - * cat=api-extensions
apiextensions.k8s.io/v1
    CustomResourceDefinition customresourcedefinitions - * short=crd,crds cat=api-extensions
        sub=status
scheduling.k8s.io/v1
    PriorityClass priorityclasses - * short=pc
coordination.k8s.io/v1
    Lease leases + *
node.k8s.io/v1
    RuntimeClass runtimeclasses - *
discovery.k8s.io/v1
    EndpointSlice endpointslices + *
resource.k8s.io/v1
    DeviceClass deviceclasses - *
    ResourceClaim resourceclaims + * sub=status
    ResourceClaimTemplate resourceclaimtemplates + *
    ResourceSlice resourceslices - *
flowcontrol.apiserver.k8s.io/v1
    FlowSchema flowschemas - * sub=status
    PriorityLevelConfiguration prioritylevelconfigurations - * sub=status
"""

# Subresources: name -> (Kind, group, version, verbs); "{kind}" is the parent's Kind.
_SUBRESOURCES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "status": ("{kind}", "", "", _GPU),
    "scale": ("Scale", "autoscaling", "v1", _GPU),
    "finalize": ("{kind}", "", "", ("update",)),
    "approval": ("{kind}", "", "", _GPU),
    "proxy": ("{kind}ProxyOptions", "", "", ("create", "delete", "get", "patch", "update")),
    "attach": ("{kind}AttachOptions", "", "", ("create", "get")),
    "exec": ("{kind}ExecOptions", "", "", ("create", "get")),
    "portforward": ("{kind}PortForwardOptions", "", "", ("create", "get")),
    "binding": ("Binding", "", "", ("create",)),
    "ephemeralcontainers": ("{kind}", "", "", _GPU),
    "resize": ("{kind}", "", "", _GPU),
    "log": ("{kind}", "", "", ("get",)),
    "eviction": ("Eviction", "policy", "v1", ("create",)),
    "token": ("TokenRequest", "authentication.k8s.io", "v1", ("create",)),
}

# Where a resource's storage version differs from the version it is served at.
_STORAGE_VERSION = {
    ("events.k8s.io", "v1"): ("", "v1"),
    ("autoscaling", "v1"): ("autoscaling", "v2"),
}


def storage_version_hash(group: str, version: str, *, kind: str) -> str:
    """kube's `discovery.StorageVersionHash`: base64 of the first 8 bytes of SHA-256(g/v/kind)."""
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    group: str
    version: str
    verbs: tuple[str, ...]


@dataclass(frozen=True)
class ResourceType:
    """One served resource at one group version (built-in, or custom from a CRD)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = _ALL_VERBS
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    custom: bool = False
    list_kind: str = ""
    storage_hash: str = ""
    crd_version: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> Resource:
        return Resource(self.plural, self.group, self.kind)

    @property
    def has_status(self) -> bool:
        return any(sub.name == "status" for sub in self.subresources)

    @property
    def stored_key(self) -> tuple[str, str]:
        """Objects are stored per (group, plural), whatever version served them."""
        return self.group, self.plural

    def subresource(self, name: str) -> Subresource | None:
        return next((sub for sub in self.subresources if sub.name == name), None)


def _subresources(kind: str, names: str) -> tuple[Subresource, ...]:
    result = []
    for name in names.split(",") if names else ():
        sub_kind, group, version, verbs = _SUBRESOURCES[name]
        result.append(Subresource(name, sub_kind.format(kind=kind), group, version, verbs))
    return tuple(result)


def _verbs(code: str) -> tuple[str, ...]:
    if code == "*":
        return _ALL_VERBS
    if code == "*-dc":
        return tuple(verb for verb in _ALL_VERBS if verb != "deletecollection")
    return tuple(code.split(","))


def _resource(group_version: tuple[str, str], line: str) -> ResourceType:
    group, version = group_version
    kind, plural, scope, verbs, *rest = line.split()
    options = dict(item.split("=", 1) for item in rest)
    verb_list = _verbs(verbs)
    storage = _STORAGE_VERSION.get((group, version), (group, version))
    return ResourceType(
        group=group, version=version, plural=plural, kind=kind, namespaced=scope == "+",
        verbs=verb_list, singular=kind.lower(),
        short_names=tuple(filter(None, options.get("short", "").split(","))),
        categories=tuple(filter(None, options.get("cat", "").split(","))),
        subresources=_subresources(kind, options.get("sub", "")),
        list_kind=kind + "List",
        storage_hash=storage_version_hash(*storage, kind=kind) if "watch" in verb_list else "",
    )


def _parse(table: str) -> tuple[tuple[ResourceType, ...], tuple[str, ...]]:
    lines = table.replace("\n        ", " ").replace(", ", ",").strip().splitlines()
    types: list[ResourceType] = []
    groups: list[str] = []
    group = version = ""
    for line in lines:
        if not line.startswith(" "):
            group, _, version = line.strip().rpartition("/")
            groups += [group] if group not in groups else []
            continue
        types.append(_resource((group, version), line))
    return tuple(types), tuple(groups)


BUILTIN_TYPES, GROUP_ORDER = _parse(_TABLE)
