"""A stand-in for Sui's GraphQL RPC service, for tests and the demo: this machine has no
Sui network. It serves Sui's published GraphQL schema (see `schema`) over HTTP on
127.0.0.1, from a thread, so that pysui's `GqlProtocolClient`, whose constructor makes
blocking requests, can talk to it from the test's own thread::

    with SuiGraphQLServer() as sui:
        registry, admin_cap = sui.create_registry("shop-prod", admin.address)
        sui.fund(publisher.address)
        ledger = SuiLedger(SuiOptions(sui.url, sui.package, {"shop-prod": registry}))

What it does:

* answers pysui 1.5.1's constructor (introspection, chain identifier, checkpoint, service
  config, protocol config), and what `move_call` + `build_and_sign` ask: function signatures
  (`object{asMovePackage{module{function}}}`), object summaries (`multiGetObjects`), the
  epoch's reference gas price, gas coins (`objects(filter:{owner,type})`);
* executes transactions (`executeTransaction`): decodes the BCS with pysui's
  `TransactionData.deserialize`, verifies the Ed25519 signature against the sender, checks
  owned inputs (owner, version, digest), shared inputs (initial version; the Clock only
  immutably) and gas, then runs the `registry` module emulated in Python (`registry`), with
  its abort codes and events; failures come back as Sui reports them
  (`MoveAbort(MoveLocation { ... }, 3) in command 0`, `CommandArgumentError { arg_idx: 5,
  kind: TypeMismatch }`), refusals as `ExecutionResult.errors`;
* serves objects, owned objects by type, events by type / module / sender with paging (20
  by default, 50 at most), transactions and effects, and the registry's tables as dynamic
  fields (`address(address: <table>){dynamicField(name:{type:"u64",bcs})}`);
* keeps Walrus's books for a Walrus stand-in when asked (`add_walrus`): the Staking object
  with the current epoch, and a Blob object per stored blob (`syncer_standins.sui.walrus`).

Simplifications, each a difference from a real network:

* one package (the registry's), one epoch, one checkpoint per transaction; only
  `MoveCall`s to that package run (no coin splitting or transfers, no sponsors, no
  multisig or zkLogin); only Ed25519 keys;
* gas is not metered: every transaction costs the same fixed amount, and
  `simulateTransaction` reports that cost without running anything;
* BCS fields (`objectBcs`, `MoveValue.bcs`, `effectsBcs`, `eventBcs`) are null; values are
  served as JSON only; `MoveType` has only `repr`;
* set-up helpers (`create_registry`, `mint_publisher_cap`, `fund`) change the state without
  a transaction and emit no events; publishing and approving always take a signed
  transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from syncer_standins._http import BackgroundServer
from syncer_standins.sui.chain import GAS_COIN_TYPE, GENESIS_DIGEST, Chain, Owner, TxRecord
from syncer_standins.sui.encoding import blake2b256, canonical
from syncer_standins.sui.registry import RegistryModule, RegistryState
from syncer_standins.sui.resolvers import Resolvers
from syncer_standins.sui.schema import SchemaNotFoundError, load_schema, schema_dir
from syncer_standins.sui.server import GraphQLHTTPServer
from syncer_standins.sui.walrus import DAY_MS, WalrusBooks
from syncer_standins.walrus.network import WalrusNetwork

__all__ = [
    "DEFAULT_FUNDS",
    "DEFAULT_PACKAGE",
    "SchemaNotFoundError",
    "SuiGraphQLServer",
    "schema_dir",
]


DEFAULT_PACKAGE: Final = "0x" + blake2b256(b"syncer registry package").hex()
DEFAULT_FUNDS: Final = 10_000_000_000  # 10 SUI in MIST


class SuiGraphQLServer(BackgroundServer):
    """The stand-in on host:port (port 0 picks a free port); `url` ends in `/graphql`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 package: str = DEFAULT_PACKAGE, clock: Callable[[], int] | None = None) -> None:
        self.chain = Chain(clock=clock)
        self.module = RegistryModule(self.chain, canonical(package))
        self.resolvers = Resolvers(self.chain, self.module)
        super().__init__(GraphQLHTTPServer((host, port), load_schema(), self.resolvers.root))

    @property
    def package(self) -> str:
        return self.module.package

    name = "Sui GraphQL stand-in"
    path = "/graphql"

    # --- set-up helpers: state without transactions ----------------------------------------

    def fund(self, address: str, amount: int = DEFAULT_FUNDS) -> str:
        """Give `address` a new SUI coin of `amount` MIST; the coin's ID."""
        with self.chain.lock():
            coin = self.chain.genesis_object(GAS_COIN_TYPE, Owner.of(address),
                                             {"balance": str(amount)})
            return coin.id

    def create_registry(self, name: str, admin: str) -> tuple[str, str]:
        """A shared Registry named `name` and its AdminCap owned by `admin`: both IDs."""
        with self.chain.lock():
            ids = [self.chain.mint_id() for _ in range(4)]
            registry, _ = self.module.new_registry(name, object_id=ids[0],
                                                   table_ids=(ids[1], ids[2]), version=1,
                                                   tx=GENESIS_DIGEST)
            self.chain.put(registry)
            cap = self.module.new_cap("AdminCap", object_id=ids[3], registry=registry.id,
                                      owner=admin, version=1, tx=GENESIS_DIGEST)
            self.chain.put(cap)
            return registry.id, cap.id

    def mint_publisher_cap(self, registry_id: str, recipient: str) -> str:
        """A PublisherCap of `registry_id`, listed and owned by `recipient`; its ID."""
        with self.chain.lock():
            state = self.module.states[canonical(registry_id)]
            cap = self.module.new_cap("PublisherCap", object_id=self.chain.mint_id(),
                                      registry=state.id, owner=recipient, version=1,
                                      tx=GENESIS_DIGEST)
            self.chain.put(cap)
            state.publishers.append(cap.id)
            self.module.render(state.id)
            return cap.id

    def set_approvers(self, registry_id: str, approvers: Sequence[str], threshold: int) -> None:
        with self.chain.lock():
            state = self.module.states[canonical(registry_id)]
            state.approvers = [canonical(a) for a in approvers]
            state.threshold = threshold
            self.module.render(state.id)

    def add_walrus(self, network: WalrusNetwork, *, epoch_duration_ms: int = DAY_MS) -> str:
        """Keep Walrus's books for `network` on this chain (`WalrusBooks`): the ID of the
        Staking object to name as a profile's `blobstore.staking_object`."""
        books = WalrusBooks(self.chain, network, epoch_duration_ms=epoch_duration_ms)
        self.resolvers.walrus.append(books)
        return books.staking_id

    def registry(self, registry_id: str) -> RegistryState:
        """The Move state of a Registry (live: read it under `chain.lock()` if it moves)."""
        return self.module.states[canonical(registry_id)]

    @property
    def transactions(self) -> list[TxRecord]:
        """Every executed transaction, oldest first (refused ones are not executed)."""
        with self.chain.lock():
            return list(self.chain.transactions.values())
