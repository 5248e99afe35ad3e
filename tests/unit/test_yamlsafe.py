"""YAML from outside: limits, duplicate keys, alias bombs and cycles, and fuzzing that ends
only in the project's own errors; the one-pass weigher of documents without anchors, and the
dumper."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer import yamlsafe
from syncer.config import parse_config
from syncer.errors import ConfigError, RenderError
from syncer.render import load_values
from syncer.yamlsafe import Limits, load, load_all


def bomb(levels: int = 9, width: int = 9) -> str:
    """The billion laughs: `levels` lists of `width` aliases of the list before (~1 KB)."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_grows() -> None:
    assert len(bomb()) < 1200
    with pytest.raises(ConfigError, match=r"x\.yaml:\d+: expands to more than"):
        load(bomb(), where="x.yaml", error=ConfigError)


def test_aliases_that_stay_small_are_fine() -> None:
    doc = load("base: &b {cpu: 1}\nweb: *b\napi: {<<: *b, cpu: 2}\n", where="x",
               error=ConfigError)
    assert doc == {"base": {"cpu": 1}, "web": {"cpu": 1}, "api": {"cpu": 2}}


@pytest.mark.parametrize(("text", "line"), [
    ("a: 1\nb: 2\na: 3\n", 3),
    ("outer:\n  x: 1\n  x: 1\n", 3),
    ("- {k: 1, k: 2}\n", 1),
    ("{1: a, 1.0: b}\n", 1),
])
def test_duplicate_keys_are_refused_with_their_line(text: str, line: int) -> None:
    with pytest.raises(RenderError, match=rf"^t\.yaml:{line}: duplicate key"):
        load(text, where="t.yaml", error=RenderError)


@pytest.mark.parametrize("text", ["&a [*a]", "&m {k: *m}"])
def test_alias_cycles_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="refers to a node that contains it"):
        load(text, where="c.yaml", error=ConfigError)


def test_nesting_and_size_limits() -> None:
    limits = Limits(max_bytes=100, max_weight=1000, max_depth=5)
    with pytest.raises(ConfigError, match="nested deeper than 5"):
        load("[[[[[[1]]]]]]", where="d", error=ConfigError, limits=limits)
    assert load("[[[[1]]]]", where="d", error=ConfigError, limits=limits) == [[[[1]]]]
    with pytest.raises(ConfigError, match="over the limit of 100"):
        load("x" * 101, where="d", error=ConfigError, limits=limits)
    with pytest.raises(ConfigError, match="expands to more than 1000"):
        load("a: &s " + "y" * 90 + "\nb: [" + ", ".join(["*s"] * 12) + "]", where="d",
             error=ConfigError, limits=Limits(max_weight=1000))
    with pytest.raises(ConfigError, match="nested too deeply|nested deeper|invalid YAML"):
        load("[" * 5000 + "]" * 5000, where="d", error=ConfigError)


def test_one_document_or_all() -> None:
    assert load("", where="e", error=ConfigError) is None
    assert load_all("a: 1\n---\n---\nb: 2\n", where="e", error=ConfigError) == [
        {"a": 1}, None, {"b": 2}]
    with pytest.raises(ConfigError, match="more than one YAML document"):
        load("a: 1\n---\nb: 2\n", where="e", error=ConfigError)


def test_a_second_channel_entry_is_refused_in_syncer_yaml() -> None:
    text = ("version: 1\nchannels:\n  shop-dev: {branch: main, namespace: shop-dev}\n"
            "  shop-dev: {branch: main, namespace: kube-system}\n")
    with pytest.raises(ConfigError, match=r"syncer\.yaml:4: duplicate key 'shop-dev'"):
        parse_config(text)


def test_values_files_refuse_duplicates_and_bombs() -> None:
    files = {"values/a.yaml": b"replicas: 1\nreplicas: 5\n", "values/b.yaml": bomb().encode()}
    with pytest.raises(RenderError, match=r"values/a\.yaml:2: duplicate key"):
        load_values(files, ["values/a.yaml"])
    with pytest.raises(RenderError, match=r"values/b\.yaml:\d+: expands"):
        load_values(files, ["values/b.yaml"])


YAMLISH = st.text(alphabet=st.sampled_from(list("ab01 :-[]{}&*!|>'\"#,?\n\t<=%@`")),
                  max_size=200)


def outcome(text: str) -> Any:
    try:
        return load_all(text, where="fuzz.yaml", error=ConfigError,
                        limits=Limits(max_weight=10_000, max_depth=20))
    except ConfigError as e:
        assert str(e).startswith("fuzz.yaml")
        return e


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(YAMLISH)
def test_fuzzed_yaml_ends_only_in_a_config_error(text: str) -> None:
    outcome(text)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=2, max_value=12), st.integers(min_value=2, max_value=12))
def test_fuzzed_bombs_are_refused(levels: int, width: int) -> None:
    result = outcome(bomb(levels, width))
    assert isinstance(result, ConfigError) == (weight(levels, width) > 10_000)


def weight(levels: int, width: int) -> int:
    """The weight of `bomb(levels, width)` expanded: a node counts 1, a scalar 1 + its
    length ('lol' 4, 'a3' 3)."""
    lists = [1 + 4 * width]
    for _ in range(1, levels):
        lists.append(1 + width * lists[-1])
    return 1 + sum(lists) + sum(1 + len(f"a{n}") for n in range(levels))


def test_documents_without_anchors_are_held_to_the_same_limits() -> None:
    small = Limits(max_weight=1000, max_depth=5)
    with pytest.raises(ConfigError, match=r"^w:1: expands to more than 1000"):
        load("x: " + "y" * 2000, where="w", error=ConfigError, limits=small)
    with pytest.raises(ConfigError, match=r"^w:5: nested deeper than 5"):
        load("a:\n b:\n  c:\n   d:\n    e: [1]\n", where="w", error=ConfigError, limits=small)
    assert load("a: 1 # no anchors here\n", where="w", error=ConfigError) == {"a": 1}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(YAMLISH.filter(lambda text: "&" not in text))
def test_the_tree_weigher_agrees_with_the_alias_weigher(text: str) -> None:
    limits = Limits(max_weight=40, max_depth=4)
    try:
        nodes = list(yaml.compose_all(text, Loader=yamlsafe._Loader))
    except yaml.YAMLError:
        return
    for node in nodes:
        assert _refusal(lambda n=node: yamlsafe._Weigher(limits).weigh(n, 1)) == \
            _refusal(lambda n=node: yamlsafe._weigh_tree(n, limits))


def _refusal(weigh: Any) -> str | None:
    try:
        weigh()
    except yamlsafe._Refused as e:
        return e.problem.split(" (")[0]
    return None


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(JSONISH)
def test_dump_reads_back_as_the_same_values(value: Any) -> None:
    text = yamlsafe.dump(value, default_flow_style=False, sort_keys=False)
    assert load(text, where="d", error=ConfigError) == value


def test_the_c_loader_and_dumper_are_used_when_pyyaml_has_libyaml() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml: the pure-Python loader is the only one")
    assert issubclass(yamlsafe._Loader, yaml.CSafeLoader)
    assert yamlsafe._Dumper is yaml.CSafeDumper
