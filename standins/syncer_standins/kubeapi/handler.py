"""The HTTP side: a `ThreadingHTTPServer` whose handler turns requests into `api.serve` calls.

HTTP/1.1 with keep-alive; JSON answers end with a newline as kube's do; a watch is a
chunked 200 with one event per line. Errors are Status bodies, except unknown paths: a
plain-text `404 page not found`.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syncer_standins._http import TrackedHandler, TrackingHTTPServer
from syncer_standins.kubeapi import notices
from syncer_standins.kubeapi.api import Reply, Request, WatchReply, serve
from syncer_standins.kubeapi.errors import (
    ApiError,
    PageNotFound,
    ServiceUnavailable,
    status_body,
)
from syncer_standins.kubeapi.state import ApiState

__all__ = ["ApiHTTPServer", "Handler"]

logger = logging.getLogger(__name__)

_MAX_BODY = 3 * 1024 * 1024
_TEXT = "text/plain; charset=utf-8"


def _dump(body: Any) -> bytes:
    return (json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


class ApiHTTPServer(TrackingHTTPServer):
    def __init__(self, address: tuple[str, int], state: ApiState) -> None:
        super().__init__(address, Handler)
        self.state = state


class Handler(TrackedHandler):
    server: ApiHTTPServer
    _warnings: list[str] = []  # noqa: RUF012 - replaced by each request's own list

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _request(self) -> Request:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ApiError(413, f"Request entity too large: limit is {_MAX_BODY}",
                           "RequestEntityTooLarge")
        body = self.rfile.read(length) if length else b""
        return Request(self.command, url.path, query, headers, body)

    def _handle(self) -> None:
        with notices.collecting() as warnings:
            self._warnings = warnings
            try:
                request = self._request()
                if self._faulted(request):
                    return
                reply = serve(self.server.state, request)
            except PageNotFound:
                self._send(404, b"404 page not found\n", content_type=_TEXT)
            except ServiceUnavailable:
                self._send(503, b"service unavailable\n", content_type=_TEXT)
            except ApiError as err:
                self._send(err.code, _dump(err.body()), content_type="application/json",
                           headers=err.headers)
            except Exception:
                logger.exception("internal error serving %s %s", self.command, self.path)
                body = status_body(500, "Internal error", reason="InternalError")
                self._send(500, _dump(body), content_type="application/json")
            else:
                if isinstance(reply, WatchReply):
                    self._stream(reply)
                else:
                    self._reply(reply)

    def _faulted(self, request: Request) -> bool:
        """Answer as an armed `Fault` says, if one matches; True if it did."""
        faults = self.server.state.faults
        if faults.latency:
            time.sleep(faults.latency)
        fault = faults.take(request.method, request.path, request.query)
        if fault is None:
            return False
        if fault.delay:
            time.sleep(fault.delay)
        if fault.cut:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        body = status_body(fault.status, fault.message, reason=fault.reason)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
        self._send(fault.status, _dump(body), content_type="application/json", headers=headers)
        return True

    def _reply(self, reply: Reply) -> None:
        if reply.content_type.startswith("text/plain"):
            data = str(reply.body).encode()
        else:
            data = _dump(reply.body)
        self._send(reply.status, data, content_type=reply.content_type, headers=reply.headers)

    def _send(self, status: int, data: bytes, *, content_type: str,
              headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for text in self._warnings:
            self.send_header("Warning", notices.header_value(text))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: WatchReply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.close_connection = True
        try:
            for event in reply.events:
                line = _dump(event)
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            logger.debug("watch client went away")
        except Exception:
            logger.exception("watch stream failed")
        finally:
            close = getattr(reply.events, "close", None)
            if close is not None:
                close()
