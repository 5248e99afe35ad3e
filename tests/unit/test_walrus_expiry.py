"""When a blob stops being stored, from its end epoch and the current epoch (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syncer.blobstore.walrus_lifetime import BlobLifetime, WalrusEpoch, expiry

DAY = 86_400_000
NOW = 1_800_000_000_000


def lifetime(end_epoch: int) -> BlobLifetime:
    return BlobLifetime("blob", end_epoch, "0x1", "0x2")


def test_expires_at_the_start_of_its_end_epoch() -> None:
    started = NOW - DAY // 2
    left = expiry(lifetime(12), WalrusEpoch(10, 14 * DAY, started), now_ms=NOW)
    assert (left.epochs_left, left.exact, left.expired) == (2, True, False)
    assert left.expires_ms == started + 28 * DAY


def test_unknown_epoch_start_counts_from_now_as_a_bound() -> None:
    left = expiry(lifetime(11), WalrusEpoch(10, DAY, None), now_ms=NOW)
    assert (left.expires_ms, left.exact) == (NOW + DAY, False)


def test_a_start_in_the_future_is_not_trusted() -> None:
    left = expiry(lifetime(11), WalrusEpoch(10, DAY, NOW + 5 * DAY), now_ms=NOW)
    assert (left.expires_ms, left.exact) == (NOW + DAY, False)


def test_end_epoch_is_exclusive() -> None:
    assert expiry(lifetime(10), WalrusEpoch(10, DAY, NOW), now_ms=NOW).expired
    assert not expiry(lifetime(11), WalrusEpoch(10, DAY, NOW), now_ms=NOW).expired


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(1, 30 * DAY),
       st.integers(0, 30 * DAY))
def test_later_end_epochs_never_expire_sooner(current: int, end: int, duration: int,
                                              ago: int) -> None:
    epoch = WalrusEpoch(current, duration, NOW - ago)
    sooner, later = expiry(lifetime(end), epoch, now_ms=NOW), \
        expiry(lifetime(end + 1), epoch, now_ms=NOW)
    assert later.expires_ms - sooner.expires_ms == duration
    assert sooner.expired == (end <= current)
