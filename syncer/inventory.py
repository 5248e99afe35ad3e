"""The inventory: which objects a channel's last applied release put in the cluster.

It is kept in the cluster, as a ConfigMap per channel in the syncer's namespace, so that any
syncer following the channel (in the cluster or on a laptop) prunes from the same record.
Pure: encoding and decoding only; the reconcile path reads and writes it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from syncer.errors import ClusterError
from syncer.model import LABEL_MANAGED_BY, MANAGED_BY, Obj, ObjectRef

__all__ = ["DEFAULT_NAMESPACE", "Entry", "Inventory", "configmap_name", "from_configmap",
           "lease_name", "to_configmap"]

DEFAULT_NAMESPACE = "syncer-system"
LABEL_INVENTORY = "syncer.io/inventory-of"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True, order=True)
class Entry:
    """One applied object, with the apiVersion needed to find it again."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.api_version.rpartition("/")[0], self.kind, self.namespace,
                         self.name)

    @classmethod
    def of(cls, obj: Obj) -> Entry:
        ref = ObjectRef.of(obj)
        return cls(str(obj["apiVersion"]), ref.kind, ref.namespace, ref.name)


@dataclass(frozen=True)
class Inventory:
    """What release `seq` (blob `blob_id`, commit `commit`) applied for `channel`."""

    channel: str
    seq: int
    blob_id: str
    commit: str
    entries: tuple[Entry, ...]

    @classmethod
    def of(cls, channel: str, *, seq: int, blob_id: str, commit: str,
           objects: Iterable[Obj]) -> Inventory:
        return cls(channel, seq, blob_id, commit, tuple(sorted(Entry.of(o) for o in objects)))

    @property
    def refs(self) -> dict[ObjectRef, Entry]:
        return {e.ref: e for e in self.entries}


def configmap_name(channel: str) -> str:
    """A ConfigMap name for any channel name (label values allow '_', '.' and capitals)."""
    return _object_name("syncer-inventory", channel)


def lease_name(channel: str) -> str:
    """The name of the channel's lock (`syncer.lock`), made as the inventory's."""
    return _object_name("syncer-lock", channel)


def _object_name(prefix: str, channel: str) -> str:
    plain = channel.lower().replace("_", "-").replace(".", "-").strip("-")
    if plain == channel and _DNS_LABEL.match(plain):
        return f"{prefix}-{plain}"
    digest = hashlib.sha256(channel.encode()).hexdigest()[:8]
    return f"{prefix}-{plain[:30]}-{digest}"


def to_configmap(inventory: Inventory, *, namespace: str = DEFAULT_NAMESPACE) -> Obj:
    entries = [[e.api_version, e.kind, e.namespace, e.name] for e in inventory.entries]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": configmap_name(inventory.channel),
            "namespace": namespace,
            "labels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_INVENTORY: inventory.channel},
        },
        "data": {
            "channel": inventory.channel,
            "release": str(inventory.seq),
            "blobId": inventory.blob_id,
            "commit": inventory.commit,
            "entries": json.dumps(entries, indent=0),
        },
    }


def from_configmap(obj: Obj) -> Inventory:
    data = obj.get("data") or {}
    where = f"ConfigMap/{obj.get('metadata', {}).get('namespace')}/" \
            f"{obj.get('metadata', {}).get('name')}"
    try:
        entries = tuple(Entry(*map(str, e)) for e in json.loads(data["entries"]))
        return Inventory(str(data["channel"]), int(data["release"]), str(data["blobId"]),
                         str(data["commit"]), entries)
    except (KeyError, ValueError, TypeError) as e:
        raise ClusterError("inventory is malformed: refusing to prune from it",
                           where=where) from e
