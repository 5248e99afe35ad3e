"""Behaviours of the stand-in beyond the transcripts, over raw HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from syncer_standins.kubeapi import KubeApiServer

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


class Http:
    def __init__(self, server: KubeApiServer) -> None:
        self.port = server.port

    def __call__(self, method: str, path: str, body: Any = None, *,
                 content_type: str = "application/json", **query: str) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        url = path + (f"?{urlencode(query)}" if query else "")
        connection.request(method, url, body=data, headers={
            "Content-Type": content_type, "User-Agent": "behaviour-test/0"})
        answer = connection.getresponse()
        raw = answer.read().decode()
        connection.close()
        is_json = answer.getheader("Content-Type", "").startswith("application/json")
        return answer.status, json.loads(raw) if is_json else raw


@pytest.fixture(scope="module")
def server() -> Iterator[KubeApiServer]:
    with KubeApiServer() as stand_in:
        yield stand_in


@pytest.fixture
def call(server: KubeApiServer) -> Http:
    return Http(server)


def test_optimistic_concurrency_and_duplicates(call: Http) -> None:
    leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    code, lease = call("POST", leases, {"metadata": {"name": "leader"},
                                        "spec": {"holderIdentity": "a"}})
    assert code == 201
    lease["spec"]["holderIdentity"] = "b"
    assert call("PUT", f"{leases}/leader", lease)[0] == 200
    code, stale = call("PUT", f"{leases}/leader", lease)
    assert (code, stale["reason"]) == (409, "Conflict")
    assert stale["message"].startswith(
        'Operation cannot be fulfilled on leases.coordination.k8s.io "leader"')
    code, again = call("POST", leases, {"metadata": {"name": "leader"}})
    assert (code, again["reason"]) == (409, "AlreadyExists")


def test_finalizers_hold_a_deletion_until_removed(call: Http) -> None:
    call("POST", CONFIGMAPS, {"metadata": {"name": "held", "finalizers": ["example.com/x"]}})
    code, marked = call("DELETE", f"{CONFIGMAPS}/held")
    assert code == 200 and "deletionTimestamp" in marked["metadata"]
    assert call("GET", f"{CONFIGMAPS}/held")[0] == 200
    call("PATCH", f"{CONFIGMAPS}/held", {"metadata": {"finalizers": None}}, content_type=MERGE)
    assert call("GET", f"{CONFIGMAPS}/held")[0] == 404


def test_service_gets_and_keeps_a_cluster_ip(call: Http) -> None:
    body = ("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
            "spec: {selector: {app: web}, ports: [{port: 80}]}\n")
    path = "/api/v1/namespaces/default/services/web"
    code, created = call("PATCH", path, body, content_type=APPLY, fieldManager="syncer")
    assert code == 201
    spec = created["spec"]
    assert spec["clusterIP"].startswith("10.96.") and spec["clusterIPs"] == [spec["clusterIP"]]
    assert (spec["type"], spec["ports"][0]["targetPort"]) == ("ClusterIP", 80)
    code, again = call("PATCH", path, body, content_type=APPLY, fieldManager="syncer")
    assert (code, again["metadata"]["resourceVersion"]) == (
        200, created["metadata"]["resourceVersion"])


def test_pagination_and_deletecollection(call: Http) -> None:
    for index in range(5):
        call("POST", CONFIGMAPS, {"metadata": {"name": f"page{index}", "labels": {"page": "y"}}})
    code, first = call("GET", CONFIGMAPS, labelSelector="page", limit="2")
    assert [i["metadata"]["name"] for i in first["items"]] == ["page0", "page1"]
    assert "remainingItemCount" not in first["metadata"]  # kube cannot count with a selector
    token = first["metadata"]["continue"]
    code, second = call("GET", CONFIGMAPS, labelSelector="page", limit="2", **{"continue": token})
    assert [i["metadata"]["name"] for i in second["items"]] == ["page2", "page3"]
    code, deleted = call("DELETE", CONFIGMAPS, labelSelector="page")
    assert (code, len(deleted["items"])) == (200, 5)
    assert call("GET", CONFIGMAPS, labelSelector="page")[1]["items"] == []


def test_watch_turns_selector_changes_into_added_and_deleted(call: Http,
                                                             server: KubeApiServer) -> None:
    version = call("GET", CONFIGMAPS)[1]["metadata"]["resourceVersion"]
    call("POST", CONFIGMAPS, {"metadata": {"name": "flip", "labels": {"on": "no"}}})
    for value in ("yes", "no"):
        call("PATCH", f"{CONFIGMAPS}/flip", {"metadata": {"labels": {"on": value}}},
             content_type=MERGE)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    query = urlencode({"watch": "true", "resourceVersion": version, "labelSelector": "on=yes"})
    connection.request("GET", f"{CONFIGMAPS}?{query}")
    stream = connection.getresponse()
    events = [json.loads(stream.readline()) for _ in range(2)]
    connection.close()
    assert [(e["type"], e["object"]["metadata"]["labels"]) for e in events] == [
        ("ADDED", {"on": "yes"}), ("DELETED", {"on": "no"})]


def test_status_subresource_of_a_custom_resource(call: Http) -> None:
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
           "metadata: {name: gadgets.example.com}\nspec:\n  group: example.com\n"
           "  names: {kind: Gadget, plural: gadgets}\n  scope: Cluster\n  versions:\n"
           "  - {name: v1, served: true, storage: true, subresources: {status: {}},\n"
           "     schema: {openAPIV3Schema: {type: object, "
           "x-kubernetes-preserve-unknown-fields: true}}}\n")
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com"
    assert call("PATCH", path, crd, content_type=APPLY, fieldManager="syncer")[0] == 201
    polls = [call("GET", "/apis/example.com/v1/gadgets")[0] for _ in range(4)]
    assert polls == [429, 429, 429, 200]  # installing, then the storage initialises
    gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n"
    code, created = call("PATCH", "/apis/example.com/v1/gadgets/g",
                         gadget + "spec: {a: 1}\nstatus: {ok: false}\n",
                         content_type=APPLY, fieldManager="syncer")
    assert code == 201 and "status" not in created
    code, reported = call("PATCH", "/apis/example.com/v1/gadgets/g/status",
                          gadget + "spec: {a: 2}\nstatus: {ok: true}\n",
                          content_type=APPLY, fieldManager="controller")
    assert (reported["spec"], reported["status"]) == ({"a": 1}, {"ok": True})
    entry = next(e for e in reported["metadata"]["managedFields"]
                 if e["manager"] == "controller")
    assert (entry["subresource"], entry["fieldsV1"]) == (
        "status", {"f:status": {".": {}, "f:ok": {}}})
    assert reported["metadata"]["generation"] == 1


def test_system_namespaces_may_not_be_deleted(call: Http) -> None:
    code, status = call("DELETE", "/api/v1/namespaces/kube-system")
    assert (code, status["message"]) == (
        403, 'namespaces "kube-system" is forbidden: this namespace may not be deleted')


def test_errors_for_unknown_paths_and_methods(call: Http) -> None:
    assert call("GET", "/apis/nothing.example.com/v1") == (404, "404 page not found\n")
    assert call("GET", "/api/v1/namespaces/default/widgets")[0] == 404
    code, status = call("POST", f"{CONFIGMAPS}/x", {})
    assert (code, status["reason"]) == (405, "MethodNotAllowed")
    code, status = call("PATCH", f"{CONFIGMAPS}/kube-root-ca.crt", "{}", content_type="text/x")
    assert (code, status["reason"]) == (415, "UnsupportedMediaType")
    code, status = call("GET", CONFIGMAPS, labelSelector="a in (b")
    assert (code, status["reason"]) == (400, "BadRequest")


def test_watches_end_when_the_server_stops() -> None:
    stand_in = KubeApiServer()
    stand_in.start()
    connection = http.client.HTTPConnection("127.0.0.1", stand_in.port, timeout=10)
    connection.request("GET", f"{CONFIGMAPS}?watch=1")
    stream = connection.getresponse()
    assert json.loads(stream.readline())["object"]["metadata"]["name"] == "kube-root-ca.crt"
    stand_in.stop()
    assert stream.read() == b""
    connection.close()
