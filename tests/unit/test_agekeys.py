"""Where age keys come from: the environment and $SYNCER_HOME as sops reads them, the
Channel's `spec.decryption`, and the install's Role that lets the syncer read key Secrets
by name only."""

from __future__ import annotations

from pathlib import Path

import pytest
from sopsmaker import new_identity

from syncer import agekeys, channelspec, install
from syncer.errors import ConfigError, DecryptionKeyError

ONE, TWO, THREE = new_identity(), new_identity(), new_identity()


def publics(found: list[object]) -> list[str]:
    return [str(i.to_public()) for i in found]  # type: ignore[attr-defined]


def test_every_source_that_is_set_is_read_in_sops_order(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text(f"# created by a test\n{TWO}\n")
    default = agekeys.default_file(tmp_path / "home")
    default.parent.mkdir(parents=True)
    default.write_text(f"{THREE}\n")
    env = {agekeys.ENV_KEY: str(ONE), agekeys.ENV_KEY_FILE: str(keys_file)}
    found = agekeys.from_environment(env, home=tmp_path / "home")
    assert publics(found) == publics([ONE, TWO, THREE])


def test_no_key_anywhere_says_where_to_put_one(tmp_path: Path) -> None:
    with pytest.raises(DecryptionKeyError) as e:
        agekeys.from_environment({}, home=tmp_path)
    assert str(e.value) == ("the release holds SOPS-encrypted Secrets and no age key is set: "
                            "set $SOPS_AGE_KEY_FILE or $SOPS_AGE_KEY, or put the key in "
                            f"{tmp_path}/age/keys.txt")


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    env = {agekeys.ENV_KEY_FILE: str(tmp_path / "nowhere.txt")}
    with pytest.raises(DecryptionKeyError, match=r"^\$SOPS_AGE_KEY_FILE \(.*nowhere.txt\): "
                                                 "cannot be read"):
        agekeys.from_environment(env, home=tmp_path)


def test_a_bad_key_never_shows_in_the_error(tmp_path: Path) -> None:
    bad = "AGE-SECRET-KEY-1" + "Q" * 10
    with pytest.raises(DecryptionKeyError) as e:
        agekeys.from_environment({agekeys.ENV_KEY: bad}, home=tmp_path)
    assert str(e.value) == "$SOPS_AGE_KEY:1: is not an age identity (AGE-SECRET-KEY-1…)"


def channel(**spec: object) -> dict[str, object]:
    return {"apiVersion": "syncer.io/v1alpha1", "kind": "Channel",
            "metadata": {"name": "shop-dev", "namespace": "syncer-system"}, "spec": spec}


def test_a_channel_names_its_key_secret_as_flux_does() -> None:
    spec = channelspec.parse(channel(decryption={"provider": "sops",
                                                 "secretRef": {"name": "sops-age"}}))
    assert spec.decryption_secret == "sops-age"
    assert channelspec.parse(channel()).decryption_secret is None


@pytest.mark.parametrize(("decryption", "said"), [
    ({"provider": "vault", "secretRef": {"name": "x"}}, "spec.decryption.provider: must be sops"),
    ({"secretRef": {"name": "Bad_Name"}}, "spec.decryption.secretRef.name: 'Bad_Name' is not"),
    ({"secretRef": "x"}, "spec.decryption.secretRef: must be a mapping"),
])
def test_a_bad_decryption_field_is_named(decryption: object, said: str) -> None:
    with pytest.raises(ConfigError, match=f"^Channel/syncer-system/shop-dev: {said}"):
        channelspec.parse(channel(decryption=decryption))


def test_the_role_reads_only_the_key_secrets_the_install_names() -> None:
    def role_rules(values: dict[str, object]) -> list[dict[str, object]]:
        objects = install.build(values).objects
        return [r for o in objects if o["kind"] == "Role" for r in o["rules"]
                if "secrets" in r["resources"]]

    assert role_rules({}) == []
    assert role_rules({"decryption": {"secretNames": ["sops-age"]}}) == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["sops-age"],
         "verbs": ["get"]}]
    with pytest.raises(ConfigError, match="decryption.secretNames: 'Bad_Name' is not a Secret"):
        install.build({"decryption": {"secretNames": ["Bad_Name"]}})
