"""`WalrusBlobStore` over real sockets against the Walrus stand-in (and, for answers the
stand-in never gives, a canned HTTP server): stores, refreshes, failover, caps, tokens.

Every successful read recomputes the blob ID (~0.7 s), so the tests keep them few; reads that
fail the SHA-256 check cost nothing.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from syncer_standins.walrus import WalrusNetwork, WalrusServer

from syncer.blobstore import blob_id_of
from syncer.blobstore.walrus import WalrusBlobStore, WalrusOptions
from syncer.bundle import sha256_hex
from syncer.errors import BlobIntegrityError, BlobNotFoundError, BlobStoreError

DATA = b"a bundle: deterministic tar bytes\n" * 40
SHA = sha256_hex(DATA)
TOKEN = "eyJhbGciOiJIUzI1NiJ9.s3cret-claims.signature"


@dataclass
class FakeTime:
    """A clock that only moves when the store sleeps."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def data_id() -> str:
    return blob_id_of(DATA)


@pytest.fixture
def network() -> WalrusNetwork:
    return WalrusNetwork()


@pytest.fixture
def walrus(network: WalrusNetwork) -> Iterator[WalrusServer]:
    with WalrusServer(network=network) as server:
        yield server


@pytest.fixture
def second(network: WalrusNetwork) -> Iterator[WalrusServer]:
    """Another aggregator of the same Walrus."""
    with WalrusServer(network=network) as server:
        yield server


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def store(publisher: str | None, *aggregators: str, time_: FakeTime | None = None,
          **options: Any) -> WalrusBlobStore:
    options = {"backoff": 0.25, "timeout": 5.0, **options}
    fake = time_ or FakeTime()
    return WalrusBlobStore(WalrusOptions(publisher, aggregators, **options),
                           sleep=fake.sleep, clock=fake.clock)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# -- stores ------------------------------------------------------------------------------


def test_put_then_already_certified_then_refresh_extends(walrus: WalrusServer,
                                                         data_id: str) -> None:
    with store(walrus.url, walrus.url) as walrus_store:
        first = walrus_store.put(DATA)
        assert (first.blob_id, first.sha256, first.created, first.end_epoch) == \
            (data_id, SHA, True, 54)  # epoch 1 + the network's maximum of 53
        again = walrus_store.put(DATA)
        assert (again.blob_id, again.created, again.end_epoch) == (data_id, False, 54)
        walrus.epoch = 20
        refreshed = walrus_store.refresh(DATA, blob_id=data_id)
    assert (refreshed.blob_id, refreshed.created, refreshed.end_epoch) == (data_id, True, 73)
    assert [r.query for r in walrus.requests] == [{"epochs": "53", "permanent": "true"}] * 3
    assert not any(r.authorization for r in walrus.requests)


def test_refresh_refuses_bytes_of_another_blob(walrus: WalrusServer) -> None:
    with store(walrus.url, walrus.url) as walrus_store, \
            pytest.raises(BlobIntegrityError, match="the bytes to refresh encode to"):
        walrus_store.refresh(DATA, blob_id="A" * 43)
    assert walrus.requests == []


def test_upload_over_the_cap_is_never_sent(walrus: WalrusServer) -> None:
    with store(walrus.url, walrus.url, max_bytes=1000) as walrus_store, \
            pytest.raises(BlobStoreError) as caught:
        walrus_store.put(b"x" * 1001)
    assert str(caught.value) == \
        f"publisher {walrus.url}/v1/blobs: 1001 bytes, over the cap of 1000; not sent"
    assert walrus.requests == []


def test_a_publishers_413_is_one_line(walrus: WalrusServer, data_id: str) -> None:
    walrus.max_blob_size = 100
    with store(walrus.url, walrus.url) as walrus_store, pytest.raises(BlobStoreError) as caught:
        walrus_store.put(DATA)
    assert str(caught.value) == (
        f"blob {data_id} at {walrus.url}/v1/blobs: the publisher refused the blob: 413 Request "
        "Entity Too Large: Failed to buffer the request body: length limit exceeded")


def test_the_token_is_sent_and_504_retried(walrus: WalrusServer, data_id: str,
                                          time_: FakeTime) -> None:
    walrus.token, walrus.faults.store_timeouts = TOKEN, 1
    with store(walrus.url, walrus.url, token=TOKEN, time_=time_) as walrus_store:
        stored = walrus_store.put(DATA)
    assert (stored.blob_id, stored.created) == (data_id, True)
    assert [r.authorization for r in walrus.requests] == [True, True]
    assert time_.sleeps == [0.25]


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_401_is_one_clear_line_without_the_token(walrus: WalrusServer, data_id: str,
                                                 token: str | None) -> None:
    walrus.token = TOKEN
    with store(walrus.url, walrus.url, token=token) as walrus_store, \
            pytest.raises(BlobStoreError) as caught:
        walrus_store.put(DATA)
    message = str(caught.value)
    reason = "MISSING_TOKEN" if token is None else "INVALID_TOKEN"
    assert message.startswith(f"blob {data_id} at {walrus.url}/v1/blobs: the publisher refused "
                              "the blob: 401 UNAUTHENTICATED: ")
    assert message.endswith(f"({reason})")
    assert "\n" not in message
    assert TOKEN not in message
    assert "wrong-token" not in message


def test_an_unreachable_publisher_fails_after_retries(time_: FakeTime, data_id: str) -> None:
    url = closed_port_url()
    with store(url, url, retries=2, time_=time_) as walrus_store, \
            pytest.raises(BlobStoreError) as caught:
        walrus_store.put(DATA)
    assert str(caught.value) == (f"blob {data_id} at {url}/v1/blobs: the publisher failed 3 "
                                 "times; last: network error (ConnectError)")
    assert time_.sleeps == [0.25, 0.5]


class Canned(ThreadingHTTPServer):
    """Answers every request with one status and body: answers the stand-in never gives."""

    daemon_threads = True

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body
        super().__init__(("127.0.0.1", 0), CannedHandler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Canned

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize(("body", "error", "message"), [
    (json.dumps({"alreadyCertified": {"blobId": "B" * 43, "endEpoch": 9}}).encode(),
     BlobIntegrityError, f"the publisher answered with blob ID {'B' * 43}, not the one the "
                         "bytes encode to"),
    (b"<html>hello</html>", BlobStoreError, "the publisher's answer: the answer is not JSON"),
], ids=["another-blob-id", "not-json"])
def test_a_publisher_answer_that_cannot_be_trusted_is_refused(
        data_id: str, body: bytes, error: type[BlobStoreError], message: str) -> None:
    canned = Canned(200, body)
    try:
        with store(canned.url, canned.url) as walrus_store, pytest.raises(error) as caught:
            walrus_store.put(DATA)
    finally:
        canned.shutdown()
        canned.server_close()
    assert str(caught.value) == f"blob {data_id} at {canned.url}/v1/blobs: {message}"


# -- reads -------------------------------------------------------------------------------


def test_a_corrupt_aggregator_is_reported_and_the_next_one_used(
        walrus: WalrusServer, second: WalrusServer, data_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="syncer.blobstore.walrus")
    walrus.seed(DATA)
    walrus.faults.corrupt = True
    with store(None, walrus.url, second.url) as walrus_store:
        assert walrus_store.get(data_id, sha256=SHA) == DATA
    (bad,) = [r for r in caplog.records if r.getMessage() == "aggregator served bad bytes"]
    assert (bad.levelno, bad.aggregator, bad.blob_id, bad.attempt) == \
        (logging.WARNING, walrus.url, data_id, 1)
    assert (walrus.reads(), second.reads()) == (1, 1)


def test_bad_bytes_everywhere_name_every_aggregator(walrus: WalrusServer, second: WalrusServer,
                                                   data_id: str) -> None:
    walrus.seed(DATA)
    walrus.faults.corrupt = second.faults.corrupt = True
    with store(None, walrus.url, second.url) as walrus_store, \
            pytest.raises(BlobIntegrityError) as caught:
        walrus_store.get(data_id, sha256=SHA)
    assert str(caught.value) == f"blob {data_id}: bad bytes from {walrus.url}, {second.url}"


def test_503_twice_then_the_blob(walrus: WalrusServer, data_id: str, time_: FakeTime) -> None:
    walrus.seed(DATA)
    walrus.faults.unavailable = 2
    with store(None, walrus.url, time_=time_) as walrus_store:
        assert walrus_store.get(data_id, sha256=SHA) == DATA
    assert walrus.reads() == 3
    assert time_.sleeps == [0.25, 0.5]


def test_timeouts_then_the_next_aggregator(walrus: WalrusServer, second: WalrusServer,
                                          data_id: str) -> None:
    walrus.seed(DATA)
    walrus.faults.delay = 2.0
    dead = closed_port_url()
    with WalrusBlobStore(WalrusOptions(None, (walrus.url, dead, second.url), timeout=0.2,
                                       retries=1, backoff=0.01)) as walrus_store:
        assert walrus_store.get(data_id, sha256=SHA) == DATA
    assert (walrus.reads(), second.reads()) == (2, 1)


def test_the_read_deadline_ends_retries_with_a_clear_error(
        walrus: WalrusServer, second: WalrusServer, data_id: str, time_: FakeTime) -> None:
    walrus.seed(DATA)
    walrus.faults.unavailable = second.faults.unavailable = 100
    with store(None, walrus.url, second.url, time_=time_, read_deadline=5.0, backoff=1.0,
               retries=10) as walrus_store, pytest.raises(BlobStoreError) as caught:
        walrus_store.get(data_id, sha256=SHA)
    assert type(caught.value) is BlobStoreError
    unavailable = "503 UNAVAILABLE: the blob is currently not retrievable; retry with backoff"
    assert str(caught.value) == (
        f"blob {data_id}: read deadline of 5s reached: {walrus.url}: {unavailable} (3 attempts);"
        f" {second.url}: {unavailable} (2 attempts)")
    assert time_.sleeps == [1.0, 2.0, 1.0]


def test_404_everywhere_is_not_found(walrus: WalrusServer, second: WalrusServer,
                                     data_id: str) -> None:
    walrus.seed(DATA, epochs=1)
    walrus.epoch = 2  # expired
    with store(None, walrus.url, second.url) as walrus_store, \
            pytest.raises(BlobNotFoundError) as caught:
        walrus_store.get(data_id, sha256=SHA)
    assert str(caught.value) == f"blob {data_id}: not found at {walrus.url}, {second.url}"
    assert (walrus.reads(), second.reads()) == (1, 1)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_reads_over_the_cap_are_refused(walrus: WalrusServer, data_id: str,
                                        chunked: bool) -> None:
    walrus.seed(DATA)
    walrus.faults.chunked = chunked
    with store(None, walrus.url, max_bytes=len(DATA) - 1) as walrus_store, \
            pytest.raises(BlobStoreError) as caught:
        walrus_store.get(data_id, sha256=SHA)
    assert str(caught.value) == \
        f"blob {data_id}: not read: {walrus.url}: sent more than the cap of {len(DATA) - 1} bytes"
