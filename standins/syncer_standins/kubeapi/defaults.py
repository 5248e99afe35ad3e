"""Defaults kube-apiserver fills in when it decodes an object (`SetDefaults_*`).

Covered: Deployment (exactly as kube-apiserver v1.36 fills it in), StatefulSet, DaemonSet,
ReplicaSet, Job, CronJob, the pod template of all of them and Pods (restart policy, grace
period, DNS policy, scheduler, empty security context; per container resources, termination message,
image pull policy, port protocol, probe timings; volume default modes), Service (type,
session affinity, port protocol and target port), Namespace (the `kubernetes.io/metadata.name`
label), Secret (type, `stringData` folded into `data`), PersistentVolumeClaim (volume mode),
NetworkPolicy (policy types, port protocol), RBAC subjects (apiGroup), ValidatingAdmissionPolicy
and its bindings (match selectors, rule scope, match policy, failure policy) and
CustomResourceDefinition (names, conversion). Defaults that need the object's uid (a Job's
selector and labels) are set with it, in `strategy`. Everything else is stored as sent.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

__all__ = ["apply_defaults"]

Obj = dict[str, Any]

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                   "failureThreshold": 3}
_MODE_VOLUMES = ("configMap", "secret", "downwardAPI", "projected")


def _dict(parent: Obj, name: str) -> Obj:
    value = parent.get(name)
    if not isinstance(value, dict):
        value = parent[name] = {}
    return value


def _items(parent: Any, name: str) -> list[Obj]:
    value = parent.get(name) if isinstance(parent, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _pull_policy(image: str) -> str:
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _ports(items: list[Obj]) -> None:
    for port in items:
        port.setdefault("protocol", "TCP")


def _probe(probe: Obj) -> None:
    for name, value in _PROBE_DEFAULTS.items():
        probe.setdefault(name, value)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("scheme", "HTTP")


def _container(container: Obj) -> None:
    _ports(_items(container, "ports"))
    for env in _items(container, "env"):
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")
    for name in _PROBES:
        if isinstance(container.get(name), dict):
            _probe(container[name])
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _pull_policy(str(container.get("image", ""))))


def _volume(volume: Obj) -> None:
    for name in _MODE_VOLUMES:
        source = volume.get(name)
        if isinstance(source, dict):
            source.setdefault("defaultMode", 420)


def pod_spec(spec: Obj) -> None:
    for name in ("initContainers", "containers"):
        for container in _items(spec, name):
            _container(container)
    for volume in _items(spec, "volumes"):
        _volume(volume)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def _template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        pod_spec(_dict(template, "spec"))


def _deployment(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    _template(spec)
    strategy = _dict(spec, "strategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)


def _statefulset(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    _template(spec)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = _dict(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _dict(strategy, "rollingUpdate").setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    policy = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    policy.setdefault("whenDeleted", "Retain")
    policy.setdefault("whenScaled", "Retain")


def _daemonset(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _template(spec)
    strategy = _dict(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)


def _replicaset(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    _template(spec)


def _job_spec(spec: Obj) -> None:
    if "parallelism" not in spec and "completions" not in spec:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template(spec)


def _cronjob(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job = spec.get("jobTemplate")
    if isinstance(job, dict):
        _template(_dict(job, "spec"))


def _pod(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)


def _service(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in _items(spec, "ports"):
        port.setdefault("protocol", "TCP")
        if "port" in port:
            port.setdefault("targetPort", port["port"])
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")


def _namespace(obj: Obj) -> None:
    name = (obj.get("metadata") or {}).get("name")
    if name:
        _dict(_dict(obj, "metadata"), "labels")["kubernetes.io/metadata.name"] = name


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _dict(obj, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def _claim(obj: Obj) -> None:
    _dict(obj, "spec").setdefault("volumeMode", "Filesystem")


def _network_policy(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", *(["Egress"] if spec.get("egress") else [])]
    for direction in ("ingress", "egress"):
        for rule in _items(spec, direction):
            _ports(_items(rule, "ports"))


def _binding(obj: Obj) -> None:
    for subject in _items(obj, "subjects"):
        if subject.get("kind") in ("User", "Group"):
            subject.setdefault("apiGroup", "rbac.authorization.k8s.io")


def _match_resources(match: Obj) -> None:
    match.setdefault("namespaceSelector", {})
    match.setdefault("objectSelector", {})
    for name in ("resourceRules", "excludeResourceRules"):
        for rule in _items(match, name):
            rule.setdefault("scope", "*")
    match.setdefault("matchPolicy", "Equivalent")


def _admission_policy(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("failurePolicy", "Fail")
    if isinstance(spec.get("matchConstraints"), dict):
        _match_resources(spec["matchConstraints"])


def _policy_binding(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    if isinstance(spec.get("matchResources"), dict):
        _match_resources(spec["matchResources"])


def _crd(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    names = _dict(spec, "names")
    kind = names.get("kind")
    if kind:
        names.setdefault("singular", str(kind).lower())
        names.setdefault("listKind", f"{kind}List")
    _dict(spec, "conversion").setdefault("strategy", "None")


_DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "Deployment": _deployment,
    "StatefulSet": _statefulset,
    "DaemonSet": _daemonset,
    "ReplicaSet": _replicaset,
    "Job": lambda obj: _job_spec(_dict(obj, "spec")),
    "CronJob": _cronjob,
    "Pod": _pod,
    "PodTemplate": _template,
    "ReplicationController": _replicaset,
    "Service": _service,
    "Namespace": _namespace,
    "Secret": _secret,
    "PersistentVolumeClaim": _claim,
    "NetworkPolicy": _network_policy,
    "RoleBinding": _binding,
    "ClusterRoleBinding": _binding,
    "CustomResourceDefinition": _crd,
    "ValidatingAdmissionPolicy": _admission_policy,
    "ValidatingAdmissionPolicyBinding": _policy_binding,
}


def apply_defaults(obj: Obj, kind: str, *, custom: bool = False) -> Obj:
    """Fill in the server defaults of a built-in kind, in place; returns obj."""
    defaulter = None if custom else _DEFAULTERS.get(kind)
    if defaulter is not None:
        defaulter(obj)
    return obj
