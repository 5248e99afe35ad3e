"""The Walrus stand-in answers as Walrus's OpenAPI documents say.

Its answers are validated against the documents' component schemas (OpenAPI 3.1 schemas are
JSON Schema 2020-12) after two documented corrections: real daemons send store results in
camelCase where the generated schemas spell some names in snake_case (SOURCE.md), so every
property name is camelized; and `EventID.txDigest` is declared an array of bytes although
Sui writes a transaction digest as a Base58 string (the schema's own example is one), so a
string is accepted there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from syncer_standins import specs
from syncer_standins.walrus import WalrusServer

from syncer.blobstore.walrus import WalrusBlobStore, WalrusOptions

_DOCS = ("publisher_openapi.yaml", "aggregator_openapi.yaml")
SPECS = specs.find("walrus", *_DOCS)
if SPECS is None:
    pytest.skip(specs.missing("walrus", *_DOCS), allow_module_level=True)

PUBLISHER_DOC = yaml.safe_load((SPECS / "publisher_openapi.yaml").read_text())
AGGREGATOR_DOC = yaml.safe_load((SPECS / "aggregator_openapi.yaml").read_text())
DATA = b"some other string"
DATA_ID = "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"  # from SOURCE.md
ADDRESS = "0x" + "ab" * 32


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camelized(node: Any) -> Any:
    """The schema with every property name (and `required` entry) in camelCase."""
    if isinstance(node, list):
        return [camelized(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {camel(name): camelized(schema) for name, schema in value.items()}
        elif key == "required" and isinstance(value, list):
            out[key] = [camel(name) for name in value]
        else:
            out[key] = camelized(value)
    return out


def as_served(doc: dict[str, Any]) -> dict[str, Any]:
    doc = camelized(copy.deepcopy(doc))
    event = doc["components"]["schemas"].get("EventID")
    if event is not None:
        event["properties"]["txDigest"] = {"type": "string"}
    return doc


def validator(doc: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    uri = f"urn:walrus:{doc['info']['title'].replace(' ', '-').lower()}"
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    return jsonschema.Draft202012Validator({"$ref": f"{uri}#/components/schemas/{name}"},
                                           registry=Registry().with_resource(uri, resource))


def property_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                names.update(value)
            names |= property_names(value)
    elif isinstance(node, list):
        for item in node:
            names |= property_names(item)
    return names


def keys_in(body: Any) -> set[str]:
    if isinstance(body, dict):
        return set(body).union(*(keys_in(v) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(keys_in(v) for v in body))
    return set()


STORE_RESULT = validator(as_served(PUBLISHER_DOC), "BlobStoreResult")
STORE_RESULT_AS_WRITTEN = validator(PUBLISHER_DOC, "BlobStoreResult")
PUBLISHER_STATUS = validator(as_served(PUBLISHER_DOC), "Status")
AGGREGATOR_STATUS = validator(as_served(AGGREGATOR_DOC), "Status")
KNOWN_NAMES = property_names(as_served(PUBLISHER_DOC)["components"]) | {"@type", "reason",
                                                                        "domain"}


def check_store_result(body: Any) -> None:
    STORE_RESULT.validate(body)
    unknown = keys_in(body) - KNOWN_NAMES
    assert not unknown, f"names the schemas do not declare: {unknown}"


@pytest.fixture
def walrus() -> Iterator[WalrusServer]:
    with WalrusServer() as server:
        yield server


def put(server: WalrusServer, query: str = "", data: bytes = DATA,
        headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.put(f"{server.url}/v1/blobs{query}", content=data, headers=headers)


def test_a_new_blob_is_newly_created_with_its_real_blob_id(walrus: WalrusServer) -> None:
    answer = put(walrus, "?epochs=5&permanent=true")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    check_store_result(body)
    blob = body["newlyCreated"]["blobObject"]
    assert blob["blobId"] == DATA_ID
    assert (blob["size"], blob["deletable"], blob["registeredEpoch"]) == (17, False, 1)
    assert (blob["storage"]["startEpoch"], blob["storage"]["endEpoch"]) == (1, 6)
    assert blob["storage"]["storageSize"] == 66034000  # the docs' example for 17 bytes
    assert body["newlyCreated"]["resourceOperation"] == {
        "registerFromScratch": {"encodedLength": 66034000, "epochsAhead": 5}}
    assert not STORE_RESULT_AS_WRITTEN.is_valid(body), "the camelCase quirk of SOURCE.md"


def test_storing_again_is_already_certified_until_a_longer_lifetime_is_asked(
        walrus: WalrusServer) -> None:
    put(walrus, "?epochs=5&permanent=true")
    again = put(walrus, "?epochs=3&permanent=true").json()
    check_store_result(again)
    assert again["alreadyCertified"]["blobId"] == DATA_ID
    assert again["alreadyCertified"]["endEpoch"] == 6
    assert set(again["alreadyCertified"]["event"]) == {"txDigest", "eventSeq"}
    walrus.epoch = 4
    longer = put(walrus, "?epochs=5&permanent=true").json()
    check_store_result(longer)
    assert longer["newlyCreated"]["resourceOperation"]["reuseAndExtend"]["epochsExtended"] == 3
    assert longer["newlyCreated"]["blobObject"]["storage"]["endEpoch"] == 9


def test_other_store_results_follow_the_schema(walrus: WalrusServer) -> None:
    deletable = put(walrus, "?epochs=2").json()
    check_store_result(deletable)
    assert deletable["newlyCreated"]["blobObject"]["deletable"] is True
    owned = put(walrus, "?epochs=1").json()
    check_store_result(owned)
    assert owned["alreadyCertified"]["object"] == deletable["newlyCreated"]["blobObject"]["id"]
    shared = put(walrus, "?epochs=2&share=true&force=true").json()
    check_store_result(shared)
    assert shared["newlyCreated"]["sharedBlobObject"].startswith("0x")


def test_an_expired_blob_is_gone_and_stored_from_scratch(walrus: WalrusServer) -> None:
    put(walrus, "?epochs=2&permanent=true")
    walrus.epoch = 2
    read = httpx.get(f"{walrus.url}/v1/blobs/{DATA_ID}")
    assert (read.status_code, read.content) == (200, DATA)
    assert read.headers["content-type"] == "application/octet-stream"
    assert read.headers["etag"] == f'"{DATA_ID}"'
    walrus.epoch = 3  # the end epoch is exclusive
    assert httpx.get(f"{walrus.url}/v1/blobs/{DATA_ID}").status_code == 404
    fresh = put(walrus, "?epochs=1&permanent=true").json()
    assert "registerFromScratch" in fresh["newlyCreated"]["resourceOperation"]


def test_send_object_to_is_kept(walrus: WalrusServer) -> None:
    check_store_result(put(walrus, f"?permanent=true&send_object_to={ADDRESS}").json())
    record = walrus.network.blob(DATA_ID)
    assert record is not None
    assert (record.owner, record.end_epoch) == (ADDRESS, 2)  # `epochs` defaults to 1


def declared(doc: dict[str, Any], path: str, method: str) -> set[str]:
    return set(doc["paths"][path][method]["responses"])


@pytest.mark.parametrize(("setup", "request_", "code", "reason"), [
    ({}, ("PUT", "/v1/blobs?permanent=true&deletable=true"), 400, "INVALID_ARGUMENT"),
    ({}, ("PUT", "/v1/blobs?epochs=54"), 400, "INVALID_ARGUMENT"),
    ({}, ("PUT", "/v1/blobs?epochs=two"), 400, "INVALID_ARGUMENT"),
    ({}, ("PUT", f"/v1/blobs?send_object_to={ADDRESS}&share=true"), 400, "INVALID_ARGUMENT"),
    ({}, ("PUT", "/v1/blobs?encoding_type=RS3"), 400, "INVALID_ARGUMENT"),
    ({"token": "t0ken"}, ("PUT", "/v1/blobs"), 401, "MISSING_TOKEN"),
    ({"store_timeouts": 1}, ("PUT", "/v1/blobs"), 504, "DEADLINE_EXCEEDED"),
    ({}, ("GET", f"/v1/blobs/{'A' * 43}"), 404, "BLOB_NOT_FOUND"),
    ({}, ("GET", "/v1/blobs/not-a-blob-id"), 400, "INVALID_BLOB_ID"),
    ({}, ("GET", f"/v1/blobs/{'A' * 43}?strict_consistency_check=true"
                 "&skip_consistency_check=true"), 400, "INVALID_ARGUMENT"),
    ({"unavailable": 1}, ("GET", f"/v1/blobs/{'A' * 43}"), 503, "UNAVAILABLE"),
], ids=["both-flags", "too-many-epochs", "epochs-not-a-number", "send-and-share", "encoding",
        "no-token", "store-timeout", "unknown-blob", "bad-blob-id", "consistency-flags",
        "unavailable"])
def test_errors_are_aip193_envelopes(walrus: WalrusServer, setup: dict[str, Any],
                                     request_: tuple[str, str], code: int, reason: str) -> None:
    walrus.token = setup.pop("token", None)
    for knob, value in setup.items():
        setattr(walrus.faults, knob, value)
    method, path = request_
    answer = httpx.request(method, walrus.url + path, content=DATA if method == "PUT" else None)
    assert answer.status_code == code
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    (PUBLISHER_STATUS if method == "PUT" else AGGREGATOR_STATUS).validate(body)
    assert body["error"]["code"] == code
    assert body["error"]["details"][0] == {"@type": "ErrorInfo", "reason": reason,
                                           "domain": "daemon.walrus.space"}
    doc, route = (PUBLISHER_DOC, "/v1/blobs") if method == "PUT" else \
        (AGGREGATOR_DOC, "/v1/blobs/{blob_id}")
    assert code == 401 or str(code) in declared(doc, route, method.lower())


def test_a_blob_over_the_size_limit_is_413(walrus: WalrusServer) -> None:
    walrus.max_blob_size = 10
    answer = put(walrus)
    assert answer.status_code == 413
    assert "413" in declared(PUBLISHER_DOC, "/v1/blobs", "put")
    assert walrus.network.blob(DATA_ID) is None


def test_the_stores_requests_use_only_the_specs_parameters(walrus: WalrusServer) -> None:
    walrus.token = "t0ken"
    options = WalrusOptions(walrus.url, (walrus.url,), epochs=3, send_object_to=ADDRESS,
                            token="t0ken")
    with WalrusBlobStore(options) as store:
        store.put(DATA)
    (request,) = walrus.requests
    parameters = PUBLISHER_DOC["paths"]["/v1/blobs"]["put"]["parameters"]
    names = {p["name"] for p in parameters} | {
        prop for p in parameters for variant in p["schema"].get("oneOf", [])
        for prop in variant.get("properties", {})}
    assert set(request.query) <= names
    assert request.query == {"epochs": "3", "permanent": "true", "send_object_to": ADDRESS}
    assert request.authorization


def test_the_fault_knobs(walrus: WalrusServer) -> None:
    walrus.seed(DATA)
    url = f"{walrus.url}/v1/blobs/{DATA_ID}"
    walrus.faults.corrupt = True
    corrupt = httpx.get(url).content
    assert (len(corrupt), corrupt[:-1], corrupt == DATA) == (len(DATA), DATA[:-1], False)
    walrus.faults.corrupt, walrus.faults.chunked = False, True
    chunked = httpx.get(url)
    assert (chunked.content, "content-length" in chunked.headers) == (DATA, False)
    assert chunked.headers["transfer-encoding"] == "chunked"
    walrus.faults.not_found = True
    assert httpx.get(url).status_code == 404
    walrus.faults.not_found, walrus.faults.delay = False, 1.0
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=0.1)
    assert walrus.reads() == 4
