"""Label and field selectors, and URL paths."""

from __future__ import annotations

import pytest
from syncer_standins.kubeapi.errors import ApiError, PageNotFound
from syncer_standins.kubeapi.routes import Route, parse_path
from syncer_standins.kubeapi.selectors import parse_field_selector, parse_label_selector

LABELS = {"app": "web", "tier": "front", "size": "3"}


@pytest.mark.parametrize(("selector", "matches"), [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app!=web", False),
    ("app!=db", True),
    ("missing!=x", True),
    ("app in (web, db)", True),
    ("app notin (web,db)", False),
    ("missing notin (x)", True),
    ("tier", True),
    ("!tier", False),
    ("!missing", True),
    ("app=web,tier=front", True),
    ("app=web,tier=back", False),
    ("app in (web),!missing,tier", True),
    ("size>2", True),
    ("size<3", False),
])
def test_label_selector(selector: str, matches: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize("selector", ["app in (web", "a b", "=x", "size>x"])
def test_bad_label_selectors_are_400(selector: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_label_selector(selector)
    assert caught.value.code == 400


def test_field_selector() -> None:
    fields = {"metadata.name": "cm1", "metadata.namespace": "rec"}
    assert parse_field_selector("metadata.name=cm1").matches(fields)
    assert not parse_field_selector("metadata.name!=cm1,metadata.namespace=rec").matches(fields)
    with pytest.raises(ApiError):
        parse_field_selector("spec.nodeName=x")


@pytest.mark.parametrize(("path", "route"), [
    ("/api", Route("api")),
    ("/apis/apps", Route("group", "apps")),
    ("/apis/apps/v1", Route("group-version", "apps", "v1")),
    ("/api/v1/namespaces", Route("resource", "", "v1", plural="namespaces")),
    ("/api/v1/namespaces/rec", Route("resource", "", "v1", plural="namespaces", name="rec")),
    ("/api/v1/namespaces/rec/status",
     Route("resource", "", "v1", plural="namespaces", name="rec", subresource="status")),
    ("/api/v1/namespaces/rec/configmaps",
     Route("resource", "", "v1", "rec", "configmaps", namespaced_path=True)),
    ("/apis/apps/v1/namespaces/rec/deployments/web/status",
     Route("resource", "apps", "v1", "rec", "deployments", "web", "status", True)),
    ("/api/v1/configmaps", Route("resource", "", "v1", plural="configmaps")),
])
def test_paths(path: str, route: Route) -> None:
    assert parse_path(path) == route


@pytest.mark.parametrize("path", ["/", "/api/v2", "/openapi/v2", "/api/v1/a/b/c/d"])
def test_unknown_paths(path: str) -> None:
    with pytest.raises(PageNotFound):
        parse_path(path)
