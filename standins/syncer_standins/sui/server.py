"""The HTTP side of the Sui GraphQL stand-in: POST /graphql, JSON in and out.

Every answer carries the `x-sui-rpc-version` header, which pysui's client requires. GraphQL
errors come back with status 200 and an `errors` list, as the service answers them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Final

import graphql

from syncer_standins._http import TrackedHandler, TrackingHTTPServer

__all__ = ["RPC_VERSION", "GraphQLHTTPServer"]

log = logging.getLogger(__name__)

RPC_VERSION: Final = "1.62.0"
_MAX_BODY: Final = 1024 * 1024


class GraphQLHTTPServer(TrackingHTTPServer):
    def __init__(self, address: tuple[str, int], schema: graphql.GraphQLSchema,
                 root: Callable[[], dict[str, Any]]) -> None:
        super().__init__(address, _Handler)
        self.schema = schema
        self.root = root

    def run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Execute one GraphQL request body and return the response body."""
        result = graphql.graphql_sync(
            self.schema, body.get("query") or "", root_value=self.root(),
            variable_values=body.get("variables"), operation_name=body.get("operationName"))
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [e.formatted for e in result.errors]
            log.debug("graphql errors", extra={"errors": response["errors"]})
        return response


class _Handler(TrackedHandler):
    server: GraphQLHTTPServer

    def do_POST(self) -> None:
        if self.path.split("?")[0].rstrip("/") not in ("/graphql", ""):
            self._send(404, {"errors": [{"message": "not found"}]})
            return
        length = int(self.headers.get("content-length") or 0)
        if length > _MAX_BODY:
            self._send(413, {"errors": [{"message": "request too large"}]})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, {"errors": [{"message": "body is not JSON"}]})
            return
        self._send(200, self.server.run(body if isinstance(body, dict) else {}))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-sui-rpc-version", RPC_VERSION)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
