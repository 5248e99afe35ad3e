"""Plan: placing, decorating, deciding, ordering; prune safety."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.errors import RenderError, UnsafePruneError
from syncer.model import Action, Obj, ObjectRef
from syncer.plan import LiveState, PruneRules, apply_order, decide, decorate, guarded_prunes, place

SCOPES = {("", "ConfigMap"): True, ("", "Namespace"): False, ("apps", "Deployment"): True,
          ("apiextensions.k8s.io", "CustomResourceDefinition"): False,
          ("rbac.authorization.k8s.io", "ClusterRole"): False}


def scope(group: str, kind: str) -> bool | None:
    return SCOPES.get((group, kind))


def cm(name: str, ns: str = "", **data: str) -> Obj:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": dict(data)}


def test_place_sets_namespace_only_on_namespaced_kinds() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    placed = place([cm("a"), cm("b", "other"), ns], scope=scope, namespace="shop")
    assert [ObjectRef.of(o).namespace for o in placed] == ["shop", "other", ""]


@pytest.mark.parametrize(("obj", "words"), [
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "y"}},
     "cluster-scoped"),
    ({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
     "serves no kind 'Widget'"),
])
def test_place_refuses(obj: Obj, words: str) -> None:
    with pytest.raises(RenderError, match=words):
        place([obj], scope=scope, namespace="shop")


def test_place_refuses_duplicates_after_placing() -> None:
    with pytest.raises(RenderError, match="duplicate"):
        place([cm("a"), cm("a", "shop")], scope=scope, namespace="shop")


def test_decorate_adds_labels_and_annotations_without_touching_input() -> None:
    original = cm("a", "shop")
    out = decorate([original], channel="shop-dev", seq=3, blob_id="B" * 43)[0]
    assert out["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "syncer",
                                         "syncer.io/channel": "shop-dev"}
    assert out["metadata"]["annotations"] == {"syncer.io/release": "3",
                                              "syncer.io/blob-id": "B" * 43}
    assert "labels" not in original["metadata"]


def _live(obj: Obj, **annotations: str) -> Obj:
    out = copy.deepcopy(obj)
    out["metadata"].setdefault("annotations", {}).update(annotations)
    out["metadata"]["resourceVersion"] = "7"
    return out


def test_decide_classifies_each_object() -> None:
    same, changed, new = cm("same", "s", a="1"), cm("changed", "s", a="1"), cm("new", "s")
    keep = _live(cm("keep", "s"), **{"syncer.io/apply": "if-not-present"})
    gone, pinned = cm("gone", "s"), _live(cm("pinned", "s"), **{"syncer.io/prune": "disabled"})
    live = {ObjectRef.of(o): o for o in [_live(same), _live(cm("changed", "s", a="2")),
                                          keep, _live(gone), pinned]}
    desired = [same, changed, new, {**keep, "data": {"x": "y"}}]
    inventory = [ObjectRef.of(o) for o in [same, changed, gone, pinned, cm("vanished", "s")]]
    changes = decide(desired, LiveState(live), inventory, channel="c").changes
    actions = {c.ref.name: c.action for c in changes}
    assert actions == {"same": Action.UNCHANGED, "changed": Action.UPDATE, "new": Action.CREATE,
                       "keep": Action.SKIP, "gone": Action.PRUNE, "pinned": Action.SKIP}


def test_bookkeeping_annotations_are_not_drift() -> None:
    desired = decorate([cm("a", "s", k="v")], channel="c", seq=2, blob_id="N" * 43)
    live = decorate([cm("a", "s", k="v")], channel="c", seq=1, blob_id="O" * 43)
    state = LiveState({ObjectRef.of(live[0]): live[0]})
    change = decide(desired, state, [], channel="c").changes[0]
    assert change.action is Action.UNCHANGED


def test_empty_release_that_prunes_everything_is_refused() -> None:
    live = {ObjectRef.of(cm("a", "s")): cm("a", "s")}
    with pytest.raises(UnsafePruneError, match="--allow-empty"):
        decide([], LiveState(live), list(live), channel="c")
    assert decide([], LiveState(live), list(live), channel="c", allow_empty=True).of(Action.PRUNE)


def test_prunes_come_last_in_reverse_order() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "s"}}
    live = {ObjectRef.of(o): o for o in [ns, cm("a", "s")]}
    changes = decide([cm("b", "t")], LiveState(live), list(live), channel="c",
                     rules=PruneRules(namespaces=True)).changes
    assert [(c.action, c.ref.kind) for c in changes] == [
        (Action.CREATE, "ConfigMap"), (Action.PRUNE, "ConfigMap"), (Action.PRUNE, "Namespace")]


def labelled(obj: Obj, channel: str) -> Obj:
    out = copy.deepcopy(obj)
    out["metadata"]["labels"] = {"syncer.io/channel": channel}
    return out


def annotated(obj: Obj, **annotations: str) -> Obj:
    out = copy.deepcopy(obj)
    out["metadata"]["annotations"] = annotations
    return out


def decided(desired: Obj, other: Obj) -> tuple[Action, str]:
    ref = ObjectRef.of(desired)
    change = decide([desired], LiveState({}, others={ref: other}), [], channel="c").changes[0]
    return change.action, change.reason


def test_an_object_that_exists_unmanaged_is_not_taken_over() -> None:
    action, reason = decided(cm("a", "s", k="new"), _live(cm("a", "s", k="old")))
    assert action is Action.BLOCKED and reason.startswith("exists, not managed by this channel")
    adopt = annotated(cm("a", "s", k="new"), **{"syncer.io/adopt": "true"})
    action, reason = decided(adopt, _live(cm("a", "s", k="old")))
    assert action is Action.UPDATE and reason.startswith("syncer.io/adopt: taking it over")
    keep = annotated(cm("a", "s"), **{"syncer.io/apply": "if-not-present"})
    assert decided(keep, _live(cm("a", "s")))[0] is Action.SKIP


def test_another_channels_object_is_refused_even_with_adopt() -> None:
    adopt = annotated(cm("a", "s"), **{"syncer.io/adopt": "true"})
    action, reason = decided(adopt, labelled(cm("a", "s"), "team-b"))
    assert action is Action.BLOCKED
    assert reason == "managed by channel team-b: channel c does not take it over"


NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "s"}}
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.example.com"},
       "spec": {"group": "example.com", "names": {"kind": "Widget"}}}
WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w",
                                                                          "namespace": "t"}}


def prune_of(gone: Obj, *, desired: list[Obj], rules: PruneRules,
             held: tuple[str, ...] = ()) -> tuple[Action, str]:
    ref = ObjectRef.of(gone)
    state = LiveState({ref: gone}, held={ref: held} if held else {})
    change = decide(desired, state, [ref], channel="c", rules=rules).of(Action.PRUNE,
                                                                       Action.SKIP)[0]
    return change.action, change.reason


@pytest.mark.parametrize(("gone", "desired", "rules", "held", "outcome", "words"), [
    (NS, [cm("x", "t")], PruneRules(), (), Action.SKIP, "only when the channel sets "
     "prune_namespaces: true"),
    (NS, [cm("x", "s")], PruneRules(namespaces=True), (), Action.SKIP,
     "the release still has objects in it"),
    (NS, [cm("x", "t")], PruneRules(namespaces=True), ("Secret/s/theirs",), Action.SKIP,
     "holds objects this channel does not manage: Secret/s/theirs"),
    (NS, [cm("x", "t")], PruneRules(namespaces=True), (), Action.PRUNE, "no longer"),
    (CRD, [cm("x", "t")], PruneRules(namespaces=True), (), Action.SKIP, "prune_crds: true"),
    (CRD, [WIDGET], PruneRules(crds=True), (), Action.SKIP,
     "the release still has objects of its kind"),
    (CRD, [cm("x", "t")], PruneRules(crds=True), ("Widget/t/a", "Widget/t/b", "Widget/u/c",
                                                  "Widget/v/d"), Action.SKIP,
     "not manage: Widget/t/a, Widget/t/b, Widget/u/c and 1 more"),
    (CRD, [cm("x", "t")], PruneRules(crds=True), (), Action.PRUNE, "no longer"),
])
def test_namespaces_and_crds_are_pruned_only_when_safe(
        gone: Obj, desired: list[Obj], rules: PruneRules, held: tuple[str, ...],
        outcome: Action, words: str) -> None:
    action, reason = prune_of(gone, desired=desired, rules=rules, held=held)
    assert action is outcome and words in reason


def test_guarded_prunes_are_the_namespaces_and_crds_the_rules_allow() -> None:
    managed = {ObjectRef.of(o): o for o in [NS, CRD, cm("a", "s")]}
    assert guarded_prunes([], managed, list(managed), PruneRules()) == []
    assert guarded_prunes([], managed, list(managed), PruneRules(namespaces=True)) == [
        ObjectRef.of(NS)]
    assert guarded_prunes([NS], managed, list(managed), PruneRules(True, True)) == [
        ObjectRef.of(CRD)]


refs = st.builds(ObjectRef, st.sampled_from(["", "apps", "example.com"]),
                 st.sampled_from(["Namespace", "CustomResourceDefinition", "ConfigMap",
                                  "Deployment", "Widget", "ClusterRole"]),
                 st.sampled_from(["", "a", "b"]), st.sampled_from(["x", "y"]))


@given(st.lists(refs, unique=True))
def test_apply_order_is_a_total_order(items: list[ObjectRef]) -> None:
    ordered = sorted(items, key=apply_order)
    assert sorted(reversed(items), key=apply_order) == ordered
    stages = [apply_order(r)[0] for r in ordered]
    assert stages == sorted(stages)


def test_only_core_namespaces_and_real_crds_go_first() -> None:
    assert apply_order(ObjectRef("", "Namespace", "", "a"))[0] == 0
    crd = ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "", "a")
    assert apply_order(crd)[0] == 0
    assert apply_order(ObjectRef("example.com", "Namespace", "", "a"))[0] == 1
