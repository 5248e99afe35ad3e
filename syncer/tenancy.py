"""A channel's lane: the namespaces and kinds its releases may write. Pure.

A `Channel` may list `allowedNamespaces` and `allowedKinds`. A release with an object
outside them is refused whole, before anything is written, naming the first object outside
and the rule it breaks. This check is the syncer's own; the server's is the RBAC of the
ServiceAccount the channel applies as (`serviceAccountName`), which the cluster enforces
even if this check were wrong. Both are needed: the first gives one clear line and a
refused release instead of a half-applied one, the second is the boundary.

Kinds are written `group/Kind` (`apps/Deployment`), bare `Kind` for the core group
(`ConfigMap`), `group/*` for every kind of a group (`*` alone for the core group's). A
cluster-scoped object (a ClusterRole, a CRD) is outside any namespace list: a lane with
namespaces allows only the objects in them, and the Namespaces themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from syncer.errors import PolicyError
from syncer.model import ObjectRef

__all__ = ["Lane", "check"]


@dataclass(frozen=True)
class Lane:
    """None: no limit of that sort."""

    namespaces: frozenset[str] | None = None
    kinds: frozenset[str] | None = None

    def refusal(self, ref: ObjectRef) -> str:
        """Why `ref` is outside the lane; "" when it is inside."""
        place = _place(ref)
        if self.namespaces is not None and place not in self.namespaces:
            if not place:
                return "cluster-scoped objects are outside this channel's namespaces"
            return f"namespace {place} is not in this channel's allowed namespaces"
        if self.kinds is not None and not self._kind_allowed(ref):
            return f"kind {_kind(ref)} is not in this channel's allowed kinds"
        return ""

    def _kind_allowed(self, ref: ObjectRef) -> bool:
        kinds = self.kinds or frozenset()
        return _kind(ref) in kinds or (f"{ref.group}/*" if ref.group else "*") in kinds


def check(refs: Iterable[ObjectRef], lane: Lane, *, channel: str) -> None:
    """PolicyError naming the first object outside `lane` (and how many more there are)."""
    outside = [(ref, why) for ref in refs if (why := lane.refusal(ref))]
    if outside:
        ref, why = outside[0]
        more = f" (and {len(outside) - 1} more)" if len(outside) > 1 else ""
        raise PolicyError(f"{why}{more}; nothing was applied",
                          where=f"{ref} of channel {channel}")


def _place(ref: ObjectRef) -> str:
    """The namespace an object is in; a Namespace is in itself."""
    return ref.name if (ref.group, ref.kind) == ("", "Namespace") else ref.namespace


def _kind(ref: ObjectRef) -> str:
    return f"{ref.group}/{ref.kind}" if ref.group else ref.kind
