"""Quantities in kube's canonical form, and what decoding into Go structs does to objects."""

from __future__ import annotations

from typing import Any

import pytest
from syncer_standins.kubeapi.decoding import decode, micro_time_error
from syncer_standins.kubeapi.godump import pod_template
from syncer_standins.kubeapi.quantities import canonical
from syncer_standins.kubeapi.schema import builtin_schema


# What kube-apiserver v1.36 returned for what the applies sent.
@pytest.mark.parametrize(("sent", "returned"), [
    (0.5, "500m"),
    (0.25, "250m"),
    ("250m", "250m"),
    ("2.0", "2"),
    ("1", "1"),
    ("1024Mi", "1Gi"),
    ("0.5Gi", "512Mi"),
    ("2048Mi", "2Gi"),
    ("4096Mi", "4Gi"),
    ("1536Mi", "1536Mi"),
    ("1Gi", "1Gi"),
    ("10", "10"),
])
def test_quantities_come_back_canonical(sent: str | float, returned: str) -> None:
    assert canonical(sent) == returned


@pytest.mark.parametrize(("sent", "returned"), [
    (2000, "2k"), ("1500", "1500"), ("1.5", "1500m"), ("0", "0"), ("-0.5", "-500m"),
    ("512", "512"), ("100Ki", "100Ki"), ("1000Mi", "1000Mi"), ("1Ti", "1Ti"),
    ("0.1Gi", "107374182400m"),  # not a whole number of bytes: decimal
    ("1e3", "1e3"), ("1.5e3", "1500"), ("0.0000000001", "1n"),  # rounded up to a nano
])
def test_more_canonical_forms(sent: str | int, returned: str) -> None:
    assert canonical(sent) == returned


@pytest.mark.parametrize("sent", ["abc", "1.5.5", "1Xi", "", True])
def test_what_is_not_a_quantity(sent: Any) -> None:
    with pytest.raises(ValueError, match="quantities must match|a quantity"):
        canonical(sent)


def test_decoding_canonicalises_and_drops_unknown_fields() -> None:
    limit_range = {"spec": {"limits": [{"type": "Container", "default": {"cpu": 0.5},
                                        "bogus": 1}]}, "extra": True}
    decoded = decode(limit_range, builtin_schema("LimitRange"))
    assert decoded.value == {"spec": {"limits": [{"type": "Container",
                                                  "default": {"cpu": "500m"}}]}}
    assert decoded.unknown == ["spec.limits[0].bogus", "extra"]


@pytest.mark.parametrize(("text", "problem"), [
    ("2026-12-01T01:13:28.301844Z", None),
    ("2026-12-01T01:13:28.307Z", 'cannot parse ".307Z" as ".000000"'),
    ("2026-12-01T01:13:28Z", 'cannot parse "Z" as ".000000"'),
    ("2026-12-01T01:13:28.3018440Z", 'cannot parse "0Z" as "Z07:00"'),
])
def test_micro_time_needs_six_digits(text: str, problem: str | None) -> None:
    found = micro_time_error(text)
    if problem is None:
        assert found is None
    else:
        assert found == (f'parsing time "{text}" as "2006-01-02T15:04:05.000000Z07:00": '
                         f"{problem}")


def test_pod_template_printed_as_its_internal_go_struct() -> None:
    text = pod_template({"metadata": {"labels": {"b": "2", "a": "1"}}, "spec": {
        "hostNetwork": True, "containers": [{"name": "c", "image": "i", "resources": {}}]}})
    assert text.startswith('{"labels":{"a":"1","b":"2"},"Spec":{"Volumes":null,')
    assert '"Containers":[{"Name":"c","Image":"i","Command":null,' in text
    assert '"Resources":{"Limits":null,"Requests":null,"Claims":null}' in text
    assert '"SecurityContext":{"HostNetwork":true,"HostPID":false,' in text
    assert text.endswith('"HostnameOverride":null,"SchedulingGroup":null}}')
