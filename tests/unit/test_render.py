"""Render: templates and values to objects; errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.config import merge_values, parse_config
from syncer.errors import RenderError
from syncer.render import RenderContext, load_values, render, render_channel
from syncer.renderlimits import Limits

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop"
CTX = RenderContext("demo", "demo-ns", {"name": "web", "port": 80})


def _files(**texts: str) -> dict[str, bytes]:
    return {f"templates/{k.replace('__', '.')}": v.encode() for k, v in texts.items()}


def test_example_renders_for_both_channels() -> None:
    files = {str(p.relative_to(EXAMPLE)): p.read_bytes() for p in EXAMPLE.rglob("*")
             if p.is_file()}
    config = parse_config(files["syncer.yaml"])
    dev = render_channel(files, config=config, channel=config.channel("shop-dev"))
    prod = render_channel(files, config=config, channel=config.channel("shop-prod"))
    kinds = ["ConfigMap", "Deployment", "Namespace", "Service"]
    assert [o["kind"] for o in dev] == [o["kind"] for o in prod] == kinds
    assert dev[1]["spec"]["replicas"] == 1 and prod[1]["spec"]["replicas"] == 3
    assert dev[0]["data"]["FEATURE_REVIEWS"] == "true"


def test_plain_yaml_and_templates_and_partials() -> None:
    files = _files(
        a__yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n---\n",
        b__yaml__j2="{% include 'templates/_meta.j2' %}\ndata: {port: '{{ values.port }}'}\n",
        _meta__j2="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ values.name }}'}",
        notes__txt="ignored",
    )
    objects = render(files, templates="templates", context=CTX)
    assert [o["metadata"]["name"] for o in objects] == ["plain", "web"]
    assert objects[1]["data"] == {"port": "80"}


def test_list_kind_is_expanded() -> None:
    files = _files(l__yaml="apiVersion: v1\nkind: List\nitems:\n"
                   "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
                   "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n")
    assert [o["metadata"]["name"] for o in render(files, templates="templates", context=CTX)] \
        == ["a", "b"]


@pytest.mark.parametrize(("files", "where", "words"), [
    (_files(x__yaml__j2="a: 1\nb: {{ values.missing }}\n"), "templates/x.yaml.j2:2",
     "no attribute 'missing'"),
    (_files(x__yaml__j2="a: 1\n\nb: {% if %}\n"), "templates/x.yaml.j2:3", "syntax error"),
    (_files(x__yaml__j2="{% include 'templates/_p.j2' %}\n",
            _p__j2="one\ntwo {{ nope }}\n"), "templates/_p.j2:2", "'nope' is undefined"),
    (_files(x__yaml="a: [1,\nb: 2\n"), "templates/x.yaml:", "invalid YAML"),
    (_files(x__yaml="- just a list\n"), "templates/x.yaml", "not a mapping"),
    (_files(x__yaml="kind: ConfigMap\nmetadata: {name: a}\n"), "templates/x.yaml",
     "no apiVersion"),
    (_files(x__yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            y__yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
     "templates/y.yaml", "duplicate object ConfigMap/a (also in templates/x.yaml)"),
    (_files(x__yaml__j2="{{ ''.__class__.__mro__ }}"), "templates/x.yaml.j2",
     "unsafe"),
])
def test_errors_name_file_and_line(files: dict[str, bytes], where: str, words: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(files, templates="templates", context=CTX)
    assert str(caught.value).startswith(where), str(caught.value)
    assert words in str(caught.value)


def test_values_merge_in_order_and_errors_name_the_file() -> None:
    files = {"values/a.yaml": b"x: {y: 1, z: 2}\nlist: [1]\n", "values/b.yaml": b"x: {y: 3}\n"}
    assert load_values(files, ["values/a.yaml", "values/b.yaml"]) == {
        "x": {"y": 3, "z": 2}, "list": [1]}
    assert merge_values({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    with pytest.raises(RenderError, match=r"^values/c.yaml: values file is not in the bundle"):
        load_values(files, ["values/c.yaml"])
    with pytest.raises(RenderError, match=r"^values/bad.yaml:2: invalid YAML"):
        load_values({"values/bad.yaml": b"a: 1\n b: [\n"}, ["values/bad.yaml"])


BOUNDED = Limits(max_output=100_000, max_seconds=0.5)


@pytest.mark.parametrize(("template", "words"), [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "rendering took longer than 0.5 s"),
    ('{{ "x" * 100000000 }}', "repeating 1 items 100000000 times is too large"),
    ("{{ [1, 2] * 10000000 }}", "repeating 2 items 10000000 times is too large"),
    ("{{ 10 ** 10000000 }}", "is too large a number"),
    ('{% for i in range(1000) %}{{ "y" * 1000 }}{% endfor %}',
     "the output passed 100000 characters"),
    ('{% include "templates/t.yaml.j2" %}', "recurses without end"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "recurses without end"),
])
def test_rendering_is_bounded(template: str, words: str) -> None:
    """Issue 8, findings 8 and 10: a nested loop hung `git push`; recursion and huge
    strings ended in tracebacks."""
    files = {"templates/t.yaml.j2": template.encode()}
    # only the case about time gets a short deadline: on a loaded machine, reaching the
    # recursion limit can itself take longer than 0.5 s
    limits = BOUNDED if "longer than" in words else Limits(max_output=100_000, max_seconds=60)
    with pytest.raises(RenderError, match=rf"^templates/t\.yaml\.j2: .*{words}"):
        render(files, templates="templates", context=RenderContext("c", "n"), limits=limits)


def test_bounds_leave_ordinary_templates_alone() -> None:
    files = {"templates/t.yaml.j2": (b'{% for i in range(3) %}---\napiVersion: v1\nkind: '
                                     b'ConfigMap\nmetadata: {name: "c{{ i }}"}\ndata: {x: '
                                     b'"{{ "ab" * 3 }}{{ 2 ** 10 }}"}\n{% endfor %}')}
    objects = render(files, templates="templates", context=RenderContext("c", "n"),
                     limits=BOUNDED)
    assert [o["data"]["x"] for o in objects] == ["ababab1024"] * 3
