"""A test-only SOPS encryptor: documents in the `sops` CLI's format (age recipients), so that
tests can make encrypted Secrets without the sops binary. It follows getsops/sops
`Tree.Encrypt` and `aes.Cipher.Encrypt`: a random 32-byte data key sealed with age to each
recipient (armored), each value to encrypt sealed with AES-256-GCM (32-byte IV, the value's
path `a:b:` as additional data), empty strings and nulls left as they are, and the MAC (SHA-512
of every leaf's bytes, upper-case hex) sealed with `lastmodified` as additional data.

The product only decrypts (syncer.sops); this module is never shipped.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyrage
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from syncer.sops import MAC_ONLY_ENCRYPTED_PREFIX
from syncer.sopsvalue import plain_bytes

__all__ = ["Options", "enc_value", "encrypt", "new_identity"]

LASTMODIFIED = "2026-01-02T03:04:05Z"


@dataclass(frozen=True)
class Options:
    """At most one of the four (sops refuses more); none: unencrypted_suffix `_unencrypted`,
    sops' default."""

    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    mac_only_encrypted: bool = False

    def __post_init__(self) -> None:
        chosen = [self.unencrypted_suffix, self.encrypted_suffix, self.unencrypted_regex,
                  self.encrypted_regex]
        if not any(chosen):
            object.__setattr__(self, "unencrypted_suffix", "_unencrypted")


def new_identity() -> Any:
    """A fresh age identity (test keys only: never written to the repository)."""
    return pyrage.x25519.Identity.generate()


def enc_value(value: Any, key: bytes, path: Sequence[str]) -> str:
    """`value` sealed as sops does (`ENC[AES256_GCM,…,type:…]`)."""
    kind = {str: "str", bool: "bool", int: "int", float: "float", bytes: "bytes"}[type(value)]
    return _seal(plain_bytes(value), key, (":".join(path) + ":").encode(), kind)


def encrypt(doc: dict[str, Any], recipients: Sequence[str], *, options: Options = Options(),
            key: bytes | None = None, lastmodified: str = LASTMODIFIED) -> dict[str, Any]:
    """`doc` encrypted for the age `recipients` (public keys), with its `sops` metadata."""
    key = key or os.urandom(32)
    digest = hashlib.sha512(MAC_ONLY_ENCRYPTED_PREFIX if options.mac_only_encrypted else b"")
    out = {k: _walk(v, (k,), key, options, digest) for k, v in doc.items()}
    out["sops"] = _metadata(key, recipients, options, digest.hexdigest().upper(), lastmodified)
    return out


def _walk(node: Any, path: tuple[str, ...], key: bytes, options: Options, digest: Any) -> Any:
    if isinstance(node, dict):
        return {k: _walk(v, (*path, k), key, options, digest) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, path, key, options, digest) for v in node]
    if node is None:
        return None
    encrypted = _encrypted(path, options)
    if encrypted or not options.mac_only_encrypted:
        digest.update(plain_bytes(node))
    if not encrypted or node == "":
        return node
    return enc_value(node, key, path)


def _encrypted(path: tuple[str, ...], o: Options) -> bool:
    encrypted = True
    if o.unencrypted_suffix and any(k.endswith(o.unencrypted_suffix) for k in path):
        encrypted = False
    if o.encrypted_suffix:
        encrypted = any(k.endswith(o.encrypted_suffix) for k in path)
    if o.unencrypted_regex and any(re.search(o.unencrypted_regex, k) for k in path):
        encrypted = False
    if o.encrypted_regex:
        encrypted = any(re.search(o.encrypted_regex, k) for k in path)
    return encrypted


def _metadata(key: bytes, recipients: Sequence[str], options: Options, mac: str,
              lastmodified: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"age": [
        {"recipient": r,
         "enc": pyrage.encrypt(key, [pyrage.x25519.Recipient.from_str(r)],
                               armored=True).decode()} for r in recipients]}
    meta["lastmodified"] = lastmodified
    meta["mac"] = _seal(mac.encode(), key, lastmodified.encode(), "str")
    for name in ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex",
                 "encrypted_regex"):
        if getattr(options, name):
            meta[name] = getattr(options, name)
    if options.mac_only_encrypted:
        meta["mac_only_encrypted"] = True
    meta["version"] = "3.8.1"
    return meta


def _seal(plain: bytes, key: bytes, aad: bytes, kind: str) -> str:
    iv = os.urandom(32)
    sealed = AESGCM(key).encrypt(iv, plain, aad)
    data, tag = sealed[:-16], sealed[-16:]
    return (f"ENC[AES256_GCM,data:{_b64(data)},iv:{_b64(iv)},tag:{_b64(tag)},"
            f"type:{kind}]")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
