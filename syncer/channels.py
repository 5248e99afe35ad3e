"""Channels on the ledger: the starter syncer.yaml, registering channels, describing one.

`register` records every channel of a syncer.yaml that the ledger does not have yet, with
the publisher key as admin and publisher; `register_one` one channel with the publishers
given (`syncer channel create`). Where the ledger names a channel by an on-chain object (a
Registry on Sui), that object's ID is kept in `$SYNCER_HOME/profiles.yaml` under the
profile, so that later commands find the channel again. `describe` reads what `syncer
channel show` prints: admin (where the ledger can name it), publishers, approvers,
threshold and head.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from syncer.config import Home, RepoConfig
from syncer.keys import Keypair
from syncer.ledger import Ledger
from syncer.model import Release
from syncer.profiles import remember_registry

__all__ = ["ChannelInfo", "Registered", "default_channel", "default_namespace", "describe",
           "register", "register_one", "starter_config"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registered:
    """One channel of the configuration: new or already there, and where its ID went."""

    channel: str
    created: bool
    record_id: str | None = None
    recorded_in: Path | None = None


def default_channel(repo_dir: Path) -> str:
    """A channel name made from the repository's directory name: `<name>-dev`."""
    base = "".join(c if c.isalnum() else "-" for c in repo_dir.name.lower()).strip("-")
    return f"{base[:50] or 'app'}-dev"


def default_namespace(channel: str) -> str:
    """A namespace name (a DNS-1123 label) made from a channel name: `Shop_Dev` → `shop-dev`."""
    label = "".join(c if c.isalnum() and c.isascii() else "-" for c in channel.lower())
    return label[:63].strip("-") or "default"


def starter_config(channel: str, namespace: str) -> str:
    """A commented syncer.yaml with one channel."""
    text = (resources.files("syncer") / "data" / "starter-syncer.yaml").read_text()
    return string.Template(text).substitute(channel=channel, namespace=namespace)


def register(config: RepoConfig, *, ledger: Ledger, key: Keypair, home: Home,
             profile: str) -> list[Registered]:
    """Register each channel of `config` the ledger lacks, in name order."""
    known = set(ledger.channels())
    return [register_one(name, ledger=ledger, key=key, home=home, profile=profile)
            if name not in known else Registered(name, created=False)
            for name in sorted(config.channels)]


def register_one(channel: str, *, ledger: Ledger, key: Keypair, home: Home, profile: str,
                 publishers: Sequence[str] | None = None) -> Registered:
    """Register `channel` with `key` as admin and `publishers` (public keys; default: the
    admin key) as its publishers."""
    listed = [key.public_key] if publishers is None else list(publishers)
    record_id = ledger.register_channel(channel, admin=key, publishers=listed)
    if record_id is None:
        return Registered(channel, created=True)
    remember_registry(home.profiles, profile=profile, channel=channel, registry_id=record_id)
    log.info("channel's record ID kept", extra={"channel": channel, "record": record_id,
                                                "path": str(home.profiles)})
    return Registered(channel, True, record_id, home.profiles)


@dataclass(frozen=True)
class ChannelInfo:
    """A channel as the ledger has it now; `admin` None where the ledger cannot name it (on
    Sui the admin is whoever holds the AdminCap)."""

    channel: str
    admin: str | None
    publishers: tuple[str, ...]
    approvers: tuple[str, ...]
    threshold: int
    head: Release | None
    record_id: str | None = None


@runtime_checkable
class _NamesAdmin(Protocol):
    def admin(self, channel: str) -> str: ...


@runtime_checkable
class _HasRecord(Protocol):
    def registry_id(self, channel: str) -> str: ...


def describe(channel: str, *, ledger: Ledger) -> ChannelInfo:
    """What the ledger records of `channel`; LedgerError if it has no such channel."""
    policy = ledger.approval_policy(channel)
    return ChannelInfo(
        channel, ledger.admin(channel) if isinstance(ledger, _NamesAdmin) else None,
        tuple(ledger.publishers(channel)), policy.approvers, policy.threshold,
        ledger.head(channel),
        ledger.registry_id(channel) if isinstance(ledger, _HasRecord) else None)
