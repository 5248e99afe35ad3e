"""What the API server's answers mean, and which failures to ask again.  [edge helper]

`answer` turns an answer into its object or, for an error status, into the `ApiError` of
that status (403 `ForbiddenError`, 404 `NotFoundError`, 409 `ConflictError`, 422
`InvalidError` with the server's field causes, 429 `TooManyRequestsError`, 504
`ApiTimeoutError`, other 5xx `ServerError`, any other `ApiError`), carrying the status,
the server's `reason` and message. `unanswered` does the same for a request that got no
answer (`ApiTimeoutError`, `ApiConnectionError`). `str(err)` stays one line:
`Kind/ns/name: <server's message> (HTTP 422)`, with `, N attempts` when it was retried.

What is retried (`may_retry`, waits from `RetryPolicy.delay`): up to 5 attempts in all,
waiting the server's `Retry-After` (capped at 30 s) or an exponential backoff with jitter
(0.2 s doubling, capped at 5 s, of which a random half is taken off):

- whatever the method, failures the server did not act on: 429 (API priority and fairness
  shedding load), 503 (the server, or an aggregated API behind it, unavailable), and a
  connection that could not be made (refused, connect timeout);
- for GET, DELETE and PATCH only, failures after which the server may have acted: 500,
  502, 504 and a connection cut mid-request; a read timeout once only (`timeout_attempts`:
  each costs a whole client timeout). Repeating these is safe: every PATCH syncer sends is
  a forced server-side apply, which makes the same object however often it is sent; a
  DELETE repeated after it went through meets a 404, which `delete` reports as "was not
  there";
- never a POST or a PUT that the server may have acted on: a create repeated after it
  went through would meet 409 (exists), and a PUT conditional on `resourceVersion` would
  meet 409 after its own success; the channel lock relies on both. A POST or PUT failing
  with 500 or a cut connection fails at once, naming the object;
- never any other 4xx: 403, 404, 409 and 422 say the same however often they are asked.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import kubernetes
import urllib3

from syncer.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ClusterError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    cut,
)
from syncer.model import Obj

__all__ = ["Failure", "Retry", "RetryPolicy", "answer", "may_retry", "retry_after_seconds",
           "unanswered"]

_MAX_RESPONSE: Final = 64 * 1024 * 1024
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "DELETE", "PATCH"})  # PATCH: forced apply only


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long `KubeCluster` retries a transient failure (module docs)."""

    attempts: int = 5  # requests in all, the first included
    timeout_attempts: int = 2  # of which may end in a read timeout
    discovery_attempts: int = 2  # for one group version's discovery
    base: float = 0.2  # seconds before the first retry, before jitter
    factor: float = 2.0
    cap: float = 5.0
    retry_after_cap: float = 30.0

    def delay(self, attempt: int, *, retry_after: float | None, rand: float) -> float:
        """Seconds to wait after failed attempt `attempt` (1 for the first): the server's
        Retry-After, capped; else `base * factor**(attempt-1)`, capped, of which a random
        half (`rand` in [0, 1)) is taken off: the jitter."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        step = min(self.cap, self.base * self.factor ** (attempt - 1))
        return step / 2 + step / 2 * rand


class Retry(enum.Enum):
    """Which failures may be asked again."""

    NEVER = "never"
    ALWAYS = "always"  # the server did not act on it
    IDEMPOTENT = "idempotent"  # it may have: for GET, DELETE and PATCH only
    TIMEOUT = "timeout"  # as IDEMPOTENT, within `timeout_attempts`


@dataclass(frozen=True)
class Failure:
    """One failed attempt: the error to raise if it is the last, and whether it may not be."""

    error: ApiError
    retry: Retry
    cause: BaseException | None = None


def may_retry(failure: Failure, *, method: str, attempt: int, limit: int,
              timeout_attempts: int) -> bool:
    """Whether a failed attempt may be made again (module docs)."""
    if attempt >= limit or failure.retry is Retry.NEVER:
        return False
    if failure.retry is Retry.ALWAYS:
        return True
    if method not in _IDEMPOTENT:
        return False
    return failure.retry is Retry.IDEMPOTENT or attempt < timeout_attempts


_BY_STATUS: Final[Mapping[int, tuple[type[ApiError], Retry]]] = {
    403: (ForbiddenError, Retry.NEVER),
    404: (NotFoundError, Retry.NEVER),
    409: (ConflictError, Retry.NEVER),
    422: (InvalidError, Retry.NEVER),
    429: (TooManyRequestsError, Retry.ALWAYS),
    500: (ServerError, Retry.IDEMPOTENT),
    502: (ServerError, Retry.IDEMPOTENT),
    503: (ServerError, Retry.ALWAYS),
    504: (ApiTimeoutError, Retry.IDEMPOTENT),
}


def answer(status: int, raw: bytes, *, where: str, attempt: int = 1,
           retry_after: str | None = None) -> Obj | Failure:
    """The object of a 2xx answer, else the failure its status means."""
    if len(raw) > _MAX_RESPONSE:
        raise ClusterError(f"response of {len(raw)} bytes is over the cap", where=where)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {"message": raw.decode("utf-8", "replace")}
    if 200 <= status < 300:
        return data if isinstance(data, dict) else {}
    body = data if isinstance(data, dict) else {}
    kind, retry = _BY_STATUS.get(status) or (
        (ServerError, Retry.NEVER) if status >= 500 else (ApiError, Retry.NEVER))
    reason = cut(str(body.get("reason") or ""), 60)
    text = cut(str(body.get("message") or reason or f"HTTP {status}"), 300)
    context: dict[str, Any] = {"where": where, "status": status, "reason": reason,
                               "attempts": attempt, "retry_after": retry_after_seconds(retry_after)}
    if kind is InvalidError:
        context["causes"] = _causes(body)
    return Failure(kind(f"{text} (HTTP {status}{_tries(attempt)})", **context), retry)


def unanswered(e: Exception, *, method: str, where: str, attempt: int,
               timeout: float) -> Failure:
    """The failure of a request that got no answer: no connection, a cut one, a timeout."""
    cause = e.reason if isinstance(e, urllib3.exceptions.MaxRetryError) and e.reason else e
    said = f"{method} failed"
    tries = f" ({attempt} attempts)" if attempt > 1 else ""
    context: dict[str, Any] = {"where": where, "attempts": attempt}
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        return Failure(ApiConnectionError(f"{said}: no connection: {_said(cause)}{tries}",
                                           sent=False, **context), Retry.ALWAYS, e)
    if isinstance(cause, urllib3.exceptions.ConnectTimeoutError):
        return Failure(ApiTimeoutError(f"{said}: no connection within {timeout:g}s{tries}",
                                        sent=False, **context), Retry.ALWAYS, e)
    if isinstance(cause, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
        return Failure(ApiTimeoutError(f"{said}: no answer within {timeout:g}s{tries}",
                                        **context), Retry.TIMEOUT, e)
    if isinstance(cause, (urllib3.exceptions.SSLError, kubernetes.client.ApiException)):
        return Failure(ApiConnectionError(f"{said}: {_said(cause)}", sent=False, **context),
                        Retry.NEVER, e)
    return Failure(ApiConnectionError(f"{said}: connection lost: {_said(cause)}{tries}",
                                       **context), Retry.IDEMPOTENT, e)


def _said(error: BaseException) -> str:
    if isinstance(error, kubernetes.client.ApiException):
        return cut(str(error.reason), 200)
    return cut(str(error), 200)


def _tries(attempt: int) -> str:
    return f", {attempt} attempts" if attempt > 1 else ""


def retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds (kube sends whole seconds); None if absent or not a number
    (an HTTP date, which the callers answer with their own backoff)."""
    try:
        seconds = float(header) if header else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) else None


def _causes(body: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The (field, message) pairs of a Status's `details.causes`, cut short."""
    details = body.get("details")
    causes = details.get("causes") if isinstance(details, Mapping) else None
    if not isinstance(causes, list):
        return ()
    return tuple((cut(str(c.get("field") or ""), 200), cut(str(c.get("message") or ""), 300))
                 for c in causes[:20] if isinstance(c, Mapping))
