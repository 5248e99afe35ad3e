"""The `Channel` resource (syncer.io/v1alpha1): its spec read, its status and Events written.

docs/controller.md is the contract; templates/syncer/crd-channels.yaml its schema.

* **spec**: `parse` turns a Channel object into a `ChannelSpec`, refusing a bad field in one
  `ConfigError` naming `Channel/<ns>/<name>` and the field (`spec.resync: ...`);
  `list_channels` reads every Channel in one LIST, a bad one not hiding the good ones.
* **status**: `status_body` (pure) builds the whole status from the previous one and an
  `Outcome`; `write_status` server-side-applies it to the status subresource as field
  manager `syncer-controller`. Conditions follow `metav1.Condition`: `lastTransitionTime`
  moves only when a condition's status does.
* **Events**: `record_event` creates a core `v1` Event about the Channel, as client-go's
  recorder does (legacy fields: `firstTimestamp`, `lastTimestamp`, `count`, `source`); a
  failure is logged, never raised.
* **operator writes**: `set_suspend` and `request_reconcile` server-side-apply one field as
  field manager `syncer-cli`, so that the spec fields kubectl or GitOps manage stay theirs.

Messages come from syncer's own errors (which carry no payloads or Secret values) and are
cut to 1 KiB.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from syncer.clock import Clock
from syncer.cluster import Cluster, Discovery, Resource
from syncer.config import check_channel_name
from syncer.errors import ClusterError, ConfigError, cut
from syncer.microtime import micro
from syncer.model import Obj, Release
from syncer.notify import targets
from syncer.tenancy import Lane

__all__ = [
    "ANNOTATION_RECONCILE",
    "API_VERSION",
    "CLI_MANAGER",
    "CONTROLLER_MANAGER",
    "ChannelSpec",
    "EventType",
    "Outcome",
    "OutcomeKind",
    "Unhealthy",
    "channel_resource",
    "event_body",
    "get_channel",
    "list_channels",
    "now_requested",
    "parse",
    "parse_duration",
    "record_event",
    "request_reconcile",
    "rfc3339",
    "set_suspend",
    "status_body",
    "wait_handled",
    "write_status",
]

log = logging.getLogger(__name__)

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


def rfc3339(seconds: float) -> str:
    """A metav1.Time: RFC 3339 in UTC, whole seconds."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    meta = _kept(obj, "metadata", Mapping) or {}
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
    status = _kept(obj, "status", Mapping) or {}
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


# --- reading Channels -----------------------------------------------------------------------

def channel_resource(discovery: Discovery) -> Resource:
    """Where Channels are served; a ClusterError when the CRD is not installed."""
    found = discovery.find(GROUP, KIND)
    if found is None:
        discovery.check(GROUP, KIND, where=KIND)
        raise ClusterError("the cluster serves no Channel (syncer.io/v1alpha1): install "
                           "syncer's CRD, templates/syncer/crd-channels.yaml", where=KIND)
    return found


def list_channels(cluster: Cluster, discovery: Discovery, *, namespace: str | None
                  ) -> tuple[list[ChannelSpec], list[ConfigError]]:
    """Every Channel of `namespace` (None: of every namespace), in one LIST, by namespace
    and name; the ones that do not parse as errors beside them."""
    objects = cluster.list_objects(channel_resource(discovery), namespace=namespace or "",
                                   selector="")
    specs: list[ChannelSpec] = []
    errors: list[ConfigError] = []
    for obj in sorted(objects, key=_order):
        try:
            specs.append(parse(obj))
        except ConfigError as e:
            log.warning("Channel refused", extra={"object": e.where, "error": e.message})
            errors.append(e)
    return specs, errors


def _order(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def get_channel(cluster: Cluster, discovery: Discovery, namespace: str, name: str) -> Obj:
    """The Channel object; ConfigError naming it when there is none."""
    found = cluster.get(channel_resource(discovery), namespace=namespace, name=name)
    if found is None:
        raise ConfigError(f"no such Channel (syncer status -n {namespace} lists them)",
                          where=f"{KIND}/{namespace}/{name}")
    return found


# --- the status -----------------------------------------------------------------------------

class OutcomeKind(enum.Enum):
    """What one reconcile of a channel came to (docs/controller.md)."""

    APPLIED = "Applied"          # the release is applied and healthy
    UNCHANGED = "Unchanged"      # a resync found nothing to change
    PROGRESSING = "Progressing"  # applied; some objects are not healthy yet
    FAILED = "Failed"            # not applied this time; the next attempt may pass
    REFUSED = "Refused"          # must never be applied as it is
    SUSPENDED = "Suspended"      # spec.suspend: nothing applied


# The status of Ready, Reconciling and Stalled after each kind of outcome, and its reason.
_CONDITIONS: Final[dict[OutcomeKind, tuple[str, str, str, str]]] = {
    OutcomeKind.APPLIED: ("True", "False", "False", "ReleaseApplied"),
    OutcomeKind.UNCHANGED: ("True", "False", "False", "ReleaseApplied"),
    OutcomeKind.PROGRESSING: ("Unknown", "True", "False", "Progressing"),
    OutcomeKind.FAILED: ("False", "False", "False", "ReleaseFailed"),
    OutcomeKind.REFUSED: ("False", "False", "True", "ReleaseRefused"),
    OutcomeKind.SUSPENDED: ("Unknown", "False", "False", "Suspended"),
}
_HEALTH = ("Healthy", "Progressing", "Degraded")
_REASON = re.compile(r"[A-Za-z]([A-Za-z0-9_,:]{0,1022}[A-Za-z0-9_])?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Unhealthy:
    """One object that is not Healthy: `apps/Deployment/ns/name`, its health, why."""

    object: str
    health: str
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """One reconcile's result, as the status records it.

    `time` is seconds since the epoch (`Clock.now()`). `seq`, `blob_id`, `sha256` and
    `commit` name the release it concerns (None/"" when it concerns none, such as a ledger
    that could not be read). `reason` is the conditions' reason ("" for the kind's default:
    ReleaseApplied, Progressing, ReleaseFailed, ReleaseRefused, Suspended); `message` one
    line from a syncer error, never a payload. `health` "" keeps the health last recorded,
    as `inventory_count` None keeps the count and `head_seq` None the head.
    """

    kind: OutcomeKind
    time: float
    message: str
    reason: str = ""
    seq: int | None = None
    blob_id: str = ""
    sha256: str = ""
    commit: str = ""
    health: str = ""
    unhealthy: tuple[Unhealthy, ...] = ()
    inventory_count: int | None = None
    head_seq: int | None = None
    head_blob_id: str = ""

    def __post_init__(self) -> None:
        if self.health and self.health not in _HEALTH:
            raise ValueError(f"health {self.health!r} is not one of {_HEALTH}")

    @classmethod
    def of_release(cls, release: Release, kind: OutcomeKind, *, time: float, message: str,
                   **more: Any) -> Outcome:
        """An outcome about `release`, its identity filled in."""
        return cls(kind, time, message, seq=release.seq, blob_id=release.blob_id,
                   sha256=release.sha256, commit=release.commit, **more)


def status_body(outcome: Outcome, *, spec: ChannelSpec,
                previous: Mapping[str, Any] | None = None) -> Obj:
    """The whole status after `outcome`, from the status before it (default: the one read
    with `spec`). Pure."""
    before = spec.status if previous is None else previous
    status: Obj = {"observedGeneration": spec.generation,
                   "conditions": _conditions(outcome, before, generation=spec.generation)}
    _set(status, "head", _head(outcome) or _kept(before, "head", Mapping))
    _set(status, "lastApplied", _last_applied(outcome, before))
    _set(status, "health", outcome.health or _kept(before, "health", str))
    _set(status, "unhealthy", _unhealthy(outcome) if outcome.health
         else _kept(before, "unhealthy", list))
    _set(status, "inventory", {"count": outcome.inventory_count}
         if outcome.inventory_count is not None else _kept(before, "inventory", Mapping))
    _set(status, "history", _history(outcome, before, limit=spec.history_limit))
    handled = spec.reconcile_requested if outcome.kind is not OutcomeKind.SUSPENDED else ""
    _set(status, "lastHandledReconcileAt",  # a suspended channel handles no request
         handled or _kept(before, "lastHandledReconcileAt", str))
    return status


def _set(status: Obj, key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        status[key] = value


def _kept(before: Mapping[str, Any], key: str, kind: type) -> Any:
    value = before.get(key)
    return value if isinstance(value, kind) else None


def _conditions(outcome: Outcome, before: Mapping[str, Any], *, generation: int) -> list[Obj]:
    *states, _ = _CONDITIONS[outcome.kind]
    reason = _reason(outcome)
    old = {c.get("type"): c for c in before.get("conditions") or [] if isinstance(c, Mapping)}
    found = []
    for kind, state in zip(("Ready", "Reconciling", "Stalled"), states, strict=True):
        previous = old.get(kind) or {}
        since = previous.get("lastTransitionTime")
        if previous.get("status") != state or not isinstance(since, str):
            since = rfc3339(outcome.time)
        found.append({"type": kind, "status": state, "observedGeneration": generation,
                      "lastTransitionTime": since, "reason": reason,
                      "message": _message(outcome.message)})
    return found


def _reason(outcome: Outcome) -> str:
    """The outcome's reason, or its kind's when it has none fit for a condition."""
    return outcome.reason if _REASON.fullmatch(outcome.reason) else _CONDITIONS[outcome.kind][3]


def _message(text: str) -> str:
    return cut(text, MAX_MESSAGE)


def _head(outcome: Outcome) -> Obj | None:
    if outcome.head_seq is None:
        return None
    head: Obj = {"seq": outcome.head_seq}
    _set(head, "blobId", outcome.head_blob_id)
    return head


def _release(outcome: Outcome) -> Obj:
    found: Obj = {"seq": outcome.seq}
    _set(found, "blobId", outcome.blob_id)
    if _SHA256.fullmatch(outcome.sha256):
        found["sha256"] = outcome.sha256
    _set(found, "commit", outcome.commit[:64])
    return found


def _last_applied(outcome: Outcome, before: Mapping[str, Any]) -> Any:
    """The release written to the cluster last, and when: an Applied, Unchanged or
    Progressing (applied, health pending) outcome; a later outcome about the same release
    (its health settled, a resync, a drift repaired) keeps the time it was first applied."""
    kept = _kept(before, "lastApplied", Mapping)
    if outcome.seq is None or outcome.kind not in (OutcomeKind.APPLIED, OutcomeKind.UNCHANGED,
                                                   OutcomeKind.PROGRESSING):
        return kept
    new = {**_release(outcome), "time": rfc3339(outcome.time)}
    return kept if kept and _same(kept, new) else new


def _same(entry: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """One release: the same seq and bundle SHA-256."""
    return bool(entry.get("seq") == other.get("seq") and
                entry.get("sha256", "") == other.get("sha256", ""))


def _unhealthy(outcome: Outcome) -> list[Obj]:
    return [{"object": cut(u.object, MAX_MESSAGE), "health": u.health[:32],
             **({"reason": _message(u.reason)} if u.reason else {})}
            for u in outcome.unhealthy[:MAX_UNHEALTHY]]


def _history(outcome: Outcome, before: Mapping[str, Any], *, limit: int) -> list[Any]:
    """Newest first, at most `limit`; an outcome replaces an older one about the same
    release. Unchanged resyncs and suspended rounds are not recorded, except that an
    Unchanged outcome (healthy, nothing to change) settles its release's Progressing entry,
    where it stands: Applied."""
    old = [h for h in _kept(before, "history", list) or [] if isinstance(h, Mapping)]
    if outcome.seq is None or outcome.kind is OutcomeKind.SUSPENDED:
        return old[:limit]
    if outcome.kind is OutcomeKind.UNCHANGED:
        return [_settled(h, outcome) for h in old[:limit]]
    entry = {**_release(outcome), "outcome": outcome.kind.value,
             "reason": _reason(outcome),
             "message": _message(outcome.message), "time": rfc3339(outcome.time)}
    entry.pop("commit", None)
    return [entry, *(h for h in old if not _same(h, entry))][:limit]


def _settled(entry: Mapping[str, Any], outcome: Outcome) -> Mapping[str, Any]:
    """`entry`, Applied if it is the Progressing entry of the release `outcome` found
    healthy."""
    if entry.get("outcome") != OutcomeKind.PROGRESSING.value or \
            not _same(entry, _release(outcome)):
        return entry
    return {**entry, "outcome": OutcomeKind.APPLIED.value, "reason": _reason(outcome),
            "message": _message(outcome.message), "time": rfc3339(outcome.time)}


def write_status(cluster: Cluster, discovery: Discovery, spec: ChannelSpec, outcome: Outcome,
                 *, previous: Mapping[str, Any] | None = None) -> Obj:
    """Server-side-apply the status after `outcome` to the status subresource as
    `syncer-controller`; the Channel as the server answers (`parse` it for the next round)."""
    body = {"apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": spec.name, "namespace": spec.namespace},
            "status": status_body(outcome, spec=spec, previous=previous)}
    written = cluster.apply(body, channel_resource(discovery), subresource="status",
                            manager=CONTROLLER_MANAGER)
    log.info("Channel status written", extra={"object": spec.ref, "channel": spec.channel,
                                              "seq": outcome.seq,
                                              "outcome": outcome.kind.value})
    return written


# --- Events ---------------------------------------------------------------------------------

EventType = Literal["Normal", "Warning"]
SOURCE_COMPONENT: Final = "syncer"
REPORTING_COMPONENT: Final = "syncer.io/syncer"
_MAX_NAME = 253


def event_body(channel: ChannelSpec | Mapping[str, Any], *, type: EventType, reason: str,
               message: str, now: float, instance: str, suffix: str) -> Obj:
    """A core v1 Event about `channel`, as client-go's recorder writes one: named
    `<channel>.<hex nanoseconds><suffix>`, count 1, first and last timestamps `now`."""
    involved = _involved(channel)
    stamp = rfc3339(now)
    tail = f".{int(now * 1e9):x}{suffix}"
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": involved["name"][: _MAX_NAME - len(tail)] + tail,
                     "namespace": involved["namespace"]},
        "involvedObject": involved, "reason": reason[:128],
        "message": _message(message), "type": type,
        "source": {"component": SOURCE_COMPONENT, "host": instance},
        "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
        "reportingComponent": REPORTING_COMPONENT, "reportingInstance": instance,
    }


def _involved(channel: ChannelSpec | Mapping[str, Any]) -> Obj:
    if isinstance(channel, ChannelSpec):
        name, namespace = channel.name, channel.namespace
        uid, version = channel.uid, channel.resource_version
    else:
        meta = channel.get("metadata") or {}
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
        uid, version = str(meta.get("uid", "")), str(meta.get("resourceVersion", ""))
    found: Obj = {"apiVersion": API_VERSION, "kind": KIND, "namespace": namespace,
                  "name": name}
    _set(found, "uid", uid)
    _set(found, "resourceVersion", version)
    return found


def record_event(cluster: Cluster, discovery: Discovery,
                 channel: ChannelSpec | Mapping[str, Any], *, type: EventType, reason: str,
                 message: str, clock: Clock, instance: str | None = None) -> Obj | None:
    """Create an Event about `channel` (reporting instance: this host, the Pod's name in a
    cluster); the Event created, or None when that failed, which is logged and not raised."""
    body = event_body(channel, type=type, reason=reason, message=message, now=clock.now(),
                      instance=(instance or socket.gethostname())[:128],
                      suffix=secrets.token_hex(2))
    where = f"{KIND}/{body['involvedObject']['namespace']}/{body['involvedObject']['name']}"
    try:
        return cluster.create(body, discovery.require("", "Event", where=where))
    except ClusterError as e:
        log.warning("Event not recorded", extra={"object": where, "reason": reason,
                                                 "error": str(e)})
        return None


# --- operator writes ------------------------------------------------------------------------

def set_suspend(cluster: Cluster, discovery: Discovery, namespace: str, name: str,
                suspend: bool) -> Obj:
    """Apply `spec.suspend` as `syncer-cli`; ConfigError when there is no such Channel."""
    live = get_channel(cluster, discovery, namespace, name)
    return _apply_cli(cluster, discovery, live, suspend=suspend,
                      requested=_cli_requested(live))


def request_reconcile(cluster: Cluster, discovery: Discovery, namespace: str, name: str, *,
                      at: str) -> Obj:
    """Apply the annotation `syncer.io/reconcile-requested-at: <at>` as `syncer-cli`."""
    live = get_channel(cluster, discovery, namespace, name)
    return _apply_cli(cluster, discovery, live, suspend=_cli_suspend(live), requested=at)


def _apply_cli(cluster: Cluster, discovery: Discovery, live: Obj, *, suspend: bool | None,
               requested: str | None) -> Obj:
    """Apply what `syncer-cli` owns: both fields, since an apply that leaves out a field
    its manager applied before removes it."""
    meta = live["metadata"]
    body: Obj = {"apiVersion": API_VERSION, "kind": KIND,
                 "metadata": {"name": meta["name"], "namespace": meta["namespace"]}}
    if requested is not None:
        body["metadata"]["annotations"] = {ANNOTATION_RECONCILE: requested}
    if suspend is not None:
        body["spec"] = {"suspend": suspend}
    log.info("Channel spec applied", extra={"object": f"{KIND}/{meta['namespace']}/"
                                            f"{meta['name']}", "suspend": suspend,
                                            "requested": requested})
    return cluster.apply(body, channel_resource(discovery), manager=CLI_MANAGER)


def _cli_fields(live: Obj) -> Mapping[str, Any]:
    """The fields `syncer-cli` applied to the object (not its status)."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == CLI_MANAGER and entry.get("operation") == "Apply" \
                and not entry.get("subresource"):
            return entry.get("fieldsV1") or {}
    return {}


def _cli_suspend(live: Obj) -> bool | None:
    if "f:suspend" not in (_cli_fields(live).get("f:spec") or {}):
        return None
    return bool((live.get("spec") or {}).get("suspend"))


def _cli_requested(live: Obj) -> str | None:
    owned = (_cli_fields(live).get("f:metadata") or {}).get("f:annotations") or {}
    if f"f:{ANNOTATION_RECONCILE}" not in owned:
        return None
    return str(((live.get("metadata") or {}).get("annotations") or {}).get(
        ANNOTATION_RECONCILE, ""))


def now_requested(clock: Clock) -> str:
    """A new value for the reconcile annotation: the time, to the microsecond."""
    return micro(clock.now())


def wait_handled(cluster: Cluster, discovery: Discovery, namespace: str, name: str, *,
                 at: str, clock: Clock, timeout_s: float, poll_s: float = 1.0) -> Obj:
    """The Channel once its `status.lastHandledReconcileAt` is `at`, read every `poll_s`;
    a ClusterError when `timeout_s` runs out first."""
    deadline = clock.monotonic() + timeout_s
    while True:
        live = get_channel(cluster, discovery, namespace, name)
        if (live.get("status") or {}).get("lastHandledReconcileAt") == at:
            return live
        left = deadline - clock.monotonic()
        if left <= 0:
            raise ClusterError(f"the controller did not handle the reconcile request of {at} "
                               f"in {timeout_s:g}s (is syncer run running?)",
                               where=f"{KIND}/{namespace}/{name}")
        clock.wait(min(poll_s, left))

