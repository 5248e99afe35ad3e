"""The root value the GraphQL schema is executed against: one entry per Query/Mutation field.

It answers what pysui 1.5.1 asks (its constructor's configuration query, function
signatures, object summaries, gas coins, the epoch, simulation, execution) and what
`syncer.ledger.sui` asks (objects by owner and type, events by type, dynamic fields of the
registry's tables) and what `syncer.blobstore.walrus_lifetime` asks (Walrus's Staking object
and its inner value, Blob objects by owner). Anything else the schema offers resolves to
null or is absent.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final

from graphql import GraphQLError

from syncer_standins.sui import views
from syncer_standins.sui.chain import CHAIN_IDENTIFIER, Chain
from syncer_standins.sui.encoding import (
    base58_encode,
    blake2b256,
    canonical,
    derive_id,
    type_matches,
)
from syncer_standins.sui.execute import GAS_USED, Executor
from syncer_standins.sui.inputs import Rejected
from syncer_standins.sui.registry import FUNCTIONS, MODULE, Param, RegistryModule, RegistryState
from syncer_standins.sui.walrus import WalrusBooks

__all__ = ["Resolvers"]

_FRAMEWORK: Final = "0x" + "0" * 63 + "2"
_STDLIB: Final = "0x" + "0" * 63 + "1"
_SERVICE_CONFIG: Final = {
    "mutationTimeoutMs": 74_000, "queryTimeoutMs": 40_000, "maxQueryDepth": 20,
    "maxQueryNodes": 300, "maxOutputNodes": 100_000, "maxTransactionPayloadSize": 174_763,
    "maxQueryPayloadSize": 5_000, "maxMultiGetSize": 50, "maxTypeArgumentDepth": 16,
    "maxTypeArgumentWidth": 32, "maxTypeNodes": 256, "maxMoveValueDepth": 128,
}
_PROTOCOL_VERSION: Final = 90
_PROTOCOL_CONFIGS: Final = (("max_tx_gas", "50000000000"), ("max_gas_price", "100000"),
                            ("max_input_objects", "2048"))
_SCALARS: Final = {"u8", "u16", "u32", "u64", "u128", "u256", "address", "bool"}


def _signature_body(kind: str, package: str) -> Any:
    if kind in _SCALARS:
        return kind
    if kind.startswith("vector<"):
        return {"vector": _signature_body(kind[7:-1], package)}
    where = {"String": (_STDLIB, "string"), "ID": (_FRAMEWORK, "object"),
             "Clock": (_FRAMEWORK, "clock"), "TxContext": (_FRAMEWORK, "tx_context")}
    pkg, module = where.get(kind, (package, MODULE))
    return {"datatype": {"package": pkg, "module": module, "type": kind, "typeParameters": []}}


def _param_view(param: Param, package: str) -> dict[str, Any]:
    body = _signature_body(param.kind, package)
    return {"repr": f"{param.ref or ''}{param.kind}", "signature": {"ref": param.ref, "body": body}}


class Resolvers:
    """Builds the root value over one chain and its registry module."""

    def __init__(self, chain: Chain, module: RegistryModule) -> None:
        self.chain = chain
        self.module = module
        self.executor = Executor(chain, module)
        self.walrus: list[WalrusBooks] = []

    def root(self) -> dict[str, Any]:
        return {
            "chainIdentifier": CHAIN_IDENTIFIER,
            "checkpoint": self.checkpoint, "serviceConfig": dict(_SERVICE_CONFIG),
            "protocolConfigs": self.protocol_configs, "epoch": self.epoch,
            "object": self.object, "multiGetObjects": self.multi_get_objects,
            "package": self.package, "objects": self.objects, "address": self.address,
            "events": self.events, "transaction": self.transaction,
            "transactionEffects": self.transaction_effects,
            "simulateTransaction": self.simulate, "executeTransaction": self.execute,
        }

    # --- chain and service ---------------------------------------------------------------

    def checkpoint(self, _info: Any, sequenceNumber: int | None = None) -> dict[str, Any] | None:
        with self.chain.lock():
            if sequenceNumber not in (None, self.chain.checkpoint):
                return None
            return {"sequenceNumber": self.chain.checkpoint,
                    "timestamp": views.iso(self.chain.checkpoint_ms),
                    "networkTotalTransactions": len(self.chain.transactions),
                    "epoch": views.epoch_view(self.chain)}

    def protocol_configs(self, _info: Any, version: int | None = None) -> dict[str, Any]:
        configs = [{"key": k, "value": v} for k, v in _PROTOCOL_CONFIGS]
        return {"protocolVersion": _PROTOCOL_VERSION, "configs": configs, "featureFlags": [],
                "config": lambda _i, key: next((c for c in configs if c["key"] == key), None),
                "featureFlag": lambda _i, key: None}

    def epoch(self, _info: Any, epochId: int | None = None) -> dict[str, Any] | None:
        if epochId not in (None, self.chain.epoch):
            return None
        return views.epoch_view(self.chain)

    # --- objects and packages ------------------------------------------------------------

    def object(self, _info: Any, address: str, **_at: Any) -> dict[str, Any] | None:
        address = self._address(address)
        if address == self.module.package:
            return self._package_object()
        with self.chain.lock():
            obj = self.chain.get(address)
            return views.object_view(obj) if obj else None

    def multi_get_objects(self, info: Any, keys: list[dict[str, Any]]) -> list[Any]:
        if len(keys) > _SERVICE_CONFIG["maxMultiGetSize"]:
            raise GraphQLError("Too many keys in multiGetObjects")
        return [self.object(info, key["address"]) for key in keys]

    def package(self, _info: Any, address: str, **_at: Any) -> dict[str, Any] | None:
        return self._package_view() if self._address(address) == self.module.package else None

    def objects(self, _info: Any, filter: dict[str, Any], **page: Any) -> dict[str, Any]:
        owner = filter.get("owner")
        with self.chain.lock():
            found = self.chain.owned(self._address(owner) if owner else None, filter.get("type"))
            return views.connection(found, views.object_view, **page)

    def address(self, _info: Any, address: str, **_at: Any) -> dict[str, Any]:
        address = self._address(address)
        return {
            "address": address,
            "asObject": lambda info: self.object(info, address),
            "objects": lambda _i, filter=None, **page: self.objects(
                _i, {**(filter or {}), "owner": address}, **page),
            "dynamicField": lambda _i, name: self._dynamic_field(address, name),
            "multiGetDynamicFields": lambda _i, keys: [
                self._dynamic_field(address, k) for k in keys],
        }

    def _package_object(self) -> dict[str, Any]:
        package = self.module.package
        return {"address": package, "version": 1, "digest": None, "asMoveObject": None,
                "owner": {"__typename": "Immutable", "_": None},
                "asMovePackage": self._package_view()}

    def _package_view(self) -> dict[str, Any]:
        package = self.module.package
        return {"address": package, "version": 1,
                "module": lambda _i, name: self._module_view() if name == MODULE else None}

    def _module_view(self) -> dict[str, Any]:
        return {"name": MODULE, "package": {"address": self.module.package},
                "function": lambda _i, name: self._function_view(name)}

    def _function_view(self, name: str) -> dict[str, Any] | None:
        if name not in FUNCTIONS:
            return None
        is_entry, params = FUNCTIONS[name]
        return {"name": name, "isEntry": is_entry,
                "visibility": "PRIVATE" if is_entry else "PUBLIC", "typeParameters": [],
                "parameters": [_param_view(p, self.module.package) for p in params],
                "return": []}

    # --- the registry's tables, as dynamic fields ---------------------------------------

    def _dynamic_field(self, parent: str, name: dict[str, Any]) -> dict[str, Any] | None:
        if name.get("type") != "u64":
            return None
        try:
            key = int.from_bytes(base64.b64decode(name["bcs"], validate=True), "little")
        except (binascii.Error, ValueError) as e:
            raise GraphQLError("dynamic field name is not Base64") from e
        with self.chain.lock():
            value = self._field_value(parent, key)
            if value is None:
                return None
            field_id = derive_id("11111111111111111111111111111111", key)
            return {"address": field_id, "name": views.move_value("u64", str(key)),
                    "value": {"__typename": "MoveValue", **value}}

    def _field_value(self, parent: str, key: int) -> dict[str, Any] | None:
        """A registry table's entry, or the inner value of Walrus's Staking object."""
        for books in self.walrus:
            found = books.dynamic_field(parent, key)
            if found is not None:
                return views.move_value(*found)
        table = self._table(parent)
        return self._table_value(*table, key) if table is not None else None

    def _table(self, parent: str) -> tuple[RegistryState, str] | None:
        for state in self.module.states.values():
            if parent in (state.releases_id, state.approvals_id):
                return state, "releases" if parent == state.releases_id else "approvals"
        return None

    def _table_value(self, state: RegistryState, table: str, key: int) -> dict[str, Any] | None:
        if table == "releases":
            release = state.releases.get(key)
            return views.move_value(self.module.type_of("Release"), release.json()) \
                if release else None
        approvals = state.approvals.get(key)
        vec_set = f"{_FRAMEWORK}::vec_set::VecSet<address>"
        return views.move_value(vec_set, {"contents": list(approvals)}) \
            if approvals is not None else None

    # --- events and transactions ---------------------------------------------------------

    def events(self, _info: Any, filter: dict[str, Any] | None = None,
               **page: Any) -> dict[str, Any]:
        wanted = filter or {}
        if wanted.get("type") and wanted.get("module"):
            raise GraphQLError("Filtering by both emitting module and event type is not supported")
        with self.chain.lock():
            found = [e for e in self.chain.events if self._event_matches(e, wanted)]
            return views.connection(found, views.event_view, **page)

    def _event_matches(self, event: Any, wanted: dict[str, Any]) -> bool:
        if wanted.get("type") and not type_matches(event.type, wanted["type"]):
            return False
        module = f"{event.package}::{event.module}"
        if wanted.get("module") and not type_matches(module, wanted["module"]):
            return False
        sender = wanted.get("sender")
        return not sender or self._address(sender) == event.sender

    def transaction(self, _info: Any, digest: str) -> dict[str, Any] | None:
        with self.chain.lock():
            record = self.chain.transactions.get(digest)
            return views.transaction_view(self.chain, record) if record else None

    def transaction_effects(self, _info: Any, digest: str) -> dict[str, Any] | None:
        with self.chain.lock():
            record = self.chain.transactions.get(digest)
            return views.effects_view(self.chain, record) if record else None

    def simulate(self, _info: Any, transaction: Any, **_options: Any) -> dict[str, Any]:
        """A dry run that reports the fixed gas cost; it does not run the Move call."""
        body = json.dumps(transaction, sort_keys=True, default=str).encode()
        digest = base58_encode(blake2b256(b"TransactionData::" + body))
        gas = {k: str(v) for k, v in GAS_USED.items()}
        empty = lambda _i, **_page: views.connection([], dict)  # noqa: E731
        effects: dict[str, Any] = {
            "digest": digest, "effectsDigest": digest, "effectsBcs": None,
            "status": "SUCCESS", "executionError": None, "lamportVersion": None,
            "effectsJson": {"status": {"success": True}, "gasUsed": gas, "version": 2},
            "gasEffects": {"gasSummary": dict(GAS_USED), "gasObject": None},
            "epoch": views.epoch_view(self.chain), "timestamp": None, "checkpoint": None,
            "balanceChangesJson": [], "version": 2, "events": empty, "dependencies": empty,
            "objectChanges": empty, "transaction": {"digest": digest, "transactionBcs": None,
                                                    "transactionJson": None},
        }
        return {"effects": effects, "error": None, "outputs": []}

    def execute(self, _info: Any, transactionDataBcs: str, signatures: list[str]) -> dict[str, Any]:
        try:
            record = self.executor.execute(transactionDataBcs, signatures)
        except Rejected as e:
            return {"effects": None, "errors": [str(e)]}
        with self.chain.lock():
            return {"effects": views.effects_view(self.chain, record), "errors": None}

    @staticmethod
    def _address(address: str) -> str:
        try:
            return canonical(address)
        except ValueError as e:
            raise GraphQLError(f"Invalid Sui address: {address[:80]}") from e
