"""syncer.sops: SOPS documents (age) opened, checked and refused as sops itself does.

Interop: the files the real `sops` CLI made ($SYNCER_SPECS_DIR/sops); everything else is made
by tests/sopsmaker.py with keys generated here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sopsmaker import Options, enc_value, encrypt, new_identity
from syncer_standins import specs

from syncer import policy, policyfiles, sops, yamlsafe
from syncer.errors import (
    DecryptionIntegrityError,
    DecryptionKeyError,
    PolicyError,
    RenderError,
)

SPEC_FILES = ("key.txt", "secret.enc.yaml", "secret.enc.json", "secret.json")
SOPS_REGEX = Options(encrypted_regex="^(data|stringData)$")
IDENTITY = new_identity()
RECIPIENT = str(IDENTITY.to_public())
DEFAULTS = policyfiles.defaults()


def secret(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "default"}, "type": "Opaque",
            "data": dict(data)}


def sealed(doc: dict[str, Any], options: Options = SOPS_REGEX) -> dict[str, Any]:
    return encrypt(doc, [RECIPIENT], options=options)


def opened(doc: dict[str, Any]) -> dict[str, Any]:
    return sops.decrypt(doc, [IDENTITY], where="Secret/shop/db")


def refusal(doc: dict[str, Any], identities: list[Any] | None = None) -> str:
    with pytest.raises(DecryptionIntegrityError) as e:
        sops.decrypt(doc, [IDENTITY] if identities is None else identities,
                     where="Secret/shop/db")
    return str(e.value)


# --- files made by the sops CLI -----------------------------------------------------------

@pytest.fixture(scope="module")
def spec_dir() -> Path:
    found = specs.find("sops", *SPEC_FILES)
    if found is None:
        pytest.skip(specs.missing("sops", *SPEC_FILES))
    return found


@pytest.fixture(scope="module")
def spec_key(spec_dir: Path) -> list[Any]:
    return sops.parse_identities((spec_dir / "key.txt").read_text(), where="key.txt")


def test_the_sops_cli_yaml_file_decrypts(spec_dir: Path, spec_key: list[Any]) -> None:
    doc = yaml.safe_load((spec_dir / "secret.enc.yaml").read_text())
    assert sops.decrypt(doc, spec_key, where="secret.enc.yaml") == {"secret": "this is a secret"}


def test_the_sops_cli_json_file_decrypts_with_its_types(spec_dir: Path,
                                                        spec_key: list[Any]) -> None:
    doc = json.loads((spec_dir / "secret.enc.json").read_text())
    want = json.loads((spec_dir / "secret.json").read_text())
    del want["0word"]
    got = sops.decrypt(doc, spec_key, where="secret.enc.json")
    assert got == want
    assert type(got["int"]) is float and got["boolean"] is True


def test_a_tampered_sops_cli_value_is_refused(spec_dir: Path, spec_key: list[Any]) -> None:
    doc = json.loads((spec_dir / "secret.enc.json").read_text())
    data = doc["complex"]["value"]
    doc["complex"]["value"] = data.replace("data:u", "data:v", 1)
    message = refusal(doc, spec_key)
    assert message.startswith("Secret/shop/db: complex.value: does not verify")


def test_a_tampered_sops_cli_mac_is_refused(spec_dir: Path, spec_key: list[Any]) -> None:
    doc = yaml.safe_load((spec_dir / "secret.enc.yaml").read_text())
    doc["sops"]["mac"] = doc["sops"]["mac"].replace("data:k", "data:K", 1)
    assert "sops.mac: does not verify" in refusal(doc, spec_key)


def test_swapped_sops_cli_values_break_their_path(spec_dir: Path, spec_key: list[Any]) -> None:
    doc = json.loads((spec_dir / "secret.enc.json").read_text())
    doc["secret"], doc["string"] = doc["string"], doc["secret"]
    assert refusal(doc, spec_key).startswith("Secret/shop/db: secret: does not verify")


def test_an_unencrypted_value_changed_in_a_sops_cli_file_breaks_the_mac(
        spec_dir: Path, spec_key: list[Any]) -> None:
    doc = yaml.safe_load((spec_dir / "secret.enc.yaml").read_text())
    doc["extra_unencrypted"] = "added later"
    assert "sops.mac: does not match the document" in refusal(doc, spec_key)


def test_the_sops_cli_file_needs_its_key(spec_dir: Path) -> None:
    doc = yaml.safe_load((spec_dir / "secret.enc.yaml").read_text())
    with pytest.raises(DecryptionKeyError, match="no age identity given opens the data key"):
        sops.decrypt(doc, [new_identity()], where="secret.enc.yaml")


# --- files made by sops 3.11.0 (tests/testdata/sops/README.md) ----------------------------

TESTDATA = Path(__file__).parents[1] / "testdata" / "sops"
CLI_FILES = sorted(p.name for p in TESTDATA.glob("*.enc.*"))


def cli_file(name: str) -> dict[str, Any]:
    text = (TESTDATA / name).read_text()
    loaded = json.loads(text) if name.endswith(".json") else yamlsafe.load(
        text, where=name, error=RenderError)
    assert isinstance(loaded, dict)
    return loaded


def cli_key() -> list[Any]:
    return sops.parse_identities((TESTDATA / "test-only-age-key.txt").read_text(),
                                 where="test-only-age-key.txt")


@pytest.mark.parametrize("name", CLI_FILES)
def test_files_the_sops_cli_made_with_each_option_decrypt(name: str) -> None:
    plain = yaml.safe_load((TESTDATA / "secret.plain.yaml").read_text())
    assert sops.decrypt(cli_file(name), cli_key(), where=name) == plain


def test_the_cli_files_cover_every_option() -> None:
    options = {k for n in CLI_FILES for k in cli_file(n)["sops"]
               if k.endswith(("_suffix", "_regex", "_encrypted"))}
    assert options == {"encrypted_regex", "unencrypted_regex", "unencrypted_suffix",
                       "encrypted_suffix", "mac_only_encrypted"}


def test_mac_only_encrypted_lets_a_clear_field_change_in_a_cli_file() -> None:
    doc = cli_file("mac-only-encrypted.enc.yaml")
    doc["metadata"]["labels"]["app"] = "other"
    assert sops.decrypt(doc, cli_key(), where="x")["metadata"]["labels"] == {"app": "other"}
    doc = cli_file("regex.enc.yaml")  # without it, the MAC covers clear fields too
    doc["metadata"]["labels"]["app"] = "other"
    assert "sops.mac: does not match" in refusal(doc, cli_key())


def test_a_cli_value_moved_between_fields_is_refused() -> None:
    doc = cli_file("default.enc.yaml")
    doc["kind"], doc["type"] = doc["type"], doc["kind"]
    assert refusal(doc, cli_key()).startswith("Secret/shop/db: kind: does not verify")


# --- values, types and paths --------------------------------------------------------------

def test_a_secret_round_trips_and_keeps_its_clear_fields() -> None:
    plain = secret(password="czNjcjN0", user="YWRtaW4=")
    doc = sealed(plain)
    assert doc["metadata"] == plain["metadata"]
    assert all(v.startswith("ENC[AES256_GCM,") for v in doc["data"].values())
    assert opened(doc) == plain


def test_every_sops_type_round_trips() -> None:
    plain = {"s": "text", "i": -42, "f": 0.1, "big": 1e21, "t": True, "n": False, "none": None,
             "list": ["a", 2, {"deep": "x"}], "empty": ""}
    assert opened(sealed(plain, Options())) == plain


def test_the_path_is_authenticated_a_moved_value_is_refused() -> None:
    doc = sealed(secret(a="YQ==", b="Yg=="))
    doc["data"]["a"] = doc["data"]["b"]
    assert refusal(doc).startswith("Secret/shop/db: data.a: does not verify")


def test_a_list_item_has_its_lists_path() -> None:
    key = b"k" * 32
    doc = encrypt({"x": ["one"]}, [RECIPIENT], key=key)
    doc["x"].append(enc_value("two", key, ["x"]))
    with pytest.raises(DecryptionIntegrityError, match="sops.mac: does not match"):
        opened(doc)  # the value opens (right path), the MAC does not cover it


def test_a_changed_clear_field_breaks_the_mac() -> None:
    doc = sealed(secret(a="YQ=="))
    doc["metadata"]["namespace"] = "elsewhere"
    assert "sops.mac: does not match the document" in refusal(doc)


def test_reordered_keys_break_the_mac() -> None:
    doc = sealed(secret(a="YQ==", b="Yg=="))
    doc["data"] = dict(reversed(list(doc["data"].items())))
    assert "sops.mac: does not match" in refusal(doc)


def test_mac_only_encrypted_leaves_clear_fields_out_of_the_mac() -> None:
    options = Options(encrypted_regex="^data$", mac_only_encrypted=True)
    doc = sealed(secret(a="YQ=="), options)
    doc["metadata"]["labels"] = {"added": "later"}
    assert opened(doc)["metadata"]["labels"] == {"added": "later"}
    doc["data"]["a"] = enc_value("Yg==", b"x" * 32, ["data", "a"])  # another key
    assert "data.a: does not verify" in refusal(doc)


@pytest.mark.parametrize(("options", "clear", "secret_"), [
    (Options(unencrypted_suffix="_plain"), "note_plain", "value"),
    (Options(encrypted_suffix="_enc"), "note", "value_enc"),
    (Options(unencrypted_regex="^note"), "note", "value"),
    (Options(encrypted_regex="^val"), "note", "value"),
])
def test_suffix_and_regex_options_choose_what_is_encrypted(
        options: Options, clear: str, secret_: str) -> None:
    plain = {"outer": {clear: "stays", secret_: "hidden"}}
    doc = sealed(plain, options)
    assert doc["outer"][clear] == "stays"
    assert doc["outer"][secret_].startswith("ENC[")
    assert opened(doc) == plain


def test_a_value_that_should_be_encrypted_but_is_not_is_refused() -> None:
    doc = sealed(secret(a="YQ=="))
    doc["data"]["a"] = "cGxhaW4="
    message = refusal(doc)
    assert message.startswith("Secret/shop/db: data.a: is not an ENC[")
    assert "cGxhaW4=" not in message


@pytest.mark.parametrize("bad", [
    "ENC[AES256_GCM,data:@@,iv:AA==,tag:AA==,type:str]",
    "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]",
    "ENC[AES256_GCM,data:AA==,iv:" + "A" * 44 + ",tag:" + "A" * 24 + ",type:time]",
    "ENC[AES256_GCM,data:AA==,iv:" + "A" * 44 + ",tag:" + "A" * 24 + ",type:str] trailing",
])
def test_a_malformed_enc_value_is_refused_naming_its_path(bad: str) -> None:
    doc = sealed(secret(a="YQ=="))
    doc["data"]["a"] = bad
    assert refusal(doc).startswith("Secret/shop/db: data.a: ")


def test_an_unknown_type_is_refused_once_it_opens() -> None:
    key = b"k" * 32
    doc = encrypt({"data": {"a": "x"}}, [RECIPIENT], key=key)
    doc["data"]["a"] = enc_value("x", key, ["data", "a"]).replace("type:str", "type:time")
    assert "data.a: has type 'time', which syncer does not open" in refusal(doc)


@pytest.mark.parametrize(("field", "value", "said"), [
    ("mac", "", "sops.mac: is missing"),
    ("lastmodified", "yesterday", "sops.lastmodified: is not an RFC 3339 time"),
    ("age", [], "sops.age: names no age recipient"),
    ("age", [{"recipient": "x", "enc": 7}], "sops.age[0]: enc must be an age message"),
    ("encrypted_regex", "(", "sops.encrypted_regex: is not a regular expression"),
    ("encrypted_regex", "^(a+)+$", "sops.encrypted_regex: repeats a group"),
    ("unencrypted_suffix", "_clear", "sops: sets unencrypted_suffix and encrypted_regex"),
    ("key_groups", [{"age": []}], "sops.key_groups: uses sops key groups"),
])
def test_bad_metadata_is_refused_naming_the_field(field: str, value: Any, said: str) -> None:
    doc = sealed(secret(a="YQ=="))
    doc["sops"][field] = value
    assert said in refusal(doc)


def test_no_identity_is_a_key_error_naming_the_recipients() -> None:
    with pytest.raises(DecryptionKeyError) as e:
        sops.decrypt(sealed(secret(a="YQ==")), [], where="Secret/shop/db")
    assert RECIPIENT in str(e.value) and "0 identities tried" in str(e.value)


def test_a_data_key_under_another_identity_is_refused() -> None:
    doc = sealed(secret(a="YQ=="))
    with pytest.raises(DecryptionKeyError):
        sops.decrypt(doc, [new_identity()], where="x")


# --- hostile documents ----------------------------------------------------------------------

def test_deep_nesting_is_refused() -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = {"k": deep}
    doc = sealed({"a": "b"}, Options())
    doc["deep"] = deep
    assert "nests deeper than 64" in refusal(doc)


def test_too_many_values_are_refused() -> None:
    doc = sealed({"a": "b"}, Options())
    doc["many_unencrypted"] = list(range(3))
    with pytest.raises(DecryptionIntegrityError, match="more than 2 values"):
        sops.decrypt(doc, [IDENTITY], where="x", limits=sops.Limits(max_leaves=2))


def test_a_huge_value_is_refused_before_it_is_decoded() -> None:
    doc = sealed({"a": "b"}, Options())
    doc["a"] = "ENC[AES256_GCM,data:" + "A" * 5_000_000 + ",iv:x,tag:x,type:str]"
    assert "a: is longer than" in refusal(doc)


# --- keys files -----------------------------------------------------------------------------

def test_a_keys_file_with_comments_gives_its_identities() -> None:
    other = new_identity()
    text = f"# created: now\n# public key: {other.to_public()}\n{other}\n\n{IDENTITY}\n"
    found = sops.parse_identities(text, where="keys.txt")
    assert [str(i.to_public()) for i in found] == [str(other.to_public()), RECIPIENT]


def test_a_bad_keys_line_is_named_by_number_never_shown() -> None:
    text = f"{IDENTITY}\nAGE-SECRET-KEY-1NOTAKEY\n"
    with pytest.raises(DecryptionKeyError) as e:
        sops.parse_identities(text, where="keys.txt")
    assert str(e.value) == "keys.txt:2: is not an age identity (AGE-SECRET-KEY-1…)"


# --- publish policy -------------------------------------------------------------------------

def test_policy_admits_an_encrypted_secret() -> None:
    assert sops.is_encrypted(sealed(secret(a="YQ==")))
    policy.enforce([sealed(secret(a="YQ=="))], where="release", policies=DEFAULTS)


def test_policy_refuses_sops_metadata_over_a_plain_value() -> None:
    doc = sealed(secret(a="YQ==", b="Yg=="))
    doc["data"]["b"] = "Yg=="
    assert not sops.is_encrypted(doc)
    with pytest.raises(PolicyError, match="Secret has plaintext data"):
        policy.enforce([doc], where="release", policies=DEFAULTS)


def test_policy_refuses_plain_string_data_beside_encrypted_data() -> None:
    doc = sealed(secret(a="YQ=="))
    doc["stringData"] = {"token": "plain"}
    with pytest.raises(PolicyError, match="Secret has plaintext"):
        policy.enforce([doc], where="release", policies=DEFAULTS)


def test_policy_refuses_enc_strings_without_metadata() -> None:
    doc = sealed(secret(a="YQ=="))
    del doc["sops"]
    with pytest.raises(PolicyError):
        policy.enforce([doc], where="release", policies=DEFAULTS)


# --- properties -----------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8),
                       # marked, so that a value is never a word the message holds anyway
                       # ("Data" is in "stringData")
                       st.text(min_size=1, max_size=40).map(lambda v: f"s3cr3t:{v}"),
                       min_size=1, max_size=4))
def test_round_trip_and_refusals_never_show_a_value(values: dict[str, str]) -> None:
    plain = {"kind": "Secret", "stringData": values}
    doc = sealed(plain)
    assert opened(doc) == plain
    broken = copy.deepcopy(doc)
    first = next(iter(values))
    broken["stringData"][first] = doc["stringData"][first].replace("iv:", "iv:AAAA", 1)
    message = refusal(broken)
    assert not any(v in message for v in values.values())
