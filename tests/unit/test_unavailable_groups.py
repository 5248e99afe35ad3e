"""A group version whose discovery failed: its kinds are refused, never pruned, and kept in
the inventory (`Discovery.check`, `livestate.unread`, `plan.decide`)."""

from __future__ import annotations

import pytest

from syncer import livestate
from syncer.cluster import Discovery, Resource
from syncer.errors import ClusterError, GroupUnavailableError
from syncer.inventory import Entry
from syncer.model import Action, Obj, ObjectRef
from syncer.plan import LiveState, decide, kept

CONFIGMAP = Resource("", "v1", "ConfigMap", "configmaps", namespaced=True)
NODE_METRICS = Resource("metrics.k8s.io", "v1", "NodeMetrics", "nodes", namespaced=False)
WHY = "service unavailable (HTTP 503, 2 attempts)"
DISCOVERY = Discovery({("", "ConfigMap"): CONFIGMAP, ("metrics.k8s.io", "NodeMetrics"):
                       NODE_METRICS}, {"metrics.k8s.io/v1beta1": WHY, "custom.io/v2": "x"})


def test_a_kind_of_a_group_that_failed_discovery_is_refused_naming_the_group() -> None:
    with pytest.raises(GroupUnavailableError) as caught:
        DISCOVERY.check("metrics.k8s.io", "PodMetrics", where="PodMetrics/shop/web",
                        version="v1beta1")
    assert str(caught.value) == (
        "PodMetrics/shop/web: the API group metrics.k8s.io/v1beta1 is unavailable: "
        f"{WHY}; nothing of it is applied or pruned until it answers")
    assert caught.value.group_version == "metrics.k8s.io/v1beta1"
    with pytest.raises(GroupUnavailableError, match="custom.io/v2 is unavailable: x"):
        DISCOVERY.of(ObjectRef("custom.io", "Thing", "", "t"))


def test_what_is_served_or_of_a_readable_group_passes_the_check() -> None:
    DISCOVERY.check("metrics.k8s.io", "NodeMetrics", where="x")  # served by another version
    DISCOVERY.check("example.com", "Widget", where="x")  # unknown, but not for a failure
    DISCOVERY.check("", "ConfigMap", where="x")
    with pytest.raises(ClusterError, match="serves no kind 'Widget'") as caught:
        DISCOVERY.require("example.com", "Widget")
    assert not isinstance(caught.value, GroupUnavailableError)


def test_inventory_entries_of_an_unreadable_group_are_unread() -> None:
    entries = [Entry("metrics.k8s.io/v1beta1", "PodMetrics", "shop", "web"),
               Entry("custom.io/v2", "Thing", "", "t"),
               Entry("metrics.k8s.io/v1", "NodeMetrics", "", "n1"),  # served: read as usual
               Entry("v1", "ConfigMap", "shop", "c"),
               Entry("example.com/v1", "Widget", "shop", "w")]  # gone with its CRD
    assert livestate.unread(DISCOVERY, entries) == {
        ObjectRef("metrics.k8s.io", "PodMetrics", "shop", "web"): {
            "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": "web", "namespace": "shop"}},
        ObjectRef("custom.io", "Thing", "", "t"): {
            "apiVersion": "custom.io/v2", "kind": "Thing", "metadata": {"name": "t"}}}


def live(obj: Obj) -> Obj:
    return {**obj, "metadata": {**obj["metadata"], "labels": {"syncer.io/channel": "dev"}}}


def test_unread_objects_are_skipped_not_pruned_and_stay_in_the_inventory() -> None:
    gone = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old",
                                                                  "namespace": "shop"}}
    thing = {"apiVersion": "custom.io/v2", "kind": "Thing", "metadata": {"name": "t"}}
    refs = [ObjectRef.of(gone), ObjectRef.of(thing)]
    state = LiveState({refs[0]: live(gone)}, unread={refs[1]: thing})
    changes = decide([], state, refs, channel="dev", allow_empty=True)
    assert [(c.ref, c.action, c.reason) for c in changes.changes] == [
        (refs[0], Action.PRUNE, "no longer in the release"),
        (refs[1], Action.SKIP, "its API group custom.io could not be read: not pruned")]
    assert kept(changes) == [thing]


def test_an_empty_release_with_only_unread_objects_left_prunes_nothing_and_needs_no_flag(
) -> None:
    thing = {"apiVersion": "custom.io/v2", "kind": "Thing", "metadata": {"name": "t"}}
    ref = ObjectRef.of(thing)
    changes = decide([], LiveState({}, unread={ref: thing}), [ref], channel="dev")
    assert [c.action for c in changes.changes] == [Action.SKIP]
