"""The stand-in's fault knobs: a Status with the chosen code, Retry-After, a cut connection,
counted per matching request."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest
from syncer_standins.kubeapi import Fault, KubeApiServer


@pytest.fixture
def server() -> Iterator[KubeApiServer]:
    with KubeApiServer() as stand_in:
        yield stand_in


def get(server: KubeApiServer, path: str) -> tuple[int, str, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body, response.getheader("Retry-After")


def test_a_fault_skips_then_acts_then_stops(server: KubeApiServer) -> None:
    server.faults.add(Fault(method="GET", path="/configmaps$", status=429,
                            reason="TooManyRequests", retry_after=2, skip=1, times=2))
    path = "/api/v1/namespaces/default/configmaps"
    assert get(server, path)[0] == 200
    status, body, retry = get(server, path)
    assert (status, retry) == (429, "2") and '"reason":"TooManyRequests"' in body
    assert get(server, path)[0] == 429
    assert get(server, path)[0] == 200
    assert get(server, "/api/v1/namespaces")[0] == 200  # another path: untouched


def test_a_cut_connection_answers_nothing(server: KubeApiServer) -> None:
    server.faults.add(Fault(path="/namespaces$", cut=True))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(server, "/api/v1/namespaces")
    assert get(server, "/api/v1/namespaces")[0] == 200
