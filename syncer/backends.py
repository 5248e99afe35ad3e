"""Open the blob store, the ledger and the publisher key that a profile names.

The Walrus and Sui clients are imported only when a profile names them, so that commands on
the embedded backends never load the HTTP or Sui client libraries.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncer import keys
from syncer.blobstore import BlobStore
from syncer.blobstore.blobids import KnownBlobIds
from syncer.blobstore.local import LocalBlobStore
from syncer.config import CONFIG_FILE, Home, RepoConfig, parse_config
from syncer.errors import ConfigError
from syncer.ledger import Ledger
from syncer.ledger._sui_keys import DEFAULT_KEY_ENV
from syncer.ledger.local import LocalLedger
from syncer.profiles import Profile, choose, parse_profiles, read_profiles_file
from syncer.suivalues import canonical_address

if TYPE_CHECKING:
    from syncer.blobstore.walrus_lifetime import WalrusLifetime

__all__ = ["KEY_ENV", "Backends", "blob_owner", "open_backends", "publisher_key",
           "publisher_key_or_new", "select_profile", "walrus_lifetime", "work_tree_config"]

log = logging.getLogger(__name__)

KEY_ENV = DEFAULT_KEY_ENV
"""An environment variable that may hold the publisher key as a `suiprivkey1…` string."""


@dataclass(frozen=True)
class Backends:
    profile: Profile
    blobs: BlobStore
    ledger: Ledger


def select_profile(name: str | None, *, home: Home, repo: RepoConfig | None = None,
                   where: str = CONFIG_FILE) -> Profile:
    """The profile chosen by flag/env/syncer.yaml, with every definition layered in."""
    layers = [read_profiles_file(home.profiles)]
    default = None
    if repo is not None:
        layers.append(parse_profiles(repo.profiles, where=where))
        default = repo.profile
    return choose(name, layers=layers, default=default)


def work_tree_config(path: Path = Path(CONFIG_FILE)) -> RepoConfig | None:
    """./syncer.yaml when the command runs inside an app repository."""
    return parse_config(path.read_bytes(), where=str(path)) if path.exists() else None


def open_backends(profile: Profile, *, home: Home, blob_owner: str | None = None) -> Backends:
    """The profile's blob store and ledger. On Walrus, new Blob objects go to the profile's
    `send_object_to`, else to `blob_owner` (the publisher's address, when publishing), so
    that the publisher owns them and `syncer doctor` can read how long they live."""
    return Backends(profile, _blobstore(profile, home, blob_owner), _ledger(profile, home))


def walrus_lifetime(profile: Profile) -> WalrusLifetime | None:
    """The reader of blob lifetimes on Sui for a Walrus profile with `staking_object` and a
    GraphQL endpoint (`blobstore.graphql`, else `ledger.graphql`); None otherwise."""
    staking = profile.setting("blobstore", "staking_object")
    url = profile.setting("blobstore", "graphql") or profile.setting("ledger", "graphql")
    if profile.setting("blobstore", "kind") != "walrus" or not staking or not url:
        return None
    from syncer.blobstore.walrus_lifetime import WalrusLifetime  # noqa: PLC0415

    timeout = profile.setting("blobstore", "timeout")
    return WalrusLifetime(str(url), str(staking), timeout=float(timeout or 30.0))


def publisher_key(profile: Profile, *, home: Home) -> keys.Keypair:
    """$SYNCER_KEY, else the key of `ledger.address` in the Sui keystore `ledger.keystore`,
    else the profile's `ledger.key_file`, else $SYNCER_HOME/keys/publisher.key."""
    from syncer.ledger._sui_keys import key_from_env, key_from_keystore  # noqa: PLC0415

    if os.environ.get(KEY_ENV):
        return key_from_env(KEY_ENV)
    keystore = profile.setting("ledger", "keystore")
    if keystore:
        address = str(_required(profile, "ledger", "address"))
        return key_from_keystore(Path(str(keystore)).expanduser(), address)
    key_file = profile.setting("ledger", "key_file")
    return keys.load(Path(str(key_file)).expanduser() if key_file else home.key_file)


def blob_owner(profile: Profile, *, home: Home) -> str | None:
    """Who receives a new Blob object on Walrus when no publish names one: the publisher
    key's address if the key loads; None (the Walrus publisher keeps it) otherwise."""
    if profile.setting("blobstore", "kind") != "walrus":
        return None
    try:
        return publisher_key(profile, home=home).address
    except ConfigError as e:
        log.warning("no publisher key (%s): a new Blob object stays with the Walrus publisher",
                    e)
        return None


def publisher_key_or_new(profile: Profile, *, home: Home) -> tuple[keys.Keypair, bool]:
    """`publisher_key`; when the profile names no key, the default key file is made first
    if it is missing (True: the key is new)."""
    named = os.environ.get(KEY_ENV) or profile.setting("ledger", "keystore") \
        or profile.setting("ledger", "key_file")
    if named:
        return publisher_key(profile, home=home), False
    return keys.ensure(home.key_file)


def _blobstore(profile: Profile, home: Home, owner: str | None) -> BlobStore:
    kind = profile.setting("blobstore", "kind")
    known = KnownBlobIds(home.cache / "blob-ids")
    if kind == "local":
        return LocalBlobStore(home.blobs, known=known)
    return _walrus(profile, owner, known)


def _ledger(profile: Profile, home: Home) -> Ledger:
    kind = profile.setting("ledger", "kind")
    if kind == "local":
        return LocalLedger(home.ledger)
    return _sui(profile)


_WALRUS_KEYS = {"kind", "publisher", "aggregators", "epochs", "permanent", "send_object_to",
                "token_env", "timeout", "read_deadline", "max_bytes", "staking_object",
                "graphql", "expiry_warning_days"}


def _walrus(profile: Profile, owner: str | None, known: KnownBlobIds) -> BlobStore:
    """Walrus over HTTP; the publisher token comes from the environment variable that
    `token_env` names, never from a file in the repository."""
    from syncer.blobstore.walrus import WalrusBlobStore, WalrusOptions  # noqa: PLC0415

    settings = dict(profile.blobstore)
    _only(profile, "blobstore", _WALRUS_KEYS)
    _check_lifetime_settings(profile)
    if owner and not settings.get("send_object_to"):
        settings["send_object_to"] = owner
    aggregators = _required(profile, "blobstore", "aggregators")
    if not isinstance(aggregators, list) or not all(isinstance(a, str) for a in aggregators):
        raise ConfigError("must be a list of URLs",
                          where=f"profile {profile.name}: blobstore.aggregators")
    token_env = settings.pop("token_env", None)
    extra = {k: settings[k] for k in ("epochs", "permanent", "send_object_to", "timeout",
                                      "read_deadline", "max_bytes") if k in settings}
    token = os.environ.get(str(token_env)) if token_env else None
    try:
        options = WalrusOptions(settings.get("publisher"), tuple(aggregators), token=token,
                                **extra)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"a setting has the wrong type ({e})",
                          where=f"profile {profile.name}: blobstore") from e
    return WalrusBlobStore(options, known=known)


def _check_lifetime_settings(profile: Profile) -> None:
    days = profile.setting("blobstore", "expiry_warning_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int | float)
                             or days < 0):
        raise ConfigError("must be a number of days, 0 or more",
                          where=f"profile {profile.name}: blobstore.expiry_warning_days")
    staking, graphql = (profile.setting("blobstore", k) for k in ("staking_object", "graphql"))
    if graphql is not None and not isinstance(graphql, str):
        raise ConfigError("must be a URL", where=f"profile {profile.name}: blobstore.graphql")
    try:
        if staking is not None:
            canonical_address(str(staking))
    except ValueError as e:
        raise ConfigError(str(e), where=f"profile {profile.name}: blobstore.staking_object") \
            from e


_SUI_KEYS = {"kind", "graphql", "package", "registries", "gas_budget", "timeout",
             "key_file", "keystore", "address"}


def _sui(profile: Profile) -> Ledger:
    """Sui over GraphQL, through pysui; registries map each channel to its Registry ID."""
    from syncer.ledger.sui import SuiLedger, SuiOptions  # noqa: PLC0415

    _only(profile, "ledger", _SUI_KEYS)
    registries = profile.setting("ledger", "registries") or {}
    if not isinstance(registries, dict):
        raise ConfigError("must map channel names to Registry object IDs",
                          where=f"profile {profile.name}: ledger.registries")
    try:
        options = SuiOptions(
            graphql_url=str(_required(profile, "ledger", "graphql")),
            package=str(_required(profile, "ledger", "package")),
            registries={str(k): str(v) for k, v in registries.items()},
            gas_budget=profile.setting("ledger", "gas_budget"),
            timeout_s=float(profile.setting("ledger", "timeout") or 60.0))
        return SuiLedger(options)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"a setting has the wrong type ({e})",
                          where=f"profile {profile.name}: ledger") from e


def _only(profile: Profile, section: str, known: set[str]) -> None:
    settings = profile.blobstore if section == "blobstore" else profile.ledger
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})",
                          where=f"profile {profile.name}: {section}")


def _required(profile: Profile, section: str, key: str) -> Any:
    value = profile.setting(section, key)
    if value in (None, "", [], {}):
        raise ConfigError("is not set", where=f"profile {profile.name}: {section}.{key}")
    return value
