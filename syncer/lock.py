"""One sync of a channel at a time: a `coordination.k8s.io/v1` Lease per channel.

Two syncs of one channel writing at once could leave the objects of one release and the
inventory of another. So a sync holds the channel's Lease, `syncer-lock-<channel>` in the
inventory namespace, while it writes:

- taking it is a create (409 when someone holds it) or, when the holder's time ran out, a
  replace conditional on the resourceVersion read (409 when another sync won the race);
- the holder renews it as it goes (`renew`, at most every third of the duration);
- a held, unexpired Lease refuses the sync in one line naming the holder (`LockedError`);
- it is deleted when the sync ends, whatever the outcome. A sync killed before that leaves
  a Lease that runs out after `duration_s`; the next sync then takes it over, at once if
  the holder was a process of the same host that is gone.

Times are MicroTime, six fractional digits, as the API server requires.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from syncer import inventory as inv
from syncer.cluster import Cluster, Discovery, Resource
from syncer.errors import ClusterError, ConflictError, LockedError
from syncer.microtime import holder_identity, issued_here, micro, parse
from syncer.model import Obj

__all__ = ["ChannelLock", "holder_identity"]

log = logging.getLogger(__name__)
_GROUP = "coordination.k8s.io"


class ChannelLock:
    """The Lease of one channel, held in a `with` block."""

    def __init__(self, cluster: Cluster, discovery: Discovery, *, channel: str,
                 namespace: str, duration_s: int = 120, holder: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.cluster, self.clock = cluster, clock
        self.resource: Resource = discovery.require(_GROUP, "Lease")
        self.name = inv.lease_name(channel)
        self.namespace, self.duration_s = namespace, duration_s
        self.holder = holder or holder_identity()
        self.lease: Obj | None = None
        self.renewed = 0.0

    def __enter__(self) -> Self:
        self.lease = self._take()
        self.renewed = self.clock()
        log.info("channel lock taken", extra={"lease": self.name, "holder": self.holder})
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Release the Lease if it is still ours. A failure to release is logged, never
        raised: it must not hide the sync's own error (a dead API server fails both), and
        an unreleased Lease runs out by itself."""
        try:
            found = self.cluster.get(self.resource, namespace=self.namespace, name=self.name)
            if found is not None and (found.get("spec") or {}).get("holderIdentity") == \
                    self.holder:
                self.cluster.delete(self.resource, namespace=self.namespace, name=self.name)
                log.info("channel lock released", extra={"lease": self.name})
        except ClusterError as e:
            log.info("channel lock not released; it runs out by itself",
                     extra={"lease": self.name, "error": str(e)})

    def renew(self) -> None:
        """Push the Lease's end further, when a third of its duration has passed;
        LockedError if another sync took it over meanwhile."""
        if self.lease is None or self.clock() - self.renewed < self.duration_s / 3:
            return
        spec = {**self.lease["spec"], "renewTime": micro(self.clock())}
        try:
            self.lease = self.cluster.replace({**self.lease, "spec": spec}, self.resource)
        except ConflictError as e:
            raise LockedError("another sync took over the channel's lock while this one ran",
                              where=self._where()) from e
        self.renewed = self.clock()

    def _take(self) -> Obj:
        try:
            return self.cluster.create(self._lease(), self.resource)
        except ConflictError:
            pass
        found = self.cluster.get(self.resource, namespace=self.namespace, name=self.name)
        if found is None:
            return self.cluster.create(self._lease(), self.resource)
        self._refuse_if_held(found)
        taken = self._lease()
        taken["metadata"]["resourceVersion"] = found["metadata"]["resourceVersion"]
        try:
            return self.cluster.replace(taken, self.resource)
        except ConflictError as e:
            raise LockedError("another sync took the channel's lock first",
                              where=self._where()) from e

    def _refuse_if_held(self, lease: Obj) -> None:
        spec = lease.get("spec") or {}
        renewed = parse(spec.get("renewTime") or spec.get("acquireTime"))
        ends = renewed + float(spec.get("leaseDurationSeconds") or 0)
        if self.clock() < ends and not _gone(str(spec.get("holderIdentity"))):
            raise LockedError(f"channel is being synced by {spec.get('holderIdentity')} "
                              f"(lock held until {micro(ends)}); try again later",
                              where=self._where())
        log.warning("taking over an expired channel lock",
                    extra={"lease": self.name, "holder": spec.get("holderIdentity")})

    def _lease(self) -> Obj:
        now = micro(self.clock())
        return {"apiVersion": f"{_GROUP}/v1", "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {"holderIdentity": self.holder,
                         "leaseDurationSeconds": self.duration_s,
                         "acquireTime": now, "renewTime": now}}

    def _where(self) -> str:
        return f"Lease/{self.namespace}/{self.name}"


def _gone(holder: str) -> bool:
    """Whether `holder` was a process of this host that no longer runs (killed mid-sync,
    or a container's earlier process with the same pid): then its Lease need not run out
    first."""
    host, _, rest = holder.rpartition("-")[0].rpartition("-")
    if host != socket.gethostname()[:40] or not rest.isdigit():
        return False
    if int(rest) == os.getpid():  # this pid: this process, or one before it (pid 1 again)
        return not issued_here(holder)
    try:
        os.kill(int(rest), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
