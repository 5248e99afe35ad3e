"""The Channel resource against the Kubernetes API stand-in: its CRD installed, spec and
status written by their own managers through their own endpoints, Events about it, and
`syncer status`, `suspend`, `resume` and `reconcile` run in-process."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from fakeclock import ManualClock
from helpers import one_line, run
from syncer_standins.kubeapi import KubeApiServer

from syncer.channelres import (
    list_channels,
    record_event,
    request_reconcile,
    set_suspend,
    wait_handled,
)
from syncer.channelspec import ANNOTATION_RECONCILE, channel_resource, parse
from syncer.channelstatus import Outcome, OutcomeKind, Unhealthy, write_status
from syncer.cluster import Discovery, KubeCluster, connect
from syncer.errors import ClusterError, ConfigError
from syncer.model import Obj

ROOT = Path(__file__).parents[2]
CRD = yaml.safe_load((ROOT / "templates" / "syncer" / "crd-channels.yaml").read_text())
NS = "syncer-system"
T0 = 1_800_000_000.0
SHA = "5" * 64
KUBECTL_SPEC = {"channel": "shop-dev", "interval": "1m", "allowedKinds": ["apps/*", "Service"],
                "notify": [{"url": "https://hooks.example.com/syncer", "format": "slack"}]}


class Clock:
    def now(self) -> float:
        return T0

    def monotonic(self) -> float:
        return 0.0

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        return False


Setup = tuple[KubeCluster, Discovery]


@pytest.fixture
def setup(api: KubeApiServer, tmp_path: Path) -> Setup:
    """The stand-in with syncer-system and the Channel CRD, established and serving."""
    cluster = connect(kubeconfig=tmp_path / "kubeconfig", sleep=lambda _: None)
    found = cluster.discover()
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
                  found.require("", "Namespace"))
    crds = found.require("apiextensions.k8s.io", "CustomResourceDefinition")
    cluster.apply(CRD, crds)
    for _ in range(10):
        if _condition(cluster.get(crds, namespace="", name="channels.syncer.io"),
                      "Established") == "True":
            break
    discovery = cluster.discover()
    cluster.list_objects(channel_resource(discovery), namespace=NS, selector="")  # 429s over
    return cluster, discovery


def _condition(obj: Obj | None, kind: str) -> str:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((c["status"] for c in conditions if c["type"] == kind), "")


def kubectl_apply(setup: Setup, name: str = "shop-dev", spec: dict[str, Any] | None = None,
                  **meta: Any) -> Obj:
    """A Channel applied as kubectl would, by another field manager."""
    cluster, discovery = setup
    body = {"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
            "metadata": {"name": name, "namespace": NS, **meta},
            "spec": KUBECTL_SPEC if spec is None else spec}
    return cluster.apply(body, channel_resource(discovery), manager="kubectl")


def live(setup: Setup, name: str = "shop-dev") -> Obj:
    cluster, discovery = setup
    found = cluster.get(channel_resource(discovery), namespace=NS, name=name)
    assert found is not None
    return found


def managers(obj: Obj) -> dict[tuple[str, str], Any]:
    return {(m["manager"], m.get("subresource", "")): m["fieldsV1"]
            for m in obj["metadata"]["managedFields"]}


def applied(seq: int = 7) -> Outcome:
    return Outcome(OutcomeKind.APPLIED, T0, f"release {seq} applied, 12 objects healthy",
                   seq=seq, blob_id=f"blob-{seq}", sha256=SHA, commit="c" * 40,
                   health="Healthy", inventory_count=12, head_seq=seq, head_blob_id=f"blob-{seq}")


# --- the resource ---------------------------------------------------------------------------

def test_the_crd_is_accepted_and_established(setup: Setup) -> None:
    cluster, discovery = setup
    crds = discovery.require("apiextensions.k8s.io", "CustomResourceDefinition")
    crd = cluster.get(crds, namespace="", name="channels.syncer.io")
    assert _condition(crd, "Established") == _condition(crd, "NamesAccepted") == "True"
    resource = channel_resource(discovery)
    assert (resource.api_version, resource.plural, resource.namespaced) == (
        "syncer.io/v1alpha1", "channels", True)


def test_without_the_crd_one_line_says_to_install_it(api: KubeApiServer,
                                                     tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="crd-channels.yaml"):
        channel_resource(connect(kubeconfig=tmp_path / "kubeconfig").discover())


def test_a_channel_is_created_and_read(setup: Setup) -> None:
    kubectl_apply(setup)
    specs, errors = list_channels(*setup, namespace=NS)
    assert errors == []
    [spec] = specs
    assert (spec.channel, spec.interval_s, spec.allowed_kinds, spec.generation) == (
        "shop-dev", 60.0, ("apps/*", "Service"), 1)
    assert spec.uid and spec.resource_version


def test_a_bad_channel_does_not_hide_the_good_ones(setup: Setup) -> None:
    kubectl_apply(setup, "b-good", {})
    kubectl_apply(setup, "a-bad", {"historyLimit": 500})
    kubectl_apply(setup, "c-good", {"suspend": True})
    specs, errors = list_channels(*setup, namespace=None)
    assert [s.name for s in specs] == ["b-good", "c-good"]
    assert [str(e) for e in errors] == [
        "Channel/syncer-system/a-bad: spec.historyLimit: 500 is not a number from 1 to 100"]


def test_status_goes_through_the_subresource_and_leaves_the_spec(setup: Setup) -> None:
    before = kubectl_apply(setup)
    written = write_status(*setup, parse(before), applied())
    after = live(setup)
    assert after["spec"] == before["spec"] == KUBECTL_SPEC
    assert after["status"] == written["status"]
    assert after["metadata"]["generation"] == 1
    status = after["status"]
    assert (_condition(after, "Ready"), _condition(after, "Stalled")) == ("True", "False")
    assert status["lastApplied"]["seq"] == status["head"]["seq"] == 7
    assert (status["health"], status["inventory"], status["observedGeneration"]) == (
        "Healthy", {"count": 12}, 1)
    assert "f:status" in managers(after)[("syncer-controller", "status")]
    assert "f:status" not in managers(after)[("kubectl", "")]


def test_a_spec_write_leaves_the_status(setup: Setup) -> None:
    written = write_status(*setup, parse(kubectl_apply(setup)), applied())
    set_suspend(*setup, NS, "shop-dev", True)
    after = live(setup)
    assert after["status"] == written["status"]
    assert after["spec"]["suspend"] is True and after["metadata"]["generation"] == 2


def test_a_second_status_keeps_the_first_ones_transition_times(setup: Setup) -> None:
    spec = parse(kubectl_apply(setup))
    first = write_status(*setup, spec, applied(7))
    later = Outcome(OutcomeKind.PROGRESSING, T0 + 60, "release 8 applied; 1 objects "
                    "progressing", seq=8,
                    sha256="8" * 64, health="Progressing",
                    unhealthy=(Unhealthy("apps/Deployment/shop-dev/web", "Progressing",
                                         "1 of 2 replicas updated"),))
    second = write_status(*setup, parse(first), later)["status"]
    times = {c["type"]: c["lastTransitionTime"] for c in second["conditions"]}
    assert times == {"Ready": "2027-01-15T08:01:00Z", "Reconciling": "2027-01-15T08:01:00Z",
                     "Stalled": "2027-01-15T08:00:00Z"}
    assert [h["seq"] for h in second["history"]] == [8, 7]
    assert second["lastApplied"] == {"seq": 8, "sha256": "8" * 64,
                                     "time": "2027-01-15T08:01:00Z"}  # applied, health pending
    assert second["unhealthy"] == [{"object": "apps/Deployment/shop-dev/web",
                                    "health": "Progressing",
                                    "reason": "1 of 2 replicas updated"}]


# --- Events ---------------------------------------------------------------------------------

def test_an_event_names_the_channel(setup: Setup, core: kubernetes.client.CoreV1Api) -> None:
    spec = parse(kubectl_apply(setup))
    created = record_event(*setup, spec, type="Warning", reason="ReleaseFailed",
                           message="release 8 failed: ConfigMap/shop-dev/x refused",
                           clock=Clock(), instance="syncer-6f7d-abcde")
    assert created is not None
    [event] = core.list_namespaced_event(NS).items
    involved = event.involved_object
    assert (involved.kind, involved.api_version, involved.name, involved.namespace) == (
        "Channel", "syncer.io/v1alpha1", "shop-dev", NS)
    assert (involved.uid, involved.resource_version) == (spec.uid, spec.resource_version)
    assert (event.type, event.reason, event.count) == ("Warning", "ReleaseFailed", 1)
    assert event.source.component == "syncer"
    assert event.reporting_instance == event.source.host == "syncer-6f7d-abcde"
    assert event.metadata.name.startswith("shop-dev.")


def test_two_events_at_one_instant_are_two_events(setup: Setup,
                                                  core: kubernetes.client.CoreV1Api) -> None:
    obj = kubectl_apply(setup)
    for reason in ("ReleaseApplied", "DriftRepaired"):
        assert record_event(*setup, obj, type="Normal", reason=reason, message="m",
                            clock=Clock()) is not None
    assert sorted(e.reason for e in core.list_namespaced_event(NS).items) == [
        "DriftRepaired", "ReleaseApplied"]


def test_an_event_that_cannot_be_written_is_logged_not_raised(
        setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    spec = parse(kubectl_apply(setup))
    gone = spec.__class__(spec.name, "no-such-namespace", spec.channel)
    with caplog.at_level(logging.WARNING, logger="syncer.channelres"):
        assert record_event(*setup, gone, type="Normal", reason="ReleaseApplied",
                            message="m", clock=Clock()) is None
    assert [r.getMessage() for r in caplog.records] == ["Event not recorded"]


# --- the commands ---------------------------------------------------------------------------

@pytest.fixture
def kube(setup: Setup, tmp_path: Path) -> list[str]:
    return ["--kubeconfig", str(tmp_path / "kubeconfig")]


def test_status_prints_a_table(setup: Setup, kube: list[str],
                               capsys: pytest.CaptureFixture[str]) -> None:
    write_status(*setup, parse(kubectl_apply(setup)), applied())
    failing = parse(kubectl_apply(setup, "shop-prod", {"suspend": True}))
    write_status(*setup, failing, Outcome(OutcomeKind.FAILED, T0, "ConfigMap/shop-prod/x: "
                                          "the server refused it " + "x" * 100, seq=3))
    kubectl_apply(setup, "shop-new", {"channel": "shop-new"})
    code, out, _ = run(capsys, "status", *kube)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "CHANNEL", "HEAD", "APPLIED", "HEALTH", "READY",
                                "SUSPENDED", "LAST", "ERROR"]
    assert lines[1].split() == ["shop-dev", "shop-dev", "7", "7", "Healthy", "True", "false"]
    assert lines[2].split() == ["shop-new", "shop-new", "-", "-", "-", "-", "false"]
    assert lines[3].split()[:7] == ["shop-prod", "shop-prod", "-", "-", "-", "False", "true"]
    assert lines[3].split()[7] == "ConfigMap/shop-prod/x:" and lines[3].endswith("…")


def test_status_of_all_namespaces_and_as_json(setup: Setup, kube: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_status(*setup, parse(kubectl_apply(setup)), applied())
    code, out, _ = run(capsys, "status", "-A", *kube)
    assert code == 0 and out.splitlines()[1].split()[:2] == [NS, "shop-dev"]
    code, out, _ = run(capsys, "status", "-o", "json", *kube)
    [item] = json.loads(out)["channels"]
    assert (item["name"], item["ready"], item["status"]["lastApplied"]["seq"]) == (
        "shop-dev", "True", 7)
    code, out, _ = run(capsys, "status", "-o", "yaml", *kube)
    assert yaml.safe_load(out)["channels"][0]["health"] == "Healthy"
    code, out, err = run(capsys, "status", "-n", "default", *kube)
    assert (code, out, err.strip()) == (0, "", "no Channels in namespace default")


def test_suspend_and_resume_keep_the_fields_kubectl_owns(
        setup: Setup, kube: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    kubectl_apply(setup, spec={**KUBECTL_SPEC, "suspend": False})
    code, out, _ = run(capsys, "suspend", "shop-dev", *kube)
    assert (code, out) == (0, "Channel/syncer-system/shop-dev suspended\n")
    after = live(setup)
    assert after["spec"] == {**KUBECTL_SPEC, "suspend": True}
    owned = managers(after)
    assert owned[("syncer-cli", "")] == {"f:spec": {"f:suspend": {}}}
    assert "f:interval" in owned[("kubectl", "")]["f:spec"]
    assert "f:suspend" not in owned[("kubectl", "")]["f:spec"]
    assert parse(after).suspend
    assert run(capsys, "resume", "shop-dev", "-n", NS, *kube)[:2] == (
        0, "Channel/syncer-system/shop-dev resumed\n")
    assert live(setup)["spec"] == {**KUBECTL_SPEC, "suspend": False}


def test_reconcile_sets_the_annotation_and_keeps_suspend(
        setup: Setup, kube: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    kubectl_apply(setup)
    assert run(capsys, "suspend", "shop-dev", *kube)[0] == 0
    code, out, _ = run(capsys, "reconcile", "shop-dev", *kube)
    at = live(setup)["metadata"]["annotations"][ANNOTATION_RECONCILE]
    assert (code, out) == (0, f"Channel/syncer-system/shop-dev: reconcile requested at {at}\n")
    assert live(setup)["spec"]["suspend"] is True
    assert parse(live(setup)).reconcile_pending
    assert run(capsys, "resume", "shop-dev", *kube)[0] == 0
    assert live(setup)["metadata"]["annotations"][ANNOTATION_RECONCILE] == at
    assert run(capsys, "reconcile", "shop-dev", *kube)[0] == 0
    assert live(setup)["metadata"]["annotations"][ANNOTATION_RECONCILE] > at


def test_reconcile_waits_until_the_controller_handled_it(
        setup: Setup, kube: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    kubectl_apply(setup)
    done = threading.Event()

    def controller() -> None:  # what `syncer run` does with a request: reconcile, record
        while not done.wait(0.02):
            spec = parse(live(setup))
            if spec.reconcile_pending:
                write_status(*setup, spec, applied())
                return

    thread = threading.Thread(target=controller, daemon=True)
    thread.start()
    try:
        code, out, err = run(capsys, "reconcile", "shop-dev", "--wait", "--timeout", "1m",
                             *kube)
    finally:
        done.set()
        thread.join()
    assert code == 0, err
    assert out.splitlines()[-1] == ("Channel/syncer-system/shop-dev: handled; Ready True "
                                    "(ReleaseApplied): release 7 applied, 12 objects healthy")


def test_reconcile_wait_times_out_in_one_line(setup: Setup, kube: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    kubectl_apply(setup)
    code, _, err = run(capsys, "reconcile", "shop-dev", "--wait", "--timeout", "0s", *kube)
    assert code == 2
    assert one_line(err).startswith("syncer: error: Channel/syncer-system/shop-dev: the "
                                    "controller did not handle the reconcile request")


@pytest.mark.parametrize("command", [["suspend"], ["resume"], ["reconcile"],
                                     ["reconcile", "--wait"]])
def test_an_unknown_channel_is_one_line(setup: Setup, kube: list[str], command: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *command, "nope", *kube)
    assert code == 2
    assert one_line(err).startswith("syncer: error: Channel/syncer-system/nope: no such "
                                    "Channel")
    assert live_names(setup) == []


def live_names(setup: Setup) -> list[str]:
    cluster, discovery = setup
    found = cluster.list_objects(channel_resource(discovery), namespace="", selector="")
    return [o["metadata"]["name"] for o in found]


def test_a_bad_timeout_is_one_line(setup: Setup, kube: list[str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    kubectl_apply(setup)
    code, _, err = run(capsys, "reconcile", "shop-dev", "--wait", "--timeout", "soon", *kube)
    assert code == 2 and "--timeout: 'soon' is not a duration" in one_line(err)


def test_set_suspend_creates_no_channel(setup: Setup) -> None:
    with pytest.raises(ConfigError, match="Channel/syncer-system/nope: no such Channel"):
        set_suspend(*setup, NS, "nope", True)
    assert live_names(setup) == []


def test_a_wait_reads_every_poll_until_its_deadline(setup: Setup) -> None:
    kubectl_apply(setup)
    request_reconcile(*setup, NS, "shop-dev", at="first")
    clock = ManualClock()
    with pytest.raises(ClusterError, match="did not handle the reconcile request of first "
                                           "in 10s"):
        wait_handled(*setup, NS, "shop-dev", at="first", clock=clock, timeout_s=10,
                     poll_s=4)
    assert clock.waits == [4, 4, 2]
    write_status(*setup, parse(live(setup)), applied())
    handled = wait_handled(*setup, NS, "shop-dev", at="first", clock=clock, timeout_s=10)
    assert handled["status"]["lastHandledReconcileAt"] == "first"
    assert clock.waits == [4, 4, 2]
