"""`syncer doctor`: does this profile work from here? Each check gives findings; none writes.

Checks: every configured Walrus and Sui endpoint answers; the publisher key loads and signs;
the ledger answers and every channel's history verifies; the head release's bundle can be
fetched and verifies; on Walrus, the head release's blob is stored for long enough (a warning
within `blobstore.expiry_warning_days`, default 30, of its end; read from Sui, see
`blobstore.walrus_lifetime`); the cluster answers discovery (when asked to check it).
"""

from __future__ import annotations

import datetime
import enum
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import httpx

from syncer import keys
from syncer.backends import Backends, walrus_lifetime
from syncer.blobstore import BlobStore
from syncer.blobstore.walrus_lifetime import BlobLifetime, WalrusEpoch, expiry
from syncer.bundle import unpack
from syncer.errors import SyncerError, cut
from syncer.ledger import Ledger
from syncer.model import Release
from syncer.profiles import Profile

if TYPE_CHECKING:
    from syncer.cluster import Cluster

__all__ = ["Finding", "Level", "check_all"]


class Level(enum.Enum):
    OK = "ok"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    level: Level
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.level.value:<5} {self.subject}: {self.message}"


KeyLoader = Callable[[], keys.Keypair]
_DAY_MS = 86_400_000
_DEFAULT_WARNING_DAYS = 30.0


def check_all(backends: Backends, *, key: KeyLoader, cluster: Cluster | None = None,
              now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> list[Finding]:
    """Every finding, in the order the checks ran."""
    findings = [_profile(backends), *_endpoints(backends.profile)]
    address = _key(key, findings)
    heads = list(_ledger(backends.ledger, findings))
    for release in heads:
        findings.extend(_blob(backends.blobs, release))
    if heads and backends.profile.setting("blobstore", "kind") == "walrus":
        findings.extend(_lifetimes(backends.profile, heads, address, now_ms()))
    if cluster is not None:
        findings.append(_cluster(cluster))
    return findings


def _profile(backends: Backends) -> Finding:
    profile = backends.profile
    kinds = f"blob store {profile.setting('blobstore', 'kind')}, " \
            f"ledger {profile.setting('ledger', 'kind')}"
    return Finding(Level.OK, f"profile {profile.name}", kinds)


def _endpoints(profile: Profile, *, timeout: float = 10.0) -> Iterator[Finding]:
    """Each configured Walrus and Sui endpoint answers HTTP (Sui: a GraphQL query)."""
    walrus = [profile.setting("blobstore", "publisher"),
              *(profile.setting("blobstore", "aggregators") or [])]
    for url in [str(u) for u in walrus if u]:
        yield _answers(f"walrus {url}", partial(_http_status, f"{url}/v1/api", timeout))
    graphql = [profile.setting("ledger", "graphql"), profile.setting("blobstore", "graphql")]
    for url in dict.fromkeys(str(u) for u in graphql if u):
        yield _answers(f"sui {url}", partial(_chain_identifier, url, timeout))


def _answers(subject: str, probe: Callable[[], object]) -> Finding:
    try:
        answer = probe()
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
        return Finding(Level.ERROR, subject, f"does not answer: {cut(str(e), 160)}")
    return Finding(Level.OK, subject, f"answers ({answer})")


def _http_status(url: str, timeout: float) -> str:
    return f"HTTP {httpx.get(url, timeout=timeout).status_code}"


def _chain_identifier(url: str, timeout: float) -> str:
    reply = httpx.post(url, json={"query": "{ chainIdentifier }"}, timeout=timeout)
    reply.raise_for_status()
    return f"chain {reply.json()['data']['chainIdentifier']}"


def _key(load: KeyLoader, findings: list[Finding]) -> str | None:
    """Check the publisher key; its address, if it loads."""
    try:
        pair = load()
    except SyncerError as e:
        findings.append(Finding(Level.WARN, "publisher key",
                                f"{e} (needed to publish, not to sync)"))
        return None
    message = b"syncer doctor"
    signed = keys.verify(pair.public_key, message, pair.sign(message))
    level = Level.OK if signed else Level.ERROR
    findings.append(Finding(level, "publisher key", f"{pair.address} "
                    f"{'signs and verifies' if signed else 'does not verify its own signature'}"))
    return pair.address


def _ledger(ledger: Ledger, findings: list[Finding]) -> Iterator[Release]:
    try:
        channels = ledger.channels()
    except SyncerError as e:
        findings.append(Finding(Level.ERROR, "ledger", str(e)))
        return
    if not channels:
        findings.append(Finding(Level.WARN, "ledger", "no channels: run `syncer init`"))
    for channel in channels:
        try:
            history = ledger.history(channel)
        except SyncerError as e:
            findings.append(Finding(Level.ERROR, f"channel {channel}", str(e)))
            continue
        findings.append(Finding(Level.OK, f"channel {channel}",
                                f"{len(history)} releases, history verifies"))
        if history:
            yield history[-1]


def _blob(blobs: BlobStore, release: Release) -> Iterator[Finding]:
    subject = _subject(release)
    try:
        data = blobs.get(release.blob_id, sha256=release.sha256)
        unpack(data)
    except SyncerError as e:
        yield Finding(Level.ERROR, subject, str(e))
        return
    yield Finding(Level.OK, subject, f"blob {release.blob_id} fetched and verified")


def _lifetimes(profile: Profile, heads: list[Release], key_address: str | None,
               now_ms: int) -> Iterator[Finding]:
    """How long Walrus keeps each head release's blob; a warning when it ends soon."""
    try:
        reader = walrus_lifetime(profile)
        epoch = reader.epoch() if reader is not None else None
    except SyncerError as e:
        yield Finding(Level.ERROR, "walrus epochs", str(e))
        return
    if reader is None or epoch is None:
        yield Finding(Level.WARN, "walrus epochs", "blob lifetimes not checked: set "
                      "blobstore.staking_object (the Walrus Staking object) and a Sui GraphQL "
                      "endpoint (blobstore.graphql, else ledger.graphql)")
        return
    warn_ms = int(_warning_days(profile) * _DAY_MS)
    for release in heads:
        owners = [release.publisher, profile.setting("blobstore", "send_object_to"),
                  key_address]
        try:
            lifetime = reader.blob(release.blob_id, owners=[o for o in owners if o])
        except SyncerError as e:
            yield Finding(Level.ERROR, _subject(release), str(e))
            continue
        yield _lifetime_finding(release, lifetime, epoch, now_ms=now_ms, warn_ms=warn_ms)


def _lifetime_finding(release: Release, lifetime: BlobLifetime | None, epoch: WalrusEpoch, *,
                      now_ms: int, warn_ms: int) -> Finding:
    subject = _subject(release)
    refresh = f"`syncer publish --refresh {release.seq} --channel {release.channel}`"
    if lifetime is None:
        return Finding(Level.WARN, subject, f"no certified Blob object of blob "
                       f"{release.blob_id} is held by its publisher, send_object_to or this "
                       f"key: its end epoch is unknown (run {refresh} to store it for this "
                       "key's address)")
    left = expiry(lifetime, epoch, now_ms=now_ms)
    span = f"end epoch {lifetime.end_epoch}, epoch now {epoch.epoch}"
    if left.expired:
        return Finding(Level.ERROR, subject, f"blob {release.blob_id} has expired ({span}): "
                       f"run {refresh} in a clone holding commit {release.commit[:12]}")
    about = "" if left.exact else "at most "
    days = (left.expires_ms - now_ms) / _DAY_MS
    when = f"{about}{days:.1f} days, until {_date(left.expires_ms)} ({span})"
    if left.expires_ms - now_ms <= warn_ms:
        return Finding(Level.WARN, subject, f"blob {release.blob_id} expires in {when}: "
                       f"run {refresh}")
    return Finding(Level.OK, subject, f"blob {release.blob_id} stored for {when}")


def _warning_days(profile: Profile) -> float:
    days = profile.setting("blobstore", "expiry_warning_days")
    return _DEFAULT_WARNING_DAYS if days is None else float(days)


def _subject(release: Release) -> str:
    return f"release {release.seq} of {release.channel}"


def _date(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC).strftime(
        "%Y-%m-%d %H:%M UTC")


def _cluster(cluster: Cluster) -> Finding:
    try:
        served = cluster.discover()
    except SyncerError as e:
        return Finding(Level.ERROR, "cluster", str(e))
    return Finding(Level.OK, "cluster", f"answers; {len(served.by_kind)} kinds served")
