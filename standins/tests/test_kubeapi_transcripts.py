"""Replay every recorded kube-apiserver exchange against one fresh stand-in, in order.

The transcripts (`$SYNCER_SPECS_DIR/kubernetes`, recorded on kube-apiserver v1.36.2) fix
status codes, Content-Types, the `Warning` and `Retry-After` headers and bodies. Values the
real server made up (uids, resourceVersions, timestamps, its address, cluster IPs, its CA
certificate, continue tokens) are compared by shape; everything else is compared exactly, key
order included. Relations between answers are checked too (a no-op apply keeps the
resourceVersion and managedFields; a dry run leaves the stored object alone; ...).

Where the recording depends on things the stand-in does not emulate, the test says so:

* the server runs with `deployments_ready=False`, so its pretend deployment controller
  writes the status of a cluster without nodes, as recorded; ReplicaSet names in that status
  are a hash kube computes from the Go pod template, compared by shape;
* the recorder polled (unrecorded requests) until a controller had acted; the notes say how
  many requests that took. The stand-in's controllers are deterministic (see the package
  docstring): each replay below polls the same way, at most as many times as the recorder
  did (`POLLS`, `WAITS`), and needs no sleep;
* the second batch was recorded on an OpenShift build whose controller manager adds a
  ConfigMap `openshift-service-ca.crt` to every namespace. Upstream Kubernetes does not, and
  neither does the stand-in: the ConfigMap LISTs of 110 and 128-137 are expected without it,
  that is with one item fewer and `remainingItemCount` one lower (the limit=2 pages of
  128-132 are cut again from the recorded items without it; `upstream_expectation`).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
CLUSTER_IP = r"10\.(9[6-9]|10\d|11[01])\.\d{1,3}\.\d{1,3}"  # in 10.96.0.0/12
SHAPES = {
    "uid": UID,
    "resourceVersion": r"[1-9]\d*",
    "creationTimestamp": TIME,
    "deletionTimestamp": TIME,
    "time": TIME,
    "lastTransitionTime": TIME,
    "lastUpdateTime": TIME,
    "serverAddress": r"127\.0\.0\.1:\d+",
    "clusterIP": CLUSTER_IP,
    "ca.crt": r"-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n",
    "continue": r"[A-Za-z0-9_-]+",  # what it says is checked by check_continue
}
LIST_SHAPES = {"clusterIPs": CLUSTER_IP}
LABEL_SHAPES = {"controller-uid": UID, "batch.kubernetes.io/controller-uid": UID}
TEXT_SHAPES = [
    (r'(ReplicaSet|replica set) "([a-z0-9-]+)-[0-9a-z]{1,10}"', r'\1 "\2-<hash>"'),
    (r"too old resource version: 1 \(\d+\)", "too old resource version: 1 (<oldest>)"),
    (r'"(batch\.kubernetes\.io/)?controller-uid":"' + UID + '"', r'"\1controller-uid":"<uid>"'),
]
OPENSHIFT_CONFIGMAP = "openshift-service-ca.crt"
PAGES = ("128", "129", "130", "131", "132")
HEADERS = ("Warning", "Retry-After")
# Recorded requests the recorder sent until they answered as recorded: number -> attempts.
POLLS = {"22": 2, "29": 2, "76": 22, "79": 21, "82": 2, "98": 2, "116": 7, "140": 2}


@dataclass
class Answer:
    status: int
    content_type: str
    body: Any
    headers: dict[str, Any] = field(default_factory=dict)
    recorded: Any = None  # the body the real server answered


def shaped(value: Any, where: str = "") -> Any:
    """value with made-up values checked against their shape and replaced by a token."""
    if isinstance(value, dict):
        result = {}
        labels = where in ("labels", "matchLabels")
        for key, item in value.items():
            pattern = (LABEL_SHAPES if labels else SHAPES).get(key)
            if pattern and isinstance(item, str) and item:
                assert re.fullmatch(pattern, item), f"{key}={item!r} has not the right shape"
                result[key] = f"<{key}>"
            else:
                result[key] = shaped(item, key)
        return result
    if isinstance(value, list):
        if where in LIST_SHAPES:
            assert all(re.fullmatch(LIST_SHAPES[where], item) for item in value), value
            return [f"<{where}>" for _ in value]
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


def check_continue(body: Any) -> None:
    """A continue token says, unpadded URL-safe base64 JSON, where the next page starts."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    token = (metadata or {}).get("continue")
    if not token:
        return
    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    last = body["items"][-1]["metadata"]["name"]
    assert decoded == {"v": "meta.k8s.io/v1", "rv": int(metadata["resourceVersion"]),
                       "start": f"/{last}\u0000"}, decoded


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
    extra = {}
    for name in HEADERS:
        values = response.headers.get_all(name) or []
        if values:
            extra[name] = values[0] if len(values) == 1 else values
    return Answer(response.status, content_type, body, extra)


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


def get(path: str) -> dict[str, Any]:
    return {"method": "GET", "path": path, "query": {}, "headers": {}, "body": None}


def established(answer: Answer) -> bool:
    conditions = (answer.body.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def observed(answer: Answer) -> bool:
    return (answer.body.get("status") or {}).get("observedGeneration") == 1


CRD_GADGETS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com"
# Unrecorded polls the recorder made before a transcript: (request, attempts, until).
WAITS: dict[str, list[tuple[dict[str, Any], int, Callable[[Answer], bool]]]] = {
    "73": [(get(CRD_GADGETS), 2, established),
           (get("/apis/example.com/v1/namespaces/rec2-term/gadgets"), 2,
            lambda answer: answer.status == 200)],
    "95": [(get("/apis/apps/v1/namespaces/rec2/deployments/stat"), 2, observed)],
}


def wait(server: KubeApiServer, request: dict[str, Any], attempts: int,
         until: Callable[[Answer], bool]) -> Answer:
    for _ in range(attempts):
        answer = send(server, request)
        if until(answer):
            break
    return answer


def as_recorded(answer: Answer, expected: dict[str, Any]) -> bool:
    try:
        return answer.status == expected["status"] and shaped(answer.body) == shaped(
            expected["body"])
    except AssertionError:
        return False


def without_openshift(body: dict[str, Any]) -> dict[str, Any]:
    items = [item for item in body["items"] if item["metadata"]["name"] != OPENSHIFT_CONFIGMAP]
    return {**body, "items": items}


def upstream_pages() -> dict[str, dict[str, Any]]:
    """128-132 as an upstream server answers them: the recorded items without the
    OpenShift ConfigMap, cut again into pages of two."""
    bodies = {n: json.loads((SPECS / name).read_text())["response"]["body"]
              for n in PAGES for name in [next(p.name for p in TRANSCRIPTS
                                               if p.name.startswith(f"{n}-"))]}
    items = [item for n in PAGES for item in without_openshift(bodies[n])["items"]]
    pages = {}
    for index, number in enumerate(PAGES):
        chunk, rest = items[2 * index:2 * index + 2], len(items) - 2 * (index + 1)
        metadata: dict[str, Any] = {
            "resourceVersion": bodies[number]["metadata"]["resourceVersion"]}
        if rest > 0:
            rv = int(metadata["resourceVersion"])
            start = f"/{chunk[-1]['metadata']['name']}\u0000"
            token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start},
                               separators=(",", ":"))
            metadata["continue"] = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
            metadata["remainingItemCount"] = rest
        pages[number] = {**bodies[number], "metadata": metadata, "items": chunk}
    return pages


def upstream_expectation(number: str, expected: dict[str, Any]) -> dict[str, Any]:
    """The recorded answer, less what the recording cluster's OpenShift controller added."""
    if number in PAGES:
        return {**expected, "body": upstream_pages()[number]}
    if number in ("110", "133", "134", "135", "136", "137"):
        return {**expected, "body": without_openshift(expected["body"])}
    return expected


def our_rv(recorded: str, got: dict[str, Answer]) -> str:
    """Our resourceVersion for the object the real server answered with RV `recorded`."""
    for answer in got.values():
        metadata = answer.recorded.get("metadata") if isinstance(answer.recorded, dict) else {}
        if (metadata or {}).get("resourceVersion") == recorded:
            return str(answer.body["metadata"]["resourceVersion"])
    return recorded


def adapted(number: str, request: dict[str, Any], got: dict[str, Answer]) -> dict[str, Any]:
    """The recorded request, with values that came from earlier answers taken from ours:
    continue tokens, resourceVersions of updates, the timestamps a patch copies."""
    sent = request["body"].get("metadata") if isinstance(request["body"], dict) else None
    if sent and "resourceVersion" in sent:
        metadata = {**sent, "resourceVersion": our_rv(sent["resourceVersion"], got)}
        return {**request, "body": {**request["body"], "metadata": metadata}}
    follows = {"129": "128", "130": "129", "131": "130", "132": "131", "134": "133",
               "135": "134"}
    if number in follows:
        token = got[follows[number]].body["metadata"]["continue"]
        return {**request, "query": {**request["query"], "continue": token}}
    if number == "96":  # the kwok-style status keeps the controller's timestamps
        condition = next(c for c in got["95"].body["status"]["conditions"]
                         if c["type"] == "Available")
        body = json.loads(json.dumps(request["body"]))
        for sent in body["status"]["conditions"]:
            sent["lastUpdateTime"] = condition["lastUpdateTime"]
            sent["lastTransitionTime"] = condition["lastTransitionTime"]
        return {**request, "body": body}
    return request


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
    relations: dict[str, Callable[[], bool]] = {
        "09": lambda: rv(got["09"]) == rv(got["08"]) and managed(got["09"]) == managed(got["08"]),
        "10": lambda: rv(got["10"]) > rv(got["09"]),
        "13": lambda: rv(got["13"]) == rv(got["12"]),  # the dry run answers the stored RV
        "14": lambda: got["14"].body == got["12"].body,  # ...and stores nothing
        "20": lambda: rv(got["20"]) >= rv(got["14"]),
        "23": lambda: got["23"].body == got["22"].body,  # dry run of the unchanged Deployment
        "29": lambda: rv(got["29"]) > rv(got["28"]),
        "47": lambda: got["47"].body["status"]["hard"] == got["47"].body["spec"]["hard"],
        "48": lambda: got["48"].body == got["43"].body,  # a no-op dry run: the create answer
        "66": lambda: set(got["66"].body["spec"]["selector"]["matchLabels"].values()) == {
            got["66"].body["metadata"]["uid"]},
        "70": lambda: rv(got["70"]) > rv(got["68"]),
        "78": lambda: rv(got["78"]) == rv(got["77"]),  # the last finalizer goes, RV unchanged
        "91": lambda: rv(got["91"]) > rv(got["89"]),
        "96": lambda: rv(got["96"]) > rv(got["95"]),
        "97": lambda: got["97"].body == got["96"].body,
        "98": lambda: rv(got["98"]) > rv(got["97"]),  # the controller wrote its status back
        "101": lambda: rv(got["101"]) > rv(got["99"]),
        "104": lambda: rv(got["104"]) > rv(got["101"]),
        "144": lambda: got["144"].body == got["143"].body,  # a no-op apply keeps the RV
    }
    check = relations.get(number)
    assert check is None or check(), f"relation of {number} to earlier answers"
    if number == "34":
        rvs = [int(event["object"]["metadata"]["resourceVersion"]) for event in got["34"].body]
        assert rvs == sorted(set(rvs))
    if number in PAGES[1:] or number in ("134", "135"):  # every page has the first page's RV
        assert rv(got[number]) == rv(got["133" if number in ("134", "135") else "128"])


# Reads after a dry run: the object is stored as before (or still absent).
UNTOUCHED = {
    "59": ("/apis/apps/v1/namespaces/rec2/deployments/unk", None),
    "118": ("/apis/apps/v1/namespaces/rec2/deployments/vap", None),
    "141": ("/apis/apps/v1/namespaces/rec2/deployments/stat", "98"),
}


def check_untouched(number: str, server: KubeApiServer, got: dict[str, Answer]) -> None:
    if number not in UNTOUCHED:
        return
    path, stored = UNTOUCHED[number]
    after = send(server, get(path))
    if stored is None:
        assert after.status == 404, after.body
    else:
        assert after.body == got[stored].body


def number_of(path: Path) -> str:
    """The transcript's number as its file name gives it: "09", "100"."""
    return path.name.split("-")[0]


def replay(server: KubeApiServer, number: str, transcript: dict[str, Any],
           got: dict[str, Answer]) -> Answer:
    for request, attempts, until in WAITS.get(number, []):
        wait(server, request, attempts, until)
    if transcript["request"]["query"].get("watch"):
        return replay_watch(server, transcript)
    request = adapted(number, transcript["request"], got)
    expected = upstream_expectation(number, transcript["response"])
    answer = wait(server, request, POLLS.get(number, 1),
                  lambda answer: as_recorded(answer, expected))
    answer.recorded = transcript["response"]["body"]
    return answer


def same_second(answer: Any, recorded: Any) -> tuple[Any, Any]:
    """Both bodies, with their managedFields in one order if the replay's entries straddle
    two seconds: kube orders entries of an operation by time, the recording's shared one
    second, and a loaded machine can cross a second between two writes of one transcript."""
    if not isinstance(answer, dict) or not isinstance(recorded, dict):
        return answer, recorded
    entries = (answer.get("metadata") or {}).get("managedFields")
    if not isinstance(entries, list) or len({e.get("time") for e in entries}) < 2:
        return answer, recorded

    def by_manager(body: dict[str, Any]) -> dict[str, Any]:
        found = (body.get("metadata") or {}).get("managedFields") or []
        ordered = sorted(found, key=lambda e: (e.get("operation", ""), e.get("manager", ""),
                                               e.get("subresource", "")))
        return {**body, "metadata": {**body["metadata"], "managedFields": ordered}}

    return by_manager(answer), by_manager(recorded)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=number_of)
def test_transcript(path: Path, server: KubeApiServer, answers: dict[str, Answer]) -> None:
    transcript = json.loads(path.read_text())
    number = number_of(path)
    answer = answers[number] = replay(server, number, transcript, answers)
    expected = upstream_expectation(number, transcript["response"])
    assert answer.status == expected["status"], answer.body
    assert answer.content_type == expected["headers"]["Content-Type"]
    assert answer.headers == {k: v for k, v in expected["headers"].items() if k in HEADERS}
    check_continue(expected["body"])
    check_continue(answer.body)
    body, recorded = same_second(answer.body, expected["body"])
    assert shaped(body) == shaped(recorded)
    assert list(key_order(answer.body)) == list(key_order(expected["body"]))
    check_relations(number, answers)
    check_untouched(number, server, answers)


def test_every_transcript_is_replayed() -> None:
    numbers = [number_of(path) for path in TRANSCRIPTS]
    assert numbers == [f"{n:02d}" for n in range(1, len(numbers) + 1)]
    assert len(numbers) >= 145
