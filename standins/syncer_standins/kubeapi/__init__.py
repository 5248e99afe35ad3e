"""A stand-in for kube-apiserver, for tests and the demo: this machine has no cluster.

`KubeApiServer` serves the Kubernetes API over plain HTTP on 127.0.0.1, with threads
(`http.server.ThreadingHTTPServer`), and answers as kube-apiserver v1.36 does (status codes,
Status bodies, Warning and Retry-After headers, list shapes, `managedFields`, defaults, key
order). The official `kubernetes` Python client, its `DynamicClient` and `watch.Watch` talk
to it unchanged::

    with KubeApiServer() as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        api = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))

It **stores objects in memory and runs no workloads**: no scheduler, no kubelet, no
Pods, no ReplicaSets, no traffic. It starts with the namespaces `default`, `kube-system`,
`kube-public` and `kube-node-lease`, each with its `kube-root-ca.crt` ConfigMap and
`default` ServiceAccount. What it does:

* discovery (`/api`, `/apis`, `/apis/{group}`, resource lists, aggregated discovery v2,
  `/version`) for the built-in resources of kube 1.36 (`catalog`), established CRDs and
  aggregated APIServices (`aggregation`);
* create, get, list (label and field selectors, `limit`/`continue` as `paging` cuts pages),
  replace, patch, delete, deletecollection and watch of every served resource, namespaced
  or cluster-wide, and the `/status` subresource;
* decoding into the Go structs of the built-in kinds (`gotypes`, `decoding`): unknown fields
  per `fieldValidation`, canonical quantities (`quantities`), MicroTimes, Go field order;
* server-side apply with field ownership (`managedFields`, conflicts, `force`, removal of
  the fields a manager stops applying, no-op applies that write nothing), YAML 1.1 apply
  bodies, JSON merge patch, JSON patch, `dryRun=All`, resourceVersion preconditions;
* impersonation authorized by RBAC (`rbac`) and ValidatingAdmissionPolicies in CEL
  (`admission`);
* one global resourceVersion counter, bumped by every real write;
* the defaults of `defaults`, the checks of `validation`, the controllers of `controllers`
  (namespace lifecycle, CRD establishment and removal, Deployment, StatefulSet and
  DaemonSet status, resource quotas, APIService availability, finalizers, garbage
  collection).

For tests of clients under stress, `server.faults` (`faults.Fault`) makes it answer chosen
requests with a 5xx, 409 or 429, late, or not at all; that is not kube's behaviour.

Simplifications, each a difference from a real cluster:

* no authentication, TLS, admission webhooks or rate limits: every client is the cluster
  admin unless it impersonates someone; RBAC has no bootstrap roles or role aggregation;
  admission policies have no params, match conditions, variables or type checking;
* the Go structs are described for the common kinds (`gotypes`): other built-in kinds have
  only their top-level fields checked, anything below is accepted; custom resources follow
  their CRD's schema, but values are not type-checked and CRD defaults are not applied;
  no validation beyond `validation`;
* strategic merge patch is applied as a JSON merge patch (lists replaced whole);
  JSON and YAML only (no protobuf, no CBOR); no `/openapi` documents;
* time is counted in requests (`clock`): controllers act synchronously right after the
  write that wakes them (their answer is the object as first written), except those whose
  in-between states clients poll for, which act a fixed number of requests later: a new CRD
  is Established two requests after its creation and its resources answer 429 for two more
  (kube: some milliseconds); a Deployment's full status follows two requests after its
  `NewReplicaSetCreated` step, and a status someone else wrote is put back two requests
  later (kube: within a second or two); a deleted namespace's content is deleted, and the
  namespace removed once empty, at once (kube: seconds); policy bindings and RBAC bindings
  take effect at once;
* workload status is invented: Deployments and StatefulSets report every replica ready
  (with `deployments_ready=False`, Deployments report what a cluster without nodes
  reports); Jobs and CronJobs get no status; quota usage counts objects, not compute;
* Service cluster IPs and node ports come from counters; Endpoints are never created;
  an APIService pointing at a Service is never available (no extension API server runs);
* one stored version per resource: other served versions only change `apiVersion`;
* LIST ignores `resourceVersion` and keeps no snapshot (a later page lists the objects as
  they are now); watches send no bookmarks and ignore `sendInitialEvents`; the event
  history holds the last 10,000 events;
* `propagationPolicy: Orphan` is accepted, but dependents are always removed (in the
  background; Foreground only marks the owner first);
* the cap of ten Update managers is not applied (managedFields sent with a plain write
  replace the stored ones and `[{}]` clears them, as in kube).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from syncer_standins._http import BackgroundServer
from syncer_standins.kubeapi import controllers
from syncer_standins.kubeapi.catalog import BUILTIN_TYPES
from syncer_standins.kubeapi.faults import Fault, Faults
from syncer_standins.kubeapi.handler import ApiHTTPServer
from syncer_standins.kubeapi.state import ApiState
from syncer_standins.kubeapi.writes import Target, WriteRequest, create

__all__ = ["SEED_NAMESPACES", "Fault", "Faults", "KubeApiServer"]


SEED_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


class KubeApiServer(BackgroundServer):
    """A kube-apiserver stand-in on host:port (port 0 picks a free port)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, deployments_ready: bool = True
    ) -> None:
        self.state = ApiState(deployments_ready=deployments_ready)
        controllers.install(self.state)
        self._seed()
        super().__init__(ApiHTTPServer((host, port), self.state))
        self.state.address = f"{host}:{self.port}"

    def _seed(self) -> None:
        namespaces = next(t for t in BUILTIN_TYPES if t.plural == "namespaces")
        for name in SEED_NAMESPACES:
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            request = WriteRequest(Target(namespaces), {"fieldManager": "kube-apiserver"},
                                   json.dumps(body).encode())
            create(self.state, request)
        self.state.store.start_history()

    name = "kube-apiserver stand-in"

    @property
    def faults(self) -> Faults:
        """Misbehaviour on demand (`faults.Fault`): not kube's, a test's."""
        return self.state.faults

    def _before_stop(self) -> None:
        self.state.store.stop()  # ends every watch

    def write_kubeconfig(self, path: Path, *, namespace: str = "default") -> Path:
        """Write a kubeconfig whose current context reaches this server over plain HTTP."""
        name = "kubeapi-stand-in"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": self.url}}],
            "users": [{"name": name, "user": {}}],
            "contexts": [{"name": name, "context": {
                "cluster": name, "user": name, "namespace": namespace}}],
            "current-context": name,
            "preferences": {},
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path
