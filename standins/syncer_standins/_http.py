"""What every stand-in server shares: a threaded HTTP server that can cut its open
connections (keep-alives, watches, delayed answers) on stop, a handler that keeps one, and
the start/stop/context-manager life of a server serving from a daemon thread."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Self

__all__ = ["BackgroundServer", "TrackedHandler", "TrackingHTTPServer", "serve_until_signalled"]

logger = logging.getLogger(__name__)


class TrackingHTTPServer(ThreadingHTTPServer):
    """A `ThreadingHTTPServer` that knows its open connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def track(self, connection: socket.socket, *, active: bool) -> None:
        with self._lock:
            if active:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request (a test ending, a timeout) is no error of the
        server's: log it quietly instead of printing a traceback on stderr."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("client %s hung up: %s", client_address, error)
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Cut every open connection so that the threads serving them end."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class TrackedHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler registered with its `TrackingHTTPServer`."""

    protocol_version = "HTTP/1.1"
    server: TrackingHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, active=True)

    def finish(self) -> None:
        self.server.track(self.connection, active=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger(type(self).__module__).debug("%s " + format, self.address_string(),
                                                       *args)


class BackgroundServer:
    """Serves `httpd` from a daemon thread; `start`/`stop` or `with`."""

    name = "stand-in"
    path = ""

    def __init__(self, httpd: TrackingHTTPServer) -> None:
        self._httpd = httpd
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._httpd.server_address[0]!s}:{self.port}{self.path}"

    def start(self) -> None:
        """Serve in a daemon thread (a second call does nothing)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name=self.name, daemon=True)
        self._thread.start()
        logger.info("%s listening on %s", self.name, self.url)

    def stop(self) -> None:
        """Wake what waits, stop serving, cut every connection."""
        self._before_stop()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def _before_stop(self) -> None:
        """Subclasses end long-running answers here (watches, injected delays)."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def serve_until_signalled(server: BackgroundServer, *, verbose: bool,
                          ready: Callable[[], None]) -> int:
    """The command-line life of a stand-in: serve, call `ready` (which prints what a caller
    waits for), then run until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with server:
        ready()
        while not stop.wait(0.5):
            pass
    return 0
