"""The contract's acceptance rules: each accepts the good case and names what it refuses."""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from syncer.errors import RuleViolationError
from syncer.ledger import rules
from syncer.model import Release

REFUSED = sorted((Path(__file__).parent.parent / "testdata" / "ledger" / "refused").glob("*.yaml"))

CHANNEL = "shop-prod"
PUBLISHER = "0x" + "ab" * 32
REVOKED = "0x" + "cd" * 32
ADMIN = "0x" + "ad" * 32
HEAD = Release(CHANNEL, 1, "A" * 43, "0" * 64, "1" * 40, PUBLISHER, 1000)
GOOD = Release(CHANNEL, 2, "B" * 42 + "A", "f" * 64, "2" * 40, PUBLISHER, 2000)

hex_digits = st.sampled_from("0123456789abcdef")
commits = st.lists(hex_digits, min_size=40, max_size=40) | st.lists(
    hex_digits, min_size=64, max_size=64
)


def check(release: Release, head: Release | None = HEAD) -> None:
    rules.check_release(release, head=head, allowed={PUBLISHER}, revoked={REVOKED})


def test_good_release_is_accepted() -> None:
    check(GOOD)
    check(dataclasses.replace(GOOD, seq=1, timestamp_ms=0), head=None)
    check(dataclasses.replace(GOOD, commit="e" * 64))
    check(dataclasses.replace(GOOD, timestamp_ms=HEAD.timestamp_ms))


@pytest.mark.parametrize("case", REFUSED, ids=lambda p: p.stem)
def test_refused(case: Path) -> None:
    spec: dict[str, Any] = yaml.safe_load(case.read_text())
    release = dataclasses.replace(GOOD, **spec["change"])
    with pytest.raises(RuleViolationError, match=re.escape(spec["error"])) as err:
        check(release)
    message = str(err.value)
    assert "\n" not in message
    if "channel" not in spec["change"]:
        assert message.startswith(f"channel {CHANNEL}: ")


def test_every_field_has_a_refused_case() -> None:
    changed = {key for case in REFUSED for key in yaml.safe_load(case.read_text())["change"]}
    fields = {f.name for f in dataclasses.fields(Release)}
    assert changed == fields


@given(raw=st.binary(min_size=32, max_size=32))
def test_any_32_bytes_make_a_valid_blob_id(raw: bytes) -> None:
    blob_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    rules.check_blob_id(CHANNEL, blob_id)


@given(raw=st.binary(min_size=1, max_size=48).filter(lambda b: len(b) != 32))
def test_other_lengths_are_not_blob_ids(raw: bytes) -> None:
    blob_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(RuleViolationError, match="blob_id"):
        rules.check_blob_id(CHANNEL, blob_id)


@given(name=st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", fullmatch=True))
def test_label_values_are_channel_names(name: str) -> None:
    rules.check_channel(name)


@pytest.mark.parametrize(
    "name", ["shop/prod", "-shop", "shop.", "shop prod", "shöp", "a" * 64, "shop\nprod"]
)
def test_other_names_are_refused(name: str) -> None:
    with pytest.raises(RuleViolationError, match="channel name") as err:
        rules.check_channel(name)
    assert "\n" not in str(err.value)


@given(digits=commits)
def test_full_commit_names_are_accepted(digits: list[str]) -> None:
    rules.check_commit(CHANNEL, "".join(digits))


def test_new_channel_must_not_exist() -> None:
    rules.check_new_channel(CHANNEL, existing=["shop-dev"])
    with pytest.raises(RuleViolationError, match="channel shop-prod: channel already exists"):
        rules.check_new_channel(CHANNEL, existing=["shop-dev", CHANNEL])
    with pytest.raises(RuleViolationError, match="channel name"):
        rules.check_new_channel("shop/prod", existing=[])


def test_noop_is_the_same_commit_and_blob_as_the_head() -> None:
    same = {"blob_id": HEAD.blob_id, "sha256": HEAD.sha256, "commit": HEAD.commit}
    assert rules.is_noop(HEAD, **same)
    assert not rules.is_noop(None, **same)
    assert not rules.is_noop(HEAD, **{**same, "commit": GOOD.commit})
    assert not rules.is_noop(HEAD, **{**same, "blob_id": GOOD.blob_id})


def test_same_blob_with_another_sha256_is_refused() -> None:
    with pytest.raises(RuleViolationError, match="channel shop-prod: sha256 differs"):
        rules.is_noop(HEAD, blob_id=HEAD.blob_id, sha256=GOOD.sha256, commit=HEAD.commit)


def channel_state() -> rules.ChannelState:
    state = rules.ChannelState(CHANNEL, admin=ADMIN)
    state.add_publisher(PUBLISHER, by=ADMIN)
    return state


def test_channel_state_follows_its_changes() -> None:
    state = channel_state()
    state.append(dataclasses.replace(HEAD))
    state.append(GOOD)
    assert (state.head, state.head_seq, list(state.allowed)) == (GOOD, 2, [PUBLISHER])
    state.revoke_publisher(PUBLISHER, by=ADMIN)
    assert (list(state.allowed), state.revoked) == ([], {PUBLISHER})


def test_only_the_admin_changes_publishers() -> None:
    state = channel_state()
    with pytest.raises(RuleViolationError, match="only the channel's admin"):
        state.add_publisher(REVOKED, by=PUBLISHER)
    with pytest.raises(RuleViolationError, match="only the channel's admin"):
        state.revoke_publisher(PUBLISHER, by=PUBLISHER)
    assert list(state.allowed) == [PUBLISHER]


def test_publisher_changes_that_are_refused() -> None:
    state = channel_state()
    with pytest.raises(RuleViolationError, match="already allowed"):
        state.add_publisher(PUBLISHER, by=ADMIN)
    with pytest.raises(RuleViolationError, match="not allowed, so cannot be revoked"):
        state.revoke_publisher(REVOKED, by=ADMIN)
    state.revoke_publisher(PUBLISHER, by=ADMIN)
    with pytest.raises(RuleViolationError, match="was revoked and cannot be added again"):
        state.add_publisher(PUBLISHER, by=ADMIN)


def test_a_refused_release_leaves_the_state_unchanged() -> None:
    state = channel_state()
    with pytest.raises(RuleViolationError, match="seq 2 must be head"):
        state.append(GOOD)
    assert state.releases == []
    assert state.head is None


def test_release_for_another_channel_is_refused() -> None:
    other = dataclasses.replace(HEAD, channel="shop-dev")
    with pytest.raises(RuleViolationError, match="head belongs to channel shop-dev"):
        check(GOOD, head=other)
