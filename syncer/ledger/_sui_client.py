"""The I/O seam of the Sui ledger: pysui 1.5.1's `GqlProtocolClient`, driven synchronously.

pysui's GraphQL client is asynchronous (its constructor alone makes blocking requests), and
its session belongs to the event loop that first uses it. `SuiClient` therefore owns one
event loop in a daemon thread and runs every call there, so the ledger's methods stay
synchronous and work from any thread, an asyncio one included.

pysui signs with keys from its own configuration (`PysuiConfig.json`). The client builds
that configuration in a private temporary folder, which it removes at once, and adds
signing keys in memory only (`persist=False`): no key is ever written to disk.

Transactions are built with `move_call` + `build_and_sign` and executed with a mutation of
our own, which selects `ExecutionResult.errors`: pysui's `ExecuteTransaction` drops them and
reports success with no data when the service refuses a transaction (seen with pysui
1.5.1). `Executed` carries what the ledger checks: the digest, the
status, the error, the created objects and the events.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from syncer.errors import LedgerError, cut
from syncer.keys import Keypair

__all__ = ["Call", "Executed", "SuiClient"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_GROUP: Final = "syncer"
_EXECUTE: Final = """mutation {
  executeTransaction(transactionDataBcs: "%s", signatures: [%s]) {
    errors
    effects {
      digest
      status
      executionError { abortCode message module { name } function { name } }
      transaction { digest }
      objectChanges(first: 50) {
        nodes { address idCreated outputState { owner { __typename }
                asMoveObject { contents { type { repr } } } } }
      }
      events(first: 50) { nodes { contents { type { repr } json } } }
    }
  }
}"""


@dataclass(frozen=True)
class Call:
    """One Move call of a transaction: `function` of the registry module, with arguments
    as pysui's `move_call` takes them (object IDs as strings, pure values as Python values)."""

    function: str
    arguments: tuple[Any, ...]


@dataclass(frozen=True)
class Executed:
    """What an executed transaction reports."""

    digest: str
    success: bool
    error: dict[str, Any] | None
    created: tuple[tuple[str, str], ...]  # (object ID, type)
    events: tuple[tuple[str, dict[str, Any]], ...]  # (type, json)


class SuiClient:
    """A GraphQL endpoint, reached through pysui; `close()` ends the loop and session."""

    def __init__(self, url: str, *, timeout_s: float, gas_budget: int | None) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._gas_budget = gas_budget
        self._config: Any = None
        self._client: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="sui-ledger-loop")
        self._thread.start()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the session and end the loop; calling it again does nothing."""
        if self._loop.is_closed():
            return
        if self._client is not None:
            self._run(self._client.close())
            self._client = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def query(self, text: str) -> dict[str, Any]:
        """The `data` of a GraphQL query; LedgerError if it fails."""
        client = self._connect()
        result = self._run(client.execute_query_string(string=text))
        if not result.is_ok():
            raise LedgerError(f"Sui GraphQL query failed: {_describe(result)}", where=self._url)
        return dict(result.result_data)

    def execute(self, key: Keypair, target: str, calls: Sequence[Call]) -> Executed:
        """Build, sign (with `key`) and execute one transaction of `calls` to `target`'s
        module (`<package>::registry`)."""
        client = self._connect()
        self._add_key(key)
        signed = self._run(self._build(client, key.address, target, calls))
        return self._send(signed)

    async def _build(self, client: Any, sender: str, target: str,
                     calls: Sequence[Call]) -> dict[str, Any]:
        txn = await client.transaction(initial_sender=sender)
        for call in calls:
            await txn.move_call(target=f"{target}::{call.function}",
                                arguments=list(call.arguments))
        signed: dict[str, Any] = await txn.build_and_sign(gas_budget=self._gas_budget)
        return signed

    def _send(self, signed: dict[str, Any]) -> Executed:
        signatures = ", ".join(f'"{s}"' for s in signed["sig_array"])
        data = self.query(_EXECUTE % (signed["tx_bytestr"], signatures))
        result = data.get("executeTransaction") or {}
        effects = result.get("effects")
        if result.get("errors") or not effects:
            reason = "; ".join(result.get("errors") or ["no effects came back"])
            raise LedgerError(f"the transaction was refused: {cut(reason)}", where=self._url)
        digest = (effects.get("transaction") or {}).get("digest") or effects.get("digest")
        if not digest:
            raise LedgerError("the service returned no transaction digest", where=self._url)
        return _executed(digest, effects)

    def _connect(self) -> Any:
        """The pysui client, made on first use (its constructor makes blocking requests)."""
        with self._lock:
            if self._client is None:
                self._config = _configuration(self._url)
                self._client = _new_client(self._config, self._url, self._timeout_s)
            return self._client

    def _add_key(self, key: Keypair) -> None:
        """Make `key` known to pysui's configuration, in memory only."""
        with self._lock:
            group = self._config.active_group
            if key.address in group.address_list:
                return
            block = [{"key_string": key.to_suiprivkey(), "alias": f"syncer-{key.address}"}]
            try:
                self._config.add_keys(key_block=block, persist=False)
            except ValueError as e:
                raise LedgerError("pysui refused the signing key") from e

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=self._timeout_s)
        except FutureTimeout as e:
            future.cancel()
            raise LedgerError(f"no answer within {self._timeout_s} s", where=self._url) from e
        except LedgerError:
            raise
        except Exception as e:  # pysui raises ValueError, httpx and gql their own errors
            raise LedgerError(f"Sui request failed: {cut(str(e))}", where=self._url) from e


def _configuration(url: str) -> Any:
    """A pysui configuration with one GraphQL profile for `url` and no keys."""
    # pysui takes a third of a second to import: only commands that reach Sui pay for it.
    from pysui import PysuiConfiguration  # noqa: PLC0415
    from pysui.sui.sui_common.config.confgroup import NetworkType  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="syncer-pysui-") as folder:
        config = PysuiConfiguration.initialize_config(
            in_folder=Path(folder), init_groups=[{"name": _GROUP, "make_active": True}])
    config.new_profile(profile_name=_GROUP, url=url, network_type=NetworkType.LOCAL,
                       make_active=True, persist=False)
    return config


def _new_client(config: Any, url: str, timeout_s: float) -> Any:
    from pysui.sui.sui_pgql.pgql_clients import GqlProtocolClient  # noqa: PLC0415

    try:
        return GqlProtocolClient(pysui_config=config, timeout=timeout_s)
    except Exception as e:  # gql, httpx and KeyError (a missing header) alike
        raise LedgerError(f"cannot reach Sui GraphQL: {cut(repr(e))}", where=url) from e


def _describe(result: Any) -> str:
    errors = getattr(result.result_data, "errors", None) or []
    messages = [e.get("message", str(e)) if isinstance(e, dict) else str(e) for e in errors]
    return cut("; ".join(messages) or str(result.result_string))


def _executed(digest: str, effects: dict[str, Any]) -> Executed:
    created = tuple(
        (node["address"], ((node.get("outputState") or {}).get("asMoveObject") or {})
         .get("contents", {}).get("type", {}).get("repr", ""))
        for node in (effects.get("objectChanges") or {}).get("nodes") or []
        if node.get("idCreated")
    )
    events = tuple(
        (node["contents"]["type"]["repr"], node["contents"]["json"])
        for node in (effects.get("events") or {}).get("nodes") or []
        if node.get("contents")
    )
    success = effects.get("status") == "SUCCESS"
    error = None if success else (effects.get("executionError") or {"message": "failed"})
    return Executed(digest, success, error, created, events)
