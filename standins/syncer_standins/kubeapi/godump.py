"""Go values as some kube-apiserver messages embed them: an internal struct marshalled to JSON.

A Job's pod template may not change; kube says so with the whole new template, converted to
its *internal* Go type (`core.PodTemplateSpec`) and marshalled as is: struct fields carry no
JSON tags there, so they appear under their Go names, every one of them, zero values
included (`"Volumes":null,"InitContainers":null,...`), except the embedded object metadata,
whose tags drop what is empty. `pod_template` builds that text from a `v1` template.

Covered: PodSpec, Container, ResourceRequirements and PodSecurityContext, field for field as
kube-apiserver v1.36 prints them (`hostNetwork` and its kin move into the security context,
as the conversion to the internal type does). Structs below those (ports, env, probes...) are
printed with their JSON fields capitalised, and without their unset fields: a simplification.
"""

from __future__ import annotations

import json
from typing import Any

from syncer_standins.kubeapi.objects import Obj, ordered_meta

__all__ = ["go_json", "pod_template"]

# Go field: "Name" (JSON name: first letter lowered) or "Name:jsonName"; then "=" and how an
# unset field prints: n null, s "", b false, m a map (as is), or a struct of this table.
_STRUCTS: dict[str, str] = {
    "PodSpec": (
        "Volumes=n InitContainers=[Container] Containers=[Container] EphemeralContainers=n "
        "RestartPolicy=s TerminationGracePeriodSeconds=n ActiveDeadlineSeconds=n "
        "DNSPolicy:dnsPolicy=s NodeSelector=m ServiceAccountName=s "
        "AutomountServiceAccountToken=n NodeName=s SecurityContext=*PodSecurityContext "
        "ImagePullSecrets=n Hostname=s Subdomain=s SetHostnameAsFQDN:setHostnameAsFQDN=n "
        "Affinity=n SchedulerName=s Tolerations=n HostAliases=n PriorityClassName=s Priority=n "
        "PreemptionPolicy=n DNSConfig:dnsConfig=n ReadinessGates=n RuntimeClassName=n "
        "Overhead=m EnableServiceLinks=n TopologySpreadConstraints=n OS:os=n SchedulingGates=n "
        "ResourceClaims=n Resources=n HostnameOverride=n SchedulingGroup=n"),
    "Container": (
        "Name=s Image=s Command=n Args=n WorkingDir=s Ports=n EnvFrom=n Env=n "
        "Resources=ResourceRequirements ResizePolicy=n RestartPolicy=n RestartPolicyRules=n "
        "VolumeMounts=n VolumeDevices=n LivenessProbe=n ReadinessProbe=n StartupProbe=n "
        "Lifecycle=n TerminationMessagePath=s TerminationMessagePolicy=s ImagePullPolicy=s "
        "SecurityContext=n Stdin=b StdinOnce=b TTY:tty=b"),
    "ResourceRequirements": "Limits=m Requests=m Claims=n",
    "PodSecurityContext": (
        "HostNetwork=b HostPID:hostPID=b HostIPC:hostIPC=b ShareProcessNamespace=n HostUsers=n "
        "SELinuxOptions:seLinuxOptions=n WindowsOptions=n RunAsUser=n RunAsGroup=n "
        "RunAsNonRoot=n SupplementalGroups=n SupplementalGroupsPolicy=n FSGroup:fsGroup=n "
        "FSGroupChangePolicy:fsGroupChangePolicy=n Sysctls=n SeccompProfile=n AppArmorProfile=n "
        "SELinuxChangePolicy:seLinuxChangePolicy=n"),
}
_ZEROS: dict[str, Any] = {"n": None, "s": "", "b": False, "m": None}
# v1 PodSpec fields that the internal type keeps in its security context.
_HOST_FIELDS = ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace", "hostUsers")


def _fields(struct: str) -> list[tuple[str, str, str]]:
    """(Go name, JSON name, kind) of each field of a struct of the table."""
    fields = []
    for item in _STRUCTS[struct].split():
        names, _, kind = item.partition("=")
        go_name, _, json_name = names.partition(":")
        fields.append((go_name, json_name or go_name[0].lower() + go_name[1:], kind))
    return fields


def _capitalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: _capitalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_capitalised(item) for item in value]
    return value


def _value(value: Any, kind: str) -> Any:
    if kind.startswith("*"):
        return None if value is None else _struct(value, kind[1:])
    if kind in _STRUCTS:
        return _struct(value, kind)
    if value is None:
        return _ZEROS.get(kind)
    if kind.startswith("["):
        return [_struct(item, kind[1:-1]) for item in value]
    return value if kind in ("s", "b", "m") else _capitalised(value)


def _struct(obj: Obj | None, struct: str) -> Obj:
    found = obj or {}
    return {go_name: _value(found.get(json_name), kind)
            for go_name, json_name, kind in _fields(struct)}


def go_json(value: Any) -> str:
    """JSON as Go's encoder writes it: compact, with <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def pod_template(template: Obj) -> str:
    """A v1 pod template as Go prints the internal `core.PodTemplateSpec`."""
    spec = dict(template.get("spec") or {})
    security = dict(spec.get("securityContext") or {})
    for name in _HOST_FIELDS:
        if name in spec:
            security[name] = spec.pop(name)
    if security or "securityContext" in spec:
        spec["securityContext"] = security
    metadata = {key: value for key, value in ordered_meta(template.get("metadata") or {}).items()
                if value not in (None, "", {}, [])}
    for key in ("labels", "annotations"):
        if key in metadata:
            metadata[key] = dict(sorted(metadata[key].items()))
    return go_json({**metadata, "Spec": _struct(spec, "PodSpec")})
