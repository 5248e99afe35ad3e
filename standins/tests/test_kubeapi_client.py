"""The official `kubernetes` client against the stand-in, unchanged, over real sockets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException
from syncer_standins.kubeapi import KubeApiServer

APPLY = "application/apply-patch+yaml"
WIDGETS_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"""


@pytest.fixture(scope="module")
def server() -> Iterator[KubeApiServer]:
    with KubeApiServer() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def api(server: KubeApiServer, tmp_path_factory: pytest.TempPathFactory) -> client.ApiClient:
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture
def namespace(api: client.ApiClient, request: pytest.FixtureRequest) -> str:
    name = request.node.name.replace("_", "-").lower()[:50]
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def config_map(name: str, namespace: str, data: dict[str, str],
               labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def apply_cm(api: client.ApiClient, body: dict[str, Any], manager: str, **options: Any) -> Any:
    meta = body["metadata"]
    return client.CoreV1Api(api).patch_namespaced_config_map(
        meta["name"], meta["namespace"], body, field_manager=manager, _content_type=APPLY,
        **options)


def fields_of(obj: Any, manager: str) -> dict[str, Any]:
    entries = [e for e in obj.metadata.managed_fields or [] if e.manager == manager]
    return entries[0].fields_v1 if entries else {}


def error_body(err: ApiException) -> dict[str, Any]:
    return json.loads(err.body)  # type: ignore[no-any-return]


def test_load_kube_config_then_typed_api(server: KubeApiServer, tmp_path: Path) -> None:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", namespace="kube-system")
    saved = client.Configuration.get_default_copy()
    try:
        config.load_kube_config(config_file=str(kubeconfig))
        names = [cm.metadata.name for cm in client.CoreV1Api().list_namespaced_config_map(
            "kube-system").items]
    finally:
        client.Configuration.set_default(saved)
    assert names == ["kube-root-ca.crt"]
    assert yaml.safe_load(kubeconfig.read_text())["contexts"][0]["context"]["namespace"] == (
        "kube-system")


def test_seeded_namespaces(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names
    default = core.read_namespace("default")
    assert default.status.phase == "Active"
    assert default.metadata.labels == {"kubernetes.io/metadata.name": "default"}


def test_apply_creates_updates_and_removes_fields(api: client.ApiClient, namespace: str) -> None:
    created = apply_cm(api, config_map("cm", namespace, {"a": "1", "b": "2"}), "syncer")
    again = apply_cm(api, config_map("cm", namespace, {"a": "1", "b": "2"}), "syncer")
    assert again.metadata.resource_version == created.metadata.resource_version
    assert again.metadata.managed_fields == created.metadata.managed_fields
    updated = apply_cm(api, config_map("cm", namespace, {"a": "1"}), "syncer")
    assert updated.data == {"a": "1"}
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    assert fields_of(updated, "syncer") == {"f:data": {"f:a": {}}}


def test_call_api_with_a_yaml_apply_body(api: client.ApiClient, namespace: str) -> None:
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\ndata:\n  k: v\n"
    method, url, headers, data, post = api.param_serialize(
        "PATCH", "/api/v1/namespaces/{namespace}/configmaps/{name}",
        path_params={"namespace": namespace, "name": "raw"},
        query_params=[("fieldManager", "syncer"), ("force", "true")],
        header_params={"Content-Type": APPLY, "Accept": "application/json"}, body=body)
    response = api.call_api(method, url, headers, data, post)
    response.read()
    assert response.status == 201
    assert json.loads(response.data)["data"] == {"k": "v"}


def test_fields_of_another_manager_are_kept(api: client.ApiClient, namespace: str) -> None:
    apply_cm(api, config_map("cm", namespace, {"a": "1", "b": "2"}), "syncer")
    core = client.CoreV1Api(api)
    core.patch_namespaced_config_map("cm", namespace, {"data": {"c": "3"}},
                                     _content_type="application/merge-patch+json")
    done = apply_cm(api, config_map("cm", namespace, {"a": "1"}), "syncer")
    assert done.data == {"a": "1", "c": "3"}
    update = next(e for e in done.metadata.managed_fields if e.operation == "Update")
    assert (update.manager, update.fields_v1) == ("OpenAPI-Generator", {"f:data": {"f:c": {}}})


def test_conflict_then_force(api: client.ApiClient, namespace: str) -> None:
    apply_cm(api, config_map("cm", namespace, {"a": "1"}), "syncer")
    with pytest.raises(ApiException) as caught:
        apply_cm(api, config_map("cm", namespace, {"a": "9"}), "other")
    assert caught.value.status == 409
    assert error_body(caught.value)["message"] == (
        'Apply failed with 1 conflict: conflict with "syncer": .data.a')
    forced = apply_cm(api, config_map("cm", namespace, {"a": "9"}), "other", force=True)
    assert forced.data == {"a": "9"}
    assert fields_of(forced, "other") == {"f:data": {"f:a": {}}}
    assert fields_of(forced, "syncer") == {}


def test_list_with_label_selectors(api: client.ApiClient, namespace: str) -> None:
    labels = {"one": {"app": "a", "tier": "web"}, "two": {"app": "b", "tier": "db"},
              "three": {"app": "c"}}
    for name, values in labels.items():
        apply_cm(api, config_map(name, namespace, {}, values), "syncer")
    core = client.CoreV1Api(api)

    def names(selector: str) -> set[str]:
        found = core.list_namespaced_config_map(namespace, label_selector=selector).items
        return {cm.metadata.name for cm in found}

    assert names("app=a") == names("app==a") == {"one"}
    assert names("app!=a") == {"two", "three", "kube-root-ca.crt"}
    assert names("app in (a, b)") == {"one", "two"}
    assert names("app notin (a,b),app") == {"three"}
    assert names("tier") == {"one", "two"}
    assert names("!tier,app") == {"three"}
    assert names("app,tier=db") == {"two"}
    every = client.CoreV1Api(api).list_config_map_for_all_namespaces(label_selector="app=a")
    assert [(cm.metadata.namespace, cm.metadata.name) for cm in every.items] == [
        (namespace, "one")]
    with pytest.raises(ApiException) as caught:
        names("app in (a")
    assert caught.value.status == 400


def test_dry_run_leaves_storage_untouched(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    would_be = apply_cm(api, config_map("cm", namespace, {"a": "1"}), "syncer", dry_run="All")
    assert would_be.data == {"a": "1"}
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("cm", namespace)
    assert caught.value.status == 404
    stored = apply_cm(api, config_map("cm", namespace, {"a": "1"}), "syncer")
    changed = apply_cm(api, config_map("cm", namespace, {"a": "2"}), "syncer", dry_run="All")
    assert changed.data == {"a": "2"}
    assert changed.metadata.resource_version == stored.metadata.resource_version
    assert core.read_namespaced_config_map("cm", namespace).data == {"a": "1"}


def test_crd_then_custom_resource(api: client.ApiClient, namespace: str) -> None:
    crd = yaml.safe_load(WIDGETS_CRD)
    ext = client.ApiextensionsV1Api(api)
    ext.patch_custom_resource_definition("widgets.example.com", crd, field_manager="syncer",
                                         _content_type=APPLY)
    installing = ext.read_custom_resource_definition("widgets.example.com")
    assert [(c.type, c.status, c.reason) for c in installing.status.conditions] == [
        ("NamesAccepted", "True", "NoConflicts"), ("Established", "False", "Installing")]
    established = ext.read_custom_resource_definition("widgets.example.com")
    assert [(c.type, c.status) for c in established.status.conditions] == [
        ("NamesAccepted", "True"), ("Established", "True")]
    custom = client.CustomObjectsApi(api)
    # The first requests for widgets answer 429 while their storage initialises; urllib3
    # retries a GET after `Retry-After`, as it does with a real cluster.
    assert custom.list_namespaced_custom_object("example.com", "v1", namespace,
                                                "widgets")["items"] == []
    widget = {"apiVersion": "example.com/v1", "kind": "Widget",
              "metadata": {"name": "w1", "namespace": namespace}, "spec": {"size": 3}}
    custom.patch_namespaced_custom_object("example.com", "v1", namespace, "widgets", "w1",
                                          widget, field_manager="syncer", _content_type=APPLY)
    listed = custom.list_namespaced_custom_object("example.com", "v1", namespace, "widgets")
    assert [(w["kind"], w["metadata"]["name"], w["spec"]) for w in listed["items"]] == [
        ("Widget", "w1", {"size": 3})]
    widget["spec"]["shape"] = "round"
    with pytest.raises(ApiException) as caught:
        custom.patch_namespaced_custom_object("example.com", "v1", namespace, "widgets", "w1",
                                              widget, field_manager="syncer",
                                              _content_type=APPLY)
    assert caught.value.status == 500
    assert ".spec.shape: field not declared in schema" in error_body(caught.value)["message"]


def test_dynamic_client_discovers_and_applies(api: client.ApiClient, namespace: str) -> None:
    dyn = dynamic.DynamicClient(api)
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    body = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    dyn.server_side_apply(deployments, body=body, field_manager="syncer", force_conflicts=True)
    apps = client.AppsV1Api(api)
    stored = apps.read_namespaced_deployment("web", namespace)
    assert stored.spec.strategy.rolling_update.max_surge == "25%"
    assert stored.spec.template.spec.containers[0].image_pull_policy == "Always"
    assert stored.metadata.annotations == {"deployment.kubernetes.io/revision": "1"}
    assert [c.reason for c in stored.status.conditions] == ["NewReplicaSetCreated"]
    rolled_out = apps.read_namespaced_deployment("web", namespace)  # the controller's next step
    assert rolled_out.status.ready_replicas == 1


def test_watch_sees_writes(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    version = core.list_namespaced_config_map(namespace).metadata.resource_version

    def writes() -> None:
        apply_cm(api, config_map("w", namespace, {"k": "v1"}), "syncer")
        apply_cm(api, config_map("w", namespace, {"k": "v2"}), "syncer")
        core.delete_namespaced_config_map("w", namespace)

    writer = threading.Thread(target=writes)
    writer.start()
    seen = []
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                  resource_version=version, timeout_seconds=5)
    for event in stream:
        seen.append((event["type"], event["object"].data))
        if len(seen) == 3:
            break
    writer.join()
    assert seen == [("ADDED", {"k": "v1"}), ("MODIFIED", {"k": "v2"}), ("DELETED", {"k": "v2"})]


def test_watch_from_a_forgotten_version_expires(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    with pytest.raises(ApiException) as caught:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, "default",
                                      resource_version="1", timeout_seconds=2):
            pass
    assert caught.value.status == 410


def test_deleting_a_namespace_removes_its_objects(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "doomed"}})
    apply_cm(api, config_map("cm", "doomed", {"a": "1"}), "syncer")
    answer = core.delete_namespace("doomed", _preload_content=False)
    assert json.loads(answer.data)["status"] == {"phase": "Terminating"}
    assert core.list_namespaced_config_map("doomed").items == []
    assert core.list_namespaced_service_account("doomed").items == []
    with pytest.raises(ApiException) as caught:
        core.read_namespace("doomed")
    assert caught.value.status == 404


def test_missing_namespace_and_object(api: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        apply_cm(api, config_map("cm", "nowhere", {}), "syncer")
    assert (caught.value.status, error_body(caught.value)["message"]) == (
        404, 'namespaces "nowhere" not found')
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(api).read_namespaced_deployment("ghost", "default")
    assert error_body(caught.value)["details"] == {
        "name": "ghost", "group": "apps", "kind": "deployments"}
