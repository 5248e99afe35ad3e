"""Publisher and admin keys: Ed25519 in Sui's formats, for both ledgers.

A secret key travels only as a `suiprivkey1...` bech32 string (what `sui keytool export`
prints and `sui keytool import` reads) or inside a `Keypair`; it never appears in a message,
repr or log line. A public key travels in Sui's serialized form, base64 of the scheme flag byte
`0x00` followed by the 32-byte Ed25519 key, and an address is `0x` + hex of
blake2b-256(flag + key), as Sui derives it.

Signatures are raw 64-byte Ed25519 signatures in base64 over the exact message bytes (no Sui
intent prefix): the local ledger signs its own canonical entries with them. `verify` answers
False for anything that does not verify, malformed input included, so that a ledger reading a
tampered row reports tampering rather than a parse error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pysui_fastcrypto as pfc

from syncer.errors import ConfigError

__all__ = [
    "ED25519_FLAG",
    "Keypair",
    "address_of",
    "ensure",
    "from_suiprivkey",
    "generate",
    "load",
    "save",
    "verify",
]

log = logging.getLogger(__name__)

ED25519_FLAG = 0x00
_SCHEME = 0  # SignatureScheme.ED25519 in pysui and Sui; pysui itself is slow to import
_HRP = "suiprivkey"
_KEY_LEN = 32
_SIG_LEN = 64
_MAX_KEY_FILE = 4096
_BAD_KEY = "not an Ed25519 key in suiprivkey format"


class _Secret:
    """Holds the 32 secret bytes; prints as a placeholder, so no repr or dump shows them."""

    __slots__ = ("value",)

    def __init__(self, value: bytes) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"


@dataclass(frozen=True)
class Keypair:
    """An Ed25519 keypair; `public_key` in Sui serialized form, `address` as 0x + 64 hex."""

    public_key: str
    address: str
    _secret: _Secret = field(repr=False, compare=False)

    def sign(self, message: bytes) -> str:
        """The base64 raw 64-byte Ed25519 signature of `message`."""
        data = base64.b64encode(message).decode("ascii")
        return str(pfc.sign_message(_SCHEME, self._secret.value, data))

    def to_suiprivkey(self) -> str:
        """The secret key as a `suiprivkey1...` string: handle it as a secret."""
        return str(pfc.encode_bech32(bytes([ED25519_FLAG]) + self._secret.value, _HRP))


def generate() -> Keypair:
    """A new random Ed25519 keypair."""
    _mnemonic, _public, secret = pfc.generate_new_keypair(_SCHEME)
    return from_suiprivkey(str(pfc.encode_bech32(bytes([ED25519_FLAG]) + bytes(secret), _HRP)))


def from_suiprivkey(text: str) -> Keypair:
    """The keypair of a `suiprivkey1...` string; ConfigError for anything else."""
    try:
        scheme, pub, prv = pfc.decode_bech32(text.strip(), _HRP)
    except (ValueError, TypeError) as e:
        raise ConfigError(_BAD_KEY) from e
    if scheme == 255:
        raise ConfigError(_BAD_KEY)
    if scheme != _SCHEME:
        raise ConfigError(f"key scheme {scheme} is not Ed25519 ({_SCHEME})")
    pub, prv = bytes(pub), bytes(prv)
    if len(pub) != _KEY_LEN or len(prv) != _KEY_LEN:
        raise ConfigError(_BAD_KEY)
    public_key = _serialize(pub)
    return Keypair(public_key, _address(pub), _Secret(prv))


def load(path: Path) -> Keypair:
    """The keypair stored in `path` (one suiprivkey string); ConfigError naming the path."""
    try:
        with path.open("rb") as f:
            raw = f.read(_MAX_KEY_FILE + 1)
        mode = path.stat().st_mode
    except OSError as e:
        raise ConfigError(f"cannot read key file: {e.strerror}", where=str(path)) from e
    if len(raw) > _MAX_KEY_FILE:
        raise ConfigError("key file is too large to be a suiprivkey", where=str(path))
    if mode & 0o077:
        log.warning("key file is readable by others", extra={"path": str(path)})
    try:
        return from_suiprivkey(raw.decode("ascii"))
    except UnicodeDecodeError as e:
        raise ConfigError(_BAD_KEY, where=str(path)) from e
    except ConfigError as e:
        raise ConfigError(e.message, where=str(path)) from e


def save(keypair: Keypair, path: Path) -> None:
    """Write the keypair to a new file of mode 0600; an existing file is never overwritten."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise ConfigError("key file exists; refusing to overwrite it", where=str(path)) from e
    except OSError as e:
        raise ConfigError(f"cannot create key file: {e.strerror}", where=str(path)) from e
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(keypair.to_suiprivkey() + "\n")
    log.info("key saved", extra={"path": str(path), "address": keypair.address})


def ensure(path: Path) -> tuple[Keypair, bool]:
    """The key saved at `path`, made and saved first if there is none; True if it is new."""
    if path.exists():
        return load(path), False
    keypair = generate()
    save(keypair, path)
    return keypair, True


def verify(public_key: str, message: bytes, signature: str) -> bool:
    """Whether `signature` (base64, raw 64 bytes) is `public_key`'s signature of `message`."""
    try:
        pub = _key_bytes(public_key)
        if len(base64.b64decode(signature, validate=True)) != _SIG_LEN:
            return False
    except (ConfigError, binascii.Error, ValueError):
        return False
    data = base64.b64encode(message).decode("ascii")
    try:
        return bool(pfc.verify_pubk(_SCHEME, pub, data, signature))
    except ValueError:
        return False


def address_of(public_key: str) -> str:
    """The Sui address of a public key in serialized form; ConfigError if it is malformed."""
    return _address(_key_bytes(public_key))


def _key_bytes(public_key: str) -> bytes:
    """The 32 key bytes of a serialized Ed25519 public key."""
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ConfigError("public key is not base64") from e
    if len(raw) != _KEY_LEN + 1 or raw[0] != ED25519_FLAG or _serialize(raw[1:]) != public_key:
        raise ConfigError("public key is not base64 of flag 0x00 + 32-byte Ed25519 key")
    return raw[1:]


def _serialize(pub: bytes) -> str:
    return base64.b64encode(bytes([ED25519_FLAG]) + pub).decode("ascii")


def _address(pub: bytes) -> str:
    digest = hashlib.blake2b(bytes([ED25519_FLAG]) + pub, digest_size=32)
    return "0x" + digest.hexdigest()
