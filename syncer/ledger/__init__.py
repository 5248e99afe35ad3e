"""The ledger: where a channel's releases are recorded, and who may publish them.

`Ledger` is the protocol both implementations follow: `local.LocalLedger` (a SQLite file,
embedded, no network) and the Sui ledger (the Move package in move/, through pysui). Both apply
the same acceptance rules (`rules`) before they write, so a release the local ledger accepts is
one the contract accepts too.

A channel has an admin key (it registered the channel and alone changes its publishers) and a
list of publisher keys. The admin also sets the channel's approvers (addresses) and threshold:
with a threshold K > 0, syncers apply only releases that K listed approvers approved (see
`syncer.approvals`); approvals are signed by the approvers' keys and, like releases, only ever
added. Keys are given as `keys.Keypair` when they sign and as public keys in
Sui serialized form when they are named; the ledger reports publishers by address.

Errors: an unknown channel or seq is a `LedgerError`; a refused release or channel change a
`RuleViolationError`; a record whose signature or hash chain does not verify a
`LedgerTamperedError`; a malformed public key a `ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from syncer.approvals import ApprovalPolicy
from syncer.keys import Keypair
from syncer.model import Release

__all__ = ["Ledger"]


@runtime_checkable
class Ledger(Protocol):
    """A record of channels, their publishers and their releases; history only grows."""

    def register_channel(
        self, channel: str, *, admin: Keypair, publishers: Sequence[str]
    ) -> str | None:
        """Create `channel`, administered by `admin`, with these publisher public keys.

        Returns the ID of the record the configuration must name to find the channel again
        (on Sui, the channel's Registry object), or None where the name alone finds it.
        RuleViolationError if the channel exists or its name is not a label value.
        """
        ...

    def add_publisher(self, channel: str, *, admin: Keypair, public_key: str) -> None:
        """Allow `public_key` to publish; only the channel's admin may."""
        ...

    def revoke_publisher(self, channel: str, *, admin: Keypair, public_key: str) -> None:
        """Stop `public_key` from publishing, for good; only the channel's admin may."""
        ...

    def channels(self) -> list[str]:
        """The names of all channels, sorted."""
        ...

    def publishers(self, channel: str) -> list[str]:
        """The addresses allowed to publish on `channel` now."""
        ...

    def head(self, channel: str) -> Release | None:
        """The latest release of `channel`, None before the first."""
        ...

    def history(self, channel: str) -> list[Release]:
        """Every release of `channel` in seq order, each verified."""
        ...

    def release(self, channel: str, seq: int) -> Release:
        """Release `seq` of `channel`; LedgerError if there is none."""
        ...

    def publish(
        self, channel: str, *, blob_id: str, sha256: str, commit: str, key: Keypair
    ) -> Release:
        """Append release head + 1 signed by `key` and return it.

        If the head already has this commit and blob_id, nothing is written and the head is
        returned. RuleViolationError if a rule refuses it; then nothing is written either.
        """
        ...

    def set_approvers(self, channel: str, *, admin: Keypair, approvers: Sequence[str],
                      threshold: int) -> None:
        """Replace the approvers (Sui addresses) and the number of approvals a release needs
        (0: none); only the channel's admin may. Approvals already recorded are kept.
        RuleViolationError if an address is listed twice or threshold > len(approvers)."""
        ...

    def approve(self, channel: str, seq: int, *, key: Keypair) -> int:
        """Record `key`'s approval of release `seq`; the approvals it has now.
        RuleViolationError if `key` is not an approver, there is no such release, or `key`
        approved it already."""
        ...

    def approvals(self, channel: str, seq: int) -> list[str]:
        """The addresses that approved release `seq`, in the order they did."""
        ...

    def approval_policy(self, channel: str) -> ApprovalPolicy:
        """The channel's approvers and threshold now (no approvers, 0: no gate)."""
        ...
