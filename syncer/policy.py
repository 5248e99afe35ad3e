"""The rules every release must keep, checked at publish and again before a sync. Pure.

The rules are ValidatingAdmissionPolicies (`vap`): the default set shipped in the package
and a repository's own `policies/` (`policyfiles`), evaluated on the release's objects as
syncer applies them (labelled `app.kubernetes.io/managed-by: syncer`, which is what the
policies' bindings select, so that the same YAML installed in a cluster checks only
syncer's objects). A Deny stops the release (PolicyError naming the policy, the object
and the message); a Warn is logged. The wave annotations are checked here too
(`waves.check`).

The channel's namespaces reach the `syncer-namespace-allowlist` policy as its params: a
ConfigMap `syncer-channel-namespaces` in `syncer-system` whose data keys are the channel's
`namespace` and the `namespaces` it lists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final

from syncer import vap, waves
from syncer.config import ChannelConfig
from syncer.errors import PolicyError
from syncer.model import LABEL_MANAGED_BY, MANAGED_BY, Obj

__all__ = ["PARAMS_NAME", "PARAMS_NAMESPACE", "Violation", "as_applied", "channel_params",
           "check", "enforce", "reads_as_secret"]

log = logging.getLogger(__name__)

PARAMS_NAME: Final = "syncer-channel-namespaces"
PARAMS_NAMESPACE: Final = "syncer-system"

Violation = vap.Verdict


def channel_params(channel: ChannelConfig | None, namespace: str = "default") -> Obj:
    """The ConfigMap the namespace allowlist takes as params: the channel's namespaces."""
    names = [namespace] if channel is None else [channel.namespace, *channel.namespaces]
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": PARAMS_NAME, "namespace": PARAMS_NAMESPACE},
            "data": dict.fromkeys(names, "allowed")}


def as_applied(obj: Obj) -> Obj:
    """The object with the label syncer gives every object it applies."""
    found = obj.get("metadata")
    meta = dict(found) if isinstance(found, dict) else {}
    labels = meta.get("labels")
    meta["labels"] = {**(labels if isinstance(labels, dict) else {}),
                      LABEL_MANAGED_BY: MANAGED_BY}
    return {**obj, "metadata": meta}


def check(objects: Iterable[Obj], policies: vap.PolicySet, *,
          channel: ChannelConfig | None = None, namespace: str | None = None
          ) -> list[vap.Verdict]:
    """Every verdict (deny and warn) of `policies` on the objects, in object order."""
    default_ns = namespace or (channel.namespace if channel is not None else "default")
    applied = [as_applied(o) for o in objects]
    return vap.evaluate(policies, applied, namespace=default_ns,
                        params=[channel_params(channel, default_ns)])


def enforce(objects: Iterable[Obj], *, where: str, policies: vap.PolicySet,
            channel: ChannelConfig | None = None) -> list[vap.Verdict]:
    """Raise PolicyError naming the first denial (and how many there are), or the first
    wave annotation that is invalid or out of order (`waves.check`); log and return the
    warnings."""
    objects = list(objects)
    verdicts = check(objects, policies, channel=channel)
    denied = [v for v in verdicts if v.deny]
    if denied:
        more = f" (and {len(denied) - 1} more)" if len(denied) > 1 else ""
        raise PolicyError(f"{denied[0]}{more}", where=where)
    warnings = [v for v in verdicts if not v.deny]
    for warning in warnings:
        log.warning("%s", warning,
                    extra={"policy": warning.policy, "object": warning.ref, "where": where})
    waves.check(objects)
    return warnings


def reads_as_secret(obj: Obj) -> bool:
    """Whether the object's kind reads as Secret, whatever its apiVersion says: the API server
    takes `/v1` as `v1`, and a bundle is public even if the server would refuse the object.
    A custom kind named Secret in another group counts too (rare, and the safe side)."""
    kind = obj.get("kind")
    return isinstance(kind, str) and kind.strip().casefold() == "secret"
