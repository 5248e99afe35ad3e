"""The Walrus wire format (store results, AIP-193 errors) and the store's options; no I/O.

The JSON shapes are the ones Walrus daemons send (camelCase, as the daemons'
code writes them) and the snake_case spelling of the generated OpenAPI schemas, which is tolerated.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from syncer.blobstore._walrus_wire import (
    StoreOutcome,
    WireError,
    error_summary,
    parse_store_result,
)
from syncer.blobstore.walrus import MAX_EPOCHS_AHEAD, WalrusBlobStore, WalrusOptions
from syncer.errors import BlobStoreError, ConfigError

BLOB = "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"
URL = "http://127.0.0.1:9"

NEWLY_CREATED = {"newlyCreated": {
    "blobObject": {
        "id": "0xe91eee8c5b6f35b9a250cfc29e30f0d9e5463a21fd8d1ddb0fc22d44db4eac50",
        "registeredEpoch": 34, "blobId": BLOB, "size": 17, "encodingType": "RS2",
        "certifiedEpoch": 34,
        "storage": {"id": "0x4748cd83217b5ce7aa77e7f1ad6fc5f7f694e26a157381b9391ac65c47815faf",
                    "startEpoch": 34, "endEpoch": 35, "storageSize": 66034000},
        "deletable": False},
    "resourceOperation": {"registerFromScratch": {"encodedLength": 66034000, "epochsAhead": 1}},
    "cost": 132300}}
ALREADY_CERTIFIED = {"alreadyCertified": {
    "blobId": BLOB,
    "event": {"txDigest": "4XQHFa9S324wTzYHF3vsBSwpUZuLpmwTHYMFv9nsttSs", "eventSeq": "0"},
    "endEpoch": 35}}
SNAKE_NEWLY_CREATED = {"newly_created": {
    "blob_object": {"id": "0x1", "registered_epoch": 3, "blob_id": BLOB, "size": 17,
                    "encoding_type": "RS2", "certified_epoch": 3, "deletable": False,
                    "storage": {"id": "0x2", "start_epoch": 3, "end_epoch": 56,
                                "storage_size": 66034000}},
    "resource_operation": {"reuse_and_extend": {"encoded_length": 66034000,
                                                "epochs_extended": 20}},
    "cost": 1}}
SNAKE_ALREADY_CERTIFIED = {"already_certified": {"blob_id": BLOB, "object": "0x1",
                                                 "end_epoch": 61}}
ENVELOPE = {"error": {"code": 404, "status": "NOT_FOUND",
                      "message": "the requested blob ID does not exist on Walrus",
                      "details": [{"@type": "ErrorInfo", "reason": "BLOB_NOT_FOUND",
                                   "domain": "daemon.walrus.space"}]}}


def parse(body: Any) -> StoreOutcome:
    return parse_store_result(json.dumps(body).encode())


@pytest.mark.parametrize(("body", "expected"), [
    (NEWLY_CREATED, StoreOutcome(BLOB, True, 35, "registerFromScratch")),
    (ALREADY_CERTIFIED, StoreOutcome(BLOB, False, 35)),
    (SNAKE_NEWLY_CREATED, StoreOutcome(BLOB, True, 56, "reuse_and_extend")),
    (SNAKE_ALREADY_CERTIFIED, StoreOutcome(BLOB, False, 61)),
    ({"newlyCreated": None, **ALREADY_CERTIFIED}, StoreOutcome(BLOB, False, 35)),
    ({"alreadyCertified": {"blobId": BLOB}}, StoreOutcome(BLOB, False, None)),
], ids=["newly-created", "already-certified", "snake-newly-created", "snake-already-certified",
        "null-variant-beside", "no-end-epoch"])
def test_store_results_parse(body: Any, expected: StoreOutcome) -> None:
    assert parse(body) == expected


@pytest.mark.parametrize(("body", "message"), [
    ({"markedInvalid": {"blobId": BLOB, "event": {}}}, "marked this blob invalid"),
    ({"error": {"blobId": None, "failurePhase": "certify", "errorMsg": "not enough nodes"}},
     "the store failed (certify): not enough nodes"),
    ({"error": {"blob_id": None, "failure_phase": "register", "error_msg": "no WAL"}},
     "the store failed (register): no WAL"),
    ({"somethingElse": {}}, "unknown store result with keys somethingElse"),
    ({"alreadyCertified": {"blobId": "short", "endEpoch": 3}}, "no valid blob ID"),
    ({"alreadyCertified": {"blobId": BLOB, "endEpoch": "35"}}, "not an epoch number"),
    ({"newlyCreated": {"cost": 3}}, "newlyCreated.blobObject is not a JSON object"),
    ([1, 2], "the answer is not a JSON object"),
], ids=["marked-invalid", "error", "snake-error", "unknown", "bad-id", "bad-epoch",
        "no-blob-object", "not-an-object"])
def test_other_store_results_are_refused(body: Any, message: str) -> None:
    with pytest.raises(WireError, match=re.escape(message)):
        parse(body)


def test_a_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(WireError, match="not JSON"):
        parse_store_result(b"<html>502 Bad Gateway</html>")
    with pytest.raises(WireError, match="not JSON"):
        parse_store_result(b"\xff\xfe")


@pytest.mark.parametrize(("status", "body", "line"), [
    (404, json.dumps(ENVELOPE).encode(),
     "404 NOT_FOUND: the requested blob ID does not exist on Walrus (BLOB_NOT_FOUND)"),
    (401, b'{"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "bad token", '
          b'"details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", '
          b'"reason": "INVALID_TOKEN"}]}}', "401 UNAUTHENTICATED: bad token (INVALID_TOKEN)"),
    (503, b'{"error": {"code": 503, "message": "try later", "details": []}}',
     "503 Service Unavailable: try later"),
    (413, b"Failed to buffer the request body: length limit exceeded",
     "413 Request Entity Too Large: Failed to buffer the request body: length limit exceeded"),
    (502, b"", "502 Bad Gateway"),
    (599, b"[]", "599 HTTP error: []"),
], ids=["envelope", "full-type-url", "no-status-name", "plain-text", "empty", "odd"])
def test_error_answers_become_one_line(status: int, body: bytes, line: str) -> None:
    assert error_summary(status, body) == line


def test_long_error_bodies_are_cut() -> None:
    body = json.dumps({"error": {"code": 500, "status": "INTERNAL", "message": "x\n" * 500,
                                 "details": []}}).encode()
    summary = error_summary(500, body)
    assert "\n" not in summary
    assert len(summary) < 200
    assert len(error_summary(500, b"y" * 10_000)) < 120


def test_options_default_to_the_networks_maximum_epochs() -> None:
    options = WalrusOptions(URL, (URL,))
    assert options.store_epochs == MAX_EPOCHS_AHEAD == 53
    assert WalrusOptions(URL, (URL,), epochs=7).store_epochs == 7
    assert options.permanent


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"epochs": 0}, "epochs must be between 1 and 53, not 0"),
    ({"epochs": 54}, "epochs must be between 1 and 53, not 54"),
    ({"send_object_to": "alice"}, "not a Sui address"),
    ({"token": "two words"}, "token holds spaces"),
    ({"timeout": 0}, "must be positive"),
    ({"retries": -1}, "not negative"),
    ({"max_bytes": 0}, "must be positive"),
], ids=["epochs-0", "epochs-54", "address", "token", "timeout", "retries", "max-bytes"])
def test_bad_options_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WalrusOptions(URL, (URL,), **kwargs)


@pytest.mark.parametrize("url", ["ftp://walrus.example", "walrus.example/v1", "http://"])
def test_endpoints_must_be_http_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="walrus endpoint"):
        WalrusOptions(None, (url,))


def test_the_token_stays_out_of_repr_and_errors() -> None:
    options = WalrusOptions("https://user:pw@publisher.example/", (), token="s3cret")
    assert "s3cret" not in repr(options)
    with WalrusBlobStore(options) as store, pytest.raises(ConfigError) as caught:
        store.get(BLOB, sha256="0" * 64)
    assert "s3cret" not in str(caught.value)


def test_a_store_without_publisher_only_reads() -> None:
    with WalrusBlobStore(WalrusOptions(None, (URL,))) as store, \
            pytest.raises(ConfigError, match="no Walrus publisher"):
        store.put(b"bundle")


@pytest.mark.parametrize(("blob_id", "sha256", "message"), [
    ("../../etc/passwd", "0" * 64, "not a Walrus blob ID"),
    (BLOB, "ABC", "not 64 lowercase hex digits"),
])
def test_get_refuses_malformed_names_before_asking(blob_id: str, sha256: str,
                                                  message: str) -> None:
    with WalrusBlobStore(WalrusOptions(None, (URL,))) as store, \
            pytest.raises(BlobStoreError, match=message):
        store.get(blob_id, sha256=sha256)
