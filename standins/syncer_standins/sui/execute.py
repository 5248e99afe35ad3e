"""Executing a signed transaction against the stand-in's state, as a validator would.

`Executor.execute` rejects (`inputs.Rejected`) what Sui refuses before execution, and
otherwise runs every command and records a `TxRecord`: on success the registry's changes,
created objects and events; on failure (a Move abort, an argument of the wrong type, too
little gas) nothing but the gas charge, with the error Sui reports. Either way every owned
input and mutable shared input moves to the transaction's Lamport version (the highest input
version + 1), and the gas coin pays a fixed cost: the stand-in does not meter gas.

Only `MoveCall`s to the registry package are run; the object arguments are checked against
the function's parameters (type, and `&mut` needs a mutable shared input), so an object that
is not the Clock in the Clock's place fails with `CommandArgumentError { kind:
TypeMismatch }`, as on Sui.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Final

from syncer_standins.sui.chain import CLOCK_TYPE, Chain, EventRecord, Owner, SuiObject, TxRecord
from syncer_standins.sui.encoding import canonical, derive_id, transaction_digest
from syncer_standins.sui.inputs import (
    GasPayment,
    Input,
    Rejected,
    decode_pure,
    decode_transaction,
    resolve_gas,
    resolve_inputs,
    verify_signatures,
)
from syncer_standins.sui.registry import (
    FUNCTIONS,
    MODULE,
    CallContext,
    MoveAbort,
    Param,
    RegistryModule,
)

__all__ = ["GAS_USED", "Executor", "Failure"]

GAS_USED: Final = {"computationCost": 1_000_000, "storageCost": 2_000_000,
                   "storageRebate": 1_000_000, "nonRefundableStorageFee": 10_000}
_OBJECT_KINDS: Final = {"PublisherCap", "AdminCap", "Registry", "Clock"}


class Failure(Exception):
    """The transaction ran and failed; `error` is what its effects report."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["description"])
        self.error = error


def _argument_error(command: int, arg_idx: int, kind: str) -> Failure:
    return Failure({
        "kind": "COMMAND_ARGUMENT_ERROR", "command": command,
        "description": f"CommandArgumentError {{ arg_idx: {arg_idx}, kind: {kind} }} "
                       f"in command {command}",
        "argument": {"argument": arg_idx, "kind": kind},
    })


@dataclass
class _Run:
    """One transaction under way."""

    digest: str
    sender: str
    inputs: list[Input]
    gas: GasPayment
    ctx: CallContext
    lamport: int


class Executor:
    def __init__(self, chain: Chain, module: RegistryModule) -> None:
        self.chain = chain
        self.module = module

    def execute(self, tx_b64: str, signatures: list[str]) -> TxRecord:
        """Run one signed transaction; Rejected if Sui would refuse it outright."""
        raw, data = decode_transaction(tx_b64)
        sender = canonical(data.Sender.to_address_str())
        verify_signatures(raw, signatures, sender)
        digest = transaction_digest(raw)
        with self.chain.lock():
            if digest in self.chain.transactions:
                return self.chain.transactions[digest]
            self._check_expiration(data.TransactionExpiration)
            ptb = data.TransactionKind.value
            inputs = resolve_inputs(self.chain, ptb, sender)
            gas = resolve_gas(self.chain, data.GasData, sender, inputs)
            for command in ptb.Command:
                self._check_package(command)
            run = self._start(digest, sender, inputs, gas)
            record = self._run(run, ptb, raw, signatures)
            self.chain.transactions[digest] = record
            return record

    def _check_expiration(self, expiration: Any) -> None:
        if expiration.enum_name == "Epoch" and expiration.value < self.chain.epoch:
            raise Rejected(f"transaction expired at epoch {expiration.value}")

    def _check_package(self, command: Any) -> None:
        if command.enum_name != "MoveCall":
            raise Rejected(f"command {command.enum_name} is not supported by the stand-in")
        package = canonical(command.value.Package.to_address_str())
        if package != self.module.package:
            raise Rejected(f"package object does not exist with ID {package}")

    def _start(self, digest: str, sender: str, inputs: list[Input], gas: GasPayment) -> _Run:
        versions = [c.version for c in gas.coins]
        versions += [i.obj.version for i in inputs if i.obj is not None]
        counter = iter(range(1_000_000))
        ctx = CallContext(self.chain, sender, lambda: derive_id(digest, next(counter)))
        return _Run(digest, sender, inputs, gas, ctx, max(versions) + 1)

    def _run(self, run: _Run, ptb: Any, raw: bytes, signatures: list[str]) -> TxRecord:
        checkpoint, now = self.chain.next_checkpoint()
        record = TxRecord(run.digest, raw, signatures, run.sender, True, checkpoint, now,
                          run.lamport, gas_coin=run.gas.coins[0].id)
        snapshot = copy.deepcopy(self.module.states)
        before = {i.obj.id: copy.deepcopy(i.obj) for i in run.inputs if i.obj is not None}
        before.update({c.id: copy.deepcopy(c) for c in run.gas.coins})
        try:
            self._check_budget(run.gas)
            for index, command in enumerate(ptb.Command):
                self._move_call(run, index, command.value)
        except Failure as e:
            record.success, record.error = False, e.error
            self.module.states = snapshot
            for state_id in snapshot:
                self.module.render(state_id)
            run.ctx = CallContext(self.chain, run.sender, run.ctx.new_id)
        self._apply(run, record, before)
        return record

    def _check_budget(self, gas: GasPayment) -> None:
        needed = GAS_USED["computationCost"] + GAS_USED["storageCost"]
        if gas.budget < needed:
            raise Failure({"kind": "INSUFFICIENT_GAS", "description": "InsufficientGas"})

    def _move_call(self, run: _Run, index: int, call: Any) -> None:
        function = str(call.Function)
        if str(call.Module) != MODULE or function not in FUNCTIONS:
            raise Failure({"kind": "FUNCTION_NOT_FOUND", "command": index,
                           "description": f"FunctionNotFound in command {index}"})
        if call.Type_Arguments:
            raise Failure({"kind": "TYPE_ARITY_MISMATCH", "command": index,
                           "description": f"TypeArityMismatch in command {index}"})
        params = [p for p in FUNCTIONS[function][1] if p.kind != "TxContext"]
        if len(call.Arguments) != len(params):
            raise Failure({"kind": "ARITY_MISMATCH", "command": index,
                           "description": f"ArityMismatch in command {index}"})
        args = [self._argument(run, arg, param, at=(index, i))
                for i, (arg, param) in enumerate(zip(call.Arguments, params, strict=True))]
        try:
            self.module.call(run.ctx, function, args)
        except MoveAbort as abort:
            raise Failure(self._abort_error(index, abort)) from abort

    def _argument(self, run: _Run, arg: Any, param: Param, *, at: tuple[int, int]) -> Any:
        """The value of argument `at` = (command, argument index) for `param`."""
        if arg.enum_name != "Input" or arg.value >= len(run.inputs):
            raise _argument_error(*at, "TypeMismatch")
        given = run.inputs[arg.value]
        if param.kind in _OBJECT_KINDS:
            return self._object_argument(given, param, at=at)
        if given.pure is None:
            raise _argument_error(*at, "TypeMismatch")
        try:
            return decode_pure(param.kind, given.pure)
        except (ValueError, UnicodeDecodeError) as e:
            raise _argument_error(*at, "InvalidBCSBytes") from e

    def _object_argument(self, given: Input, param: Param, *, at: tuple[int, int]) -> SuiObject:
        expected = CLOCK_TYPE if param.kind == "Clock" else self.module.type_of(param.kind)
        if given.obj is None or given.obj.type != expected:
            raise _argument_error(*at, "TypeMismatch")
        if param.ref == "&mut" and not given.mutable:
            raise _argument_error(*at, "InvalidObjectByMutRef")
        return given.obj

    def _abort_error(self, index: int, abort: MoveAbort) -> dict[str, Any]:
        names = list(FUNCTIONS)
        function_index = names.index(abort.function) if abort.function in names else 0
        package = self.module.package if abort.module == MODULE else "0x" + "0" * 63 + "2"
        instruction = 10 + abort.code
        location = (
            f"MoveLocation {{ module: ModuleId {{ address: {package[2:]}, name: "
            f'Identifier("{abort.module}") }}, function: {function_index}, instruction: '
            f'{instruction}, function_name: Some("{abort.function}") }}'
        )
        return {
            "kind": "MOVE_ABORT", "command": index,
            "description": f"MoveAbort({location}, {abort.code}) in command {index}",
            "abort": {"abortCode": str(abort.code), "location": {
                "package": package, "module": abort.module, "function": function_index,
                "instruction": instruction, "functionName": abort.function}},
        }

    def _apply(self, run: _Run, record: TxRecord, before: dict[str, SuiObject]) -> None:
        """Write versions, gas, created objects and events; record what changed."""
        touched = [i.obj for i in run.inputs if i.obj is not None and i.mutable]
        touched += list(run.gas.coins)
        self._charge(run.gas, record)
        for obj in touched:
            obj.version, obj.previous_tx = run.lamport, run.digest
            record.changes.append((obj.id, before[obj.id], copy.deepcopy(obj)))
        for obj in run.ctx.created:
            self._create(run, obj)
            record.changes.append((obj.id, None, copy.deepcopy(obj)))
        for name, contents in run.ctx.events:
            record.events.append(self._event(run, record, name, contents))

    def _charge(self, gas: GasPayment, record: TxRecord) -> None:
        used = dict(GAS_USED)
        if not record.success and record.error and record.error["kind"] == "INSUFFICIENT_GAS":
            used = {**used, "computationCost": gas.budget, "storageCost": 0,
                    "storageRebate": 0}
        cost = used["computationCost"] + used["storageCost"] - used["storageRebate"]
        coin = gas.coins[0]
        coin.contents["balance"] = str(int(coin.contents["balance"]) - cost)
        record.gas_used = used

    def _create(self, run: _Run, obj: SuiObject) -> None:
        obj.version, obj.previous_tx = run.lamport, run.digest
        if obj.owner.kind == "Shared":
            obj.owner = Owner.shared(run.lamport)
        self.chain.put(obj)
        if obj.id in self.module.states:
            self.module.render(obj.id)

    def _event(self, run: _Run, record: TxRecord, name: str,
               contents: dict[str, Any]) -> EventRecord:
        event = EventRecord(len(self.chain.events), run.digest,
                            self.module.type_of(name), self.module.package, MODULE,
                            run.sender, contents, record.timestamp_ms, record.checkpoint)
        self.chain.events.append(event)
        return event
