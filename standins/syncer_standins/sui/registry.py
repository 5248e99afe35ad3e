"""The Move module `<package>::registry`, emulated in Python for the stand-in.

It follows the contract in move/ function by function: the same parameters (served as the
package's ABI), the same abort codes, the same events, the same no-op. Each function checks
everything before it changes anything, so an abort leaves the state as it was, as Move's
transactional execution does. The checks of a channel name and a commit are the contract's
own `is_valid_name` and `is_valid_commit`, written again here, not borrowed from syncer: the
stand-in plays the chain, so it must not share the client's idea of the rules.

Values arrive decoded by `execute` (objects as `SuiObject`, pure values as Python values)
and the state is rendered back into each Registry object's `contents` after every change.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from syncer_standins.sui.chain import Chain, Owner, SuiObject

__all__ = [
    "ABORT_NAMES",
    "FUNCTIONS",
    "MODULE",
    "CallContext",
    "MoveAbort",
    "Param",
    "RegistryModule",
    "RegistryState",
    "ReleaseValue",
]

MODULE: Final = "registry"
ABORT_NAMES: Final = {
    1: "EWrongRegistry", 2: "ENotPublisher", 3: "ECapRevoked", 4: "EBadSha256",
    5: "EBadCommit", 6: "ENotAdmin", 7: "EBadThreshold", 8: "ENotApprover",
    9: "ENoSuchRelease", 10: "EAlreadyApproved", 11: "EBadName", 12: "EWrongVersion",
}
_SHA256_LEN: Final = 32
_NAME: Final = re.compile(r"[0-9A-Za-z]([-._0-9A-Za-z]{0,61}[0-9A-Za-z])?")
_COMMIT: Final = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class Param:
    """One parameter: `kind` is a Move type (`u64`, `vector<u8>`, `String`, `ID`, ...) or a
    struct name of this module or of the framework (`Registry`, `Clock`, `TxContext`)."""

    name: str
    kind: str
    ref: str | None = None  # None, "&" or "&mut"


FUNCTIONS: Final[dict[str, tuple[bool, tuple[Param, ...]]]] = {
    # name: (is_entry, parameters)
    "create": (True, (Param("name", "String"), Param("ctx", "TxContext", "&mut"))),
    "add_publisher": (True, (
        Param("admin", "AdminCap", "&"), Param("registry", "Registry", "&mut"),
        Param("recipient", "address"), Param("ctx", "TxContext", "&mut"))),
    "revoke_publisher": (True, (
        Param("admin", "AdminCap", "&"), Param("registry", "Registry", "&mut"),
        Param("cap", "ID"))),
    "set_approvers": (True, (
        Param("admin", "AdminCap", "&"), Param("registry", "Registry", "&mut"),
        Param("approvers", "vector<address>"), Param("threshold", "u64"))),
    "publish": (False, (
        Param("cap", "PublisherCap", "&"), Param("registry", "Registry", "&mut"),
        Param("blob_id", "u256"), Param("sha256", "vector<u8>"), Param("commit", "String"),
        Param("clock", "Clock", "&"), Param("ctx", "TxContext", "&"))),
    "approve": (False, (
        Param("registry", "Registry", "&mut"), Param("seq", "u64"), Param("clock", "Clock", "&"),
        Param("ctx", "TxContext", "&"))),
}


class MoveAbort(Exception):
    """A Move abort: `code` in `module::function` (at `package`)."""

    def __init__(self, code: int, function: str, *, module: str = MODULE) -> None:
        super().__init__(f"{module}::{function} aborted with {code}")
        self.code = code
        self.function = function
        self.module = module


@dataclass(frozen=True)
class ReleaseValue:
    seq: int
    blob_id: int
    sha256: bytes
    commit: str
    publisher: str
    timestamp_ms: int

    def json(self) -> dict[str, Any]:
        return {
            "seq": str(self.seq), "blob_id": str(self.blob_id),
            "sha256": base64.b64encode(self.sha256).decode(), "commit": self.commit,
            "publisher": self.publisher, "timestamp_ms": str(self.timestamp_ms),
        }


@dataclass
class RegistryState:
    """What a `Registry` object holds, with the IDs of its two tables."""

    id: str
    name: str
    releases_id: str
    approvals_id: str
    releases: dict[int, ReleaseValue] = field(default_factory=dict)
    publishers: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    approvers: list[str] = field(default_factory=list)
    threshold: int = 0
    approvals: dict[int, list[str]] = field(default_factory=dict)
    version: int = 1

    @property
    def seq(self) -> int:
        return len(self.releases)

    @property
    def head(self) -> ReleaseValue | None:
        return self.releases.get(self.seq)

    def json(self) -> dict[str, Any]:
        head = self.head
        return {
            "id": self.id, "name": self.name, "seq": str(self.seq),
            "head": head.json() if head else None,
            "releases": {"id": self.releases_id, "size": str(len(self.releases))},
            "publishers": {"contents": list(self.publishers)},
            "revoked": {"contents": list(self.revoked)},
            "approvers": {"contents": list(self.approvers)},
            "threshold": str(self.threshold),
            "approvals": {"id": self.approvals_id, "size": str(len(self.approvals))},
            "version": str(self.version),
        }


@dataclass
class CallContext:
    """One Move call's view of its transaction: sender, time, what it creates and emits."""

    chain: Chain
    sender: str
    new_id: Callable[[], str]
    created: list[SuiObject] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    mutated: set[str] = field(default_factory=set)

    def emit(self, name: str, contents: dict[str, Any]) -> None:
        self.events.append((name, contents))


class RegistryModule:
    """The module as published at `package`; `states` holds every Registry's Move state."""

    def __init__(self, chain: Chain, package: str) -> None:
        self.chain = chain
        self.package = package
        self.states: dict[str, RegistryState] = {}

    def type_of(self, struct: str) -> str:
        return f"{self.package}::{MODULE}::{struct}"

    def call(self, ctx: CallContext, function: str, args: list[Any]) -> None:
        """Run `function` with decoded arguments (TxContext excluded); MoveAbort on abort."""
        handlers: dict[str, Callable[[CallContext, list[Any]], None]] = {
            "create": self._create, "add_publisher": self._add_publisher,
            "revoke_publisher": self._revoke_publisher, "set_approvers": self._set_approvers,
            "publish": self._publish, "approve": self._approve,
        }
        handlers[function](ctx, args)

    # --- state set-up without transactions (test helpers use these) -------------------

    def new_registry(self, name: str, *, object_id: str, table_ids: tuple[str, str],
                     version: int, tx: str) -> tuple[SuiObject, RegistryState]:
        """A Registry object shared at `version`, with its Move state."""
        state = RegistryState(object_id, name, *table_ids)
        obj = SuiObject(object_id, self.type_of("Registry"), Owner.shared(version), version,
                        state.json(), tx, has_public_transfer=False)
        self.states[object_id] = state
        return obj, state

    def new_cap(self, struct: str, *, object_id: str, registry: str, owner: str,
                version: int, tx: str) -> SuiObject:
        body = {"id": object_id, "registry": registry}
        return SuiObject(object_id, self.type_of(struct), Owner.of(owner), version, body, tx)

    def render(self, registry_id: str) -> None:
        """Copy a Registry's Move state into its object's JSON contents."""
        self.chain.objects[registry_id].contents = self.states[registry_id].json()

    # --- the entry and public functions ------------------------------------------------

    def _create(self, ctx: CallContext, args: list[Any]) -> None:
        (name,) = args
        if not _valid_name(name):
            raise MoveAbort(11, "create")
        registry_id = ctx.new_id()
        tables = (ctx.new_id(), ctx.new_id())
        obj, _ = self.new_registry(name, object_id=registry_id, table_ids=tables,
                                   version=0, tx="")
        admin = self.new_cap("AdminCap", object_id=ctx.new_id(), registry=registry_id,
                             owner=ctx.sender, version=0, tx="")
        ctx.created += [obj, admin]

    def _add_publisher(self, ctx: CallContext, args: list[Any]) -> None:
        admin, registry, recipient = args
        state = self._admin_of(admin, registry, "add_publisher")
        cap = self.new_cap("PublisherCap", object_id=ctx.new_id(), registry=state.id,
                           owner=recipient, version=0, tx="")
        state.publishers.append(cap.id)
        ctx.created.append(cap)
        ctx.emit("PublisherAdded", {"registry": state.id, "cap": cap.id, "recipient": recipient})
        self._changed(ctx, state)

    def _revoke_publisher(self, ctx: CallContext, args: list[Any]) -> None:
        admin, registry, cap_id = args
        state = self._admin_of(admin, registry, "revoke_publisher")
        if cap_id not in state.publishers:
            raise MoveAbort(2, "revoke_publisher")
        state.publishers.remove(cap_id)
        state.revoked.append(cap_id)
        ctx.emit("PublisherRevoked", {"registry": state.id, "cap": cap_id})
        self._changed(ctx, state)

    def _set_approvers(self, ctx: CallContext, args: list[Any]) -> None:
        admin, registry, approvers, threshold = args
        state = self._admin_of(admin, registry, "set_approvers")
        if len(set(approvers)) != len(approvers):
            raise MoveAbort(0, "insert", module="vec_set")  # EKeyAlreadyExists
        if threshold > len(approvers):
            raise MoveAbort(7, "set_approvers")
        state.approvers, state.threshold = list(approvers), threshold
        self._changed(ctx, state)

    def _publish(self, ctx: CallContext, args: list[Any]) -> None:
        cap, registry, blob_id, sha256, commit, _clock = args
        state = self.states[registry.id]
        self._check_cap(cap, state)
        if len(sha256) != _SHA256_LEN:
            raise MoveAbort(4, "publish")
        if not _valid_commit(commit):
            raise MoveAbort(5, "publish")
        head = state.head
        if head is not None and head.commit == commit and head.blob_id == blob_id:
            return
        release = ReleaseValue(state.seq + 1, blob_id, bytes(sha256), commit, ctx.sender,
                               ctx.chain.now_ms())
        state.releases[release.seq] = release
        ctx.emit("Published", {"registry": state.id, **release.json()})
        self._changed(ctx, state)

    def _approve(self, ctx: CallContext, args: list[Any]) -> None:
        registry, seq, _clock = args
        state = self.states[registry.id]
        if ctx.sender not in state.approvers:
            raise MoveAbort(8, "approve")
        if not 1 <= seq <= state.seq:
            raise MoveAbort(9, "approve")
        approvals = state.approvals.get(seq, [])
        if ctx.sender in approvals:
            raise MoveAbort(10, "approve")
        state.approvals[seq] = [*approvals, ctx.sender]
        ctx.emit("Approved", {
            "registry": state.id, "seq": str(seq), "approver": ctx.sender,
            "approvals": str(len(approvals) + 1), "timestamp_ms": str(ctx.chain.now_ms())})
        self._changed(ctx, state)

    # --- checks ------------------------------------------------------------------------

    def _admin_of(self, admin: SuiObject, registry: SuiObject, function: str) -> RegistryState:
        if admin.contents.get("registry") != registry.id:
            raise MoveAbort(6, function)
        return self.states[registry.id]

    def _check_cap(self, cap: SuiObject, state: RegistryState) -> None:
        if cap.contents.get("registry") != state.id:
            raise MoveAbort(1, "publish")
        if cap.id in state.revoked:
            raise MoveAbort(3, "publish")
        if cap.id not in state.publishers:
            raise MoveAbort(2, "publish")

    def _changed(self, ctx: CallContext, state: RegistryState) -> None:
        ctx.mutated.add(state.id)
        self.render(state.id)


def _valid_name(name: str) -> bool:
    """`registry::is_valid_name`: 1-63 bytes of [0-9A-Za-z._-], alphanumeric at both ends."""
    return _NAME.fullmatch(name) is not None


def _valid_commit(commit: str) -> bool:
    """`registry::is_valid_commit`: 40 or 64 lowercase hex digits."""
    return _COMMIT.fullmatch(commit) is not None
