"""Dry runs, applies and prunes on a bounded pool, against the Kubernetes stand-in (no
kube-apiserver runs here; the stand-in's own tests replay transcripts of a real one).

The cluster is the product's `KubeCluster` over real HTTP, wrapped to record when each call
starts and ends: every dry run ends before the first write, a kind's writes end before the
next kind's start, at most `workers` calls run at once, and they do run at once.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import kubernetes
import pytest
from helpers import commit_and_push, one_line, run
from syncer_standins.kubeapi import Fault, KubeApiServer

from syncer.blobstore.local import LocalBlobStore
from syncer.cluster import Cluster, Discovery, KubeCluster, Resource, connect
from syncer.errors import ClusterError
from syncer.ledger.local import LocalLedger
from syncer.model import FIELD_MANAGER, Obj, ObjectRef
from syncer.reconcile import Loaded, Reconciler, SyncOptions, load

N = 40


@dataclass(frozen=True)
class Call:
    what: str  # dry-run | apply | delete
    ref: str
    start: int
    end: int


class Recording:
    """A `Cluster` that passes every call to a real `KubeCluster` and records its span."""

    def __init__(self, inner: KubeCluster, *, together: int = 0) -> None:
        self.inner = inner
        self.calls: list[Call] = []
        self.most = 0
        self._now = 0
        self._running = 0
        self._lock = threading.Lock()
        # the first `together` ConfigMap writes wait for each other: they must be in flight
        # at the same time, or the barrier breaks and the apply fails
        self._barrier = threading.Barrier(together, timeout=10) if together > 1 else None
        self._waited = 0

    @contextmanager
    def _span(self, what: str, ref: str) -> Iterator[None]:
        with self._lock:
            self._now += 1
            start = self._now
            self._running += 1
            self.most = max(self.most, self._running) if what != "dry-run" else self.most
        try:
            yield
        finally:
            with self._lock:
                self._now += 1
                self._running -= 1
                self.calls.append(Call(what, ref, start, self._now))

    def discover(self) -> Discovery:
        return self.inner.discover()

    def list_objects(self, resource: Resource, *, namespace: str, selector: str) -> list[Obj]:
        return self.inner.list_objects(resource, namespace=namespace, selector=selector)

    def get(self, resource: Resource, *, namespace: str, name: str) -> Obj | None:
        return self.inner.get(resource, namespace=namespace, name=name)

    def apply(self, obj: Obj, resource: Resource, *, dry_run: bool = False,
              subresource: str = "", manager: str = FIELD_MANAGER) -> Obj:
        ref = str(ObjectRef.of(obj))
        with self._span("dry-run" if dry_run else "apply", ref):
            if not dry_run and ref.startswith("ConfigMap/shop-dev/cm-"):
                self._meet()
            return self.inner.apply(obj, resource, dry_run=dry_run, subresource=subresource,
                                    manager=manager)

    def _meet(self) -> None:
        with self._lock:
            self._waited += 1
            wait = self._barrier is not None and self._waited <= self._barrier.parties
        if wait and self._barrier is not None:
            self._barrier.wait()

    def create(self, obj: Obj, resource: Resource) -> Obj:
        return self.inner.create(obj, resource)

    def replace(self, obj: Obj, resource: Resource) -> Obj:
        return self.inner.replace(obj, resource)

    def delete(self, resource: Resource, *, namespace: str, name: str) -> bool:
        ref = f"{resource.kind}/{namespace}/{name}" if namespace else f"{resource.kind}/{name}"
        with self._span("delete", ref):
            return self.inner.delete(resource, namespace=namespace, name=name)

    def ours(self, what: str) -> list[Call]:
        """The calls of `what` on the app's objects (not the inventory, lock or namespace
        syncer keeps them in)."""
        return [c for c in self.calls if c.what == what and "syncer-system" not in c.ref
                and "syncer-lock" not in c.ref]


def _is_a_cluster(recording: Recording) -> Cluster:
    return recording  # mypy checks that Recording has what the Protocol asks


def many(pushed: Path, home: Path, *, n: int = N) -> None:
    (pushed / "templates" / "many.yaml").write_text("".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i:03d}}}\n"
        f"data: {{i: '{i}'}}\n" for i in range(n)))
    commit_and_push(pushed, home, f"{n} ConfigMaps")


def reconciler(home: Path, tmp_path: Path, *, workers: int, together: int = 0
               ) -> tuple[Reconciler, Recording]:
    cluster = Recording(connect(kubeconfig=tmp_path / "kubeconfig"), together=together)
    return Reconciler(cluster, options=SyncOptions(workers=workers)), cluster


def head_loaded(home: Path) -> Loaded:
    ledger, blobs = LocalLedger(home / "ledger.sqlite"), LocalBlobStore(home / "blobs")
    head = ledger.head("shop-dev")
    assert head is not None
    return load(head, blobs=blobs)


def test_parallel_apply_keeps_the_order_of_kinds_and_the_dry_run_first(
        pushed: Path, home: Path, api: KubeApiServer, tmp_path: Path,
        core: kubernetes.client.CoreV1Api) -> None:
    many(pushed, home)
    rec, cluster = reconciler(home, tmp_path, workers=4, together=4)
    result = rec.sync(rec.observe(head_loaded(home)))
    assert len(result.applied) == N + 4  # the example app's Namespace, ConfigMap, Service,
    assert 1 < cluster.most <= 4          # Deployment, and the N ConfigMaps

    dry, writes = cluster.ours("dry-run"), cluster.ours("apply")
    assert len(writes) == N + 4
    assert sorted(c.ref for c in dry) == sorted(c.ref for c in writes)  # each one dry-run
    # the namespace is new: only it is written before its objects can be dry-run; then
    # every dry run ends before any other write starts
    first = [c for c in writes if c.ref.startswith("Namespace/")]
    assert max(c.end for c in first) < min(c.start for c in dry if c not in first
                                           and not c.ref.startswith("Namespace/"))
    assert max(c.end for c in dry) < min(c.start for c in writes if c not in first)
    by_kind: dict[str, list[Call]] = {}
    for call in writes:
        by_kind.setdefault(call.ref.split("/")[0], []).append(call)
    order = ["Namespace", "ConfigMap", "Service", "Deployment"]
    for before, after in itertools.pairwise(order):
        assert max(c.end for c in by_kind[before]) < min(c.start for c in by_kind[after])
    names = {c.metadata.name for c in core.list_namespaced_config_map("shop-dev").items}
    assert {f"cm-{i:03d}" for i in range(N)} <= names


def test_prunes_run_on_the_pool_too(pushed: Path, home: Path, api: KubeApiServer,
                                    tmp_path: Path, core: kubernetes.client.CoreV1Api) -> None:
    many(pushed, home)
    rec, _ = reconciler(home, tmp_path, workers=4)
    rec.sync(rec.observe(head_loaded(home)))
    (pushed / "templates" / "many.yaml").unlink()
    commit_and_push(pushed, home, "No more ConfigMaps")
    rec, cluster = reconciler(home, tmp_path, workers=4)
    result = rec.sync(rec.observe(head_loaded(home)))
    assert len(result.pruned) == N
    assert 1 <= cluster.most <= 4
    left = {c.metadata.name for c in core.list_namespaced_config_map("shop-dev").items}
    assert not {n for n in left if n.startswith("cm-")}


def test_a_failed_write_stops_the_pool_and_says_what_was_written(
        pushed: Path, home: Path, api: KubeApiServer, tmp_path: Path,
        core: kubernetes.client.CoreV1Api, capsys: pytest.CaptureFixture[str]) -> None:
    many(pushed, home)
    api.faults.add(Fault(method="PATCH", path="/configmaps/cm-020$", dry_run=False,
                         status=422, reason="Invalid", message="cm-020 is refused"))
    rec, cluster = reconciler(home, tmp_path, workers=4)
    with pytest.raises(ClusterError, match="cm-020 is refused") as caught:
        rec.sync(rec.observe(head_loaded(home)))
    error = caught.value
    assert error.where == "ConfigMap/shop-dev/cm-020"
    assert "the sync stopped there" in str(error)
    written = {c.ref for c in cluster.ours("apply")} - {"ConfigMap/shop-dev/cm-020"}
    assert set(error.applied) == written  # what it says it wrote is what it wrote
    assert "Namespace/shop-dev" in error.applied
    assert not any(r.startswith(("Service/", "Deployment/")) for r in written), \
        "a later kind started after a failure"
    assert len(written) < N + 1, "every ConfigMap was written although one failed"

    api.faults.clear()  # the next sync converges
    code, _, err = run(capsys, "sync")
    assert code == 0, err
    assert run(capsys, "diff")[0] == 0
    names = {c.metadata.name for c in core.list_namespaced_config_map("shop-dev").items}
    assert {f"cm-{i:03d}" for i in range(N)} <= names


def test_the_cli_prints_what_was_written_then_the_error(
        pushed: Path, home: Path, api: KubeApiServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    many(pushed, home)
    api.faults.add(Fault(method="PATCH", path="/configmaps/cm-020$", dry_run=False,
                         status=422, reason="Invalid", message="cm-020 is refused"))
    code, out, err = run(capsys, "sync", "--workers", "4")
    line = one_line(err)
    assert code == 2
    assert line.startswith("syncer: error: ConfigMap/shop-dev/cm-020: cm-020 is refused")
    assert "the sync stopped there:" in line
    written = [ln.split()[1] for ln in out.splitlines() if ln.startswith("  create")]
    assert written[0] == "Namespace/shop-dev" and "ConfigMap/shop-dev/cm-020" not in written
    assert f"{len(written)} of {N + 4} changes written" in line
    api.faults.clear()
    code, out, err = run(capsys, "sync", "--workers", "1")
    assert code == 0, err
    assert run(capsys, "diff")[0] == 0


def test_many_workers_reuse_their_connections(
        pushed: Path, home: Path, api: KubeApiServer,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    many(pushed, home)
    code, _, err = run(capsys, "sync", "--workers", "24")
    assert code == 0, err
    assert "pool is full" not in caplog.text + err  # urllib3 would discard connections
