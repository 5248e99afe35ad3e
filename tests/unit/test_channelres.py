"""The Channel resource's pure parts: the spec parsed (defaults, one error per bad field),
Go durations, the status built from outcomes (condition transitions, history, caps), the
Event body, and the CRD's schema (structural, and accepting what syncer writes)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.channelres import event_body
from syncer.channelspec import ChannelSpec, parse, parse_duration
from syncer.channelstatus import Outcome, OutcomeKind, Unhealthy, status_body
from syncer.errors import ConfigError
from syncer.model import Release
from syncer.tenancy import Lane

ROOT = Path(__file__).parents[2]
CRD = yaml.safe_load((ROOT / "templates" / "syncer" / "crd-channels.yaml").read_text())
SCHEMA = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
T0 = 1_800_000_000.0
SHA_A, SHA_B = "a" * 64, "b" * 64


def channel(spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
            "metadata": {"name": "shop-dev", "namespace": "syncer-system", "generation": 3,
                         **meta}, "spec": spec or {}}


# --- the spec -------------------------------------------------------------------------------

def test_an_empty_spec_takes_every_default() -> None:
    spec = parse(channel())
    assert spec == ChannelSpec("shop-dev", "syncer-system", "shop-dev", generation=3)
    assert (spec.profile, spec.suspend, spec.interval_s, spec.resync_s) == (
        "local", False, 30.0, 300.0)
    assert (spec.history_limit, spec.notify, spec.user) == (10, (), None)
    assert spec.lane == Lane() and spec.ref == "Channel/syncer-system/shop-dev"
    assert (spec.reconcile_requested, spec.last_handled, spec.reconcile_pending) == (
        "", "", False)


def test_the_example_of_the_docs_parses() -> None:
    text = (ROOT / "docs" / "controller.md").read_text()
    example = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", text, re.S)[0])
    spec = parse(example)
    assert (spec.channel, spec.interval_s, spec.resync_s) == ("shop-dev", 30.0, 300.0)
    assert spec.user == "system:serviceaccount:syncer-system:shop-dev-deployer"
    assert spec.lane == Lane(frozenset({"shop-dev"}),
                             frozenset({"apps/*", "ConfigMap", "Service"}))
    assert spec.notify == (("https://hooks.example.com/syncer", "json"),)
    jsonschema.validate(example, SCHEMA)


def test_the_annotation_and_the_handled_value_are_read() -> None:
    obj = channel(annotations={"syncer.io/reconcile-requested-at": "now"})
    assert parse(obj).reconcile_pending
    obj["status"] = {"lastHandledReconcileAt": "now"}
    assert (parse(obj).last_handled, parse(obj).reconcile_pending) == ("now", False)


def test_nulls_are_absent_fields() -> None:
    assert parse(channel({"interval": None, "notify": None, "channel": None})).interval_s == 30


BAD = [
    ("spec.channel", {"channel": "has space"}),
    ("spec.channel", {"channel": "x" * 64}),
    ("spec.profile", {"profile": ""}),
    ("spec.profile", {"profile": 7}),
    ("spec.suspend", {"suspend": "yes"}),
    ("spec.interval", {"interval": "30"}),
    ("spec.interval", {"interval": "0s"}),
    ("spec.interval", {"interval": "200h"}),
    ("spec.resync", {"resync": "5 minutes"}),
    ("spec.resync", {"resync": 300}),
    ("spec.serviceAccountName", {"serviceAccountName": "Deployer"}),
    ("spec.allowedNamespaces", {"allowedNamespaces": "shop-dev"}),
    ("spec.allowedNamespaces[1]", {"allowedNamespaces": ["a", "B"]}),
    ("spec.allowedNamespaces[1]", {"allowedNamespaces": ["a", "a"]}),
    ("spec.allowedKinds[0]", {"allowedKinds": ["apps/"]}),
    ("spec.allowedKinds[0]", {"allowedKinds": ["Apps.IO/Deployment"]}),
    ("spec.allowedKinds", {"allowedKinds": ["ConfigMap"] * 257}),
    ("spec.notify", {"notify": {"url": "https://x"}}),
    ("spec.notify[0]", {"notify": ["https://x"]}),
    ("spec.notify[0].url", {"notify": [{"format": "json"}]}),
    ("spec.notify[0].url", {"notify": [{"url": "ftp://x"}]}),
    ("spec.notify[0].url", {"notify": [{"url": "https://"}]}),
    ("spec.notify[0]", {"notify": [{"url": "https://x", "secret": "s"}]}),
    ("spec.notify[0].format", {"notify": [{"url": "https://x", "format": "xml"}]}),
    ("spec.notify[1].url", {"notify": [{"url": "https://x"}, {"url": "https://x"}]}),
    ("spec.historyLimit", {"historyLimit": 0}),
    ("spec.historyLimit", {"historyLimit": 101}),
    ("spec.historyLimit", {"historyLimit": True}),
    ("spec", []),
]


@pytest.mark.parametrize(("path", "spec"), BAD, ids=[f"{p}={s}"[:60] for p, s in BAD])
def test_a_bad_field_is_one_error_naming_the_channel_and_the_field(
        path: str, spec: Any) -> None:
    obj = channel()
    obj["spec"] = spec
    with pytest.raises(ConfigError) as caught:
        parse(obj)
    assert caught.value.where == "Channel/syncer-system/shop-dev"
    assert caught.value.message.startswith(f"{path}: "), caught.value.message
    assert "\n" not in str(caught.value)


def test_a_bad_annotation_is_named() -> None:
    obj = channel(annotations={"syncer.io/reconcile-requested-at": "x" * 2000})
    with pytest.raises(ConfigError, match=r"metadata.annotations\[syncer.io/reconcile-"):
        parse(obj)


def test_a_notify_url_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse(channel({"notify": [{"url": "ftp://hooks.example/SECRET-TOKEN"}]}))
    assert "SECRET" not in str(caught.value)
    assert caught.value.message.startswith("spec.notify[0].url: ")


# --- durations ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("1.5h", 5400),
    ("1m30s500ms", 90.5), ("0s", 0)])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [
    "", "5", "m", "5 m", "-5m", "5d", "1h 30m", "5M", ".5s", "1e3s", None, 5, "9" * 40 + "s",
    "9999999h", "5mm"])
def test_what_is_not_a_duration(text: object) -> None:
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(text, where="spec.interval")


@given(st.text(max_size=64))
def test_any_text_is_a_duration_or_one_config_error(text: str) -> None:
    try:
        assert 0 <= parse_duration(text) <= 366 * 86400
    except ConfigError as e:
        assert len(str(e)) < 200


# --- the status -----------------------------------------------------------------------------

SPEC = ChannelSpec("shop-dev", "syncer-system", "shop-dev", generation=3, history_limit=3)
RELEASE = Release("shop-dev", 7, "blob7", SHA_A, "c" * 40, "0xpub", 0)


def applied(seq: int = 7, sha: str = SHA_A, *, at: float = T0, **more: Any) -> Outcome:
    return Outcome(OutcomeKind.APPLIED, at, f"release {seq} applied", seq=seq,
                   blob_id=f"blob{seq}", sha256=sha, commit="c" * 40, **more)


def failed(seq: int = 7, sha: str = SHA_A, *, at: float = T0) -> Outcome:
    return Outcome(OutcomeKind.FAILED, at, "ConfigMap/shop-dev/x: refused", seq=seq,
                   sha256=sha)


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["lastTransitionTime"])
            for c in status["conditions"]}


def test_an_applied_release() -> None:
    outcome = Outcome.of_release(RELEASE, OutcomeKind.APPLIED, time=T0, message="release 7 "
                                 "applied, 12 objects healthy", health="Healthy",
                                 inventory_count=12, head_seq=7, head_blob_id="blob7")
    status = status_body(outcome, spec=SPEC)
    assert conditions(status) == {
        "Ready": ("True", "ReleaseApplied", "2027-01-15T08:00:00Z"),
        "Reconciling": ("False", "ReleaseApplied", "2027-01-15T08:00:00Z"),
        "Stalled": ("False", "ReleaseApplied", "2027-01-15T08:00:00Z")}
    assert status["observedGeneration"] == 3
    assert all(c["observedGeneration"] == 3 for c in status["conditions"])
    assert status["head"] == {"seq": 7, "blobId": "blob7"}
    assert status["lastApplied"] == {"seq": 7, "blobId": "blob7", "sha256": SHA_A,
                                     "commit": "c" * 40, "time": "2027-01-15T08:00:00Z"}
    assert (status["health"], status["inventory"]) == ("Healthy", {"count": 12})
    assert status["history"] == [{"seq": 7, "blobId": "blob7", "sha256": SHA_A,
                                  "outcome": "Applied", "reason": "ReleaseApplied",
                                  "message": "release 7 applied, 12 objects healthy",
                                  "time": "2027-01-15T08:00:00Z"}]
    jsonschema.validate(status, SCHEMA["properties"]["status"])


def test_a_transition_time_moves_only_when_its_status_does() -> None:
    first = status_body(applied(at=T0), spec=SPEC)
    again = status_body(applied(8, SHA_B, at=T0 + 60), spec=SPEC, previous=first)
    assert conditions(again)["Ready"][2] == "2027-01-15T08:00:00Z"
    broken = status_body(failed(9, at=T0 + 120), spec=SPEC, previous=again)
    assert conditions(broken)["Ready"] == ("False", "ReleaseFailed", "2027-01-15T08:02:00Z")
    assert conditions(broken)["Stalled"][::2] == ("False", "2027-01-15T08:00:00Z")
    refused = status_body(Outcome(OutcomeKind.REFUSED, T0 + 180, "does not verify", seq=9),
                          spec=SPEC, previous=broken)
    assert conditions(refused)["Ready"][2] == "2027-01-15T08:02:00Z"
    assert conditions(refused)["Stalled"] == ("True", "ReleaseRefused", "2027-01-15T08:03:00Z")


@pytest.mark.parametrize(("kind", "states"), [
    (OutcomeKind.APPLIED, ("True", "False", "False")),
    (OutcomeKind.UNCHANGED, ("True", "False", "False")),
    (OutcomeKind.PROGRESSING, ("Unknown", "True", "False")),
    (OutcomeKind.FAILED, ("False", "False", "False")),
    (OutcomeKind.REFUSED, ("False", "False", "True")),
    (OutcomeKind.SUSPENDED, ("Unknown", "False", "False"))])
def test_the_conditions_of_each_outcome(kind: OutcomeKind, states: tuple[str, ...]) -> None:
    status = status_body(Outcome(kind, T0, "m"), spec=SPEC)
    assert tuple(c["status"] for c in status["conditions"]) == states
    assert [c["type"] for c in status["conditions"]] == ["Ready", "Reconciling", "Stalled"]


def test_a_reason_of_its_own_or_the_default() -> None:
    own = Outcome(OutcomeKind.FAILED, T0, "m", reason="HealthCheckFailed")
    assert conditions(status_body(own, spec=SPEC))["Ready"][1] == "HealthCheckFailed"
    odd = Outcome(OutcomeKind.FAILED, T0, "m", reason="not a reason!")
    assert conditions(status_body(odd, spec=SPEC))["Ready"][1] == "ReleaseFailed"


def test_history_is_newest_first_capped_and_one_entry_per_release() -> None:
    status: dict[str, Any] = {}
    for seq in (1, 2, 3, 4):
        status = status_body(applied(seq, f"{seq:x}" * 64, at=T0 + seq), spec=SPEC,
                             previous=status)
    assert [h["seq"] for h in status["history"]] == [4, 3, 2]
    status = status_body(failed(3, "3" * 64, at=T0 + 10), spec=SPEC, previous=status)
    assert [(h["seq"], h["outcome"]) for h in status["history"]] == [
        (3, "Failed"), (4, "Applied"), (2, "Applied")]
    status = status_body(failed(3, SHA_B, at=T0 + 11), spec=SPEC, previous=status)
    assert [h["seq"] for h in status["history"]] == [3, 3, 4]


def test_unchanged_and_suspended_rounds_leave_history_and_last_applied() -> None:
    first = status_body(applied(at=T0), spec=SPEC)
    resync = Outcome(OutcomeKind.UNCHANGED, T0 + 300, "release 7 unchanged", seq=7,
                     sha256=SHA_A, blob_id="blob7", commit="c" * 40)
    after = status_body(resync, spec=SPEC, previous=first)
    assert after["history"] == first["history"]
    assert after["lastApplied"] == first["lastApplied"]
    paused = status_body(Outcome(OutcomeKind.SUSPENDED, T0 + 600, "suspended"), spec=SPEC,
                         previous=after)
    assert (paused["history"], paused["lastApplied"]) == (first["history"],
                                                          first["lastApplied"])


def test_what_an_outcome_does_not_say_is_kept() -> None:
    first = status_body(applied(health="Degraded", inventory_count=4, head_seq=7,
                                unhealthy=(Unhealthy("apps/Deployment/a/web", "Degraded",
                                                     "ImagePullBackOff"),)), spec=SPEC)
    later = status_body(Outcome(OutcomeKind.FAILED, T0 + 5, "ledger unreachable"),
                        spec=SPEC, previous=first)
    for key in ("head", "health", "unhealthy", "inventory", "lastApplied"):
        assert later[key] == first[key], key
    healthy = status_body(applied(health="Healthy"), spec=SPEC, previous=first)
    assert "unhealthy" not in healthy


def test_unhealthy_is_capped_at_50_and_messages_at_a_kib() -> None:
    many = tuple(Unhealthy(f"ConfigMap/a/c{i}", "Progressing") for i in range(80))
    outcome = Outcome(OutcomeKind.PROGRESSING, T0, "x" * 5000, seq=7, health="Progressing",
                      unhealthy=many)
    status = status_body(outcome, spec=SPEC)
    assert len(status["unhealthy"]) == 50
    assert all(len(c["message"]) <= 1024 for c in status["conditions"])
    assert len(status["history"][0]["message"]) <= 1024
    jsonschema.validate(status, SCHEMA["properties"]["status"])


def test_the_handled_request_is_recorded_and_kept() -> None:
    spec = ChannelSpec("a", "b", "a", reconcile_requested="2027-01-15T08:00:00.000001Z")
    status = status_body(applied(), spec=spec)
    assert status["lastHandledReconcileAt"] == "2027-01-15T08:00:00.000001Z"
    assert status_body(applied(), spec=SPEC, previous=status)["lastHandledReconcileAt"] == \
        "2027-01-15T08:00:00.000001Z"


def test_an_unknown_health_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="health"):
        Outcome(OutcomeKind.APPLIED, T0, "m", health="Fine")


OUTCOMES = st.builds(
    Outcome, kind=st.sampled_from(OutcomeKind), time=st.floats(T0, T0 + 1e6),
    message=st.text(max_size=1500), reason=st.sampled_from(["", "DriftRepaired", "x y"]),
    seq=st.one_of(st.none(), st.integers(1, 5)),
    sha256=st.sampled_from(["", SHA_A, SHA_B]),
    health=st.sampled_from(["", "Healthy", "Progressing", "Degraded"]),
    unhealthy=st.lists(st.builds(Unhealthy, st.text(max_size=20), st.just("Degraded")),
                       max_size=60).map(tuple),
    inventory_count=st.one_of(st.none(), st.integers(0, 10_000)))


@settings(max_examples=60, deadline=None)
@given(st.lists(OUTCOMES, min_size=1, max_size=12))
def test_any_run_of_outcomes_gives_a_status_the_crd_accepts(outcomes: list[Outcome]) -> None:
    status: dict[str, Any] = {}
    for outcome in outcomes:
        status = status_body(outcome, spec=SPEC, previous=status)
        jsonschema.validate(status, SCHEMA["properties"]["status"])
        keys = [(h["seq"], h.get("sha256")) for h in status.get("history", [])]
        assert len(keys) == len(set(keys)) <= SPEC.history_limit


# --- the Event ------------------------------------------------------------------------------

def test_an_event_about_a_channel() -> None:
    spec = ChannelSpec("shop-dev", "syncer-system", "shop-dev", uid="u-1",
                       resource_version="42")
    event = event_body(spec, type="Warning", reason="ReleaseFailed", message="m" * 2000,
                       now=T0 + 0.5, instance="syncer-0", suffix="beef")
    assert event["metadata"] == {"name": f"shop-dev.{int((T0 + 0.5) * 1e9):x}beef",
                                 "namespace": "syncer-system"}
    assert event["involvedObject"] == {
        "apiVersion": "syncer.io/v1alpha1", "kind": "Channel", "namespace": "syncer-system",
        "name": "shop-dev", "uid": "u-1", "resourceVersion": "42"}
    assert (event["type"], event["reason"], event["count"]) == ("Warning", "ReleaseFailed", 1)
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2027-01-15T08:00:00Z"
    assert event["source"] == {"component": "syncer", "host": "syncer-0"}
    assert len(event["message"]) <= 1024


def test_a_long_channel_name_still_makes_a_valid_event_name() -> None:
    obj = channel(name="x" * 253, uid="u")
    event = event_body(obj, type="Normal", reason="R", message="m", now=T0,
                       instance="i", suffix="0000")
    assert len(event["metadata"]["name"]) == 253


# --- the CRD --------------------------------------------------------------------------------

def _nodes(node: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = [(path or "<root>", node)]
    for name, child in (node.get("properties") or {}).items():
        found += _nodes(child, f"{path}.{name}")
    if "items" in node:
        found += _nodes(node["items"], f"{path}[]")
    return found


def test_the_crd_schema_is_structural() -> None:
    for path, node in _nodes(SCHEMA):
        assert "type" in node, f"{path} has no type"
        if node["type"] == "array":
            assert "items" in node, path
            if node.get("x-kubernetes-list-type") == "map":
                item = node["items"]
                assert set(node["x-kubernetes-list-map-keys"]) <= set(item["required"]), path
            if node.get("x-kubernetes-list-type") == "set":
                assert node["items"]["type"] in ("string", "integer", "boolean"), path
        if "pattern" in node:
            re.compile(node["pattern"])


def test_the_crd_names_and_columns() -> None:
    spec = CRD["spec"]
    assert CRD["metadata"]["name"] == "channels.syncer.io"
    assert (spec["group"], spec["scope"], spec["names"]["kind"]) == (
        "syncer.io", "Namespaced", "Channel")
    assert "sch" in spec["names"]["shortNames"]
    version = spec["versions"][0]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]][:5] == [
        "Applied", "Health", "Ready", "Suspended", "Age"]


@pytest.mark.parametrize("spec", [
    {"interval": "30"}, {"notify": [{"url": "https://x", "format": "xml"}]},
    {"historyLimit": 0}, {"allowedKinds": ["apps/"]}, {"suspend": "yes"}])
def test_the_crd_refuses_what_parse_refuses(spec: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(channel(spec), SCHEMA)
    with pytest.raises(ConfigError):
        parse(channel(spec))


def test_a_suspended_round_does_not_mark_a_reconcile_request_handled() -> None:
    asked = dataclasses.replace(SPEC, reconcile_requested="2027-01-15T09:00:00.000001Z",
                                suspend=True)
    paused = status_body(Outcome(OutcomeKind.SUSPENDED, T0, "suspended"), spec=asked)
    assert "lastHandledReconcileAt" not in paused
    resumed = dataclasses.replace(asked, suspend=False)
    handled = status_body(applied(at=T0 + 60), spec=resumed, previous=paused)
    assert handled["lastHandledReconcileAt"] == "2027-01-15T09:00:00.000001Z"
