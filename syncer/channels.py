"""Starting an app repository: the starter syncer.yaml, and its channels on the ledger.

`register` records every channel of a syncer.yaml that the ledger does not have yet, with
the publisher key as admin and publisher. Where the ledger names a channel by an on-chain
object (a Registry on Sui), that object's ID is kept in `$SYNCER_HOME/profiles.yaml` under
the profile, so that later commands find the channel again.
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from syncer.config import Home, RepoConfig
from syncer.keys import Keypair
from syncer.ledger import Ledger
from syncer.profiles import remember_registry

__all__ = ["Registered", "default_channel", "default_namespace", "register", "starter_config"]

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
    return [_register(name, ledger=ledger, key=key, home=home, profile=profile)
            if name not in known else Registered(name, created=False)
            for name in sorted(config.channels)]


def _register(channel: str, *, ledger: Ledger, key: Keypair, home: Home,
              profile: str) -> Registered:
    record_id = ledger.register_channel(channel, admin=key, publishers=[key.public_key])
    if record_id is None:
        return Registered(channel, created=True)
    remember_registry(home.profiles, profile=profile, channel=channel, registry_id=record_id)
    log.info("channel's record ID kept", extra={"channel": channel, "record": record_id,
                                                "path": str(home.profiles)})
    return Registered(channel, True, record_id, home.profiles)
