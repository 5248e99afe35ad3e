"""What the controller's tests share: the Channel CRD installed in the API stand-in, a
Channel applied as an operator would (field manager kubectl), and a `Controller` on the
local profile of the test's $SYNCER_HOME, with a manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fakeclock import ManualClock

from syncer.backends import Backends, open_backends, select_profile
from syncer.channelres import channel_resource
from syncer.channelsync import SyncSettings
from syncer.cluster import KubeCluster
from syncer.config import Home
from syncer.controller import Controller, ControllerOptions
from syncer.errors import ClusterError
from syncer.leader import LeaderElector
from syncer.metrics import Metrics
from syncer.model import Obj

ROOT = Path(__file__).parents[1]
CRD = yaml.safe_load((ROOT / "templates" / "syncer" / "crd-channels.yaml").read_text())
NS = "syncer-system"


def install_crd(cluster: KubeCluster) -> None:
    """syncer-system and the Channel CRD, established and serving."""
    found = cluster.discover()
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
                  found.require("", "Namespace"))
    crds = found.require("apiextensions.k8s.io", "CustomResourceDefinition")
    cluster.apply(CRD, crds)
    for _ in range(20):
        crd = cluster.get(crds, namespace="", name="channels.syncer.io") or {}
        if any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or []):
            break
    for _ in range(5):  # the stand-in answers 429 for a new CRD's first requests
        try:
            cluster.list_objects(channel_resource(cluster.discover()), namespace=NS,
                                 selector="")
            return
        except ClusterError:
            continue


def apply_channel(cluster: KubeCluster, name: str = "shop-dev", **spec: Any) -> Obj:
    """A Channel applied by an operator (field manager kubectl)."""
    body = {"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"channel": "shop-dev", "interval": "30s", "resync": "5m", **spec}}
    return cluster.apply(body, channel_resource(cluster.discover()), manager="kubectl")


def channel(cluster: KubeCluster, name: str = "shop-dev") -> Obj:
    found = cluster.get(channel_resource(cluster.discover()), namespace=NS, name=name)
    assert found is not None
    return found


def condition(obj: Obj, kind: str) -> dict[str, Any]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == kind), {})


def local_backends(home: Path) -> Backends:
    where = Home(home)
    return open_backends(select_profile("local", home=where), home=where)


def controller(cluster: KubeCluster, home: Path, clock: ManualClock, *,
               metrics: Metrics | None = None, elector: LeaderElector | None = None,
               **settings: Any) -> Controller:
    opened = local_backends(home)
    return Controller(cluster, backends=lambda _name: opened, cache=None,
                      options=ControllerOptions(sync=SyncSettings(workers=2, **settings)),
                      clock=clock, metrics=metrics or Metrics(), impersonate=cluster.as_user,
                      rand=lambda: 0.0, elector=elector)
