"""Notifications without the network: the `spec.notify` parser, the bodies of both formats,
and that neither a repr nor a message carries what it must not (`syncer.notify`)."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.errors import ConfigError
from syncer.microtime import rfc3339
from syncer.model import Release
from syncer.notify import MAX_MESSAGE, Notification, Target, payload, targets

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
BLOB = "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"
RELEASE = Release(channel="shop-dev", seq=7, blob_id=BLOB, sha256=SHA, commit=COMMIT,
                  publisher="0xabc", timestamp_ms=1_800_000_000_000)


def note(outcome: Any = "applied", **changes: Any) -> Notification:
    fields: dict[str, Any] = {
        "channel": "shop-dev", "outcome": outcome, "seq": 7, "blob_id": BLOB, "sha256": SHA,
        "commit": COMMIT, "message": "release 7 applied, 12 objects healthy",
        "time": "2027-01-15T08:00:00Z"}
    return Notification(**{**fields, **changes})


def test_rfc3339_is_utc_to_the_second() -> None:
    assert rfc3339(1_800_000_000.9) == "2027-01-15T08:00:00Z"
    assert rfc3339(0) == "1970-01-01T00:00:00Z"


def test_a_notification_of_a_release() -> None:
    n = Notification.of(RELEASE, "refused", message="policy: a plaintext Secret",
                        at=1_800_000_000.0, cluster="prod-eu")
    assert n == Notification(channel="shop-dev", outcome="refused", seq=7, blob_id=BLOB,
                             sha256=SHA, commit=COMMIT, message="policy: a plaintext Secret",
                             time="2027-01-15T08:00:00Z", cluster="prod-eu",
                             reason="ReleaseRefused")


@pytest.mark.parametrize(("outcome", "reason"), [
    ("applied", "ReleaseApplied"), ("failed", "ReleaseFailed"), ("refused", "ReleaseRefused")])
def test_the_reason_defaults_to_the_event_reason_of_the_outcome(outcome: str,
                                                                reason: str) -> None:
    assert note(outcome).reason == reason
    assert note(outcome, reason="HealthCheckFailed").reason == "HealthCheckFailed"


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome 'unchanged'"):
        note("unchanged")


def test_the_message_is_one_line_cut_short() -> None:
    n = note(message="line one\nline two\t" + "x" * 1000)
    assert "\n" not in n.message
    assert len(n.message) == MAX_MESSAGE
    assert n.message.startswith("line one line two x")
    assert n.message.endswith("…")


def test_the_json_body_is_flat_and_names_every_field() -> None:
    assert payload(note(cluster="prod-eu"), "json") == {
        "source": "syncer", "channel": "shop-dev", "outcome": "applied",
        "reason": "ReleaseApplied", "seq": 7, "blobId": BLOB, "sha256": SHA,
        "commit": COMMIT, "message": "release 7 applied, 12 objects healthy",
        "time": "2027-01-15T08:00:00Z", "cluster": "prod-eu"}


def test_the_json_body_says_null_for_an_unnamed_cluster() -> None:
    assert payload(note(), "json")["cluster"] is None


def test_the_slack_body_is_an_incoming_webhook_message() -> None:
    n = note("failed", message="Deployment/shop-dev/web: forbidden (HTTP 403)",
             cluster="prod-eu")
    assert payload(n, "slack") == {
        "text": ":x: shop-dev: release 7 failed: Deployment/shop-dev/web: forbidden (HTTP 403)",
        "blocks": [
            {"type": "section", "text": {
                "type": "mrkdwn",
                "text": ":x: *shop-dev*: release 7 *failed*\n"
                        "Deployment/shop-dev/web: forbidden (HTTP 403)"}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*Release*\n7"},
                {"type": "mrkdwn", "text": "*Commit*\n`4b825dc642cb`"},
                {"type": "mrkdwn", "text": f"*Blob ID*\n`{BLOB}`"},
                {"type": "mrkdwn", "text": "*Cluster*\nprod-eu"}]},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": "syncer · ReleaseFailed · 2027-01-15T08:00:00Z"}]}]}


@pytest.mark.parametrize(("outcome", "emoji"), [
    ("applied", ":white_check_mark:"), ("failed", ":x:"), ("refused", ":no_entry:")])
def test_each_outcome_has_its_emoji_and_its_word(outcome: str, emoji: str) -> None:
    body = payload(note(outcome), "slack")
    assert body["text"].startswith(f"{emoji} shop-dev: release 7 {outcome}: ")
    assert body["blocks"][0]["text"]["text"].startswith(f"{emoji} *shop-dev*: release 7 "
                                                        f"*{outcome}*\n")


def test_slack_markup_in_a_message_is_shown_literally() -> None:
    body = payload(note(message="<!channel> a & b > c", commit=""), "slack")
    assert body["text"].endswith(": &lt;!channel&gt; a &amp; b &gt; c")
    assert body["blocks"][1]["fields"][1]["text"] == "*Commit*\n`-`"
    assert len(body["blocks"][1]["fields"]) == 3  # no cluster named


def test_a_target_shows_no_path_nor_query() -> None:
    target = Target("https://hooks.slack.com:8443/services/T0/B0/s3cr3t?token=abc", "slack")
    assert target.masked == "https://hooks.slack.com:8443/…"
    assert repr(target) == "Target('https://hooks.slack.com:8443/…', format='slack')"
    assert "s3cr3t" not in repr(target) and "abc" not in repr(target)


def test_the_notify_list_is_read() -> None:
    raw = [{"url": "https://hooks.example.com/syncer"},
           {"url": "http://10.0.0.7:9000/hook?k=v", "format": "slack"}]
    assert targets(raw, where="spec") == (
        Target("https://hooks.example.com/syncer", "json"),
        Target("http://10.0.0.7:9000/hook?k=v", "slack"))


@pytest.mark.parametrize("raw", [None, []])
def test_no_notify_list_is_no_targets(raw: object) -> None:
    assert targets(raw, where="spec") == ()


@pytest.mark.parametrize(("raw", "where", "said"), [
    ("https://hooks.example.com/x", "spec.notify", "must be a list"),
    ({"url": "https://hooks.example.com/x"}, "spec.notify", "must be a list"),
    ([{"url": "https://a.example/"}] * 17, "spec.notify", "at most 16"),
    (["https://hooks.example.com/x"], "spec.notify[0]", "must be a mapping"),
    ([{"format": "json"}], "spec.notify[0].url", "is required"),
    ([{"url": ""}], "spec.notify[0].url", "is required"),
    ([{"url": 42}], "spec.notify[0].url", "is required"),
    ([{"url": "https://ok.example/"}, {"url": "ftp://files.example/hook"}],
     "spec.notify[1].url", "http:// or https://"),
    ([{"url": "hooks.example.com/syncer"}], "spec.notify[0].url", "http:// or https://"),
    ([{"url": "https:///no-host"}], "spec.notify[0].url", "http:// or https://"),
    ([{"url": "https://a.example/" + "x" * 3000}], "spec.notify[0].url", "longer than"),
    ([{"url": "https://a.example/", "format": "teams"}], "spec.notify[0].format",
     "'teams'; known: json, slack"),
    ([{"url": "https://a.example/"}, {"url": "https://b.example/", "format": None}],
     "spec.notify[1].format", "None; known: json, slack"),
    ([{"url": "https://a.example/", "fromat": "slack", "headers": {}}], "spec.notify[0]",
     "unknown key(s) fromat, headers; known: url, format"),
])
def test_a_bad_notify_list_names_the_field(raw: object, where: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        targets(raw, where="spec")
    assert caught.value.where == where
    assert said in caught.value.message


def test_a_bad_url_is_never_quoted_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        targets([{"url": "ftp://files.example/hooks/s3cr3t"}], where="Channel a/b: spec")
    assert str(caught.value) == ("Channel a/b: spec.notify[0].url: must be an http:// or "
                                 "https:// URL with a host")
