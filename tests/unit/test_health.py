"""Tests of syncer.health: one YAML fixture per case (tests/testdata/health/<kind>-<case>.yaml,
an object as the API server returns it under a first line `# expect: <Status> <reason
substring>`), as gitops-engine's health_test.go; then worst(), Status.final and hostile input."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer import health
from syncer.health import Health, Status

TESTDATA = Path(__file__).parent.parent / "testdata" / "health"
CASES = sorted(TESTDATA.glob("*.yaml"))
EXPECT = re.compile(r"# expect: (Healthy|Progressing|Degraded) (\S.*)\n")


def expected(path: Path) -> tuple[Status, str]:
    found = EXPECT.match(path.read_text())
    assert found, f"{path.name}: the first line must be '# expect: <Status> <reason>'"
    return Status(found[1]), found[2]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fixture(path: Path) -> None:
    status, reason = expected(path)
    got = health.of(yaml.safe_load(path.read_text()))
    assert (got.status, reason in got.reason) == (status, True), got


def test_every_rule_and_every_status_has_fixtures() -> None:
    kinds = {p.stem.split("-")[0] for p in CASES}
    assert kinds >= {"deployment", "statefulset", "daemonset", "job", "pvc", "pod", "crd",
                     "custom", "configmap"}
    assert {expected(p)[0] for p in CASES} == set(Status)


# --------------------------------------------------------------------------- worst, final


def h(status: Status) -> Health:
    return Health(status, "")


@pytest.mark.parametrize(("statuses", "want"), [
    ((), Status.HEALTHY),
    ((Status.HEALTHY, Status.HEALTHY), Status.HEALTHY),
    ((Status.HEALTHY, Status.PROGRESSING), Status.PROGRESSING),
    ((Status.DEGRADED, Status.PROGRESSING, Status.HEALTHY), Status.DEGRADED),
    ((Status.PROGRESSING, Status.DEGRADED), Status.DEGRADED),
])
def test_worst(statuses: tuple[Status, ...], want: Status) -> None:
    assert health.worst(h(s) for s in statuses) is want


def test_only_progressing_keeps_a_wait_going() -> None:
    assert [s for s in Status if not s.final] == [Status.PROGRESSING]


# --------------------------------------------------------------------------- edges


def case(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((TESTDATA / f"{name}.yaml").read_text())
    return loaded


def test_a_reason_is_one_line_and_short() -> None:
    obj = case("custom-ready-false")
    obj["status"]["conditions"][0]["message"] = "first line\nsecond line " + "x" * 500
    reason = health.of(obj).reason
    assert (reason.startswith("not ready (False): DependencyNotReady: first line second line"),
            "\n" in reason, len(reason)) == (True, False, 200)


def test_a_status_written_for_an_older_generation_does_not_count() -> None:
    obj = case("deployment-progress-deadline-exceeded")
    obj["metadata"]["generation"] = 3  # the spec was changed again: the deadline is old news
    assert health.of(obj) == Health(
        Status.PROGRESSING, "waiting for the controller to observe generation 3 (observed: 2)")


def test_a_workload_kind_in_another_group_has_no_rule() -> None:
    obj = case("deployment-no-nodes")
    obj["apiVersion"] = "example.com/v1"
    assert health.of(obj) == Health(Status.HEALTHY, "no health rule")


@pytest.mark.parametrize("value", ["2", 2.0, True, None, [2], {"n": 2}])
def test_a_replica_count_of_the_wrong_type_is_the_default(value: Any) -> None:
    obj = case("deployment-default-replicas")
    obj["spec"]["replicas"] = value
    assert health.of(obj) == Health(Status.HEALTHY, "1 of 1 replicas available")


@pytest.mark.parametrize("status", ["Running", 3, None, [], {"phase": 1}])
def test_a_status_that_is_not_a_mapping_reads_as_none(status: Any) -> None:
    obj = case("job-running")
    obj["status"] = status
    assert health.of(obj) == Health(Status.PROGRESSING, "Job not started yet")


def test_conditions_of_the_wrong_shape_are_skipped() -> None:
    obj = case("job-failed-backoff-limit")
    good = obj["status"]["conditions"][1]
    obj["status"]["conditions"] = ["Failed", None, {"type": 7, "status": "True"}, good]
    assert health.of(obj).status is Status.DEGRADED


def test_not_a_mapping_at_all() -> None:
    anything: Any = ["apps/v1", "Deployment"]
    assert health.of(anything) == Health(Status.HEALTHY, "no health rule")


# --------------------------------------------------------------------------- never raises


KINDS = [("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"),
         ("batch/v1", "Job"), ("v1", "PersistentVolumeClaim"), ("v1", "Pod"),
         ("apiextensions.k8s.io/v1", "CustomResourceDefinition"), ("example.com/v1", "Widget"),
         ("v1", "ConfigMap")]
FIELDS = ["replicas", "paused", "progressDeadlineSeconds", "updateStrategy", "rollingUpdate",
          "partition", "type", "restartPolicy", "volumeName", "observedGeneration",
          "updatedReplicas", "availableReplicas", "readyReplicas", "currentReplicas",
          "currentRevision", "updateRevision", "desiredNumberScheduled",
          "currentNumberScheduled", "updatedNumberScheduled", "numberAvailable", "phase",
          "startTime", "active", "succeeded", "failed", "containerStatuses",
          "initContainerStatuses", "state", "waiting", "terminated", "reason", "message",
          "exitCode", "name", "generation", "deletionTimestamp"]
CONDITION_TYPES = ["Ready", "Stalled", "Reconciling", "Available", "Progressing", "Failed",
                   "FailureTarget", "Complete", "SuccessCriteriaMet", "Suspended",
                   "Established", "NamesAccepted", "PodScheduled"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                    st.floats(allow_nan=True), st.text(max_size=8),
                    st.sampled_from(["True", "False", "Unknown", "OnDelete", "Bound", "Lost",
                                     "Running", "Failed", "Succeeded", "CrashLoopBackOff",
                                     "ProgressDeadlineExceeded", "NewReplicaSetAvailable"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=4)), inner,
                    max_size=4)), max_leaves=12)
conditions = st.lists(st.one_of(json_values, st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(CONDITION_TYPES), json_values),
     "status": st.one_of(st.sampled_from(["True", "False", "Unknown"]), json_values)},
    optional={"reason": json_values, "message": json_values})), max_size=5)
sections = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
statuses = st.one_of(json_values, st.builds(lambda s, c: {**s, "conditions": c}, sections,
                                            conditions))


@st.composite
def objects(draw: st.DrawFn) -> dict[str, Any]:
    api_version, kind = draw(st.sampled_from(KINDS))
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind,
                           "metadata": draw(st.one_of(sections, json_values)),
                           "spec": draw(st.one_of(sections, json_values)),
                           "status": draw(statuses)}
    return obj


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=400)
@given(objects())
def test_of_never_raises_and_says_one_line(obj: dict[str, Any]) -> None:
    got = health.of(obj)
    assert isinstance(got.status, Status) and "\n" not in got.reason and got.reason
