"""Profiles: which blob store and which ledger a command uses, and where they are.

Three profiles are built in: `local` (the default: the embedded blob store and ledger under
$SYNCER_HOME, no network), `testnet` and `mainnet` (Walrus and Sui, public endpoints filled
in). A profile is chosen with `--profile` or $SYNCER_PROFILE, else `profile:` in the
repository's syncer.yaml, else `local`. Profiles are defined or extended, key by key, in
`profiles:` of syncer.yaml and in `$SYNCER_HOME/profiles.yaml` (read by a syncer that has no
repository, e.g. in the cluster):

    profiles:
      testnet:
        blobstore: {epochs: 10, send_object_to: "0x…", expiry_warning_days: 14}
        ledger:
          package: "0x…"                      # the published syncer Move package
          registries: {shop-dev: "0x…"}       # channel → shared Registry object
      staging:                                # a new profile: give both kinds
        blobstore: {kind: walrus, publisher: "http://…", aggregators: ["http://…"]}
        ledger: {kind: sui, graphql: "http://…/graphql", package: "0x…"}

On Walrus, `staking_object` (built in for testnet and mainnet) and a Sui GraphQL endpoint
(`blobstore.graphql`, else `ledger.graphql`) let `syncer doctor` read how long blobs live;
it warns `expiry_warning_days` (default 30) before the head release's blob expires. Blob
objects go to `send_object_to`, else to the publisher's own address.

Pure: parsing and merging only; `backends` opens what a profile names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncer import yamlsafe
from syncer.config import merge_values
from syncer.errors import ConfigError

__all__ = ["BUILTIN", "Profile", "choose", "parse_profiles", "read_profiles_file",
           "remember_registry"]

WALRUS_MAX_EPOCHS = 53
"""The most epochs ahead a blob can be stored for on Walrus Mainnet and Testnet."""
MAINNET_STAKING = "0x10b9d30c28448939ce6c4d6c6e0ffce4a7f8a4ada8248bdad09ef8b70e4a3904"
TESTNET_STAKING = "0xbe46180321c30aab2f8b3501e24048377287fa708018a5b7c2792b35fe339ee3"
"""Walrus's Staking objects on Sui (setup/client_config_{mainnet,testnet}.yaml of
MystenLabs/walrus): the current Walrus epoch is read from them."""

BUILTIN: Mapping[str, Mapping[str, Any]] = {
    "local": {"blobstore": {"kind": "local"}, "ledger": {"kind": "local"}},
    "testnet": {
        "blobstore": {
            "kind": "walrus",
            "publisher": "https://publisher.walrus-testnet.walrus.space",
            "aggregators": ["https://aggregator.walrus-testnet.walrus.space"],
            "epochs": WALRUS_MAX_EPOCHS,
            "staking_object": TESTNET_STAKING,
        },
        "ledger": {"kind": "sui", "graphql": "https://graphql.testnet.sui.io/graphql"},
    },
    "mainnet": {
        "blobstore": {
            "kind": "walrus",
            "aggregators": ["https://aggregator.walrus-mainnet.walrus.space"],
            "epochs": WALRUS_MAX_EPOCHS,
            "staking_object": MAINNET_STAKING,
        },
        "ledger": {"kind": "sui", "graphql": "https://graphql.mainnet.sui.io/graphql"},
    },
}
_KINDS = {"blobstore": ("local", "walrus"), "ledger": ("local", "sui")}


@dataclass(frozen=True)
class Profile:
    """A chosen profile: its name and the settings of its blob store and ledger."""

    name: str
    blobstore: Mapping[str, Any]
    ledger: Mapping[str, Any]

    def setting(self, section: str, key: str) -> Any:
        return (self.blobstore if section == "blobstore" else self.ledger).get(key)


def parse_profiles(raw: Any, *, where: str) -> dict[str, dict[str, Any]]:
    """The `profiles:` mapping of a file, checked for shape."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError("'profiles' must map profile names to settings", where=where)
    out: dict[str, dict[str, Any]] = {}
    for name, spec in raw.items():
        at = f"{where}: profiles.{name}"
        if not isinstance(spec, dict) or not set(spec) <= {"blobstore", "ledger"}:
            raise ConfigError("a profile has 'blobstore' and 'ledger' mappings", where=at)
        for section, value in spec.items():
            if not isinstance(value, dict):
                raise ConfigError("must be a mapping", where=f"{at}.{section}")
        out[str(name)] = spec
    return out


def read_profiles_file(path: Path) -> dict[str, dict[str, Any]]:
    """`$SYNCER_HOME/profiles.yaml`: {profiles: {...}}; absent is empty."""
    if not path.exists():
        return {}
    try:
        text = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read profiles: {e.strerror}", where=str(path)) from e
    data = yamlsafe.load(text, where=str(path), error=ConfigError)
    if data is not None and not isinstance(data, dict):
        raise ConfigError("must be a mapping with a 'profiles' key", where=str(path))
    return parse_profiles((data or {}).get("profiles"), where=str(path))


def remember_registry(path: Path, *, profile: str, channel: str, registry_id: str) -> None:
    """Record a new channel's Registry ID in `path` (a profiles.yaml), keeping the rest."""
    data = yamlsafe.load(path.read_bytes(), where=str(path), error=ConfigError) \
        if path.exists() else None
    data = data if isinstance(data, dict) else {}
    spec = data.setdefault("profiles", {}).setdefault(profile, {})
    spec.setdefault("ledger", {}).setdefault("registries", {})[channel] = registry_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlsafe.dump(data, sort_keys=False))


def choose(name: str | None, *, layers: list[dict[str, dict[str, Any]]],
           default: str | None = None) -> Profile:
    """The profile `name` (else $SYNCER_PROFILE, `default`, "local"), layers merged in order."""
    chosen = name or os.environ.get("SYNCER_PROFILE") or default or "local"
    merged: dict[str, Any] = dict(BUILTIN.get(chosen, {}))
    found = chosen in BUILTIN
    for layer in layers:
        if chosen in layer:
            merged = merge_values(merged, layer[chosen])
            found = True
    if not found:
        known = sorted({*BUILTIN, *(n for layer in layers for n in layer)})
        raise ConfigError(f"no profile {chosen!r} (known: {', '.join(known)})",
                          where="profile")
    profile = Profile(chosen, merged.get("blobstore") or {}, merged.get("ledger") or {})
    _check_kinds(profile)
    return profile


def _check_kinds(profile: Profile) -> None:
    for section, kinds in _KINDS.items():
        kind = profile.setting(section, "kind")
        if kind not in kinds:
            raise ConfigError(f"kind {kind!r} is not one of {', '.join(kinds)}",
                              where=f"profile {profile.name}: {section}.kind")
