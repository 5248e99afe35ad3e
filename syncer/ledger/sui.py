"""The ledger on Sui: one shared `Registry` object per channel, through pysui over GraphQL.

The Move package in move/ holds the record (module `<package>::registry`); this module reads
it and sends it transactions with pysui 1.5.1's `GqlProtocolClient` (see `_sui_client`). The
chain gives natively what the local ledger emulates with signatures and a hash chain: only
a holder of a listed `PublisherCap` can publish, seq is head + 1, history only grows.

- Reads: `head` from the Registry object's `head`; `history` from the `Published` events
  (paged, filtered by event type, then by registry), with any release the event index lacks
  read from the registry's `releases` table, and checked: seq 1, 2, ... up to the object's
  `seq`, the last one equal to the head, every field well-formed (the shared `rules`),
  timestamps never decreasing; `release(seq)` from the table.
- Writes: `publish` checks the fields and the no-op (`rules.is_noop`: the head already has
  this commit and blob: nothing is sent), finds the key's `PublisherCap` of the channel
  (none: refused before sending), checks it is listed and not revoked (`precheck`), then
  calls `publish(cap, registry, blob_id: u256, sha256, commit, clock 0x6)`, checks the
  status and the digest, and returns the release its `Published` event reports. A Move
  abort comes back as a `RuleViolationError` in words ("publisher cap revoked"); the key
  never appears in any message.
- Channels: `register_channel` calls `create` and then `add_publisher` for each key; the new
  Registry's ID is logged and kept (`registry_id`); `syncer init` writes it into
  $SYNCER_HOME/profiles.yaml, since `SuiOptions.registries` is where a later run finds it.
  `add_publisher` and `revoke_publisher` need the channel's `AdminCap` in the admin key's account;
  `revoke_publisher` revokes every listed cap the key holds. `set_approvers`, `approve`
  and `approvals` handle approvals; `approval_policy` reads the Registry's `approvers` and
  `threshold`.
- `publishers` are the addresses that hold the channel's listed caps now (a cap held by an
  object rather than an address is left out, with a warning).

Keys come as `Keypair`s; `key_from_keystore` reads one from a `sui.keystore` file (a JSON list
of Base64 `flag || private key`), `key_from_env` from an environment variable holding a
`suiprivkey1...` string. pysui signs with keys from its own configuration, so a key that
signs is added to it, in memory only, for the ledger's lifetime.

Not done here: the package itself is published with the `sui` CLI (`sui client publish` in
move/); `SuiOptions.registries` is the only place the ledger learns channels from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

from syncer import keys
from syncer.approvals import ApprovalPolicy
from syncer.errors import ConfigError, LedgerError, RuleViolationError
from syncer.keys import Keypair
from syncer.ledger import _sui_codec as codec
from syncer.ledger import rules
from syncer.ledger._sui_client import Call, Executed, SuiClient
from syncer.ledger._sui_codec import RegistryView
from syncer.ledger._sui_keys import DEFAULT_KEY_ENV, key_from_env, key_from_keystore
from syncer.model import Release
from syncer.suivalues import blob_id_to_u256, canonical_address, u256_to_blob_id

__all__ = [
    "CLOCK",
    "DEFAULT_KEY_ENV",
    "SuiLedger",
    "SuiOptions",
    "blob_id_to_u256",
    "key_from_env",
    "key_from_keystore",
    "u256_to_blob_id",
]

log = logging.getLogger(__name__)

CLOCK: Final = "0x6"


@dataclass(frozen=True)
class SuiOptions:
    """Where the record is: the GraphQL endpoint, the package, each channel's Registry ID.

    `gas_budget` None lets pysui simulate each transaction to set its budget. `precheck`
    refuses a revoked or unlisted cap before sending (the contract refuses it anyway).
    `page_size` is how many events or objects one query asks for (the service allows 50).
    """

    graphql_url: str
    package: str
    registries: Mapping[str, str] = field(default_factory=dict)
    gas_budget: int | None = None
    timeout_s: float = 60.0
    precheck: bool = True
    page_size: int = codec.PAGE_SIZE


class SuiLedger:
    """The `Ledger` protocol on Sui; `close()` (or `with`) ends its connection."""

    def __init__(self, options: SuiOptions) -> None:
        self._options = options
        self._package = _checked(options.package, "package")
        self._registries = {c: _checked(r, f"registry of {c}")
                            for c, r in options.registries.items()}
        self._client = SuiClient(options.graphql_url, timeout_s=options.timeout_s,
                                 gas_budget=options.gas_budget)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SuiLedger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # --- reads -----------------------------------------------------------------------

    def channels(self) -> list[str]:
        return sorted(self._registries)

    def registry_id(self, channel: str) -> str:
        """The ID of the channel's Registry object; LedgerError for an unknown channel."""
        if channel not in self._registries:
            raise LedgerError("no such channel in the Sui ledger's configuration",
                              where=f"channel {channel}")
        return self._registries[channel]

    def head(self, channel: str) -> Release | None:
        return self._head(channel, self._registry(channel))

    def history(self, channel: str) -> list[Release]:
        view = self._registry(channel)
        found = {r.seq: r for r in self._published(channel, view.id) if r.seq <= view.seq}
        for seq in range(1, view.seq + 1):
            if seq not in found:
                found[seq] = self._table_release(channel, view, seq)
        releases = [found[seq] for seq in sorted(found)]
        _check_history(channel, releases, head=self._head(channel, view))
        return releases

    def release(self, channel: str, seq: int) -> Release:
        view = self._registry(channel)
        if not 1 <= seq <= view.seq:
            raise LedgerError(f"no release seq {seq}", where=f"channel {channel}")
        return self._table_release(channel, view, seq)

    def publishers(self, channel: str) -> list[str]:
        owners = self._owners(self._registry(channel).publishers)
        held = [o for o in owners.values() if o is not None]
        if len(held) < len(owners):
            log.warning("some publisher caps are not held by an address",
                        extra={"channel": channel})
        return list(dict.fromkeys(held))

    def approvals(self, channel: str, seq: int) -> list[str]:
        """The addresses that approved release `seq`, in the order they did."""
        view = self._registry(channel)
        value = self._table_value(view.approvals_table, seq)
        return [canonical_address(a) for a in (value or {}).get("contents", [])]

    def approval_policy(self, channel: str) -> ApprovalPolicy:
        """The Registry's approvers and threshold."""
        view = self._registry(channel)
        return ApprovalPolicy(view.approvers, view.threshold)

    # --- writes ----------------------------------------------------------------------

    def publish(
        self, channel: str, *, blob_id: str, sha256: str, commit: str, key: Keypair
    ) -> Release:
        for check, value in ((rules.check_blob_id, blob_id), (rules.check_sha256, sha256),
                             (rules.check_commit, commit)):
            check(channel, value)
        view = self._registry(channel)
        head = self._head(channel, view)
        if head is not None and rules.is_noop(head, blob_id=blob_id, sha256=sha256,
                                              commit=commit):
            log.info("commit is already the head", extra=_context(head))
            return head
        cap = self._publisher_cap(channel, view, key)
        args = (cap, view.id, blob_id_to_u256(blob_id), bytes.fromhex(sha256), commit, CLOCK)
        done = self._send(channel, key, [Call("publish", args)])
        release = self._published_by(channel, view, done) or self.head(channel)
        if release is None:
            raise LedgerError(f"transaction {done.digest} published nothing",
                              where=f"channel {channel}")
        log.info("release published", extra={**_context(release), "digest": done.digest})
        return release

    def register_channel(
        self, channel: str, *, admin: Keypair, publishers: Sequence[str]
    ) -> str:
        """Create the channel's Registry object; its ID is what the profile must name."""
        rules.check_new_channel(channel, existing=self._registries)
        recipients = [keys.address_of(p) for p in publishers]
        done = self._send(channel, admin, [Call("create", (channel,))])
        registry_id = self._created(done, "Registry")
        self._registries[channel] = registry_id
        log.info("channel registered: add its registry ID to the configuration",
                 extra={"channel": channel, "registry": registry_id, "digest": done.digest})
        if recipients:
            admin_cap = self._created(done, "AdminCap")
            calls = [Call("add_publisher", (admin_cap, registry_id, r)) for r in recipients]
            self._send(channel, admin, calls)
        return registry_id

    def add_publisher(self, channel: str, *, admin: Keypair, public_key: str) -> None:
        address = keys.address_of(public_key)
        view = self._registry(channel)
        owners = self._owners(view.publishers + view.revoked)
        allowed = {o for c in view.publishers if (o := owners.get(c))}
        revoked = {o for c in view.revoked if (o := owners.get(c))}
        rules.check_new_publisher(channel, address, allowed=allowed, revoked=revoked)
        admin_cap = self._admin_cap(channel, view, admin)
        self._send(channel, admin, [Call("add_publisher", (admin_cap, view.id, address))])
        log.info("publishers changed",
                 extra={"channel": channel, "publisher": address, "action": "add"})

    def revoke_publisher(self, channel: str, *, admin: Keypair, public_key: str) -> None:
        address = keys.address_of(public_key)
        view = self._registry(channel)
        caps = [c for c, o in self._owners(view.publishers).items() if o == address]
        if not caps:
            rules.check_revocable(channel, address, allowed=())
        admin_cap = self._admin_cap(channel, view, admin)
        self._send(channel, admin,
                   [Call("revoke_publisher", (admin_cap, view.id, c)) for c in caps])
        log.info("publishers changed",
                 extra={"channel": channel, "publisher": address, "action": "revoke"})

    def set_approvers(self, channel: str, *, admin: Keypair, approvers: Sequence[str],
                      threshold: int) -> None:
        """Let these addresses approve; `threshold` approvals make a release approved."""
        listed = rules.check_approvers(channel, approvers, threshold)
        view = self._registry(channel)
        admin_cap = self._admin_cap(channel, view, admin, what="its approvers")
        args = (admin_cap, view.id, listed, threshold)
        self._send(channel, admin, [Call("set_approvers", args)])

    def approve(self, channel: str, seq: int, *, key: Keypair) -> int:
        """Approve release `seq` with `key`; the number of approvals it has now."""
        view = self._registry(channel)
        if key.address not in view.approvers:
            raise RuleViolationError(codec.ABORTS[8], where=f"channel {channel}")
        if not 1 <= seq <= view.seq:
            raise LedgerError(f"no release seq {seq}", where=f"channel {channel}")
        self._send(channel, key, [Call("approve", (view.id, seq, CLOCK))])
        return len(self.approvals(channel, seq))

    # --- helpers -----------------------------------------------------------------------

    def _registry(self, channel: str) -> RegistryView:
        registry_id = self.registry_id(channel)
        found = self._client.query(codec.object_query(registry_id)).get("object")
        contents = ((found or {}).get("asMoveObject") or {}).get("contents") or {}
        type_repr = (contents.get("type") or {}).get("repr", "")
        if not type_repr or not _same_type(type_repr, self._type("Registry")):
            raise LedgerError("no registry::Registry object of this package at this ID",
                              where=f"channel {channel} ({registry_id})")
        return RegistryView.parse(registry_id, contents.get("json") or {})

    def _head(self, channel: str, view: RegistryView) -> Release | None:
        if view.head is None:
            if view.seq:
                raise LedgerError(f"registry has seq {view.seq} but no head",
                                  where=f"channel {channel}")
            return None
        head = codec.release_of(channel, view.head)
        if head.seq != view.seq:
            raise LedgerError(f"head is seq {head.seq}, registry says {view.seq}",
                              where=f"channel {channel}")
        return head

    def _published(self, channel: str, registry_id: str) -> Iterator[Release]:
        for node in self._pages(lambda after: codec.events_query(
                self._type("Published"), first=self._options.page_size, after=after),
                "events"):
            body = (node.get("contents") or {}).get("json") or {}
            if body.get("registry") == registry_id:
                yield codec.release_of(channel, body)

    def _table_release(self, channel: str, view: RegistryView, seq: int) -> Release:
        value = self._table_value(view.releases_table, seq)
        if value is None:
            raise LedgerError(f"release seq {seq} is missing from the releases table",
                              where=f"channel {channel}")
        release = codec.release_of(channel, value)
        if release.seq != seq:
            raise LedgerError(f"table entry {seq} holds seq {release.seq}",
                              where=f"channel {channel}")
        return release

    def _table_value(self, table_id: str, key: int) -> dict[str, Any] | None:
        data = self._client.query(codec.dynamic_field_query(table_id, key))
        found = (data.get("address") or {}).get("dynamicField") or {}
        value = (found.get("value") or {}).get("json")
        return value if isinstance(value, dict) else None

    def _pages(self, make: Callable[[str | None], str], root: str) -> Iterator[dict[str, Any]]:
        """Every node of a paged query, page after page."""
        after: str | None = None
        while True:
            page = self._client.query(make(after)).get(root) or {}
            yield from page.get("nodes") or []
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    def _caps(self, owner: str, struct: str, registry_id: str) -> list[str]:
        """IDs of the `struct` caps of `registry_id` that `owner` holds."""
        nodes = self._pages(lambda after: codec.caps_query(
            owner, self._type(struct), first=self._options.page_size, after=after), "objects")
        return [canonical_address(n["address"]) for n in nodes
                if ((n.get("asMoveObject") or {}).get("contents") or {})
                .get("json", {}).get("registry") == registry_id]

    def _owners(self, cap_ids: Sequence[str]) -> dict[str, str | None]:
        """Each cap's owning address (None when an object or no one holds it)."""
        owners: dict[str, str | None] = {}
        for start in range(0, len(cap_ids), codec.PAGE_SIZE):
            chunk = list(cap_ids[start:start + codec.PAGE_SIZE])
            found = self._client.query(codec.owners_query(chunk)).get("multiGetObjects") or []
            for cap_id, obj in zip(chunk, found, strict=False):
                owner = (obj or {}).get("owner") or {}
                address = (owner.get("address") or {}).get("address")
                owners[cap_id] = canonical_address(address) if address else None
        return owners

    def _publisher_cap(self, channel: str, view: RegistryView, key: Keypair) -> str:
        caps = self._caps(key.address, "PublisherCap", view.id)
        where = f"channel {channel}"
        if not caps:
            raise RuleViolationError(f"{key.address} holds no PublisherCap of this channel",
                                     where=where)
        usable = [c for c in caps if c in view.publishers and c not in view.revoked]
        if usable or not self._options.precheck:
            return (usable or caps)[0]
        reason = codec.ABORTS[3] if any(c in view.revoked for c in caps) else codec.ABORTS[2]
        raise RuleViolationError(f"{reason} (publisher {key.address})", where=where)

    def _admin_cap(self, channel: str, view: RegistryView, admin: Keypair, *,
                   what: str = "its publishers") -> str:
        caps = self._caps(admin.address, "AdminCap", view.id)
        if not caps:
            raise RuleViolationError(f"only the channel's admin can change {what} "
                                     f"({admin.address} holds no AdminCap of it)",
                                     where=f"channel {channel}")
        return caps[0]

    def _send(self, channel: str, key: Keypair, calls: list[Call]) -> Executed:
        done = self._client.execute(key, f"{self._package}::registry", calls)
        if not done.success:
            raise codec.abort_error(channel, done.error or {}, digest=done.digest)
        return done

    def _published_by(self, channel: str, view: RegistryView, done: Executed) -> Release | None:
        for type_repr, body in done.events:
            if _same_type(type_repr, self._type("Published")) and body.get("registry") == view.id:
                return codec.release_of(channel, body)
        return None

    def _created(self, done: Executed, struct: str) -> str:
        for object_id, type_repr in done.created:
            if _same_type(type_repr, self._type(struct)):
                return canonical_address(object_id)
        raise LedgerError(f"transaction {done.digest} created no {struct}")

    def _type(self, struct: str) -> str:
        return f"{self._package}::registry::{struct}"


def _checked(address: str, what: str) -> str:
    try:
        return canonical_address(address)
    except ValueError as e:
        raise ConfigError(f"{what} is not a Sui object ID") from e


def _same_type(type_repr: str, expected: str) -> bool:
    package, _, rest = type_repr.partition("::")
    try:
        return f"{canonical_address(package)}::{rest}" == expected
    except ValueError:
        return False


def _check_history(channel: str, releases: list[Release], *, head: Release | None) -> None:
    previous: Release | None = None
    try:
        for release in releases:
            rules.check_seq(channel, release.seq, head_seq=previous.seq if previous else 0)
            rules.check_timestamp(channel, release.timestamp_ms,
                                  previous_ms=previous.timestamp_ms if previous else 0)
            previous = release
    except RuleViolationError as e:
        raise LedgerError(f"history on chain breaks a rule: {e.message}",
                          where=f"channel {channel}") from e
    if previous != head:
        raise LedgerError("the last release of the history is not the registry's head",
                          where=f"channel {channel}")


def _context(release: Release) -> dict[str, object]:
    return {k: getattr(release, k) for k in ("channel", "seq", "blob_id", "commit", "publisher")}
