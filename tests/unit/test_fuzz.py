"""Hostile input, generated: every loader ends in a value or in the project's own error,
never another exception, a hang or a write (issue 8: at least 100 inputs per loader).

The other loaders' runs are beside their code: YAML in test_yamlsafe.py (300 texts, 150
bombs), bundles built from commits in test_bundle.py.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer import inventory as inv
from syncer.bundle import unpack
from syncer.config import parse_config
from syncer.errors import SyncerError
from syncer.policy import check
from syncer.policyfiles import defaults
from syncer.render import RenderContext, render
from syncer.renderlimits import Limits

RUNS = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20)


def ends_well(load: Any, value: Any) -> None:
    """`load(value)` returns, or raises one of the project's errors; nothing else."""
    with contextlib.suppress(SyncerError):
        load(value)


def tar_of(members: list[tuple[str, bytes, bytes]]) -> bytes:
    """An archive whose members have fuzzed names, types and contents."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name or "x")
            info.type = kind[:1] or tarfile.REGTYPE
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            info.linkname = "../../etc/passwd"
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return out.getvalue()


@RUNS
@given(st.binary(max_size=2000))
def test_unpacking_random_bytes(data: bytes) -> None:
    ends_well(unpack, data)


@RUNS
@given(st.lists(st.tuples(st.sampled_from(["manifest.json", "../up", "/abs", "a/../../b",
                                           "files/syncer.yaml", "files/x", "./files/y", ""]),
                          st.sampled_from([b"0", b"1", b"2", b"3", b"5", b"6", b"x"]),
                          st.binary(max_size=200)), max_size=6))
def test_unpacking_fuzzed_archives(members: list[tuple[str, bytes, bytes]]) -> None:
    ends_well(unpack, tar_of(members))


@RUNS
@given(JSONISH)
def test_inventory_records(data: Any) -> None:
    obj = {"metadata": {"name": "i", "namespace": "n"}, "data": data}
    ends_well(inv.from_configmap, obj)
    ends_well(inv.from_configmap, {"data": {"channel": "c", "release": "1", "blobId": "b",
                                            "commit": "c", "entries": str(data)}})


@RUNS
@given(st.text(max_size=300))
def test_syncer_yaml(text: str) -> None:
    ends_well(parse_config, text)


@RUNS
@given(JSONISH)
def test_syncer_yaml_shapes(data: Any) -> None:
    ends_well(parse_config, repr(data))
    ends_well(parse_config, f"version: 1\nchannels: {data!r}\n")


TEMPLATE_PIECES = st.sampled_from([
    "{{ values }}", "{{ values.x }}", "{% for i in range(3) %}", "{% endfor %}", "{% if x %}",
    "{% endif %}", "{{ 'a' * 3 }}", "{{ 1 / 0 }}", "{{ [] | first }}", "{% include 'x' %}",
    "apiVersion: v1\n", "kind: ConfigMap\n", "metadata: {name: a}\n", "---\n", "{{", "}}",
    "{%", "%}", "{#", "data: {k: {{ namespace }}}\n", "{{ ''.__class__ }}", "{{ x | to_yaml }}",
    "{% macro m() %}{{ m() }}{% endmacro %}", "{{ m() }}", "- ", ": ", "&a ", "*a ",
])


@RUNS
@given(st.lists(TEMPLATE_PIECES, max_size=12).map("".join))
def test_templates(text: str) -> None:
    files = {"templates/t.yaml.j2": text.encode()}
    ends_well(lambda f: render(f, templates="templates", context=RenderContext("c", "n"),
                               limits=Limits(max_output=100_000, max_seconds=2)), files)


@RUNS
@given(st.lists(JSONISH, max_size=4))
def test_policy_checks(objects: list[Any]) -> None:
    shaped = [o if isinstance(o, dict) else {"kind": "Secret", "data": o} for o in objects]
    ends_well(lambda objs: check(objs, defaults()), shaped)
