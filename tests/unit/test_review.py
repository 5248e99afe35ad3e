"""Tests of the pure parts of `syncer diff`'s review: sides, field changes with values,
verbs and counts, the table and text, the machine form, the Markdown, and masking in every
form (a Hypothesis property)."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer import sides
from syncer.errors import ConfigError
from syncer.fieldpaths import FieldChange, changed_fields
from syncer.model import Obj, ObjectRef
from syncer.review import Finding, Pair, Review, Verb, as_data, pair_objects, redact, review
from syncer.reviewtext import ChannelReport, lines, markdown, table, text

TESTDATA = Path(__file__).parent.parent / "testdata" / "diff"
relaxed = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None,
                   max_examples=60)


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((TESTDATA / f"{name}.yaml").read_text())
    return loaded


def cm(name: str = "shop-config", **data: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop"}, "data": data}


def secret(name: str = "db", *, data: dict[str, str] | None = None,
           string_data: dict[str, str] | None = None, kind: str = "Secret") -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": kind, "type": "Opaque",
                "metadata": {"name": name, "namespace": "shop"}}
    if data is not None:
        obj["data"] = data
    if string_data is not None:
        obj["stringData"] = string_data
    return obj


# --------------------------------------------------------------------------- sides


@pytest.mark.parametrize(("text", "kind", "rev", "seq"), [
    ("live", sides.Kind.LIVE, "", None),
    ("worktree", sides.Kind.WORKTREE, "", None),
    ("@3", sides.Kind.RELEASE, "", 3),
    ("seq:12", sides.Kind.RELEASE, "", 12),
    ("@head", sides.Kind.RELEASE, "", None),
    ("HEAD~1", sides.Kind.COMMIT, "HEAD~1", None),
    ("@", sides.Kind.COMMIT, "@", None),
    ("@{u}", sides.Kind.COMMIT, "@{u}", None),
    ("git:live", sides.Kind.COMMIT, "live", None),
    ("git:@3", sides.Kind.COMMIT, "@3", None),
    ("feature/x", sides.Kind.COMMIT, "feature/x", None),
])
def test_a_side_is_read_as_written(text: str, kind: sides.Kind, rev: str,
                                   seq: int | None) -> None:
    assert sides.parse(text) == sides.Side(kind, rev=rev, seq=seq)


@pytest.mark.parametrize("text", ["", "--upload-pack=x", "git:", "a b", "x\x00y", "r" * 300])
def test_what_cannot_be_a_side_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(ConfigError) as refused:
        sides.parse(text)
    assert "\n" not in str(refused.value)


def test_the_default_pairs_keep_todays_diff() -> None:
    live, head = sides.LIVE, sides.Side(sides.Kind.RELEASE)
    assert sides.pair([]) == (live, head)
    assert sides.pair([], seq=4) == (live, sides.Side(sides.Kind.RELEASE, seq=4))
    assert sides.pair(["worktree"]) == (live, sides.Side(sides.Kind.WORKTREE))
    assert sides.pair(["@1", "HEAD"]) == (sides.Side(sides.Kind.RELEASE, seq=1),
                                          sides.Side(sides.Kind.COMMIT, rev="HEAD"))
    assert sides.pair(["worktree", "live"])[1] == live


@pytest.mark.parametrize(("given_sides", "seq"), [(["live"], None), (["live", "live"], None),
                                                  (["@1"], 2), (["a", "b", "c"], None)])
def test_impossible_pairs_are_refused(given_sides: list[str], seq: int | None) -> None:
    with pytest.raises(ConfigError):
        sides.pair(given_sides, seq=seq)


def test_ranges() -> None:
    assert sides.parse_range("main..feature") == sides.Range("main", "feature")
    assert sides.parse_range("main...") == sides.Range("main", "HEAD", merge_base=True)
    assert str(sides.parse_range("a...b")) == "a...b"
    for bad in ("main", "..-x"):
        with pytest.raises(ConfigError):
            sides.parse_range(bad)


# --------------------------------------------------------------------------- field changes


def test_field_changes_carry_old_and_new_values_by_merge_key() -> None:
    live = fixture("deployment-env-unchanged")["live"]
    after = copy.deepcopy(live)
    container = after["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "PORT", "value": "80"}]
    container["image"] = "nginx:1.27"
    old_image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    assert changed_fields(live, after) == (
        FieldChange(".spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value",
                    "change", "info", "debug"),
        FieldChange(".spec.template.spec.containers[name=web].image", "change", old_image,
                    "nginx:1.27"),
    )


def test_added_and_removed_items_are_given_as_the_object_holds_them() -> None:
    before = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"},
              "spec": {"containers": [{"name": "web", "env": [{"name": "A", "value": "1"}]}],
                       "args": ["x"]}}
    after = copy.deepcopy(before)
    after["spec"]["containers"].append({"name": "side", "env": [{"name": "B", "value": "2"}]})
    after["spec"]["args"] = []
    found = changed_fields(before, after)
    assert FieldChange(".spec.containers[name=side]", "add", None,
                       {"name": "side", "env": [{"name": "B", "value": "2"}]}) in found
    assert FieldChange(".spec.args[0]", "remove", "x", None) in found


def test_a_new_object_lists_its_top_level_fields() -> None:
    found = changed_fields(None, cm(A="1"))
    assert [(c.path, c.op) for c in found] == [(".apiVersion", "add"), (".data", "add"),
                                               (".kind", "add"), (".metadata", "add")]
    assert changed_fields(cm(A="1"), cm(A="1")) == ()


def test_secret_field_values_are_masks() -> None:
    found = changed_fields(secret(data={"p": base64.b64encode(b"hunter22").decode()}),
                           secret(string_data={"p": "n3wpass!"}))
    assert {(c.path, c.op) for c in found} == {(".data", "remove"), (".stringData", "add")}
    assert "hunter22" not in repr(found) and "n3wpass" not in repr(found)
    assert "aHVudGVyMjI" not in repr(found)


# --------------------------------------------------------------------------- review


def test_verbs_counts_and_exit_codes() -> None:
    pairs = pair_objects([cm("a", X="1"), cm("b", X="1"), cm("c")],
                         [cm("b", X="2"), cm("c"), cm("d")])
    item = review(pairs, labels=("@1", "@2"), channel="shop")
    verbs = {o.ref.name: o.verb for o in item.objects}
    assert verbs == {"a": Verb.DELETE, "b": Verb.UPDATE, "c": Verb.UNCHANGED, "d": Verb.CREATE}
    assert item.counts() == {"create": 1, "update": 1, "delete": 1, "unchanged": 1,
                             "blocked": 0}
    b = next(o for o in item.objects if o.ref.name == "b")
    assert (b.added, b.removed) == (1, 1)
    assert b.diff.startswith("--- @1/ConfigMap/shop/b\n+++ @2/ConfigMap/shop/b\n")
    assert b.fields == (FieldChange(".data.X", "change", "1", "2"),)
    lean = review(pairs, labels=("@1", "@2"), channel="shop", fields=False)
    assert [o.diff for o in lean.objects] == [o.diff for o in item.objects]
    assert all(o.fields == () for o in lean.objects)
    assert item.exit_code == 1
    same = review(pair_objects([cm()], [cm()]), labels=("a", "b"), channel="shop")
    assert same.exit_code == 0 and lines(same) == []
    denied = Review("a", "b", "shop", same.objects, (Finding("deny", "no"),))
    assert denied.exit_code == 1
    warned = Review("a", "b", "shop", same.objects, (Finding("warn", "hm"),))
    assert warned.exit_code == 0


def test_a_swapped_pair_turns_a_create_into_a_delete() -> None:
    ref = ObjectRef("", "ConfigMap", "shop", "a")
    (item,) = review([Pair(ref, None, cm("a")).swapped()], labels=("x", "y"),
                     channel="s").objects
    assert item.verb is Verb.DELETE and item.removed > 0 and item.added == 0


def test_table_and_text_lines() -> None:
    item = review(pair_objects([cm("a", X="1")], [cm("a", X="2"), cm("long-name-here")]),
                  labels=("HEAD", "worktree"), channel="shop",
                  findings=[Finding("warn", "careful")])
    rows = [line.text for line in table(item)]
    assert rows[0].split() == ["KIND", "NAMESPACE", "NAME", "ACTION", "+", "-"]
    assert rows[1].split() == ["ConfigMap", "shop", "a", "update", "1", "1"]
    assert rows[2].split()[2:4] == ["long-name-here", "create"]
    out = text(item, title="HEAD -> the work tree")
    assert out.splitlines()[0] == "# HEAD -> the work tree"
    assert "1 to create, 1 to update, 0 to delete, 0 unchanged" in out
    assert "policy warn: careful" in out
    assert "" not in out.splitlines()
    changed = [ln for ln in out.splitlines() if ln[:1] in "+-" and not ln.startswith(
        ("---", "+++"))]
    assert changed[:2] == ["-  X: '1'", "+  X: '2'"]
    assert all(ln.startswith("+") for ln in changed[2:]) and len(changed) == 2 + 6


def test_blocked_objects_say_why() -> None:
    ref = ObjectRef("", "ConfigMap", "shop", "a")
    item = review([Pair(ref, cm("a"), cm("a"), note="exists, not managed by this channel")],
                  labels=("live", "desired"), channel="shop")
    assert item.objects[0].verb is Verb.BLOCKED
    assert "# ConfigMap/shop/a: exists, not managed by this channel" in text(item)


def test_machine_form() -> None:
    item = review(pair_objects([cm("a", X="1")], [cm("a", X="2")]), labels=("@1", "@2"),
                  channel="shop", findings=[Finding("deny", "nope")])
    data = json.loads(json.dumps(as_data(item, sides={"from": {"side": "@1"}})))
    assert data["summary"]["update"] == 1 and data["from"] == "@1" and data["to"] == "@2"
    assert data["sides"] == {"from": {"side": "@1"}}
    assert data["policy"] == [{"severity": "deny", "message": "nope"}]
    (obj,) = data["objects"]
    assert {k: obj[k] for k in ("kind", "namespace", "name", "action")} == {
        "kind": "ConfigMap", "namespace": "shop", "name": "a", "action": "update"}
    assert obj["changes"] == [{"path": ".data.X", "op": "change", "old": "1", "new": "2"}]


# --------------------------------------------------------------------------- Markdown


def test_markdown_report() -> None:
    item = review(pair_objects([cm("a", X="1")], [cm("a", X="2")]), labels=("b", "h"),
                  channel="shop", findings=[Finding("deny", "Secret/x: <b>|no|</b>")])
    reports = [ChannelReport("shop", item), ChannelReport("prod", error="bad | thing"),
               ChannelReport("dev", review(pair_objects([cm()], [cm()]), labels=("b", "h"),
                                           channel="dev"))]
    md = markdown(reports, title="syncer diff main..HEAD")
    assert md.startswith("## syncer diff main..HEAD\n")
    assert "| ConfigMap | shop | a | update | 1 | 1 |" in md
    assert "- **deny**: Secret/x: \\<b\\>\\|no\\|\\</b\\>" in md
    assert "<details>\n<summary>ConfigMap/shop/a (update, +1 -1)</summary>" in md
    assert "```diff\n--- b/ConfigMap/shop/a\n" in md and "\n```\n\n</details>" in md
    assert "### Channel `prod`\n\n**Error:** bad \\| thing" in md
    assert "No changes: 0 to create" in md and "**Policy:** passed." in md


def test_markdown_fences_outlast_backticks_in_the_diff() -> None:
    item = review(pair_objects([cm("a", X="```")], [cm("a", X="````")]), labels=("b", "h"),
                  channel="shop")
    md = markdown([ChannelReport("shop", item)], title="t")
    assert "`````diff\n" in md and "\n`````\n" in md


# --------------------------------------------------------------------------- masking


_VALUES = st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789", min_size=10, max_size=20)
_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8)


@st.composite
def secret_sides(draw: st.DrawFn) -> tuple[Obj | None, Obj | None, list[str]]:
    """Two versions of a Secret (either may be absent), and every value they hold."""
    kind = draw(st.sampled_from(["Secret", "secret", "SECRET"]))
    objs: list[Obj | None] = []
    values: list[str] = []
    for _ in range(2):
        if draw(st.booleans()) and objs and objs[0] is not None:
            objs.append(None)
            continue
        plain = draw(st.dictionaries(_KEYS, _VALUES, max_size=3))
        coded = draw(st.dictionaries(_KEYS, _VALUES, max_size=3))
        values += [*plain.values(), *coded.values()]
        data = {k: base64.b64encode(v.encode()).decode() for k, v in coded.items()}
        objs.append(secret(kind=kind, data=data, string_data=plain))
    return objs[0], objs[1], values


def _every_form(before: Obj | None, after: Obj | None) -> str:
    pairs = [Pair(ObjectRef("", "Secret", "shop", "db"), before, after)]
    item = review(pairs, labels=("a", "b"), channel="shop")
    swapped = review([pairs[0].swapped()], labels=("b", "a"), channel="shop")
    forms = [text(item), text(swapped), json.dumps(as_data(item), default=str),
             yaml.safe_dump(as_data(item)), markdown([ChannelReport("shop", item)], title="t"),
             "".join(line.text for line in lines(item))]
    return "\n".join(forms)


@relaxed
@given(secret_sides())
def test_no_secret_value_leaks_in_any_form(drawn: tuple[Obj | None, Obj | None,
                                                        list[str]]) -> None:
    before, after, values = drawn
    shown = _every_form(before, after)
    for value in values:
        encoded = base64.b64encode(value.encode()).decode()
        assert value not in shown and encoded.rstrip("=") not in shown, value
    if values and before != after:
        assert re.search(r"\+{8,}", shown)


def test_policy_messages_quoting_a_secret_value_are_redacted() -> None:
    objects = [secret(data={"p": base64.b64encode(b"hunter22").decode()},
                      string_data={"q": "opensesame"}), cm(X="visible")]
    message = "Secret/db: p is hunter22 (aHVudGVyMjI=), q is opensesame; X is visible"
    assert redact(message, objects) == ("Secret/db: p is ++++++++ (++++++++), q is "
                                        "++++++++; X is visible")
    assert redact("a b", [secret(string_data={"k": "a"})]) == "a b"
