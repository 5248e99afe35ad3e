"""Notifications POSTed over real HTTP to a receiver on 127.0.0.1 that records what it is
sent and answers as each test scripts it (`syncer.notify`). Waits between attempts are a
manual clock's: the retries are counted, never slept through."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fakeclock import ManualClock

from syncer.logs import JsonFormatter, TextFormatter
from syncer.notify import Notification, Notifier, NotifyOptions, Target, payload

SECRET = "/services/T0AAA/B0BBB/s3cr3tXYZ"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # seconds before answering


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver(ThreadingHTTPServer):
    """A webhook receiver: answers from `script` in turn (then 200), records each request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[Answer] = []
        self.received: list[Received] = []
        self.lock = threading.Lock()

    def url(self, path: str = SECRET) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def next_answer(self, request: Received) -> Answer:
        with self.lock:
            self.received.append(request)
            return self.script.pop(0) if self.script else Answer()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client gone before the answer (a cap, a timeout): what the tests make


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        request = Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                           self.rfile.read(length))
        answer = self.server.next_answer(request)
        if answer.hang:
            threading.Event().wait(answer.hang)
        self.send_response(answer.status)
        for name, value in {"Content-Length": str(len(answer.body)), **answer.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def notifier(clock: ManualClock) -> Iterator[Notifier]:
    with Notifier(clock=clock) as sender:
        yield sender


NOTE = Notification(channel="shop-dev", outcome="failed", seq=7,
                    blob_id="M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk",
                    sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    commit="4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                    message="Deployment/shop-dev/web: forbidden (HTTP 403)",
                    time="2027-01-15T08:00:00Z", cluster="prod-eu")


def printed(caplog: pytest.LogCaptureFixture) -> str:
    """Every record of syncer.notify as both CLI formatters would print it."""
    return "\n".join(f.format(r) for r in caplog.records if r.name == "syncer.notify"
                     for f in (JsonFormatter(), TextFormatter()))


def test_the_json_body_is_posted_as_json(receiver: Receiver, notifier: Notifier) -> None:
    done = notifier.send(NOTE, [Target(receiver.url(), "json")])
    assert [(d.delivered, d.attempts, d.detail) for d in done] == [(True, 1, "HTTP 200")]
    [got] = receiver.received
    assert (got.method, got.path) == ("POST", SECRET)
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body) == {
        "source": "syncer", "channel": "shop-dev", "outcome": "failed",
        "reason": "ReleaseFailed", "seq": 7, "blobId": NOTE.blob_id, "sha256": NOTE.sha256,
        "commit": NOTE.commit, "message": "Deployment/shop-dev/web: forbidden (HTTP 403)",
        "time": "2027-01-15T08:00:00Z", "cluster": "prod-eu"}


def test_each_target_gets_its_own_format(receiver: Receiver, notifier: Notifier) -> None:
    notifier.send(NOTE, [Target(receiver.url("/json"), "json"),
                         Target(receiver.url("/slack"), "slack")])
    assert [(r.path, json.loads(r.body)) for r in receiver.received] == [
        ("/json", payload(NOTE, "json")), ("/slack", payload(NOTE, "slack"))]
    assert json.loads(receiver.received[1].body)["blocks"][1]["fields"][1] == \
        {"type": "mrkdwn", "text": "*Commit*\n`4b825dc642cb`"}


def test_a_500_is_retried_until_it_passes(receiver: Receiver, notifier: Notifier,
                                          clock: ManualClock) -> None:
    receiver.script = [Answer(500, b"boom"), Answer(502, b"")]
    [done] = notifier.send(NOTE, [Target(receiver.url())])
    assert (done.delivered, done.attempts, done.detail) == (True, 3, "HTTP 200")
    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1  # the same body each time
    assert clock.waits == [0.5, 1.0]


def test_retry_after_of_a_429_is_honoured_and_capped(receiver: Receiver,
                                                    notifier: Notifier,
                                                    clock: ManualClock) -> None:
    receiver.script = [Answer(429, headers={"Retry-After": "2"}),
                       Answer(503, headers={"Retry-After": "3600"})]
    [done] = notifier.send(NOTE, [Target(receiver.url())])
    assert done.delivered
    assert clock.waits == [2.0, 10.0]


def test_after_the_last_attempt_it_gives_up_with_a_warning_naming_no_secret(
        receiver: Receiver, notifier: Notifier, clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    receiver.script = [Answer(500, f"no route to {SECRET}".encode())] * 4
    target = Target(receiver.url() + "?token=t0k3n", "slack")
    with caplog.at_level(logging.DEBUG, logger="syncer.notify"):
        [done] = notifier.send(NOTE, [target])
    assert (done.delivered, done.attempts, done.detail) == (False, 3, "HTTP 500: no route to …")
    assert len(receiver.received) == 3
    assert clock.waits == [0.5, 1.0]
    [record] = [r for r in caplog.records if r.name == "syncer.notify"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "notification not delivered: HTTP 500: no route to …"
    host = f"http://127.0.0.1:{receiver.server_address[1]}/…"
    assert (record.channel, record.seq, record.target) == ("shop-dev", 7, host)  # type: ignore[attr-defined]
    text = printed(caplog)
    assert "s3cr3t" not in text and "t0k3n" not in text and "B0BBB" not in text


def test_a_4xx_is_not_retried(receiver: Receiver, notifier: Notifier,
                              clock: ManualClock) -> None:
    receiver.script = [Answer(404, b"no_service")]
    [done] = notifier.send(NOTE, [Target(receiver.url(), "slack")])
    assert (done.delivered, done.attempts, done.detail) == (False, 1, "HTTP 404: no_service")
    assert clock.waits == []


def test_a_redirect_is_not_followed(receiver: Receiver, notifier: Notifier) -> None:
    receiver.script = [Answer(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"})]
    [done] = notifier.send(NOTE, [Target(receiver.url())])
    assert (done.delivered, done.attempts, done.detail) == (False, 1, "HTTP 302")
    assert len(receiver.received) == 1


def test_an_answer_is_read_only_up_to_its_cap(receiver: Receiver, clock: ManualClock) -> None:
    receiver.script = [Answer(400, b"x" * 100_000)]
    with Notifier(clock=clock, options=NotifyOptions(max_response=1024)) as sender:
        [done] = sender.send(NOTE, [Target(receiver.url())])
    assert (done.delivered, done.detail) == (False, "HTTP 400")


def test_no_connection_is_retried_then_given_up(notifier: Notifier, clock: ManualClock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again: nothing listens there
    with caplog.at_level(logging.WARNING, logger="syncer.notify"):
        [done] = notifier.send(NOTE, [Target(f"http://127.0.0.1:{port}{SECRET}")])
    assert (done.delivered, done.attempts, done.detail) == (False, 3, "ConnectError")
    assert clock.waits == [0.5, 1.0]
    assert "s3cr3t" not in printed(caplog)


def test_a_receiver_too_slow_to_answer_is_retried(receiver: Receiver,
                                                  clock: ManualClock) -> None:
    receiver.script = [Answer(hang=2.0)]
    with Notifier(clock=clock, options=NotifyOptions(timeout=0.2)) as sender:
        [done] = sender.send(NOTE, [Target(receiver.url())])
    assert (done.delivered, done.attempts) == (True, 2)
    assert clock.waits == [0.5]


def test_a_stop_signal_ends_the_retries(receiver: Receiver, clock: ManualClock) -> None:
    stop = threading.Event()
    stop.set()
    receiver.script = [Answer(503)] * 3
    with Notifier(clock=clock, stop=stop) as sender:
        [done] = sender.send(NOTE, [Target(receiver.url())])
    assert (done.delivered, done.attempts) == (False, 1)
    assert len(receiver.received) == 1


def test_one_broken_target_does_not_keep_the_others_from_theirs(
        receiver: Receiver, notifier: Notifier) -> None:
    receiver.script = [Answer(410, b"gone")]
    done = notifier.send(NOTE, [Target(receiver.url("/gone")), Target("not a url at all"),
                                Target(receiver.url("/fine"), "slack")])
    assert [d.delivered for d in done] == [False, False, True]
    assert [r.path for r in receiver.received] == ["/gone", "/fine"]
