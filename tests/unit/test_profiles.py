"""Profiles: built-ins, layering from syncer.yaml and $SYNCER_HOME/profiles.yaml, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer import keys
from syncer.backends import KEY_ENV, open_backends, publisher_key, select_profile, walrus_lifetime
from syncer.blobstore.walrus import WalrusBlobStore
from syncer.config import Home, parse_config
from syncer.errors import ConfigError
from syncer.profiles import choose, parse_profiles, read_profiles_file

REPO = """
channels: {shop-dev: {namespace: shop-dev}}
profile: testnet
profiles:
  testnet:
    blobstore: {epochs: 5}
    ledger: {package: "0xabc", registries: {shop-dev: "0x123"}}
"""


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNCER_PROFILE", raising=False)


def test_local_is_the_default() -> None:
    profile = choose(None, layers=[])
    assert profile.name == "local"
    assert profile.blobstore == {"kind": "local"} and profile.ledger == {"kind": "local"}


def test_builtin_networks_have_public_endpoints() -> None:
    testnet = choose("testnet", layers=[])
    assert testnet.blobstore["kind"] == "walrus" and testnet.blobstore["publisher"]
    assert testnet.blobstore["aggregators"] and testnet.blobstore["epochs"] == 53
    assert testnet.ledger["graphql"].endswith("/graphql")
    assert choose("mainnet", layers=[]).blobstore["aggregators"]
    for name in ("testnet", "mainnet"):
        assert walrus_lifetime(choose(name, layers=[])) is not None, name


@pytest.mark.parametrize(("blobstore", "words"), [
    ({"expiry_warning_days": "soon"}, "blobstore.expiry_warning_days: must be a number of days"),
    ({"expiry_warning_days": -1}, "blobstore.expiry_warning_days: must be a number of days"),
    ({"staking_object": "0xzz"}, "blobstore.staking_object: not a Sui address"),
    ({"graphql": 7}, "blobstore.graphql: must be a URL"),
])
def test_bad_lifetime_settings_name_the_field(tmp_path: Path, blobstore: dict[str, object],
                                              words: str) -> None:
    spec = {"blobstore": {"kind": "walrus", "aggregators": ["http://a"], **blobstore},
            "ledger": {"kind": "local"}}
    with pytest.raises(ConfigError, match=words):
        open_backends(choose("x", layers=[{"x": spec}]), home=Home(tmp_path))


def test_blob_objects_go_to_the_publisher_unless_the_profile_says(tmp_path: Path) -> None:
    spec: dict[str, dict[str, object]] = {
        "blobstore": {"kind": "walrus", "aggregators": ["http://a"]},
        "ledger": {"kind": "local"}}
    owner = "0x" + "ab" * 32
    store = open_backends(choose("x", layers=[{"x": spec}]), home=Home(tmp_path),
                          blob_owner=owner).blobs
    assert isinstance(store, WalrusBlobStore) and store.options.send_object_to == owner
    spec["blobstore"]["send_object_to"] = "0x1"
    store = open_backends(choose("x", layers=[{"x": spec}]), home=Home(tmp_path),
                          blob_owner=owner).blobs
    assert isinstance(store, WalrusBlobStore) and store.options.send_object_to == "0x1"


def test_syncer_yaml_extends_a_builtin_key_by_key(tmp_path: Path) -> None:
    profile = select_profile(None, home=Home(tmp_path), repo=parse_config(REPO))
    assert profile.name == "testnet"
    assert profile.blobstore["epochs"] == 5 and profile.blobstore["publisher"]
    assert profile.ledger["registries"] == {"shop-dev": "0x123"}
    assert profile.ledger["graphql"].endswith("/graphql")


def test_flag_and_env_win_over_syncer_yaml(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    repo = parse_config(REPO)
    assert select_profile("local", home=Home(tmp_path), repo=repo).name == "local"
    monkeypatch.setenv("SYNCER_PROFILE", "mainnet")
    assert select_profile(None, home=Home(tmp_path), repo=repo).name == "mainnet"


def test_home_profiles_file_defines_new_profiles(tmp_path: Path) -> None:
    (tmp_path / "profiles.yaml").write_text(
        "profiles:\n  staging:\n    blobstore: {kind: walrus, publisher: 'http://p',"
        " aggregators: ['http://a']}\n    ledger: {kind: sui, graphql: 'http://g/graphql'}\n")
    profile = select_profile("staging", home=Home(tmp_path))
    assert profile.blobstore["publisher"] == "http://p"
    assert read_profiles_file(tmp_path / "missing.yaml") == {}


@pytest.mark.parametrize(("layers", "name", "words"), [
    ([], "nope", "no profile 'nope' (known: local, mainnet, testnet)"),
    ([{"x": {"blobstore": {"kind": "s3"}, "ledger": {"kind": "local"}}}], "x",
     "profile x: blobstore.kind: kind 's3' is not one of local, walrus"),
    ([{"x": {"blobstore": {"kind": "local"}}}], "x", "ledger.kind: kind None"),
])
def test_bad_profiles_name_the_field(layers: list[dict[str, dict[str, object]]], name: str,
                                     words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        choose(name, layers=layers)
    assert words in str(caught.value)


@pytest.mark.parametrize(("raw", "words"), [
    (["a"], "'profiles' must map"),
    ({"a": {"blobstor": {}}}, "profiles.a: a profile has 'blobstore' and 'ledger'"),
    ({"a": {"ledger": "sui"}}, "profiles.a.ledger: must be a mapping"),
])
def test_profile_shapes_checked(raw: object, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_profiles(raw, where="syncer.yaml")


def test_publisher_key_from_the_environment(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys.generate()
    monkeypatch.setenv(KEY_ENV, key.to_suiprivkey())
    assert publisher_key(choose("local", layers=[]), home=Home(tmp_path)).address == key.address
    monkeypatch.setenv(KEY_ENV, "suiprivkey1nonsense")
    with pytest.raises(ConfigError, match=r"^\$SYNCER_KEY: "):
        publisher_key(choose("local", layers=[]), home=Home(tmp_path))
