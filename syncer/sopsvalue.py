"""One SOPS value: the `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` form opened with
AES-256-GCM (getsops/sops `aes/cipher.go`: a 32-byte IV, a 16-byte tag, the value's path as
additional data), its `type:` read back as sops reads it, and the bytes sops hashes for the
MAC (`sops.ToBytes`), which are Go's text forms of numbers and times.  [pure]
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from syncer.errors import DecryptionIntegrityError

__all__ = ["ENC", "open_value", "plain_bytes", "rfc3339", "typed"]

ENC: Final = re.compile(r"ENC\[AES256_GCM,data:([A-Za-z0-9+/]+=*),iv:([A-Za-z0-9+/]+=*),"
                        r"tag:([A-Za-z0-9+/]+=*),type:([a-z]{1,16})\]")
_INT = re.compile(r"[+-]?[0-9]+")
_BOOLS: Final = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
                 "0": False, "f": False, "F": False, "FALSE": False, "false": False,
                 "False": False}
_TAG_BYTES = 16


def plain_bytes(value: Any, *, where: str = "value") -> bytes:
    """A leaf's bytes as sops hashes them for the MAC (Go's `sops.ToBytes`)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return _go_float(value).encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, datetime | date):
        return _go_time(value).encode()
    raise DecryptionIntegrityError(f"holds a {type(value).__name__}, which sops cannot hold",
                                   where=where)


def open_value(value: str, key: bytes, aad: bytes, *, where: str) -> tuple[str, bytes]:
    """The type and plaintext bytes of one ENC value, authenticated with `aad`."""
    match = ENC.fullmatch(value)
    if match is None:
        raise DecryptionIntegrityError("is not an ENC[AES256_GCM,data:…,iv:…,tag:…,type:…] "
                                       "value", where=where)
    try:
        data, iv, tag = (base64.b64decode(match[i], validate=True) for i in (1, 2, 3))
    except (binascii.Error, ValueError):
        raise DecryptionIntegrityError("has data, iv or tag that is not base64",
                                       where=where) from None
    if len(tag) != _TAG_BYTES or not 8 <= len(iv) <= 128:
        raise DecryptionIntegrityError("has an iv or tag of the wrong size", where=where)
    try:
        return match[4], AESGCM(key).decrypt(iv, data + tag, aad)
    except InvalidTag:
        raise DecryptionIntegrityError("does not verify with the data key (its value or path "
                                       "was changed, or it was moved)", where=where) from None


def typed(kind: str, data: bytes, *, where: str) -> Any:
    """The value of a decrypted `type:` (sops `Cipher.Decrypt`)."""
    if kind == "bytes":
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionIntegrityError(f"decrypts to {kind} that is not UTF-8",
                                       where=where) from None
    if kind == "str":
        return text
    if kind == "int" and _INT.fullmatch(text) and len(text) <= 20:
        return int(text)
    if kind == "float" and (value := _go_parse_float(text)) is not None:
        return value
    if kind == "bool" and text in _BOOLS:
        return _BOOLS[text]
    if kind in ("int", "float", "bool"):
        raise DecryptionIntegrityError(f"does not decrypt to a {kind}", where=where)
    raise DecryptionIntegrityError(f"has type {kind!r}, which syncer does not open "
                                   "(str, int, float, bool, bytes)", where=where)


# --- Go's text forms ----------------------------------------------------------------------

def _go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'f', -1, 64): the shortest digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _go_parse_float(text: str) -> float | None:
    if not text or len(text) > 64 or "_" in text or text != text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _go_time(value: date) -> str:
    """time.Time.MarshalText (RFC 3339 with nanoseconds, trailing zeros dropped)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + _zone(value)


def rfc3339(stamp: str | datetime, *, where: str) -> str:
    """time.Parse(RFC3339) then Format(RFC3339): whole seconds, `Z` for UTC."""
    if isinstance(stamp, str):
        try:
            stamp = datetime.fromisoformat(stamp[:64])
        except ValueError:
            raise DecryptionIntegrityError("is not an RFC 3339 time",
                                           where=f"{where}: sops.lastmodified") from None
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + _zone(stamp)


def _zone(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None or not offset:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
