"""Reading how long a blob lives on Walrus, from Sui, over real GraphQL requests.

No Sui or Walrus network can run here: the reader (`syncer.blobstore.walrus_lifetime`, plain
httpx) talks to the Sui GraphQL stand-in (Sui's published GraphQL schema), which keeps the books
of a Walrus stand-in network (`add_walrus`): the Staking object with its versioned inner
value, and Blob objects rendered as the Move structs of the Walrus contracts would be.
"""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from syncer_standins.sui import SuiGraphQLServer, schema
from syncer_standins.sui.schema import schema_dir
from syncer_standins.sui.walrus import DAY_MS
from syncer_standins.walrus import BlobRecord, StoreRequest, WalrusNetwork, WalrusServer

from syncer.blobstore import blob_id_of
from syncer.blobstore.walrus_lifetime import WalrusLifetime
from syncer.errors import BlobStoreError

pytestmark = pytest.mark.skipif(schema_dir() is None, reason=schema.missing())

ALICE = "0x" + "a1" * 32
BOB = "0x" + "b0" * 32
DATA = b"some other string"
DATA_ID = "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"  # its blob ID, as Walrus computes it


@dataclass
class Books:
    sui: SuiGraphQLServer
    network: WalrusNetwork
    staking: str

    def reader(self) -> WalrusLifetime:
        return WalrusLifetime(self.sui.url, self.staking)

    def record(self, blob_id: str, *, owner: str, end_epoch: int, n: int = 0) -> None:
        """A Blob object as Walrus would leave it, without storing (no blob ID to compute)."""
        object_id = "0x" + hashlib.sha256(f"{blob_id}{owner}{end_epoch}{n}".encode()).hexdigest()
        self.sui.resolvers.walrus[0].blob_changed(BlobRecord(
            blob_id, b"x", object_id, 1, end_epoch, True, owner, False, "tx"))


@pytest.fixture
def books() -> Iterator[Books]:
    network = WalrusNetwork(epoch=7)
    with SuiGraphQLServer() as sui:
        yield Books(sui, network, sui.add_walrus(network, epoch_duration_ms=14 * DAY_MS))


def fake_id(n: int) -> str:
    """A well-formed blob ID of no stored content."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"%d" % n).digest()).decode().rstrip("=")


def test_current_epoch_duration_and_start(books: Books) -> None:
    epoch = books.reader().epoch()
    assert (epoch.epoch, epoch.duration_ms) == (7, 14 * DAY_MS)
    assert epoch.started_ms is not None
    books.network.advance(2)
    assert books.reader().epoch().epoch == 9


def test_epoch_start_unknown_while_the_epoch_changes(books: Books) -> None:
    books.sui.resolvers.walrus[0].inner["epoch_state"] = {"@variant": "EpochChangeSync",
                                                          "pos0": 40}
    assert books.reader().epoch().started_ms is None


def test_a_stored_blob_is_found_under_the_address_it_was_sent_to(books: Books) -> None:
    books.network.store(StoreRequest(DATA, 5, permanent=True, send_object_to=ALICE))
    assert blob_id_of(DATA) == DATA_ID
    reader = books.reader()
    found = reader.blob(DATA_ID, owners=[BOB, ALICE, ALICE.upper().replace("0X", "0x")])
    assert found is not None and (found.end_epoch, found.owner) == (12, ALICE)
    assert reader.blob(DATA_ID, owners=[BOB]) is None
    books.network.store(StoreRequest(DATA, 20, permanent=True))  # extended: same object
    assert reader.blob(DATA_ID, owners=[ALICE]).end_epoch == 27  # type: ignore[union-attr]


def test_the_latest_end_epoch_wins_and_other_blobs_are_ignored(books: Books) -> None:
    books.record(DATA_ID, owner=ALICE, end_epoch=10)
    books.record(DATA_ID, owner=BOB, end_epoch=30)
    books.record(DATA_ID, owner=ALICE, end_epoch=20, n=1)
    books.record(fake_id(1), owner=ALICE, end_epoch=99)
    found = books.reader().blob(DATA_ID, owners=[ALICE, BOB])
    assert found is not None and (found.end_epoch, found.owner) == (30, BOB)


def test_uncertified_blob_objects_do_not_count(books: Books) -> None:
    books.record(DATA_ID, owner=ALICE, end_epoch=10)
    (blob,) = books.sui.chain.owned(ALICE, None)
    blob.contents["certified_epoch"] = None
    assert books.reader().blob(DATA_ID, owners=[ALICE]) is None


def test_blob_objects_are_paged(books: Books) -> None:
    for n in range(60):
        books.record(fake_id(n + 10), owner=ALICE, end_epoch=8)
    books.record(DATA_ID, owner=ALICE, end_epoch=40)
    assert len(books.sui.chain.owned(ALICE, None)) == 61
    found = books.reader().blob(DATA_ID, owners=[ALICE])
    assert found is not None and found.end_epoch == 40


def test_an_object_that_is_not_the_staking_object_is_refused(books: Books) -> None:
    coin = books.sui.fund(ALICE)
    with pytest.raises(BlobStoreError, match=rf"staking object {coin}: is a .*Coin.*, not a "
                       "Walrus staking::Staking"):
        WalrusLifetime(books.sui.url, coin).epoch()
    missing = "0x" + "77" * 32
    with pytest.raises(BlobStoreError, match=f"{missing}: no such object"):
        WalrusLifetime(books.sui.url, missing).epoch()


def test_an_endpoint_that_does_not_answer_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/graphql"
    with pytest.raises(BlobStoreError, match="Sui GraphQL does not answer") as caught:
        WalrusLifetime(dead, "0x" + "77" * 32, timeout=2).epoch()
    assert "\n" not in str(caught.value) and dead in str(caught.value)


def test_an_endpoint_that_is_not_graphql_is_one_line() -> None:
    with WalrusServer() as walrus, pytest.raises(BlobStoreError) as caught:
        WalrusLifetime(f"{walrus.url}/graphql", "0x" + "77" * 32, timeout=5).epoch()
    assert str(caught.value) == f"{walrus.url}/graphql: Sui GraphQL answered HTTP 501"
