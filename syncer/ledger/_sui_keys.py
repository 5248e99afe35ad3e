"""Signing keys for the Sui ledger, from where Sui's own tools keep them.

`key_from_keystore` reads the key of one address from a `sui.keystore` file (what `sui
client` writes: a JSON list of Base64 `flag || 32-byte private key` strings); only Ed25519
keys (flag 0x00) are taken, as everywhere in syncer. `key_from_env` reads a `suiprivkey1...`
string (what `sui keytool export` prints) from an environment variable. Errors name the file
or the variable, never the key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Final

import pysui_fastcrypto as pfc

from syncer import keys
from syncer.errors import ConfigError
from syncer.keys import Keypair
from syncer.suivalues import canonical_address

__all__ = ["DEFAULT_KEY_ENV", "key_from_env", "key_from_keystore"]

DEFAULT_KEY_ENV: Final = "SYNCER_KEY"  # the same variable for every profile (backends)
_MAX_KEYSTORE: Final = 1024 * 1024
_ENTRY_LEN: Final = 33


def key_from_env(name: str = DEFAULT_KEY_ENV) -> Keypair:
    """The key in environment variable `name` (a `suiprivkey1...` string)."""
    text = os.environ.get(name)
    if not text:
        raise ConfigError(f"environment variable {name} is not set")
    try:
        return keys.from_suiprivkey(text)
    except ConfigError as e:
        raise ConfigError(e.message, where=f"${name}") from e


def key_from_keystore(path: Path, address: str) -> Keypair:
    """The Ed25519 key of `address` in a Sui keystore file (`sui.keystore`)."""
    try:
        wanted = canonical_address(address)
    except ValueError as e:
        raise ConfigError("not a Sui address") from e
    for raw in _keystore_entries(path):
        if len(raw) == _ENTRY_LEN and raw[0] == keys.ED25519_FLAG:
            key = keys.from_suiprivkey(str(pfc.encode_bech32(raw, "suiprivkey")))
            if key.address == wanted:
                return key
    raise ConfigError(f"no Ed25519 key for {wanted} in the keystore", where=str(path))


def _keystore_entries(path: Path) -> list[bytes]:
    try:
        with path.open("rb") as f:
            text = f.read(_MAX_KEYSTORE + 1)
    except OSError as e:
        raise ConfigError(f"cannot read keystore: {e.strerror}", where=str(path)) from e
    try:
        if len(text) > _MAX_KEYSTORE:
            raise ValueError("too large")
        entries = json.loads(text)
        return [base64.b64decode(e, validate=True) for e in entries]
    except (ValueError, TypeError, binascii.Error) as e:
        raise ConfigError("not a Sui keystore (a JSON list of Base64 keys)",
                          where=str(path)) from e
