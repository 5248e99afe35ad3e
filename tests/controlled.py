"""What the controller's tests share: the Channel CRD installed in the API stand-in, a
Channel applied as an operator would (field manager kubectl), and a `Controller` on the
local profile of the test's $SYNCER_HOME, with a manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fakeclock import ManualClock
from helpers import commit_and_push, edit

from syncer.backends import Backends, open_backends, select_profile
from syncer.channelspec import channel_resource
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


def controller_with(cluster: KubeCluster, home: Path, clock: ManualClock, *,
                    settings: SyncSettings | None = None, **parts: Any) -> Controller:
    """`controller` with any of the Controller's parts given (`cache`, `notifier`,
    `metrics`, `elector`...) and its SyncSettings (default: two workers)."""
    opened = local_backends(home)
    given: dict[str, Any] = {"cache": None, "metrics": Metrics(),
                             "impersonate": cluster.as_user, "rand": lambda: 0.0, **parts}
    return Controller(cluster, backends=lambda _name: opened,
                      options=ControllerOptions(sync=settings or SyncSettings(workers=2)),
                      clock=clock, **given)


def get_object(cluster: KubeCluster, kind: str, name: str, *, group: str = "",
               namespace: str = "shop-dev") -> Obj | None:
    found = cluster.get(cluster.discover().require(group, kind), namespace=namespace,
                        name=name)
    return found


def channel_events(cluster: KubeCluster, reason: str | None = None, *,
                   name: str = "shop-dev") -> list[Obj]:
    """The Events about the Channel `name` (of any reason, or of `reason`)."""
    found = cluster.list_objects(cluster.discover().require("", "Event"), namespace=NS,
                                 selector="")
    return [e for e in found if e["involvedObject"].get("kind") == "Channel"
            and e["involvedObject"].get("name") == name
            and (reason is None or e["reason"] == reason)]


def blob_path(home: Path, seq: int, *, channel: str = "shop-dev") -> Path:
    """Where the local blob store keeps the bundle of release `seq`."""
    release = local_backends(home).ledger.release(channel, seq)
    return Home(home).blobs / release.blob_id


MIGRATE = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {"syncer.io/wave": "-1"}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsNonRoot: true}
      containers:
        - name: migrate
          image: registry.example.com/shop-migrate:1.0
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {memory: 32Mi}
"""


def with_migration(pushed: Path, home: Path) -> None:
    """The next release: a migration Job in wave -1, its Namespace with it, the app in
    wave 0."""
    edit(pushed / "templates" / "namespace.yaml.j2", "  name: {{ namespace }}",
         '  name: {{ namespace }}\n  annotations: {"syncer.io/wave": "-1"}')
    (pushed / "templates" / "migrate.yaml").write_text(MIGRATE)
    commit_and_push(pushed, home, "Migrate before the app rolls")


def job_status(cluster: KubeCluster, condition: str, reason: str, message: str, *,
               name: str = "migrate") -> None:
    """The migration Job's status as the Job controller writes it, through the status
    subresource, as kwok does: no Job runs on the stand-in (nor on a control plane without
    nodes)."""
    at = "2026-12-01T10:00:00Z"
    status: Obj = {"apiVersion": "batch/v1", "kind": "Job",
                   "metadata": {"name": name, "namespace": "shop-dev"},
                   "status": {"startTime": at, "conditions": [
                       {"type": condition, "status": "True", "reason": reason,
                        "message": message, "lastProbeTime": at, "lastTransitionTime": at}]}}
    if condition == "Failed":
        status["status"]["failed"] = 1
    else:
        status["status"].update(succeeded=1, completionTime=at)
    jobs = cluster.discover().require("batch", "Job")
    cluster.apply(status, jobs, subresource="status", manager="kube-controller-manager")
