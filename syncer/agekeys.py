"""Where the age identities that open SOPS-encrypted Secrets come from.

Two places, as sops and Flux read them:

- on a laptop (`syncer sync`, `syncer diff`): `$SOPS_AGE_KEY` (the keys file's text),
  `$SOPS_AGE_KEY_FILE` (its path) and `$SYNCER_HOME/age/keys.txt`, every one that is set
  or exists, in that order (sops reads its own default path; syncer reads $SYNCER_HOME's);
- in the cluster (the controller): the Secret a Channel names in
  `spec.decryption.secretRef.name`, in the syncer's own namespace, read as the syncer
  itself; each of its keys ending `.agekey` holds a keys file (Flux's convention).

Identities stay in memory. Errors name the variable, file, Secret and key, never a key's
text; the log says how many identities were found, nothing else.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from syncer.cluster import Cluster, Discovery
from syncer.errors import DecryptionKeyError
from syncer.sops import Identity, parse_identities

__all__ = ["ENV_KEY", "ENV_KEY_FILE", "KEY_SUFFIX", "MAX_KEYS_BYTES", "default_file",
           "from_environment", "from_secret"]

log = logging.getLogger(__name__)

ENV_KEY: Final = "SOPS_AGE_KEY"
ENV_KEY_FILE: Final = "SOPS_AGE_KEY_FILE"
KEY_SUFFIX: Final = ".agekey"
MAX_KEYS_BYTES: Final = 64 * 1024


def default_file(home: Path) -> Path:
    """`$SYNCER_HOME/age/keys.txt`."""
    return home / "age" / "keys.txt"


def from_environment(environ: Mapping[str, str], *, home: Path) -> list[Identity]:
    """The identities of `$SOPS_AGE_KEY`, `$SOPS_AGE_KEY_FILE` and `home`'s keys file;
    DecryptionKeyError when there are none."""
    found: list[Identity] = []
    if text := environ.get(ENV_KEY, ""):
        found += parse_identities(_capped(text, f"${ENV_KEY}"), where=f"${ENV_KEY}")
    if named := environ.get(ENV_KEY_FILE, ""):
        found += _read_file(Path(named).expanduser(), where=f"${ENV_KEY_FILE} ({named})")
    default = default_file(home)
    if default.is_file():
        found += _read_file(default, where=str(default))
    if not found:
        raise DecryptionKeyError(f"the release holds SOPS-encrypted Secrets and no age key "
                                 f"is set: set ${ENV_KEY_FILE} or ${ENV_KEY}, or put the "
                                 f"key in {default}")
    log.info("age identities read", extra={"count": len(found), "source": "environment"})
    return found


def from_secret(cluster: Cluster, discovery: Discovery, *, namespace: str,
                name: str) -> list[Identity]:
    """The identities of the Secret `namespace/name`'s `*.agekey` keys, read with
    `cluster`'s own credentials; DecryptionKeyError when it is missing or holds none."""
    where = f"Secret/{namespace}/{name}"
    secret = cluster.get(discovery.require("", "Secret", where=where), namespace=namespace,
                         name=name)
    if secret is None:
        raise DecryptionKeyError("the decryption key Secret does not exist", where=where)
    found_data = secret.get("data")
    data: Mapping[str, Any] = found_data if isinstance(found_data, Mapping) else {}
    keys = sorted(k for k in data if isinstance(k, str) and k.endswith(KEY_SUFFIX))
    if not keys:
        raise DecryptionKeyError(f"holds no key ending {KEY_SUFFIX}", where=where)
    found = [i for k in keys for i in _from_data(data[k], where=f"{where}: data.{k}")]
    if not found:
        raise DecryptionKeyError(f"its {KEY_SUFFIX} keys hold no age identity", where=where)
    log.info("age identities read", extra={"count": len(found), "source": where})
    return found


def _from_data(value: Any, *, where: str) -> list[Identity]:
    if not isinstance(value, str) or len(value) > MAX_KEYS_BYTES * 2:
        raise DecryptionKeyError(f"must be base64 of at most {MAX_KEYS_BYTES} bytes",
                                 where=where)
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise DecryptionKeyError("is not base64 of UTF-8 text", where=where) from None
    return parse_identities(_capped(text, where), where=where)


def _read_file(path: Path, *, where: str) -> list[Identity]:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_KEYS_BYTES + 1)
    except OSError as e:
        raise DecryptionKeyError(f"cannot be read ({e.strerror or type(e).__name__})",
                                 where=where) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionKeyError("is not UTF-8 text", where=where) from None
    return parse_identities(_capped(text, where), where=where)


def _capped(text: str, where: str) -> str:
    if len(text) > MAX_KEYS_BYTES:
        raise DecryptionKeyError(f"is longer than {MAX_KEYS_BYTES} bytes", where=where)
    return text
