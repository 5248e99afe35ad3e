"""The controller's metrics as the registry holds them: every sample the exposition carries,
after the calls the controller makes (`syncer.metrics`)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from syncer.errors import (
    ApiConnectionError,
    ClusterError,
    ForbiddenError,
    InvalidError,
    OwnershipError,
    RenderError,
    TooManyRequestsError,
)
from syncer.metrics import OUTCOMES, REASONS, Metrics, error_reason

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(metrics: Metrics, *, buckets: bool = False) -> Samples:
    """Every sample of the exposition but `_created` (a wall-clock time), by name and labels;
    histogram buckets only when asked for."""
    text = metrics.exposition().decode()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.endswith("_created") or (s.name.endswith("_bucket") and not buckets):
                continue
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def test_a_fresh_registry_holds_only_the_leader_gauge_at_zero() -> None:
    assert samples(Metrics()) == {key("syncer_leader"): 0.0}


def test_two_registries_do_not_share_samples() -> None:
    one, two = Metrics(), Metrics()
    one.drift("shop-dev", 4)
    assert samples(two) == {key("syncer_leader"): 0.0}


def test_the_samples_are_exactly_what_happened() -> None:
    m = Metrics()
    m.reconciled("shop-dev", seconds=0.2, outcome="applied")
    m.reconciled("shop-dev", seconds=3.0, outcome="unchanged")
    m.reconciled("shop-dev", seconds=0.01, outcome="unchanged")
    m.release_applied("shop-dev", 7, at=1_800_000_000.5)
    m.drift("shop-dev", 3)
    m.apply_error("shop-dev", "forbidden")
    m.apply_error("shop-dev", "forbidden")
    m.apply_error("shop-prod", "timeout")
    m.suspended("shop-prod", True)
    m.leader(True)
    duration = "syncer_reconcile_duration_seconds"
    assert samples(m) == {
        key(f"{duration}_count", channel="shop-dev", outcome="applied"): 1.0,
        key(f"{duration}_sum", channel="shop-dev", outcome="applied"): 0.2,
        key(f"{duration}_count", channel="shop-dev", outcome="unchanged"): 2.0,
        key(f"{duration}_sum", channel="shop-dev", outcome="unchanged"): 3.01,
        key("syncer_release_seq", channel="shop-dev"): 7.0,
        key("syncer_last_success_timestamp_seconds", channel="shop-dev"): 1_800_000_000.5,
        key("syncer_drift_objects", channel="shop-dev"): 3.0,
        key("syncer_apply_errors_total", channel="shop-dev", reason="forbidden"): 2.0,
        key("syncer_apply_errors_total", channel="shop-prod", reason="timeout"): 1.0,
        key("syncer_channel_suspended", channel="shop-prod"): 1.0,
        key("syncer_leader"): 1.0,
    }


def test_histogram_buckets_count_the_reconciles_at_or_under_each_bound() -> None:
    m = Metrics()
    for seconds in (0.01, 0.3, 0.3, 4.0, 900.0):
        m.reconciled("shop-dev", seconds=seconds, outcome="failed")
    found = samples(m, buckets=True)

    def bucket(le: str) -> float:
        return found[key("syncer_reconcile_duration_seconds_bucket", channel="shop-dev",
                         outcome="failed", le=le)]

    assert [bucket(le) for le in ("0.05", "0.25", "0.5", "5.0", "600.0", "+Inf")] == \
        [1.0, 1.0, 3.0, 4.0, 4.0, 5.0]
    assert found[key("syncer_reconcile_duration_seconds_count", channel="shop-dev",
                     outcome="failed")] == 5.0


def test_a_later_release_and_a_later_check_replace_the_gauges() -> None:
    m = Metrics()
    m.release_applied("shop-dev", 7, at=100.0)
    m.release_applied("shop-dev", 8, at=200.0)
    m.drift("shop-dev", 5)
    m.drift("shop-dev", 0)
    m.suspended("shop-dev", True)
    m.suspended("shop-dev", False)
    m.leader(True)
    m.leader(False)
    found = samples(m)
    assert found[key("syncer_release_seq", channel="shop-dev")] == 8.0
    assert found[key("syncer_last_success_timestamp_seconds", channel="shop-dev")] == 200.0
    assert found[key("syncer_drift_objects", channel="shop-dev")] == 0.0
    assert found[key("syncer_channel_suspended", channel="shop-dev")] == 0.0
    assert found[key("syncer_leader")] == 0.0


def test_forget_removes_every_series_of_the_channel_and_only_those() -> None:
    m = Metrics()
    for channel in ("shop-dev", "shop-prod"):
        for outcome in OUTCOMES:
            m.reconciled(channel, seconds=1.0, outcome=outcome)
        m.release_applied(channel, 3, at=50.0)
        m.drift(channel, 1)
        m.apply_error(channel, "invalid")
        m.apply_error(channel, "other")
        m.suspended(channel, False)
    m.forget("shop-dev")
    channels = {dict(labels).get("channel") for _, labels in samples(m, buckets=True)}
    assert channels == {"shop-prod", None}  # None: syncer_leader
    # per outcome a _count and a _sum; seq, last success, drift, two reasons, suspended
    assert len(samples(m)) == 2 * len(OUTCOMES) + 6 + 1


def test_forget_of_an_unknown_channel_does_nothing() -> None:
    m = Metrics()
    m.drift("shop-dev", 2)
    m.forget("nowhere")
    assert samples(m)[key("syncer_drift_objects", channel="shop-dev")] == 2.0


def test_a_forgotten_channel_starts_again_from_nothing() -> None:
    m = Metrics()
    m.apply_error("shop-dev", "conflict")
    m.forget("shop-dev")
    m.apply_error("shop-dev", "conflict")
    assert samples(m)[key("syncer_apply_errors_total", channel="shop-dev",
                          reason="conflict")] == 1.0


@pytest.mark.parametrize("outcome", ["ok", "Applied", ""])
def test_an_unknown_outcome_is_refused(outcome: str) -> None:
    with pytest.raises(ValueError, match="outcome"):
        Metrics().reconciled("shop-dev", seconds=1.0, outcome=outcome)  # type: ignore[arg-type]


def test_an_unknown_reason_is_refused_so_that_the_series_stay_few() -> None:
    with pytest.raises(ValueError, match="reason"):
        Metrics().apply_error("shop-dev", "Deployment/shop/web")  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "reason"), [
    (ForbiddenError("no"), "forbidden"),
    (InvalidError("bad", causes=(("spec", "x"),)), "invalid"),
    (TooManyRequestsError("slow down"), "throttled"),
    (ApiConnectionError("refused", sent=False), "connection"),
    (OwnershipError("owned by another channel"), "ownership"),
    (ClusterError("something"), "other"),
    (RenderError("bad template"), "other"),
    (OSError("disk"), "other"),
])
def test_error_reason_names_the_class_of_the_error(error: BaseException, reason: str) -> None:
    assert error_reason(error) == reason
    assert reason in REASONS
