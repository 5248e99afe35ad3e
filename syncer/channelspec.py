"""The `Channel` resource's spec (syncer.io/v1alpha1), read and checked. Pure.

docs/controller.md is the contract; templates/syncer/crd-channels.yaml its schema. `parse`
turns a Channel object into a `ChannelSpec`, refusing a bad field in one `ConfigError`
naming `Channel/<ns>/<name>` and the field (`spec.resync: ...`). Durations are Go-style
(`90s`, `5m`, `1h30m`, `250ms`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from syncer.cluster import Discovery, Resource
from syncer.config import check_channel_name
from syncer.errors import ClusterError, ConfigError, cut
from syncer.notify import targets
from syncer.tenancy import Lane

__all__ = [
    "ANNOTATION_RECONCILE",
    "API_VERSION",
    "CLI_MANAGER",
    "CONTROLLER_MANAGER",
    "GROUP",
    "KIND",
    "MAX_MESSAGE",
    "MAX_UNHEALTHY",
    "ChannelSpec",
    "channel_resource",
    "kept",
    "one_line",
    "parse",
    "parse_duration",
]

GROUP: Final = "syncer.io"
KIND: Final = "Channel"
API_VERSION: Final = "syncer.io/v1alpha1"
CONTROLLER_MANAGER: Final = "syncer-controller"
CLI_MANAGER: Final = "syncer-cli"
ANNOTATION_RECONCILE: Final = "syncer.io/reconcile-requested-at"
MAX_MESSAGE: Final = 1024
MAX_UNHEALTHY: Final = 50

# --- durations ------------------------------------------------------------------------------

_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_MAX_DURATION_TEXT = 32
_MAX_DURATION_S = 366 * 86400.0


def parse_duration(text: object, *, where: str = "duration") -> float:
    """Seconds of a Go-style duration (`90s`, `5m`, `1h30m`, `250ms`); at most 32
    characters and a year, else a ConfigError."""
    if not isinstance(text, str) or len(text) > _MAX_DURATION_TEXT or \
            not _DURATION.fullmatch(text):
        shown = cut(repr(text), 40)
        raise ConfigError(f"{shown} is not a duration such as 90s, 5m, 1h30m or 250ms",
                          where=where)
    seconds = sum(float(n) * _UNIT_S[unit] for n, unit in _DURATION_PART.findall(text))
    if seconds > _MAX_DURATION_S:
        raise ConfigError(f"{text!r} is a duration longer than a year", where=where)
    return seconds


# --- the spec -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChannelSpec:
    """One Channel as the controller follows it. `allowed_*` None: no limit; `notify` holds
    (url, format) pairs; `status` is the status read with it (read-only)."""

    name: str
    namespace: str
    channel: str
    profile: str = "local"
    suspend: bool = False
    interval_s: float = 30.0
    resync_s: float = 300.0
    service_account: str | None = None
    allowed_namespaces: tuple[str, ...] | None = None
    allowed_kinds: tuple[str, ...] | None = None
    notify: tuple[tuple[str, str], ...] = ()
    history_limit: int = 10
    decryption_secret: str | None = None  # spec.decryption.secretRef.name (`agekeys`)
    generation: int = 0
    reconcile_requested: str = ""
    last_handled: str = ""
    uid: str = ""
    resource_version: str = ""
    status: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> str:
        return f"{KIND}/{self.namespace}/{self.name}"

    @property
    def lane(self) -> Lane:
        """The namespaces and kinds its releases may write (`syncer.tenancy`)."""
        return Lane(_frozen(self.allowed_namespaces), _frozen(self.allowed_kinds))

    @property
    def user(self) -> str | None:
        """Who applies are made as (`KubeCluster.as_user`); None: syncer itself."""
        if self.service_account is None:
            return None
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"

    @property
    def reconcile_pending(self) -> bool:
        """An operator asked for a reconcile that has not been handled yet."""
        return bool(self.reconcile_requested) and self.reconcile_requested != self.last_handled


def _frozen(values: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


class _Bad(Exception):
    """One field refused: which, and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def parse(obj: Mapping[str, Any]) -> ChannelSpec:
    """The spec of a Channel object; ConfigError naming `Channel/<ns>/<name>` and the field."""
    meta = kept(obj, "metadata", Mapping) or {}
    name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
    try:
        return _spec(obj, meta, name=name, namespace=namespace)
    except _Bad as e:
        raise ConfigError(f"{e.path}: {e.reason}", where=f"{KIND}/{namespace}/{name}") from None


def _spec(obj: Mapping[str, Any], meta: Mapping[str, Any], *, name: str,
          namespace: str) -> ChannelSpec:
    if not name or not namespace:
        raise _Bad("metadata", "a Channel has a name and a namespace")
    spec = _mapping(obj.get("spec"), "spec")
    status = kept(obj, "status", Mapping) or {}
    return ChannelSpec(
        name=name, namespace=namespace,
        channel=_channel(spec.get("channel") or name),
        profile=_profile(_get(spec, "profile", "local")),
        suspend=_bool(_get(spec, "suspend", False), "spec.suspend"),
        interval_s=_duration(_get(spec, "interval", "30s"), "spec.interval"),
        resync_s=_duration(_get(spec, "resync", "5m"), "spec.resync"),
        service_account=_service_account(spec.get("serviceAccountName")),
        allowed_namespaces=_names(spec.get("allowedNamespaces"), "spec.allowedNamespaces",
                                  _NAMESPACE),
        allowed_kinds=_names(spec.get("allowedKinds"), "spec.allowedKinds", _KIND_RULE),
        notify=_notify(spec.get("notify")),
        history_limit=_history_limit(_get(spec, "historyLimit", 10)),
        decryption_secret=_decryption(spec.get("decryption")),
        generation=_int(meta.get("generation")),
        reconcile_requested=_requested(meta.get("annotations")),
        last_handled=str(status.get("lastHandledReconcileAt") or ""),
        uid=str(meta.get("uid") or ""), resource_version=str(meta.get("resourceVersion") or ""),
        status=dict(status))


_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KIND_RULE = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(\*|[A-Za-z][A-Za-z0-9]*)")
_PROFILE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_MAX_LIST = 256
_MAX_KIND_RULE = 317
_MIN_INTERVAL_S, _MAX_INTERVAL_S = 1.0, 7 * 86400.0


def _get(spec: Mapping[str, Any], key: str, default: Any) -> Any:
    """A field's value; null is absent (kube drops nulls in structural schemas)."""
    value = spec.get(key)
    return default if value is None else value


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Bad(path, "must be a mapping")
    return value


def _channel(value: Any) -> str:
    try:
        return check_channel_name(value if isinstance(value, str) else repr(value))
    except ConfigError as e:
        raise _Bad("spec.channel", e.message) from None


def _profile(value: Any) -> str:
    if not isinstance(value, str) or not _PROFILE.fullmatch(value):
        raise _Bad("spec.profile", f"{cut(repr(value), 80)} is not a profile name")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _Bad(path, "must be true or false")
    return value


def _duration(value: Any, path: str) -> float:
    try:
        seconds = parse_duration(value)
    except ConfigError as e:
        raise _Bad(path, e.message) from None
    if not _MIN_INTERVAL_S <= seconds <= _MAX_INTERVAL_S:
        raise _Bad(path, f"{value} is not from 1s to 168h")
    return seconds


def _service_account(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 253 or not _SUBDOMAIN.fullmatch(value):
        raise _Bad("spec.serviceAccountName", f"{cut(repr(value), 80)} is not a "
                   "ServiceAccount name")
    return value


def _names(value: Any, path: str, rule: re.Pattern[str]) -> tuple[str, ...] | None:
    """A set of strings each matching `rule`; None when absent."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > _MAX_LIST:
        raise _Bad(path, f"must be a list of at most {_MAX_LIST} strings")
    for i, item in enumerate(value):
        if not isinstance(item, str) or len(item) > _MAX_KIND_RULE or not rule.fullmatch(item):
            raise _Bad(f"{path}[{i}]", f"{cut(repr(item), 80)} is not valid here")
        if item in value[:i]:
            raise _Bad(f"{path}[{i}]", f"{item!r} is listed twice")
    return tuple(value)


def _notify(value: Any) -> tuple[tuple[str, str], ...]:
    """The webhooks, checked as the notifier checks them (`syncer.notify.targets`)."""
    try:
        found = targets(value, where="spec")
    except ConfigError as e:
        raise _Bad(e.where or "spec.notify", e.message) from None
    urls = [t.url for t in found]
    for i, url in enumerate(urls):
        if url in urls[:i]:
            raise _Bad(f"spec.notify[{i}].url", "is listed twice")
    return tuple((t.url, t.format) for t in found)


def _decryption(value: Any) -> str | None:
    """The name of the Secret holding the age keys (Flux's `decryption`: provider sops,
    secretRef.name); None when absent."""
    found = _mapping(value, "spec.decryption")
    if not found:
        return None
    if _get(found, "provider", "sops") != "sops":
        raise _Bad("spec.decryption.provider", "must be sops")
    ref = _mapping(found.get("secretRef"), "spec.decryption.secretRef")
    name = ref.get("name")
    if not isinstance(name, str) or len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        raise _Bad("spec.decryption.secretRef.name", f"{cut(repr(name), 80)} is not a "
                   "Secret name")
    return name


def _history_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise _Bad("spec.historyLimit", f"{cut(repr(value), 40)} is not a number from 1 "
                   "to 100")
    return value


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _requested(annotations: Any) -> str:
    value = annotations.get(ANNOTATION_RECONCILE) if isinstance(annotations, Mapping) else None
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_MESSAGE:
        raise _Bad(f"metadata.annotations[{ANNOTATION_RECONCILE}]",
                   f"must be a string of at most {MAX_MESSAGE} characters")
    return value


def kept(found: Mapping[str, Any], key: str, kind: type) -> Any:
    """`found[key]` if it is a `kind`, else None: what was read is trusted by type only."""
    value = found.get(key)
    return value if isinstance(value, kind) else None


def one_line(text: str) -> str:
    """A message as the status and Events hold it: one line of at most 1 KiB."""
    return cut(text, MAX_MESSAGE)


def channel_resource(discovery: Discovery) -> Resource:
    """Where Channels are served; a ClusterError when the CRD is not installed."""
    found = discovery.find(GROUP, KIND)
    if found is None:
        discovery.check(GROUP, KIND, where=KIND)
        raise ClusterError("the cluster serves no Channel (syncer.io/v1alpha1): install "
                           "syncer's CRD, templates/syncer/crd-channels.yaml", where=KIND)
    return found
