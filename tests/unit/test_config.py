"""syncer.yaml: good files parse, bad ones name the file and field."""

from __future__ import annotations

import pytest

from syncer.config import parse_config
from syncer.errors import ConfigError

GOOD = """
version: 1
channels:
  shop-dev: {namespace: shop-dev, values: values/dev.yaml}
  shop-prod: {namespace: shop-prod, branch: production, values: [values/a.yaml, values/b.yaml]}
"""


def test_good_config() -> None:
    config = parse_config(GOOD)
    assert config.sources == ("templates", "values", "policies")
    assert config.channel("shop-dev").values == ("values/dev.yaml",)
    assert config.channel("shop-prod").branch == "production"
    assert [c.name for c in config.channels_for_branch("main")] == ["shop-dev"]


@pytest.mark.parametrize(("text", "where", "words"), [
    ("channels: {shop/prod: {namespace: a}}", "channels.shop/prod", "not a valid label value"),
    ("channels: {a: {namespace: Bad_NS}}", "channels.a.namespace", "not a valid namespace"),
    ("channels: {a: {namespace: a, valuez: []}}", "channels.a", "unknown key 'valuez'"),
    ("channels: {}", "syncer.yaml", "at least one channel"),
    ("chanels: {}", "syncer.yaml", "unknown key 'chanels'"),
    ("channels: {a: {namespace: a}}\nsources: [../etc]", "sources", "inside the repository"),
    ("version: 2\nchannels: {a: {namespace: a}}", "syncer.yaml", "not supported"),
    ("channels: [\n", "syncer.yaml:2", "invalid YAML"),
])
def test_bad_config_names_the_field(text: str, where: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        parse_config(text)
    assert where in str(caught.value)
    assert "\n" not in str(caught.value)


def test_several_channels_need_a_name() -> None:
    with pytest.raises(ConfigError, match="--channel"):
        parse_config(GOOD).channel(None)
