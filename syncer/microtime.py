"""What a `coordination.k8s.io/v1` Lease is written with: its times and its holder.

A Lease's `acquireTime` and `renewTime` are MicroTimes: RFC 3339 in UTC with exactly six
fractional digits (the API server refuses any other number of digits). Other Kubernetes
times (a condition's `lastTransitionTime`, an Event's timestamps) are whole seconds:
`rfc3339`, which the notifications use too. `holder_identity`
names the process that holds one. The channel lock (`syncer.lock`) and leader election
(`syncer.leader`) both write Leases; this module is what they share.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket

__all__ = ["holder_identity", "micro", "parse", "rfc3339"]

_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ")


_ISSUED: set[str] = set()


def holder_identity() -> str:
    """Who holds a Lease: host, process and a random part (two holders in one process
    differ). Each identity this process hands out is remembered (`issued_here`)."""
    identity = f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
    _ISSUED.add(identity)
    return identity


def issued_here(identity: str) -> bool:
    """Whether this process handed out `identity`. A holder naming this host and this
    process's pid that this process never issued was an earlier process with the same pid:
    a restarted container, whose syncer is pid 1 again."""
    return identity in _ISSUED


def micro(seconds: float) -> str:
    """A MicroTime: RFC 3339 in UTC with exactly six fractional digits."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime(_FORMATS[0])


def rfc3339(seconds: float) -> str:
    """A metav1.Time: RFC 3339 in UTC, whole seconds."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime(_FORMATS[1])


def parse(text: object) -> float:
    """Seconds since the epoch of a MicroTime or Time; 0 when absent or unreadable."""
    if not isinstance(text, str):
        return 0.0
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC).timestamp()
        except ValueError:
            continue
    return 0.0
