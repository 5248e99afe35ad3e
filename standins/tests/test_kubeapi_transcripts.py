"""Replay every recorded kube-apiserver exchange against one fresh stand-in, in order.

The transcripts (../shared/specs/kubernetes, recorded on kube-apiserver v1.36.2) fix status
codes, Content-Types and bodies. Values the real server made up (uids, resourceVersions,
timestamps, its address) are compared by shape; everything else is compared exactly,
key order included. Relations between answers are checked too (a no-op apply keeps the
resourceVersion and managedFields; a dry run leaves the stored object alone; ...).

Where the recording depends on things the stand-in does not emulate, the test says so:
the server runs with `deployments_ready=False`, so its pretend deployment controller writes
the status of a cluster without nodes, as recorded in 22; the ReplicaSet name in that status
is a hash kube computes from the Go pod template, compared by shape.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from syncer_standins import specs
from syncer_standins.kubeapi import KubeApiServer

SPECS = specs.find("kubernetes", "SOURCE.md")
if SPECS is None:
    pytest.skip(specs.missing("kubernetes", "SOURCE.md"), allow_module_level=True)

TRANSCRIPTS = sorted(SPECS.glob("[0-9]*-*.json"), key=lambda path: int(path.name.split("-")[0]))
USER_AGENT = "k8srec/1.0"
UID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
SHAPES = {
    "uid": UID,
    "resourceVersion": r"[1-9]\d*",
    "creationTimestamp": TIME,
    "deletionTimestamp": TIME,
    "time": TIME,
    "lastTransitionTime": TIME,
    "lastUpdateTime": TIME,
    "serverAddress": r"127\.0\.0\.1:\d+",
}
TEXT_SHAPES = [
    (r'ReplicaSet "web-[0-9a-z]{1,10}"', 'ReplicaSet "<replicaset>"'),
    (r"too old resource version: 1 \(\d+\)", "too old resource version: 1 (<oldest>)"),
]


@dataclass
class Answer:
    status: int
    content_type: str
    body: Any


def shaped(value: Any, where: str = "") -> Any:
    """value with made-up values checked against their shape and replaced by a token."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key in SHAPES and isinstance(item, str) and where != "labels":
                assert re.fullmatch(SHAPES[key], item), f"{key}={item!r} has not the right shape"
                result[key] = f"<{key}>"
            else:
                result[key] = shaped(item, key)
        return result
    if isinstance(value, list):
        return [shaped(item, where) for item in value]
    if isinstance(value, str):
        for pattern, token in TEXT_SHAPES:
            value = re.sub(pattern, token, value)
    return value


def key_order(value: Any, path: str = "") -> Iterator[tuple[str, list[str]]]:
    if isinstance(value, dict):
        yield path, list(value)
        for key, item in value.items():
            yield from key_order(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from key_order(item, f"{path}[{index}]")


def encode(body: Any) -> bytes | None:
    if body is None:
        return None
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def send(server: KubeApiServer, request: dict[str, Any]) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    query = urlencode(request["query"])
    path = request["path"] + (f"?{query}" if query else "")
    headers = {**request["headers"], "User-Agent": USER_AGENT}
    connection.request(request["method"], path, body=encode(request["body"]), headers=headers)
    response = connection.getresponse()
    raw = response.read().decode()
    connection.close()
    content_type = response.getheader("Content-Type", "")
    body = json.loads(raw) if content_type.startswith("application/json") else raw
    return Answer(response.status, content_type, body)


def open_watch(server: KubeApiServer, request: dict[str, Any],
               query: dict[str, str]) -> tuple[http.client.HTTPConnection,
                                               http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {**request["headers"], "User-Agent": USER_AGENT}
    connection.request("GET", f"{request['path']}?{urlencode(query)}", headers=headers)
    return connection, connection.getresponse()


def read_events(response: http.client.HTTPResponse, count: int) -> list[Any]:
    return [json.loads(response.readline()) for _ in range(count)]


def apply_body(name: str, value: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: rec\n"
            f"  labels:\n    app: demo\ndata:\n  k: {value}\n")


def concurrent_writes(server: KubeApiServer) -> None:
    """34's other thread: apply ConfigMap w1, apply it changed, delete it."""
    path = "/api/v1/namespaces/rec/configmaps/w1"
    apply = {"method": "PATCH", "path": path, "query": {"fieldManager": "syncer", "force": "true"},
             "headers": {"Content-Type": "application/apply-patch+yaml"}}
    time.sleep(0.1)
    send(server, {**apply, "body": apply_body("w1", "v1")})
    send(server, {**apply, "body": apply_body("w1", "v2")})
    send(server, {"method": "DELETE", "path": path, "query": {}, "headers": {}, "body": None})


def replay_watch(server: KubeApiServer, transcript: dict[str, Any]) -> Answer:
    request, expected = transcript["request"], transcript["response"]
    query = dict(request["query"])
    writer = None
    if query["resourceVersion"] != "1":
        listed = send(server, {**request, "query": {}})
        query["resourceVersion"] = listed.body["metadata"]["resourceVersion"]
        writer = threading.Thread(target=concurrent_writes, args=(server,))
        writer.start()
    connection, response = open_watch(server, request, query)
    events = read_events(response, len(expected["body"]))
    connection.close()
    if writer is not None:
        writer.join()
    return Answer(response.status, response.getheader("Content-Type", ""), events)


@pytest.fixture(scope="module")
def server() -> Iterator[KubeApiServer]:
    with KubeApiServer(deployments_ready=False) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def answers() -> dict[str, Answer]:
    return {}


def rv(answer: Answer) -> int:
    return int(answer.body["metadata"]["resourceVersion"])


def managed(answer: Answer) -> Any:
    return answer.body["metadata"]["managedFields"]


def check_relations(number: str, got: dict[str, Answer]) -> None:
    """What the transcripts' notes say about one answer relative to the earlier ones."""
    if number == "09":  # a no-op apply writes nothing
        assert rv(got["09"]) == rv(got["08"])
        assert managed(got["09"]) == managed(got["08"])
    if number == "10":
        assert rv(got["10"]) > rv(got["09"])
    if number == "13":  # the dry run answers with the stored resourceVersion
        assert rv(got["13"]) == rv(got["12"])
    if number == "14":  # ...and stores nothing
        assert got["14"].body == got["12"].body
    if number == "20":
        assert rv(got["20"]) >= rv(got["14"])
    if number == "23":  # a dry run of the unchanged Deployment equals the stored one
        assert got["23"].body == got["22"].body
    if number == "29":
        assert rv(got["29"]) > rv(got["28"])
    if number == "34":
        rvs = [int(event["object"]["metadata"]["resourceVersion"]) for event in got["34"].body]
        assert rvs == sorted(set(rvs))


def number_of(path: Path) -> str:
    """The transcript's number as its file name gives it: "09", "100"."""
    return path.name.split("-")[0]


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=number_of)
def test_transcript(path: Path, server: KubeApiServer, answers: dict[str, Answer]) -> None:
    transcript = json.loads(path.read_text())
    number = number_of(path)
    watching = transcript["request"]["query"].get("watch")
    answer = replay_watch(server, transcript) if watching else send(server, transcript["request"])
    answers[number] = answer
    expected = transcript["response"]
    assert answer.status == expected["status"], answer.body
    assert answer.content_type == expected["headers"]["Content-Type"]
    assert shaped(answer.body) == shaped(expected["body"])
    assert list(key_order(answer.body)) == list(key_order(expected["body"]))
    check_relations(number, answers)


def test_every_transcript_is_replayed() -> None:
    numbers = [number_of(path) for path in TRANSCRIPTS]
    assert numbers == [f"{n:02d}" for n in range(1, len(numbers) + 1)]
    assert len(numbers) >= 41
