"""SOPS documents encrypted with age: recognised, opened and checked.  [pure]

The format is the `sops` CLI's (getsops/sops `sops.go`, `aes/cipher.go`), the one Flux's
kustomize-controller decrypts:

- the document's top-level `sops` mapping holds the data key (32 random bytes), encrypted
  with age to each recipient in `sops.age[].enc` (ASCII-armored);
- each value to keep secret is `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`: AES-256-GCM with
  the data key, a 32-byte IV, and as additional data the value's path of mapping keys, each
  followed by `:` (`data:password:`; a list item has its list's path);
- which values are encrypted follows from the keys on their path and `unencrypted_suffix`,
  `encrypted_suffix`, `unencrypted_regex` and `encrypted_regex` (a key matching anywhere on
  the path decides, in that order of precedence, as sops does);
- `sops.mac` is the SHA-512 (upper-case hex) of every leaf's plaintext bytes in document
  order (with `mac_only_encrypted`, of the encrypted ones only, after a fixed prefix), itself
  encrypted with the data key and `lastmodified` (RFC 3339) as additional data.

`decrypt` opens one object in memory and returns it without `sops` and with its plaintext
values; every failure is one line naming the object and the field path, never a value. A
document is hostile input: its depth, leaf count and value sizes are capped (`Limits`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeAlias

import pyrage

from syncer.errors import DecryptionIntegrityError, DecryptionKeyError
from syncer.model import Obj, ObjectRef
from syncer.policy import reads_as_secret
from syncer.sopsvalue import ENC, open_value, plain_bytes, rfc3339, typed

__all__ = ["MAC_ONLY_ENCRYPTED_PREFIX", "Identity", "Limits", "decrypt", "has_sops",
           "is_encrypted", "open_objects", "parse_identities"]

Identity: TypeAlias = Any
"""An age X25519 identity (`AGE-SECRET-KEY-1…`): `pyrage.x25519.Identity` (no type stubs)."""

METADATA: Final = "sops"
MAC_ONLY_ENCRYPTED_PREFIX: Final = bytes([
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe,
    0x0b, 0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2,
    0x7d, 0x69])
_KEY_LINE = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]{58}")
_QUANTIFIED_GROUP = re.compile(r"\)[*+?{]")
_DATA_KEY_BYTES = 32
_CHOICES: Final = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex",
                   "encrypted_regex")


@dataclass(frozen=True)
class Limits:
    """What one document may hold: nesting, leaves, one ENC value, one age stanza."""

    max_depth: int = 64
    max_leaves: int = 10_000
    max_value: int = 4 * 1024 * 1024
    max_recipients: int = 64
    max_stanza: int = 16 * 1024
    max_regex: int = 1024


_LIMITS = Limits()


def has_sops(obj: Mapping[str, Any]) -> bool:
    """Whether the object carries SOPS metadata (a top-level `sops` mapping)."""
    return isinstance(obj.get(METADATA), Mapping)


def is_encrypted(obj: Mapping[str, Any]) -> bool:
    """Whether a Secret is in SOPS form: `sops` metadata, and every value of `data` and
    `stringData` an ENC string (or empty or null: sops leaves those as they are)."""
    if not has_sops(obj):
        return False
    for field in ("data", "stringData"):
        values = obj.get(field)
        if values is None:
            continue
        if not isinstance(values, Mapping):
            return False
        if not all(v in ("", None) or (isinstance(v, str) and ENC.fullmatch(v))
                   for v in values.values()):
            return False
    return True


def parse_identities(text: str, *, where: str) -> list[Identity]:
    """The age identities of a keys file (`age-keygen` output: `#` comments, blank lines,
    one `AGE-SECRET-KEY-1…` a line). A bad line is named by number, never shown."""
    found: list[Identity] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if not _KEY_LINE.fullmatch(line):
                raise ValueError
            found.append(pyrage.x25519.Identity.from_str(line))
        except (ValueError, pyrage.IdentityError):
            raise DecryptionKeyError("is not an age identity (AGE-SECRET-KEY-1…)",
                                     where=f"{where}:{number}") from None
    return found


def decrypt(obj: Obj, identities: Sequence[Identity], *, where: str,
            limits: Limits = _LIMITS) -> Obj:
    """`obj` opened: without `sops`, every encrypted value replaced by its plaintext, after
    the MAC over the whole tree verified. DecryptionKeyError when no identity opens the data
    key, DecryptionIntegrityError for anything malformed or that does not verify."""
    meta = obj.get(METADATA)
    if not isinstance(meta, Mapping):
        raise DecryptionIntegrityError("has no sops metadata mapping", where=where)
    rules = _Rules.of(meta, where=where, limits=limits)
    key = _data_key(meta, identities, where=where, limits=limits)
    walk = _Walk(key, rules, where=where, limits=limits)
    opened = {k: walk.value(v, (k,), 1) for k, v in _tree(obj, where).items()}
    _check_mac(meta, key, walk.digest(), where=where)
    return opened


def open_objects(objects: Sequence[Obj], keys: Callable[[], Sequence[Identity]], *,
                 limits: Limits = _LIMITS) -> tuple[Obj, ...]:
    """The objects with every SOPS-encrypted Secret decrypted (`decrypt`), the others as
    they are. `keys()` is asked for the identities only when some object has `sops`
    metadata. Only Secrets are opened: any other kind is shown in diffs and status."""
    if not any(has_sops(o) for o in objects):
        return tuple(objects)
    identities = keys()
    return tuple(_opened(o, identities, limits) if has_sops(o) else o for o in objects)


def _opened(obj: Obj, identities: Sequence[Identity], limits: Limits) -> Obj:
    where = str(ObjectRef.of(obj))
    if not reads_as_secret(obj):
        raise DecryptionIntegrityError("has sops metadata, but only Secrets are decrypted "
                                       "(other kinds are shown in diffs and status)",
                                       where=where)
    return decrypt(obj, identities, where=where, limits=limits)


# --- metadata -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rules:
    """Which leaves are encrypted (sops `shouldBeEncrypted`, comments aside)."""

    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: re.Pattern[str] | None = None
    encrypted_regex: re.Pattern[str] | None = None
    mac_only_encrypted: bool = False

    @classmethod
    def of(cls, meta: Mapping[str, Any], *, where: str, limits: Limits) -> _Rules:
        if meta.get("key_groups") or meta.get("shamir_threshold"):
            raise DecryptionIntegrityError("uses sops key groups (Shamir), which syncer does "
                                           "not open: use age recipients only",
                                           where=f"{where}: sops.key_groups")
        text = _text_reader(meta, where=where, limits=limits)
        chosen = [n for n in _CHOICES if text(n)]
        if len(chosen) > 1:
            raise DecryptionIntegrityError(f"sets {' and '.join(chosen)}: sops allows one",
                                           where=f"{where}: sops")
        mac_only = meta.get("mac_only_encrypted", False)
        if not isinstance(mac_only, bool):
            raise DecryptionIntegrityError("must be true or false",
                                           where=f"{where}: sops.mac_only_encrypted")
        return cls(text("unencrypted_suffix"), text("encrypted_suffix"),
                   _regex(text("unencrypted_regex"), f"{where}: sops.unencrypted_regex"),
                   _regex(text("encrypted_regex"), f"{where}: sops.encrypted_regex"),
                   mac_only)

    def encrypted(self, path: tuple[str, ...]) -> bool:
        encrypted = True
        if self.unencrypted_suffix and any(k.endswith(self.unencrypted_suffix) for k in path):
            encrypted = False
        if self.encrypted_suffix:
            encrypted = any(k.endswith(self.encrypted_suffix) for k in path)
        if self.unencrypted_regex and any(self.unencrypted_regex.search(k) for k in path):
            encrypted = False
        if self.encrypted_regex:
            encrypted = any(self.encrypted_regex.search(k) for k in path)
        return encrypted


def _text_reader(meta: Mapping[str, Any], *, where: str,
                 limits: Limits) -> Callable[[str], str]:
    """A reader of the optional short text fields of `meta`."""
    def text(name: str) -> str:
        value = meta.get(name)
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > limits.max_regex:
            raise DecryptionIntegrityError(f"must be text of at most {limits.max_regex} "
                                           "characters", where=f"{where}: sops.{name}")
        return value
    return text


def _regex(text: str, where: str) -> re.Pattern[str] | None:
    """The compiled option; sops runs it with Go's linear-time engine, Python's backtracks,
    so a quantified group (`(a+)+`, the shape of catastrophic backtracking) is refused."""
    if not text:
        return None
    if _QUANTIFIED_GROUP.search(text):
        raise DecryptionIntegrityError("repeats a group (`(…)*`, `(…)+`, `(…){n}`), which "
                                       "syncer does not run: list the keys instead",
                                       where=where)
    try:
        return re.compile(text)
    except re.error as e:
        raise DecryptionIntegrityError(f"is not a regular expression ({e.msg})",
                                       where=where) from None


def _data_key(meta: Mapping[str, Any], identities: Sequence[Identity], *, where: str,
              limits: Limits) -> bytes:
    stanzas = meta.get("age")
    if not isinstance(stanzas, list) or not stanzas:
        raise DecryptionIntegrityError("names no age recipient (only age is supported)",
                                       where=f"{where}: sops.age")
    if len(stanzas) > limits.max_recipients:
        raise DecryptionIntegrityError(f"has more than {limits.max_recipients} recipients",
                                       where=f"{where}: sops.age")
    for index, stanza in enumerate(stanzas):
        key = _open_stanza(stanza, identities, where=f"{where}: sops.age[{index}]",
                           limits=limits)
        if key is not None:
            return key
    recipients = ", ".join(str(s.get("recipient"))[:80] for s in stanzas
                           if isinstance(s, Mapping))
    raise DecryptionKeyError(f"no age identity given opens the data key (recipients: "
                             f"{recipients}; {len(identities)} identities tried)",
                             where=f"{where}: sops.age")


def _open_stanza(stanza: Any, identities: Sequence[Identity], *, where: str,
                 limits: Limits) -> bytes | None:
    enc = stanza.get("enc") if isinstance(stanza, Mapping) else None
    if not isinstance(enc, str) or not enc or len(enc) > limits.max_stanza:
        raise DecryptionIntegrityError(f"enc must be an age message of at most "
                                       f"{limits.max_stanza} characters", where=where)
    if not identities:
        return None
    try:
        key = bytes(pyrage.decrypt(enc.encode("ascii", "replace"), list(identities)))
    except pyrage.DecryptError:
        return None
    if len(key) != _DATA_KEY_BYTES:
        raise DecryptionIntegrityError(f"holds a data key of {len(key)} bytes, not 32",
                                       where=where)
    return key


def _tree(obj: Obj, where: str) -> dict[str, Any]:
    tree = {k: v for k, v in obj.items() if k != METADATA}
    if not all(isinstance(k, str) for k in tree):
        raise DecryptionIntegrityError("has a key that is not text", where=where)
    return tree


def _check_mac(meta: Mapping[str, Any], key: bytes, digest: str, *, where: str) -> None:
    mac, stamp = meta.get("mac"), meta.get("lastmodified")
    field = f"{where}: sops.mac"
    if not isinstance(mac, str) or not ENC.fullmatch(mac):
        raise DecryptionIntegrityError("is missing or not an ENC[AES256_GCM,…] value",
                                       where=field)
    if not isinstance(stamp, str | datetime):
        raise DecryptionIntegrityError("is missing or not a time", where=f"{where}: "
                                       "sops.lastmodified")
    found = open_value(mac, key, rfc3339(stamp, where=where).encode(), where=field)
    if found[0] != "str" or found[1] != digest.encode():
        raise DecryptionIntegrityError("does not match the document: a value, key or their "
                                       "order changed since it was encrypted", where=field)


# --- values -------------------------------------------------------------------------------

class _Walk:
    """One pass over the tree: values opened, the MAC hash fed, sizes counted."""

    def __init__(self, key: bytes, rules: _Rules, *, where: str, limits: Limits) -> None:
        self.key, self.rules, self.where, self.limits = key, rules, where, limits
        self.hash = hashlib.sha512()
        if rules.mac_only_encrypted:
            self.hash.update(MAC_ONLY_ENCRYPTED_PREFIX)
        self.leaves = 0

    def digest(self) -> str:
        return self.hash.hexdigest().upper()

    def value(self, node: Any, path: tuple[str, ...], depth: int) -> Any:
        if depth > self.limits.max_depth:
            raise DecryptionIntegrityError(f"nests deeper than {self.limits.max_depth}",
                                           where=self._at(path))
        if isinstance(node, Mapping):
            return {self._key(k, path): self.value(v, (*path, k), depth + 1)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(v, path, depth + 1) for v in node]
        if node is None:
            return None
        return self.leaf(node, path)

    def leaf(self, node: Any, path: tuple[str, ...]) -> Any:
        self.leaves += 1
        if self.leaves > self.limits.max_leaves:
            raise DecryptionIntegrityError(f"has more than {self.limits.max_leaves} values",
                                           where=self.where)
        encrypted = self.rules.encrypted(path)
        plain = self._opened(node, path) if encrypted else node
        if encrypted or not self.rules.mac_only_encrypted:
            self.hash.update(plain_bytes(plain, where=self._at(path)))
        return plain

    def _opened(self, node: Any, path: tuple[str, ...]) -> Any:
        where = self._at(path)
        if not isinstance(node, str):
            raise DecryptionIntegrityError(f"should be encrypted but holds a "
                                           f"{type(node).__name__}", where=where)
        if node == "":
            return ""
        if len(node) > self.limits.max_value:
            raise DecryptionIntegrityError(f"is longer than {self.limits.max_value} "
                                           "characters", where=where)
        kind, data = open_value(node, self.key, ":".join(path).encode() + b":", where=where)
        return typed(kind, data, where=where)

    def _key(self, key: Any, path: tuple[str, ...]) -> str:
        if not isinstance(key, str):
            raise DecryptionIntegrityError("has a key that is not text", where=self._at(path))
        return key

    def _at(self, path: tuple[str, ...]) -> str:
        return f"{self.where}: {'.'.join(path)}"
