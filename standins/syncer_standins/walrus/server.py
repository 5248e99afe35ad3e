"""The HTTP side of the Walrus stand-in: publisher and aggregator routes on one server."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syncer_standins._http import BackgroundServer, TrackedHandler, TrackingHTTPServer
from syncer_standins.walrus.network import StoreRequest, WalrusNetwork, cached_blob_id

__all__ = ["RecordedRequest", "WalrusFaults", "WalrusServer"]


DEFAULT_MAX_BLOB_SIZE = 64 * 1024 * 1024
_BLOB_PATH = re.compile(r"^/v1/blobs/([^/]+)$")
_BLOB_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SUI_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{1,64}$")
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
           500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_CHUNK = 64 * 1024


@dataclass
class WalrusFaults:
    """Knobs that make the stand-in misbehave; tests set them while it runs.

    Reads (`GET /v1/blobs/{id}`): `corrupt` serves the bytes with their last byte flipped,
    `unavailable` answers the next N reads with 503, `delay` waits that many seconds before
    answering (set it above the client's timeout for timeouts), `not_found` answers 404,
    `chunked` streams the body without Content-Length. Stores: `store_timeouts` answers the
    next N stores with 504.
    """

    corrupt: bool = False
    unavailable: int = 0
    delay: float = 0.0
    not_found: bool = False
    chunked: bool = False
    store_timeouts: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it (the Authorization header reduced to present/absent)."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    authorization: bool = False
    body_bytes: int = 0


class _Answer(Exception):
    """An error answer in the AIP-193 envelope, or a plain one when `plain` is given."""

    def __init__(self, code: int, message: str, *, reason: str = "", plain: str | None = None):
        super().__init__(message)
        self.code, self.message, self.reason, self.plain = code, message, reason, plain

    def body(self) -> tuple[bytes, str]:
        if self.plain is not None:
            return self.plain.encode(), "text/plain; charset=utf-8"
        return _json(envelope(self.code, self.message, self.reason)), "application/json"


def envelope(code: int, message: str, reason: str = "") -> dict[str, Any]:
    """The AIP-193 error body Walrus daemons send."""
    info = {"@type": "ErrorInfo", "reason": reason or _STATUS.get(code, "UNKNOWN"),
            "domain": "daemon.walrus.space"}
    return {"error": {"code": code, "status": _STATUS.get(code, "UNKNOWN"),
                      "message": message, "details": [info]}}


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class _HTTPServer(TrackingHTTPServer):
    def __init__(self, address: tuple[str, int], owner: WalrusServer) -> None:
        super().__init__(address, _Handler)
        self.owner = owner
        self.stopping = threading.Event()


class _Handler(TrackedHandler):
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle(self._aggregator)

    def do_PUT(self) -> None:
        self._handle(self._publisher)

    def _handle(self, route: Callable[[str, dict[str, str]], None]) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            route(parts.path, query)
        except _Answer as answer:
            body, content_type = answer.body()
            self._send(answer.code, body, content_type)
        except OSError:  # the client went away (e.g. it timed out during a delay)
            self.close_connection = True

    # -- publisher -----------------------------------------------------------------------

    def _publisher(self, path: str, query: dict[str, str]) -> None:
        owner = self.server.owner
        data = self._body(owner.max_blob_size)
        owner.record(RecordedRequest("PUT", path, query, self._authorized_header(), len(data)))
        if path != "/v1/blobs":
            raise _Answer(404, "", plain="")
        self._authenticate(owner.token)
        if owner.take("store_timeouts"):
            raise _Answer(504, "the blob could not be stored to enough storage nodes in time")
        request = _store_request(data, query, owner.network.max_epochs)
        self._send(200, _json(owner.network.store(request)), "application/json")

    def _body(self, cap: int) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            raise _Answer(411, "", plain="a Content-Length is required")
        if int(length) > cap:
            self._discard(int(length))
            raise _Answer(413, "", plain="Failed to buffer the request body: length limit exceeded")
        return self.rfile.read(int(length))

    def _discard(self, length: int) -> None:
        self.close_connection = True
        while length > 0:
            chunk = self.rfile.read(min(length, _CHUNK))
            if not chunk:
                return
            length -= len(chunk)

    def _authorized_header(self) -> bool:
        return self.headers.get("Authorization") is not None

    def _authenticate(self, token: str | None) -> None:
        if token is None:
            return
        header = self.headers.get("Authorization")
        if header is None:
            raise _Answer(401, "a bearer token is required", reason="MISSING_TOKEN")
        if header != f"Bearer {token}":
            raise _Answer(401, "the bearer token is not valid", reason="INVALID_TOKEN")

    # -- aggregator ----------------------------------------------------------------------

    def _aggregator(self, path: str, query: dict[str, str]) -> None:
        owner = self.server.owner
        owner.record(RecordedRequest("GET", path, query, self._authorized_header()))
        match = _BLOB_PATH.match(path)
        if match is None:
            raise _Answer(404, "", plain="")
        if owner.faults.delay > 0:
            self.server.stopping.wait(owner.faults.delay)
        if owner.take("unavailable"):
            raise _Answer(503, "the blob is currently not retrievable; retry with backoff")
        data = _blob(owner, match.group(1), query)
        if owner.faults.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 0xFF]) if data else b"\0"
        self._send_blob(data, match.group(1), chunked=owner.faults.chunked)

    def _send_blob(self, data: bytes, blob_id: str, *, chunked: bool) -> None:
        if not chunked:
            self._send(200, data, "application/octet-stream", {"ETag": f'"{blob_id}"'})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(data), _CHUNK):
            chunk = data[start:start + _CHUNK]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _send(self, code: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _blob(owner: WalrusServer, blob_id: str, query: dict[str, str]) -> bytes:
    if not _BLOB_ID.match(blob_id):
        raise _Answer(400, "the blob ID is not valid", reason="INVALID_BLOB_ID")
    checks = [_flag(query, name) for name in ("strict_consistency_check",
                                              "skip_consistency_check")]
    if all(checks):
        raise _Answer(400, "the consistency check options are invalid")
    data = None if owner.faults.not_found else owner.network.read(blob_id)
    if data is None:
        raise _Answer(404, "the requested blob ID does not exist on Walrus, ensure that it was "
                      "entered correctly", reason="BLOB_NOT_FOUND")
    return data


def _store_request(data: bytes, query: dict[str, str], max_epochs: int) -> StoreRequest:
    epochs = query.get("epochs", "1")
    if not epochs.isdigit() or not 1 <= int(epochs) <= max_epochs:
        raise _Answer(400, f"epochs must be between 1 and {max_epochs}")
    if query.get("encoding_type", "RS2") != "RS2":
        raise _Answer(400, "unsupported encoding type")
    permanent, deletable = _flag(query, "permanent"), _flag(query, "deletable")
    if permanent and deletable:
        raise _Answer(400, "the blob cannot be defined as both deletable and permanent")
    owner, share = query.get("send_object_to"), _flag(query, "share")
    if owner is not None and (share or not _SUI_ADDRESS.match(owner)):
        raise _Answer(400, "send_object_to must be a Sui address, and excludes share")
    return StoreRequest(data, int(epochs), permanent=permanent, force=_flag(query, "force"),
                        send_object_to=owner, share=share)


def _flag(query: dict[str, str], name: str) -> bool:
    value = query.get(name, "false")
    if value not in ("true", "false"):
        raise _Answer(400, f"{name} must be true or false")
    return value == "true"


class WalrusServer(BackgroundServer):
    """A Walrus publisher and aggregator stand-in on host:port (port 0 picks a free port).

    Several servers may share one `WalrusNetwork` to play several aggregators of the same
    Walrus, each with its own `faults`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 network: WalrusNetwork | None = None, token: str | None = None,
                 max_blob_size: int = DEFAULT_MAX_BLOB_SIZE) -> None:
        self.network = network if network is not None else WalrusNetwork()
        self.token = token
        self.max_blob_size = max_blob_size
        self.faults = WalrusFaults()
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._walrus_httpd = _HTTPServer((host, port), self)
        super().__init__(self._walrus_httpd)

    @property
    def epoch(self) -> int:
        return self.network.epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self.network.epoch = value

    def seed(self, data: bytes, *, epochs: int = 1, permanent: bool = True) -> str:
        """Store `data` without HTTP, as if some publisher had; its blob ID."""
        self.network.store(StoreRequest(data, epochs, permanent=permanent))
        return cached_blob_id(data)

    def reads(self) -> int:
        """How many blob reads this server answered (or refused)."""
        with self._lock:
            return sum(1 for r in self.requests if r.method == "GET")

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def take(self, knob: str) -> bool:
        """Use up one count of a counting fault; True if there was one."""
        with self._lock:
            left = int(getattr(self.faults, knob))
            if left > 0:
                setattr(self.faults, knob, left - 1)
            return left > 0

    name = "Walrus stand-in"

    def _before_stop(self) -> None:
        self._walrus_httpd.stopping.set()  # wakes delayed answers
