"""Keys: the suiprivkey format, Sui addresses, Ed25519 signatures, key files."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import stat
from pathlib import Path

import pysui_fastcrypto as pfc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysui.abstracts.client_keypair import SignatureScheme
from pysui.sui.sui_crypto import SuiKeyPair, create_new_keypair

from syncer import keys
from syncer.errors import ConfigError

# RFC 8032, section 7.1, TEST 1 and TEST 2: independent Ed25519 vectors.
RFC_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
RFC2_PUBLIC = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
RFC2_MESSAGE = bytes.fromhex("72")
RFC2_SIGNATURE = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def serialized(public: bytes) -> str:
    return b64(b"\x00" + public)


@pytest.fixture(scope="module")
def rfc_key() -> keys.Keypair:
    return keys.from_suiprivkey(pfc.encode_bech32(b"\x00" + RFC_SECRET, "suiprivkey"))


@pytest.fixture(scope="module")
def keypair() -> keys.Keypair:
    return keys.generate()


def test_public_key_and_address_of_a_known_key(rfc_key: keys.Keypair) -> None:
    expected = "0x" + hashlib.blake2b(b"\x00" + RFC_PUBLIC, digest_size=32).hexdigest()
    assert rfc_key.public_key == serialized(RFC_PUBLIC)
    assert rfc_key.address == expected
    assert keys.address_of(rfc_key.public_key) == expected


def test_signature_of_a_known_key(rfc_key: keys.Keypair) -> None:
    assert rfc_key.sign(b"") == b64(RFC_SIGNATURE)
    assert keys.verify(rfc_key.public_key, b"", b64(RFC_SIGNATURE))


def test_verify_a_known_signature() -> None:
    assert keys.verify(serialized(RFC2_PUBLIC), RFC2_MESSAGE, b64(RFC2_SIGNATURE))
    assert not keys.verify(serialized(RFC2_PUBLIC), b"\x73", b64(RFC2_SIGNATURE))


def test_suiprivkey_roundtrip(keypair: keys.Keypair) -> None:
    text = keypair.to_suiprivkey()
    assert text.startswith("suiprivkey1")
    again = keys.from_suiprivkey(text)
    assert again == keypair
    assert again.sign(b"m") == keypair.sign(b"m")
    assert keys.from_suiprivkey(f"  {text}\n") == keypair


def test_same_key_as_pysui_reads_it(keypair: keys.Keypair) -> None:
    theirs = SuiKeyPair.from_bech32(keypair.to_suiprivkey())
    assert theirs.public_key.serialize() == keypair.public_key


def test_address_is_0x_and_64_hex(keypair: keys.Keypair) -> None:
    assert keypair.address.startswith("0x")
    assert len(keypair.address) == 66
    int(keypair.address, 16)


@given(message=st.binary(max_size=512))
@settings(max_examples=50)
def test_signature_verifies_and_any_changed_byte_does_not(message: bytes) -> None:
    key = keys.from_suiprivkey(pfc.encode_bech32(b"\x00" + RFC_SECRET, "suiprivkey"))
    signature = key.sign(message)
    assert len(base64.b64decode(signature)) == 64
    assert keys.verify(key.public_key, message, signature)
    assert not keys.verify(key.public_key, message + b"\x00", signature)
    if message:
        changed = bytes([message[0] ^ 1]) + message[1:]
        assert not keys.verify(key.public_key, changed, signature)


def test_signature_of_another_key_does_not_verify(
    keypair: keys.Keypair, rfc_key: keys.Keypair
) -> None:
    assert not keys.verify(rfc_key.public_key, b"m", keypair.sign(b"m"))


@pytest.mark.parametrize(
    "signature",
    ["", "AAAA", "!!!not base64!!!", b64(bytes(64)), b64(bytes(63)), b64(RFC_SIGNATURE + b"\x00")],
)
def test_malformed_signature_does_not_verify(rfc_key: keys.Keypair, signature: str) -> None:
    assert not keys.verify(rfc_key.public_key, b"", signature)


@pytest.mark.parametrize(
    "public_key",
    [
        "",
        "not base64!",
        b64(RFC_PUBLIC),  # no flag byte
        b64(b"\x01" + RFC_PUBLIC),  # secp256k1 flag
        b64(b"\x00" + RFC_PUBLIC[:31]),
        serialized(RFC_PUBLIC) + "=",  # same bytes, non-canonical base64
        serialized(RFC_PUBLIC) + "\n",
    ],
)
def test_malformed_public_key(public_key: str) -> None:
    with pytest.raises(ConfigError, match="public key"):
        keys.address_of(public_key)
    assert not keys.verify(public_key, b"", b64(RFC_SIGNATURE))


def secp256k1_suiprivkey() -> str:
    _mnemonic, keypair = create_new_keypair(SignatureScheme.SECP256K1)
    return str(keypair.to_bech32())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "suiprivkey1",
        pfc.encode_bech32(b"\x00" + RFC_SECRET, "suiprivkey")[:-1] + "q",  # bad checksum
        pfc.encode_bech32(b"\x00" + RFC_SECRET, "suipubkey"),  # wrong prefix
        b64(b"\x00" + RFC_SECRET),  # the old base64 keystore form
    ],
)
def test_not_a_suiprivkey(text: str) -> None:
    with pytest.raises(ConfigError, match="not an Ed25519 key in suiprivkey format") as err:
        keys.from_suiprivkey(text)
    assert RFC_SECRET.hex() not in str(err.value)
    assert (text not in str(err.value)) or not text


def test_secp256k1_key_is_refused() -> None:
    text = secp256k1_suiprivkey()
    with pytest.raises(ConfigError, match="not Ed25519") as err:
        keys.from_suiprivkey(text)
    assert text not in str(err.value)


def test_no_secret_in_repr_str_or_dump(rfc_key: keys.Keypair) -> None:
    secret = rfc_key.to_suiprivkey()
    shown = [repr(rfc_key), str(rfc_key), repr(dataclasses.asdict(rfc_key)), repr(vars(rfc_key))]
    for text in shown:
        assert secret not in text
        assert RFC_SECRET.hex() not in text
        assert repr(RFC_SECRET)[2:-1] not in text
    assert rfc_key.public_key in repr(rfc_key)


def test_save_then_load(tmp_path: Path, keypair: keys.Keypair) -> None:
    path = tmp_path / "home" / "keys" / "publisher.key"
    keys.save(keypair, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == keypair.to_suiprivkey()
    assert keys.load(path) == keypair


def test_save_refuses_to_overwrite(tmp_path: Path, keypair: keys.Keypair) -> None:
    path = tmp_path / "publisher.key"
    path.write_text("keep me")
    with pytest.raises(ConfigError, match="refusing to overwrite") as err:
        keys.save(keypair, path)
    assert str(path) in str(err.value)
    assert path.read_text() == "keep me"


def test_load_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.key"
    with pytest.raises(ConfigError, match="cannot read key file") as err:
        keys.load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"not a key\n", b"\xff\xfe binary", b"x" * 10_000])
def test_load_bad_file_names_the_path_not_the_content(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        keys.load(path)
    assert str(err.value).startswith(f"{path}: ")
    assert "not a key" not in str(err.value)


def test_load_warns_when_others_can_read(
    tmp_path: Path, keypair: keys.Keypair, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "open.key"
    path.write_text(keypair.to_suiprivkey())
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="syncer.keys"):
        assert keys.load(path) == keypair
    assert [r.path for r in caplog.records] == [str(path)]  # type: ignore[attr-defined]
    assert keypair.to_suiprivkey() not in caplog.text
