"""The Walrus blob store: a publisher stores, aggregators read, every read is verified.

Writes go to one publisher, `PUT /v1/blobs?epochs=N&permanent=true[&send_object_to=0x…]`,
with `Authorization: Bearer …` for an authenticated publisher; reads go to a list of
aggregators, `GET /v1/blobs/{blob_id}`, tried in order. Both follow the OpenAPI documents
the Walrus daemons publish (MystenLabs/walrus). Errors come as AIP-193 envelopes and
become one-line `BlobStoreError`s.

Reads retry 503, 504, timeouts and network errors on the same aggregator with exponential
backoff, then move to the next one, all within one deadline. Bytes are capped while they
stream in and verified before use (the ledger's SHA-256, then the blob ID recomputed from the
bytes); an aggregator that serves bad bytes is logged and the next one is asked.

Blobs live for a number of epochs. `put` keeps the end epoch the publisher reports, and
`refresh` stores the same bytes again so that the publisher extends their lifetime. The specs
offer no endpoint that tells a blob's end epoch (or the current epoch) without storing: both
are read from Sui by `walrus_lifetime`. `send_object_to` makes the new Blob objects belong to
an address of ours (the publisher's, by default, see `backends`), where that reader finds them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from types import TracebackType

import httpx

from syncer.blobstore import StoredBlob, blob_id_of, verify_blob
from syncer.blobstore._walrus_wire import StoreOutcome, WireError, error_summary, parse_store_result
from syncer.blobstore.blobids import KnownBlobIds
from syncer.bundle import sha256_hex
from syncer.errors import BlobIntegrityError, BlobNotFoundError, BlobStoreError, ConfigError
from syncer.httpcap import Expired, Oversize, read_capped

__all__ = ["DEFAULT_MAX_BYTES", "MAX_EPOCHS_AHEAD", "WalrusBlobStore", "WalrusOptions"]

log = logging.getLogger(__name__)

MAX_EPOCHS_AHEAD = 53  # Mainnet and Testnet: storage can be bought at most 53 epochs ahead
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_MAX_ANSWER = 1024 * 1024  # JSON and error bodies
_RETRY_STATUS = frozenset({503, 504})
_BLOB_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SUI_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{1,64}$")
_TOKEN = re.compile(r"^[\x21-\x7e]+$")


@dataclass(frozen=True)
class WalrusOptions:
    """Where and how to store and read. `epochs=None` stores for the network's maximum.

    `timeout` bounds each request to an aggregator, `store_timeout` each store, and
    `read_deadline` a whole `get` across every aggregator and retry. `retries` is per endpoint;
    the n-th retry waits `backoff * 2**(n-1)` seconds, at most `max_backoff`. `max_bytes` caps
    blobs both ways. `publisher=None` makes a store that only reads.
    """

    publisher: str | None
    aggregators: tuple[str, ...]
    _: KW_ONLY
    epochs: int | None = None
    permanent: bool = True
    send_object_to: str | None = None
    token: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    store_timeout: float = 300.0
    read_deadline: float = 120.0
    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_epochs: int = MAX_EPOCHS_AHEAD

    def __post_init__(self) -> None:
        object.__setattr__(self, "aggregators", tuple(self.aggregators))
        for url in (self.publisher, *self.aggregators):
            if url is not None:
                _check_url(url)
        if self.epochs is not None and not 1 <= self.epochs <= self.max_epochs:
            raise ConfigError(f"epochs must be between 1 and {self.max_epochs}, not "
                              f"{self.epochs}", where="walrus options")
        if self.send_object_to is not None and not _SUI_ADDRESS.match(self.send_object_to):
            raise ConfigError("send_object_to is not a Sui address (0x and hex digits)",
                              where="walrus options")
        if self.token is not None and not _TOKEN.match(self.token):
            raise ConfigError("the publisher token holds spaces or control characters",
                              where="walrus options")
        self._check_numbers()

    def _check_numbers(self) -> None:
        positive = (self.timeout, self.store_timeout, self.read_deadline, self.max_bytes)
        if min(positive) <= 0 or min(self.retries, self.backoff, self.max_backoff) < 0:
            raise ConfigError("timeouts, the read deadline and max_bytes must be positive; "
                              "retries and backoff not negative", where="walrus options")

    @property
    def store_epochs(self) -> int:
        """The `epochs` sent with every store."""
        return self.max_epochs if self.epochs is None else self.epochs


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: why, and whether it is worth retrying on the same endpoint."""

    reason: str
    retry: bool = False
    missing: bool = False
    expired: bool = False


@dataclass
class _Read:
    """One `get` in progress: what it is after, its deadline, what each aggregator did."""

    blob_id: str
    sha256: str
    deadline: float
    bad: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    expired: bool = False

    def record(self, aggregator: str, failure: _Failure, *, attempts: int) -> None:
        self.expired = self.expired or failure.expired
        if failure.missing:
            self.missing.append(aggregator)
        else:
            tries = f" ({attempts} attempts)" if attempts > 1 else ""
            self.failed.append(f"{aggregator}: {failure.reason}{tries}")

    def error(self, read_deadline: float) -> BlobStoreError:
        where = f"blob {self.blob_id}"
        others = self.failed + [f"{m}: 404 not found" for m in self.missing]
        if self.bad:
            return BlobIntegrityError(f"bad bytes from {', '.join(self.bad)}"
                                      + "".join(f"; {o}" for o in others), where=where)
        if self.missing and not self.failed and not self.expired:
            return BlobNotFoundError(f"not found at {', '.join(self.missing)}", where=where)
        lead = f"read deadline of {read_deadline:g}s reached" if self.expired else "not read"
        return BlobStoreError(f"{lead}: {'; '.join(others) or 'no aggregator asked'}", where=where)


class WalrusBlobStore:
    """`BlobStore` over the Walrus HTTP API (publisher and aggregators), plus `refresh`.

    `sleep` and `clock` drive the backoff and the read deadline; tests pass fake ones. A
    client passed in stays open on `close()`; one made here is closed. With `known`, blob IDs
    computed here are recorded and reads they confirm are not re-encoded (`blobids`).
    """

    def __init__(self, options: WalrusOptions, *, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 known: KnownBlobIds | None = None) -> None:
        self.options = options
        self.known = known
        self._client = client if client is not None else httpx.Client()
        self._owns_client = client is None
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> WalrusBlobStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------------

    def put(self, data: bytes) -> StoredBlob:
        """Store `data` for the configured epochs; created=False when Walrus already had it
        for at least that long (`alreadyCertified`). `end_epoch` is the first epoch in which
        the blob is no longer stored (exclusive), as the publisher reports it."""
        return self._store(data, None, action="blob stored")

    def refresh(self, data: bytes, *, blob_id: str | None = None) -> StoredBlob:
        """Store the same bytes again so that they live `epochs` ahead of the current epoch.

        The blob ID cannot change: the bytes must encode to `blob_id` (when given, e.g. the
        ledger's record) and the publisher must answer with that same ID. When the blob already
        lives that long the publisher answers `alreadyCertified` and nothing is bought.
        """
        actual = blob_id_of(data, known=self.known)
        if blob_id is not None and actual != blob_id:
            raise BlobIntegrityError(f"the bytes to refresh encode to {actual}",
                                     where=f"blob {blob_id}")
        return self._store(data, actual, action="blob refreshed")

    def _store(self, data: bytes, blob_id: str | None, *, action: str) -> StoredBlob:
        endpoint = self._publisher_endpoint()
        if len(data) > self.options.max_bytes:
            raise BlobStoreError(f"{len(data)} bytes, over the cap of {self.options.max_bytes};"
                                 " not sent", where=f"publisher {_safe(endpoint)}")
        blob_id = blob_id or blob_id_of(data, known=self.known)
        where = f"blob {blob_id} at {_safe(endpoint)}"
        outcome = self._send(endpoint, data, where)
        if outcome.blob_id != blob_id:
            raise BlobIntegrityError(f"the publisher answered with blob ID {outcome.blob_id}, "
                                     "not the one the bytes encode to", where=where)
        log.info(action, extra={"blob_id": blob_id, "publisher": _safe(endpoint),
                                "outcome": _outcome_name(outcome), "end_epoch": outcome.end_epoch})
        return StoredBlob(blob_id, sha256_hex(data), created=outcome.created,
                          end_epoch=outcome.end_epoch)

    def _publisher_endpoint(self) -> str:
        if self.options.publisher is None:
            raise ConfigError("no Walrus publisher is configured: this store only reads",
                              where="walrus options")
        return _join(self.options.publisher, "/v1/blobs")

    def _send(self, endpoint: str, data: bytes, where: str) -> StoreOutcome:
        reason = ""
        for attempt in range(1, self.options.retries + 2):
            result = self._put_once(endpoint, data, where)
            if isinstance(result, StoreOutcome):
                return result
            reason = result
            log.warning("store attempt failed", extra={
                "publisher": _safe(endpoint), "attempt": attempt, "reason": reason})
            if attempt <= self.options.retries:
                self._sleep(self._delay(attempt))
        raise BlobStoreError(f"the publisher failed {self.options.retries + 1} times; "
                             f"last: {reason}", where=where)

    def _put_once(self, endpoint: str, data: bytes, where: str) -> StoreOutcome | str:
        """The outcome, or why a retry may help; BlobStoreError when it cannot."""
        timeout = self.options.store_timeout
        try:
            with self._client.stream("PUT", endpoint, content=data, params=self._params(),
                                     headers=self._headers(), timeout=timeout) as response:
                status, body = response.status_code, _read_answer(response)
        except httpx.TimeoutException:
            return f"no answer within {timeout:g}s"
        except httpx.TransportError as e:
            return f"network error ({type(e).__name__})"
        if status in _RETRY_STATUS:
            return error_summary(status, body)
        if status != 200:
            raise BlobStoreError(f"the publisher refused the blob: {error_summary(status, body)}",
                                 where=where)
        try:
            return parse_store_result(body)
        except WireError as e:
            raise BlobStoreError(f"the publisher's answer: {e}", where=where) from e

    def _params(self) -> dict[str, str]:
        params = {"epochs": str(self.options.store_epochs)}
        if self.options.permanent:
            params["permanent"] = "true"
        if self.options.send_object_to is not None:
            params["send_object_to"] = self.options.send_object_to
        return params

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/octet-stream", "Accept": "application/json"}
        if self.options.token is not None:
            headers["Authorization"] = f"Bearer {self.options.token}"
        return headers

    # -- reads ---------------------------------------------------------------------------

    def get(self, blob_id: str, *, sha256: str) -> bytes:
        """The bytes of `blob_id`, verified against `sha256` and the blob ID itself."""
        _check_names(blob_id, sha256)
        if not self.options.aggregators:
            raise ConfigError("no Walrus aggregator is configured", where=f"blob {blob_id}")
        read = _Read(blob_id, sha256, deadline=self._clock() + self.options.read_deadline)
        for aggregator in self.options.aggregators:
            data = self._read_from(aggregator, read)
            if data is not None:
                return data
        raise read.error(self.options.read_deadline)

    def _read_from(self, aggregator: str, read: _Read) -> bytes | None:
        url, name = _join(aggregator, f"/v1/blobs/{read.blob_id}"), _safe(aggregator)
        for attempt in range(1, self.options.retries + 2):
            result = self._fetch(url, read.deadline)
            if isinstance(result, bytes):
                return self._verified(result, name, read, attempt=attempt)
            log.info("read attempt failed", extra={"blob_id": read.blob_id, "aggregator": name,
                                                   "attempt": attempt, "reason": result.reason})
            again = result.retry and attempt <= self.options.retries
            if not (again and self._backoff(attempt, read)):
                read.record(name, result, attempts=attempt)
                return None
        return None

    def _fetch(self, url: str, deadline: float) -> bytes | _Failure:
        remaining = deadline - self._clock()
        if remaining <= 0:
            return _Failure("read deadline reached", expired=True)
        timeout = min(self.options.timeout, remaining)
        try:
            with self._client.stream("GET", url, timeout=timeout, follow_redirects=True,
                                     headers={"Accept": "application/octet-stream"}) as response:
                return self._answer(response, deadline)
        except httpx.TimeoutException:
            return _Failure(f"no answer within {timeout:.3g}s", retry=True)
        except httpx.TransportError as e:
            return _Failure(f"network error ({type(e).__name__})", retry=True)

    def _answer(self, response: httpx.Response, deadline: float) -> bytes | _Failure:
        status = response.status_code
        if status != 200:
            summary = error_summary(status, _read_answer(response))
            return _Failure(summary, retry=status in _RETRY_STATUS, missing=status == 404)
        cap = self.options.max_bytes
        try:
            return read_capped(response, cap, expired=lambda: self._clock() >= deadline)
        except Oversize:
            return _Failure(f"sent more than the cap of {cap} bytes")
        except Expired:
            return _Failure("read deadline reached while receiving", expired=True)

    def _verified(self, data: bytes, aggregator: str, read: _Read, *, attempt: int) -> bytes | None:
        context = {"blob_id": read.blob_id, "aggregator": aggregator, "attempt": attempt}
        try:
            verify_blob(data, blob_id=read.blob_id, sha256=read.sha256, known=self.known)
        except BlobIntegrityError as e:
            log.warning("aggregator served bad bytes", extra={**context, "reason": e.message})
            read.bad.append(aggregator)
            return None
        log.info("blob read", extra={**context, "bytes": len(data)})
        return data

    def _backoff(self, attempt: int, read: _Read) -> bool:
        """Wait before the next attempt; False (and the read marked expired) when the wait
        would pass the deadline."""
        delay = self._delay(attempt)
        if self._clock() + delay >= read.deadline:
            read.expired = True
            return False
        self._sleep(delay)
        return True

    def _delay(self, attempt: int) -> float:
        return float(min(self.options.backoff * 2 ** (attempt - 1), self.options.max_backoff))


def _read_answer(response: httpx.Response) -> bytes:
    """A JSON or error body, cut at 1 MiB: past that it is ignored, as if empty."""
    try:
        return read_capped(response, _MAX_ANSWER)
    except Oversize:
        return b""


def _outcome_name(outcome: StoreOutcome) -> str:
    if not outcome.created:
        return "alreadyCertified"
    return f"newlyCreated/{outcome.operation}" if outcome.operation else "newlyCreated"


def _check_names(blob_id: str, sha256: str) -> None:
    if not _BLOB_ID.match(blob_id):
        raise BlobStoreError("not a Walrus blob ID (43 base64url characters)",
                             where=f"blob {blob_id[:60]!r}")
    if not _SHA256.match(sha256):
        raise BlobStoreError("the SHA-256 to check is not 64 lowercase hex digits",
                             where=f"blob {blob_id}")


def _check_url(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise ConfigError("not a URL", where=f"walrus endpoint {_safe(url)}") from e
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError("not an http(s) URL", where=f"walrus endpoint {_safe(url)}")


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + path


def _safe(url: str) -> str:
    """The URL as it may be shown: no user, password, query or fragment."""
    try:
        parsed = httpx.URL(url)
        return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))
    except (httpx.InvalidURL, TypeError, ValueError):
        return "<invalid URL>"
