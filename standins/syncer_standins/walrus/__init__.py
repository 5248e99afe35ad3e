"""A stand-in for Walrus, for tests and the demo: this machine reaches no Walrus network.

`WalrusServer` serves, over plain HTTP on 127.0.0.1 with threads, the two routes syncer uses
from the OpenAPI documents the Walrus daemons publish (MystenLabs/walrus):

* publisher, `PUT /v1/blobs` with the query parameters of the spec (`epochs`, default 1;
  `permanent`; `deletable`; `force`; `encoding_type`, only `RS2`; `send_object_to` or
  `share`): the answer is a `BlobStoreResult` in camelCase, as real daemons send it —
  `newlyCreated` (with `registerFromScratch`, or `reuseAndExtend` when a live blob is stored
  again for longer) or `alreadyCertified` (the blob is certified and stored for at least the
  intended duration, `epochs` ahead of the current epoch); 400 for bad parameters, 401 when a
  bearer token is set and not sent, 413 over `max_blob_size`, 504 on demand;
* aggregator, `GET /v1/blobs/{blob_id}`: the bytes (`application/octet-stream`, an `ETag`),
  404 for unknown and expired blobs (the end epoch is exclusive), 400 for a malformed blob ID
  or both consistency flags, 503 on demand.

Errors are the AIP-193 envelope (`{"error": {"code", "status", "message", "details":
[{"@type": "ErrorInfo", "reason", "domain"}]}}`), except 411/413, which are plain text as
the daemons' HTTP layer sends them. Blob IDs are real: `blob_id_of` (RedStuff, 1000 shards),
computed once per content and process. The epoch is a counter (`server.epoch`, settable);
each blob keeps its end epoch.

    with WalrusServer() as walrus:
        store = WalrusBlobStore(WalrusOptions(walrus.url, (walrus.url,)))

`server.faults` (`WalrusFaults`) makes it misbehave: corrupted bytes, N answers 503 (reads)
or 504 (stores), a delay before each read (timeouts), 404 for everything, chunked bodies.
Several servers can share one `WalrusNetwork` to play several aggregators of one Walrus.
`server.requests` records what each request asked (without the token).

Simplifications, each a difference from a real daemon:

* nothing is encoded or sent to storage nodes; no Sui transactions, wallet, WAL or SUI:
  object IDs, transaction digests and `cost` are made up (cost from the docs' example
  prices, encoded length from the RS2 sizes for 1000 shards);
* one record per blob ID: storing again extends that record's lifetime whoever owns it,
  `force` re-registers it; its Blob object belongs to `send_object_to`, else to the
  publisher's made-up wallet, and exists on Sui only when a Sui stand-in keeps the
  network's books (`SuiGraphQLServer.add_walrus`); `share` is only remembered;
* the bearer token is compared as a string: no JWT, no claims (`max_epochs`, `max_size`);
* no quilts, no `by-object-id`, no byte ranges or `Range`, no `/v1/api`, no blocklist (451),
  no aggregator size limit (403), no CORS, no metrics; one server is publisher and
  aggregator at once.
"""

from __future__ import annotations

from syncer_standins.walrus.network import BlobRecord, StoreRequest, WalrusNetwork
from syncer_standins.walrus.server import RecordedRequest, WalrusFaults, WalrusServer, envelope

__all__ = ["BlobRecord", "RecordedRequest", "StoreRequest", "WalrusFaults", "WalrusNetwork",
           "WalrusServer", "envelope"]
