"""`syncer doctor`: does this profile work from here? Each check gives findings; none writes.

Checks: every configured Walrus and Sui endpoint answers; the publisher key loads and signs;
the ledger answers and every channel's history verifies; the head release's bundle can be
fetched and verifies; the cluster answers discovery (when asked to check it). Not yet: a
warning when the head blob expires soon on Walrus (its end epoch and the current epoch live on
Sui, not in the HTTP API).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import httpx

from syncer import keys
from syncer.backends import Backends
from syncer.blobstore import BlobStore
from syncer.bundle import unpack
from syncer.cluster import Cluster
from syncer.errors import SyncerError, cut
from syncer.ledger import Ledger
from syncer.model import Release
from syncer.profiles import Profile

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


def check_all(backends: Backends, *, key: KeyLoader,
              cluster: Cluster | None = None) -> list[Finding]:
    """Every finding, in the order the checks ran."""
    findings = [_profile(backends), *_endpoints(backends.profile), *_key(key)]
    heads = list(_ledger(backends.ledger, findings))
    for release in heads:
        findings.extend(_blob(backends.blobs, release))
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
    graphql = profile.setting("ledger", "graphql")
    if graphql:
        yield _answers(f"sui {graphql}", lambda: _chain_identifier(str(graphql), timeout))


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


def _key(load: KeyLoader) -> Iterator[Finding]:
    try:
        pair = load()
    except SyncerError as e:
        yield Finding(Level.WARN, "publisher key", f"{e} (needed to publish, not to sync)")
        return
    message = b"syncer doctor"
    signed = keys.verify(pair.public_key, message, pair.sign(message))
    level = Level.OK if signed else Level.ERROR
    yield Finding(level, "publisher key", f"{pair.address} "
                  f"{'signs and verifies' if signed else 'does not verify its own signature'}")


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
    subject = f"release {release.seq} of {release.channel}"
    try:
        data = blobs.get(release.blob_id, sha256=release.sha256)
        unpack(data)
    except SyncerError as e:
        yield Finding(Level.ERROR, subject, str(e))
        return
    yield Finding(Level.OK, subject, f"blob {release.blob_id} fetched and verified")


def _cluster(cluster: Cluster) -> Finding:
    try:
        served = cluster.discover()
    except SyncerError as e:
        return Finding(Level.ERROR, "cluster", str(e))
    return Finding(Level.OK, "cluster", f"answers; {len(served.by_kind)} kinds served")
