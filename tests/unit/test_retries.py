"""What the API server's answers mean and which failures are asked again (`syncer.retries`):
status to error type, the one line each prints, retry decisions, backoff arithmetic."""

from __future__ import annotations

import json

import kubernetes
import pytest
import urllib3

from syncer.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
)
from syncer.retries import Failure, Retry, RetryPolicy, answer, may_retry, unanswered

WHERE = "ConfigMap/shop-dev/shop-config"


def status(code: int, message: str, reason: str = "", **extra: object) -> bytes:
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": message, "reason": reason, "code": code, **extra}).encode()


def failed(code: int, raw: bytes, *, attempt: int = 1, retry_after: str | None = None) -> Failure:
    outcome = answer(code, raw, where=WHERE, attempt=attempt, retry_after=retry_after)
    assert isinstance(outcome, Failure)
    return outcome


def test_a_2xx_answer_is_its_object() -> None:
    assert answer(200, b'{"kind": "ConfigMap"}', where=WHERE) == {"kind": "ConfigMap"}
    assert answer(201, b"", where=WHERE) == {}


@pytest.mark.parametrize(("code", "reason", "kind", "retry"), [
    (400, "BadRequest", ApiError, Retry.NEVER),
    (401, "Unauthorized", ApiError, Retry.NEVER),
    (403, "Forbidden", ForbiddenError, Retry.NEVER),
    (404, "NotFound", NotFoundError, Retry.NEVER),
    (409, "Conflict", ConflictError, Retry.NEVER),
    (410, "Expired", ApiError, Retry.NEVER),
    (422, "Invalid", InvalidError, Retry.NEVER),
    (429, "TooManyRequests", TooManyRequestsError, Retry.ALWAYS),
    (500, "InternalError", ServerError, Retry.IDEMPOTENT),
    (501, "", ServerError, Retry.NEVER),
    (502, "", ServerError, Retry.IDEMPOTENT),
    (503, "ServiceUnavailable", ServerError, Retry.ALWAYS),
    (504, "Timeout", ApiTimeoutError, Retry.IDEMPOTENT),
])
def test_each_status_is_its_error_type(code: int, reason: str, kind: type[ApiError],
                                       retry: Retry) -> None:
    failure = failed(code, status(code, "the server's words", reason))
    assert type(failure.error) is kind and failure.retry is retry
    assert (failure.error.status, failure.error.reason) == (code, reason)
    assert str(failure.error) == f"{WHERE}: the server's words (HTTP {code})"


def test_an_invalid_object_carries_the_servers_field_causes() -> None:
    causes = [{"reason": "FieldValueInvalid", "message": "Invalid value: 'x': must be a number",
               "field": "spec.replicas"},
              {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.x"}]
    failure = failed(422, status(422, 'Deployment.apps "web" is invalid: spec.replicas: ...',
                                 "Invalid", details={"name": "web", "causes": causes}))
    assert isinstance(failure.error, InvalidError)
    assert failure.error.causes == (("spec.replicas", "Invalid value: 'x': must be a number"),
                                    ("spec.x", "Required value"))


@pytest.mark.parametrize("details", [None, "text", {"causes": "text"}, {"causes": [1, "x"]}])
def test_malformed_causes_are_none(details: object) -> None:
    failure = failed(422, status(422, "invalid", "Invalid", details=details))
    assert isinstance(failure.error, InvalidError) and failure.error.causes == ()


def test_retry_after_attempts_and_plain_text() -> None:
    failure = failed(429, status(429, "slow down", "TooManyRequests"), attempt=5,
                     retry_after="3")
    assert failure.error.retry_after == 3.0 and failure.error.attempts == 5
    assert str(failure.error) == f"{WHERE}: slow down (HTTP 429, 5 attempts)"
    plain = failed(503, b"service unavailable\n", retry_after="soon")
    assert plain.error.message == "service unavailable (HTTP 503)"
    assert plain.error.retry_after is None and plain.error.reason == ""
    assert failed(500, b"", retry_after="nan").error.message == "HTTP 500 (HTTP 500)"


def test_a_long_or_multiline_message_stays_one_short_line() -> None:
    failure = failed(422, status(422, "bad\n" * 400, "Invalid"))
    assert "\n" not in str(failure.error) and len(str(failure.error)) < 400


POOL = urllib3.HTTPConnectionPool("127.0.0.1", 9)


@pytest.mark.parametrize(("error", "kind", "retry", "words", "sent"), [
    (urllib3.exceptions.MaxRetryError(POOL, "/api/v1", urllib3.exceptions.NewConnectionError(
        None, "Connection refused")), ApiConnectionError, Retry.ALWAYS,  # type: ignore[arg-type]
     "GET failed: no connection: ", False),
    (urllib3.exceptions.ConnectTimeoutError(), ApiTimeoutError, Retry.ALWAYS,
     "GET failed: no connection within 0.5s", False),
    (urllib3.exceptions.MaxRetryError(POOL, "/api/v1", urllib3.exceptions.ReadTimeoutError(
        POOL, "/api/v1", "read timed out")), ApiTimeoutError, Retry.TIMEOUT,
     "GET failed: no answer within 0.5s", True),
    (urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError()),
     ApiConnectionError, Retry.IDEMPOTENT, "GET failed: connection lost: ", True),
    (ConnectionResetError(104, "reset by peer"), ApiConnectionError, Retry.IDEMPOTENT,
     "GET failed: connection lost: ", True),
    (kubernetes.client.ApiException(status=0, reason="SSLError\ncertificate verify failed"),
     ApiConnectionError, Retry.NEVER, "GET failed: SSLError certificate verify failed", False),
])
def test_no_answer_is_a_timeout_or_a_connection_error(error: Exception, kind: type[ApiError],
                                                      retry: Retry, words: str,
                                                      sent: bool) -> None:
    failure = unanswered(error, method="GET", where="discovery /api/v1", attempt=1,
                         timeout=0.5)
    assert type(failure.error) is kind and failure.retry is retry
    assert failure.error.message.startswith(words) and failure.error.status == 0
    assert failure.cause is error
    assert isinstance(failure.error, ApiConnectionError | ApiTimeoutError)
    assert failure.error.sent is sent  # whether the server may have acted on it


def test_the_attempts_show_in_the_line() -> None:
    failure = unanswered(ConnectionResetError(), method="PATCH", where=WHERE, attempt=5,
                         timeout=30)
    assert str(failure.error).endswith("(5 attempts)") and failure.error.attempts == 5


def failure(retry: Retry) -> Failure:
    return Failure(ApiError("x"), retry)


@pytest.mark.parametrize(("retry", "method", "attempt", "expected"), [
    (Retry.ALWAYS, "POST", 1, True),
    (Retry.ALWAYS, "PUT", 4, True),
    (Retry.ALWAYS, "GET", 5, False),  # the fifth attempt was the last
    (Retry.IDEMPOTENT, "GET", 1, True),
    (Retry.IDEMPOTENT, "PATCH", 4, True),
    (Retry.IDEMPOTENT, "DELETE", 2, True),
    (Retry.IDEMPOTENT, "POST", 1, False),  # a create may have gone through
    (Retry.IDEMPOTENT, "PUT", 1, False),  # a conditional replace too
    (Retry.TIMEOUT, "GET", 1, True),
    (Retry.TIMEOUT, "GET", 2, False),  # once only: each costs a whole timeout
    (Retry.TIMEOUT, "POST", 1, False),
    (Retry.NEVER, "GET", 1, False),
])
def test_what_may_be_asked_again(retry: Retry, method: str, attempt: int,
                                 expected: bool) -> None:
    assert may_retry(failure(retry), method=method, attempt=attempt, limit=5,
                     timeout_attempts=2) is expected


def test_backoff_doubles_from_the_base_up_to_the_cap_with_half_as_jitter() -> None:
    policy = RetryPolicy()
    lowest = [policy.delay(n, retry_after=None, rand=0.0) for n in range(1, 8)]
    highest = [policy.delay(n, retry_after=None, rand=1.0) for n in range(1, 8)]
    assert lowest == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.5, 2.5])
    assert highest == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert policy.delay(2, retry_after=None, rand=0.5) == pytest.approx(0.3)


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(retry_after_cap=30.0)
    assert policy.delay(1, retry_after=3.0, rand=0.9) == 3.0
    assert policy.delay(4, retry_after=3600.0, rand=0.9) == 30.0
    assert policy.delay(1, retry_after=-5.0, rand=0.9) == 0.0
    assert RetryPolicy(base=1.0, factor=3.0, cap=100.0).delay(3, retry_after=None,
                                                              rand=1.0) == 9.0
