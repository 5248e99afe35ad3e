"""The `Channel` resource (syncer.io/v1alpha1) in the cluster: read, Events about it, and
the operators' writes. Its spec is `syncer.channelspec`, its status `syncer.channelstatus`.

* `list_channels` reads every Channel in one LIST, a bad one not hiding the good ones.
* `record_event` creates a core `v1` Event about a Channel, as client-go's recorder does
  (legacy fields: `firstTimestamp`, `lastTimestamp`, `count`, `source`); a failure is
  logged, never raised.
* `set_suspend` and `request_reconcile` server-side-apply one field as field manager
  `syncer-cli`, so that the spec fields kubectl or GitOps manage stay theirs.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Mapping
from typing import Any, Final, Literal

from syncer.channelspec import (
    ANNOTATION_RECONCILE,
    API_VERSION,
    CLI_MANAGER,
    KIND,
    ChannelSpec,
    channel_resource,
    one_line,
    parse,
)
from syncer.clock import Clock
from syncer.cluster import Cluster, Discovery
from syncer.errors import ClusterError, ConfigError
from syncer.microtime import micro, rfc3339
from syncer.model import Obj

__all__ = [
    "EventType",
    "event_body",
    "get_channel",
    "list_channels",
    "now_requested",
    "record_event",
    "request_reconcile",
    "set_suspend",
    "wait_handled",
]

log = logging.getLogger(__name__)

# --- reading Channels -----------------------------------------------------------------------

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
        "message": one_line(message), "type": type,
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
    found.update({k: v for k, v in (("uid", uid), ("resourceVersion", version)) if v})
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
