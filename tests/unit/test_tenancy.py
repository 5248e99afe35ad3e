"""A channel's lane: allowed namespaces and kinds."""

from __future__ import annotations

import pytest

from syncer.errors import PolicyError
from syncer.model import ObjectRef
from syncer.tenancy import Lane, check

CM = ObjectRef("", "ConfigMap", "a", "settings")
DEPLOY = ObjectRef("apps", "Deployment", "a", "web")
ROLE = ObjectRef("rbac.authorization.k8s.io", "ClusterRole", "", "admin-ish")


@pytest.mark.parametrize(("lane", "ref", "why"), [
    (Lane(), ROLE, ""),
    (Lane(namespaces=frozenset({"a"})), CM, ""),
    (Lane(namespaces=frozenset({"a"})), ObjectRef("", "ConfigMap", "b", "x"),
     "namespace b is not in this channel's allowed namespaces"),
    (Lane(namespaces=frozenset({"a"})), ROLE,
     "cluster-scoped objects are outside this channel's namespaces"),
    (Lane(namespaces=frozenset({"a"})), ObjectRef("", "Namespace", "", "a"), ""),
    (Lane(namespaces=frozenset({"a"})), ObjectRef("", "Namespace", "", "b"),
     "namespace b is not in this channel's allowed namespaces"),
    (Lane(kinds=frozenset({"ConfigMap"})), CM, ""),
    (Lane(kinds=frozenset({"ConfigMap"})), DEPLOY,
     "kind apps/Deployment is not in this channel's allowed kinds"),
    (Lane(kinds=frozenset({"apps/*"})), DEPLOY, ""),
    (Lane(kinds=frozenset({"apps/*"})), CM, "kind ConfigMap is not in this channel's allowed "
                                            "kinds"),
    (Lane(kinds=frozenset({"*"})), CM, ""),
    (Lane(kinds=frozenset({"*"})), DEPLOY, "kind apps/Deployment is not in this channel's "
                                           "allowed kinds"),
])
def test_refusal(lane: Lane, ref: ObjectRef, why: str) -> None:
    assert lane.refusal(ref) == why


def test_a_release_outside_its_lane_is_refused_naming_the_first_object() -> None:
    lane = Lane(namespaces=frozenset({"a"}))
    check([CM, DEPLOY], lane, channel="shop")
    outside = [CM, ObjectRef("", "ConfigMap", "b", "x"), ObjectRef("", "Secret", "c", "y")]
    with pytest.raises(PolicyError) as caught:
        check(outside, lane, channel="shop")
    assert str(caught.value) == ("ConfigMap/b/x of channel shop: namespace b is not in this "
                                 "channel's allowed namespaces (and 1 more); nothing was "
                                 "applied")
