"""Notifications of a channel's releases: POSTed to webhooks when one is applied, fails or
is refused (the Channel's `spec.notify: [{url, format: json|slack}]`).

`targets` reads and checks `spec.notify`; `payload` makes the body of a `Notification` in a
target's format; `Notifier.send` POSTs it to each target.

The `json` format is one flat object, the names those of the Channel's status:

    {"source": "syncer", "channel": "shop-dev", "outcome": "applied",
     "reason": "ReleaseApplied", "seq": 7, "blobId": "...", "sha256": "...",
     "commit": "<40 hex>", "message": "release 7 applied, 12 objects healthy",
     "time": "2026-12-01T10:00:00Z", "cluster": "prod-eu" | null}

`outcome` is applied, failed (could not be applied this time; the next attempt may pass) or
refused (must never be applied as it is); `reason` the Event reason (ReleaseApplied,
ReleaseFailed, ReleaseRefused unless the caller names another, e.g. HealthCheckFailed).

The `slack` format is a Slack incoming webhook's message: `text` (the fallback shown in
notifications) and `blocks`: a mrkdwn section led by an emoji per outcome (applied
:white_check_mark:, failed :x:, refused :no_entry:) and the outcome in words, a section of
fields (release seq, commit's first 12 characters, blob ID, cluster) and a context line.

Delivery is at least once and never stops a sync: each target gets up to
`NotifyOptions.attempts` POSTs, the next made after a 5xx, a 429 or no answer (no
connection, a timeout: the receiver may then see the notification twice), waiting the
receiver's Retry-After (capped) or a doubling backoff; any other answer is final. A target
not reached is logged at WARNING with the channel and the URL's scheme and host only:
webhook URLs carry their secret in the path or the query, which are masked in every log
line and repr, and cut out of the receiver's answer before it is quoted. Answers are read
up to `max_response` bytes. Messages are cut to one line of `MAX_MESSAGE` characters; they
come from syncer's errors, which never hold Secret values or credentials.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Literal, get_args

import httpx

from syncer.clock import Clock, SystemClock
from syncer.errors import ConfigError, cut
from syncer.httpcap import Oversize, read_capped
from syncer.microtime import rfc3339
from syncer.model import Release
from syncer.retries import retry_after_seconds

__all__ = ["FORMATS", "MAX_MESSAGE", "OUTCOMES", "Delivery", "Format", "Notification",
           "Notifier", "NotifyOptions", "Outcome", "Target", "payload", "targets"]

_log = logging.getLogger(__name__)

Outcome = Literal["applied", "failed", "refused"]
Format = Literal["json", "slack"]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)
FORMATS: Final[tuple[Format, ...]] = get_args(Format)
MAX_MESSAGE: Final = 300
MAX_TARGETS: Final = 16  # as the Channel CRD's maxItems
_MAX_URL: Final = 2048
_KEYS: Final = ("url", "format")
_REASON: Final[dict[str, str]] = {
    "applied": "ReleaseApplied", "failed": "ReleaseFailed", "refused": "ReleaseRefused"}
_EMOJI: Final[dict[str, str]] = {
    "applied": ":white_check_mark:", "failed": ":x:", "refused": ":no_entry:"}


@dataclass(frozen=True)
class Notification:
    """What happened to one release of a channel (module docs). `message` is cut to one
    line of `MAX_MESSAGE` characters; `reason` defaults to the outcome's Event reason."""

    channel: str
    outcome: Outcome
    seq: int
    blob_id: str
    sha256: str
    commit: str
    message: str
    time: str
    cluster: str | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        object.__setattr__(self, "message", cut(self.message, MAX_MESSAGE))
        object.__setattr__(self, "reason", self.reason or _REASON[self.outcome])

    @classmethod
    def of(cls, release: Release, outcome: Outcome, *, message: str, at: float,
           cluster: str | None = None, reason: str = "") -> Notification:
        """The notification of `release`'s `outcome` at `at` (seconds since the epoch)."""
        return cls(channel=release.channel, outcome=outcome, seq=release.seq,
                   blob_id=release.blob_id, sha256=release.sha256, commit=release.commit,
                   message=message, time=rfc3339(at), cluster=cluster, reason=reason)


@dataclass(frozen=True, repr=False)
class Target:
    """One webhook of `spec.notify`. Its repr and `masked` show no path nor query."""

    url: str
    format: Format = "json"

    @property
    def masked(self) -> str:
        """The URL's scheme, host and port, its path and query elided: `https://host/…`."""
        try:
            url = httpx.URL(self.url)
        except httpx.InvalidURL:
            return "(invalid URL)"
        port = f":{url.port}" if url.port else ""
        return f"{url.scheme}://{url.host}{port}/…"

    def __repr__(self) -> str:
        return f"Target({self.masked!r}, format={self.format!r})"


def targets(raw: object, *, where: str) -> tuple[Target, ...]:
    """The targets of a Channel's `notify` list (None: none); a ConfigError naming the
    field (`<where>.notify[1].format`) if it is not a list of `{url, format}`."""
    field = f"{where}.notify"
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("must be a list of {url, format}", where=field)
    if len(raw) > MAX_TARGETS:
        raise ConfigError(f"at most {MAX_TARGETS} targets, not {len(raw)}", where=field)
    return tuple(_target(item, where=f"{field}[{i}]") for i, item in enumerate(raw))


def _target(item: object, *, where: str) -> Target:
    if not isinstance(item, Mapping):
        raise ConfigError("must be a mapping of url and format", where=where)
    unknown = sorted(cut(str(k), 40) for k in item if k not in _KEYS)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)}; known: url, format",
                          where=where)
    return Target(_url(item.get("url"), where=f"{where}.url"),
                  _format(item.get("format", "json"), where=f"{where}.format"))


def _url(value: object, *, where: str) -> str:
    """A webhook URL, checked; never quoted in an error: it holds the webhook's secret."""
    if not isinstance(value, str) or not value:
        raise ConfigError("is required: an http:// or https:// URL", where=where)
    if len(value) > _MAX_URL:
        raise ConfigError(f"is longer than {_MAX_URL} characters", where=where)
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as e:
        raise ConfigError("is not a valid URL", where=where) from e
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError("must be an http:// or https:// URL with a host", where=where)
    return value


def _format(value: object, *, where: str) -> Format:
    for known in FORMATS:
        if value == known:
            return known
    raise ConfigError(f"is {cut(repr(value), 40)}; known: {', '.join(FORMATS)}", where=where)


def payload(n: Notification, fmt: Format) -> dict[str, Any]:
    """The body POSTed for `n` to a target of format `fmt` (module docs)."""
    return _slack(n) if fmt == "slack" else _json(n)


def _json(n: Notification) -> dict[str, Any]:
    return {"source": "syncer", "channel": n.channel, "outcome": n.outcome,
            "reason": n.reason, "seq": n.seq, "blobId": n.blob_id, "sha256": n.sha256,
            "commit": n.commit, "message": n.message, "time": n.time, "cluster": n.cluster}


def _escape(text: str) -> str:
    """Text as Slack's mrkdwn shows it literally (`&`, `<`, `>` are its markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _slack(n: Notification) -> dict[str, Any]:
    channel, message = _escape(n.channel), _escape(n.message)
    headline = f"{_EMOJI[n.outcome]} *{channel}*: release {n.seq} *{n.outcome}*"
    fields = [_mrkdwn(f"*Release*\n{n.seq}"),
              _mrkdwn(f"*Commit*\n`{_escape(n.commit[:12]) or '-'}`"),
              _mrkdwn(f"*Blob ID*\n`{_escape(n.blob_id) or '-'}`")]
    if n.cluster:
        fields.append(_mrkdwn(f"*Cluster*\n{_escape(n.cluster)}"))
    context = f"syncer · {n.reason} · {n.time}"
    return {"text": f"{_EMOJI[n.outcome]} {channel}: release {n.seq} {n.outcome}: {message}",
            "blocks": [{"type": "section", "text": _mrkdwn(f"{headline}\n{message}")},
                       {"type": "section", "fields": fields},
                       {"type": "context", "elements": [_mrkdwn(_escape(context))]}]}


@dataclass(frozen=True)
class NotifyOptions:
    """How hard `Notifier` tries (module docs)."""

    timeout: float = 5.0  # seconds, for each of connect, write and read
    attempts: int = 3  # POSTs per target, the first included
    backoff: float = 0.5  # seconds before the second attempt, doubled before each next
    retry_after_cap: float = 10.0  # the longest Retry-After honoured
    max_response: int = 4096  # bytes of an answer read


@dataclass(frozen=True)
class Delivery:
    """What became of one target: `detail` is the last answer ("HTTP 500: ...") or the
    failure without one ("ConnectError")."""

    target: Target
    delivered: bool
    attempts: int
    detail: str


@dataclass(frozen=True)
class _Answer:
    status: int  # 0: none
    detail: str
    transient: bool
    retry_after: float | None = None


class Notifier:
    """POSTs notifications to webhooks (module docs). Given no `client`, it makes its own
    and closes it in `close()`; waits between attempts are `clock`'s, cut short by `stop`.
    `send` blocks until every target is done: at most about `attempts` times the timeout
    plus the waits, per target."""

    def __init__(self, *, client: httpx.Client | None = None, clock: Clock | None = None,
                 options: NotifyOptions | None = None,
                 stop: threading.Event | None = None) -> None:
        self._options = options or NotifyOptions()
        self._own = client is None
        self._client = client or httpx.Client(timeout=self._options.timeout,
                                              follow_redirects=False)
        self._clock: Clock = clock or SystemClock()
        self._stop = stop

    def send(self, n: Notification, targets: Sequence[Target]) -> tuple[Delivery, ...]:
        """POST `n` to each target in turn; never raises (a failure is logged)."""
        return tuple(self._send_one(n, target) for target in targets)

    def _send_one(self, n: Notification, target: Target) -> Delivery:
        try:
            done = self._deliver(n, target)
        except Exception as e:  # a broken webhook must not stop a sync
            done = Delivery(target, False, 0, type(e).__name__)
        level = logging.DEBUG if done.delivered else logging.WARNING
        _log.log(level, "notification %s: %s",
                 "delivered" if done.delivered else "not delivered", done.detail,
                 extra={"channel": n.channel, "seq": n.seq, "outcome": n.outcome,
                        "target": target.masked, "attempts": done.attempts})
        return done

    def _deliver(self, n: Notification, target: Target) -> Delivery:
        body = json.dumps(payload(n, target.format)).encode()
        attempt = 0
        while True:
            attempt += 1
            got = self._post(target, body)
            if 200 <= got.status < 300:
                return Delivery(target, True, attempt, got.detail)
            if not got.transient or attempt >= self._options.attempts or \
                    self._clock.wait(self._delay(attempt, got.retry_after), self._stop):
                return Delivery(target, False, attempt, got.detail)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._options.retry_after_cap)
        return float(self._options.backoff * 2 ** (attempt - 1))

    def _post(self, target: Target, body: bytes) -> _Answer:
        headers = {"Content-Type": "application/json", "User-Agent": "syncer"}
        try:
            with self._client.stream("POST", target.url, content=body, headers=headers,
                                     timeout=self._options.timeout) as response:
                return _answer(response, target, self._options.max_response)
        except httpx.TransportError as e:  # no connection, a timeout, a cut one
            return _Answer(0, type(e).__name__, transient=True)
        except httpx.HTTPError as e:
            return _Answer(0, type(e).__name__, transient=False)

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _answer(response: httpx.Response, target: Target, cap: int) -> _Answer:
    status = response.status_code
    try:
        text = read_capped(response, cap).decode("utf-8", "replace")
    except Oversize:
        text = ""
    said = cut(_scrub(text, target), 200) if text.strip() and status >= 300 else ""
    detail = f"HTTP {status}: {said}" if said else f"HTTP {status}"
    transient = status == 429 or status >= 500
    wait = retry_after_seconds(response.headers.get("retry-after"))
    return _Answer(status, detail, transient, wait)


def _scrub(text: str, target: Target) -> str:
    """`text` without the URL's path and query, where a receiver may echo its secret."""
    url = httpx.URL(target.url)
    forms = (url.raw_path.decode("ascii", "replace"), url.path,
             url.query.decode("ascii", "replace"))
    for secret in sorted(forms, key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "…")
    return text
