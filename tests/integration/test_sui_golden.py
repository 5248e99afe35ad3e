"""Golden transactions: fixed keys and inputs give fixed transaction bytes.

Against the stand-in's deterministic state (IDs, versions and digests come from counters),
`SuiLedger.publish` and `SuiLedger.approve` must send exactly the transaction recorded in
tests/testdata/sui/: the decoded structure (target, inputs in order, gas) and the SHA-256
of the bytes. The checks below say what the structure must be whatever the fixture holds:
`publish(cap, registry, blob_id, sha256, commit, clock)` with the owned PublisherCap, the
mutable shared Registry, the blob ID as a little-endian u256 (its 32 bytes, as Walrus has
them), the 32-byte SHA-256, the commit String and the Clock 0x6 shared immutably; and a
signature that verifies against the sender.

If the encoding changes on purpose, rerun with SYNCER_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pysui.sui.sui_bcs import bcs
from syncer_standins.sui import SuiGraphQLServer, schema
from syncer_standins.sui.chain import TxRecord
from syncer_standins.sui.schema import schema_dir

from syncer import keys
from syncer.keys import Keypair
from syncer.ledger.sui import SuiLedger, SuiOptions

pytestmark = pytest.mark.skipif(schema_dir() is None, reason=schema.missing())

GOLDEN = Path(__file__).parents[1] / "testdata" / "sui"
# Test-only keys, used nowhere else.
PUBLISHER = "suiprivkey1qprchw44a5qzgpqlvur2qzrv67cc7968vxn2p65c76r6mf0n7s2mkcc9087"
APPROVER = "suiprivkey1qq3z5frqkgsrqruxwj7mgzwqpwqznlts66wrgvjz9f8qy53glh95utk0rs4"
ADMIN = "suiprivkey1qztfxt3vd8vzf30r72nh2x2vm4wr39f86cfjztynll2e40njqs4qsjc6dm2"
BLOB_ID = "M4hsZGc7obRzOe6sBEvBG5FPKvMvd8ob0DuTdPm0Tw0"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
COMMIT = "6ff87c4664981e4397625791c8ea3bbb5f2279a3"
CLOCK_MS = 1_767_225_600_000
GAS_BUDGET = 10_000_000


def uleb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def describe_input(call_arg: Any) -> dict[str, Any]:
    if call_arg.enum_name == "Pure":
        return {"kind": "Pure", "hex": bytes(call_arg.value).hex()}
    arg = call_arg.value
    ref = arg.value
    if arg.enum_name == "SharedObject":
        return {"kind": "SharedObject", "object": ref.ObjectID.to_address_str(),
                "initial_shared_version": ref.SequenceNumber, "mutable": ref.Mutable}
    return {"kind": arg.enum_name, "object": ref.ObjectID.to_address_str(),
            "version": ref.SequenceNumber, "digest": ref.ObjectDigest.to_digest_str()}


def describe(raw: bytes) -> dict[str, Any]:
    """The decoded transaction, as plain data."""
    data = bcs.TransactionData.deserialize(raw).value
    ptb = data.TransactionKind.value
    (command,) = ptb.Command
    call = command.value
    gas = data.GasData
    return {
        "sender": data.Sender.to_address_str(),
        "command": command.enum_name,
        "target": f"{call.Package.to_address_str()}::{call.Module}::{call.Function}",
        "type_arguments": len(call.Type_Arguments),
        "arguments": [f"{a.enum_name}({a.value})" for a in call.Arguments],
        "inputs": [describe_input(i) for i in ptb.Inputs],
        "gas": {"owner": gas.Owner.to_address_str(), "price": gas.Price, "budget": gas.Budget,
                "payment": [describe_input(bcs.CallArg("Object", bcs.ObjectArg(
                    "ImmOrOwnedObject", p))) for p in gas.Payment]},
        "expiration": data.TransactionExpiration.enum_name,
    }


def check_signature(tx: TxRecord, signer: Keypair) -> None:
    (signature,) = tx.signatures
    raw = base64.b64decode(signature)
    assert raw[0] == 0x00 and len(raw) == 97  # Ed25519 flag, signature, public key
    assert base64.b64encode(raw[:1] + raw[65:]).decode() == signer.public_key
    message = hashlib.blake2b(bytes([0, 0, 0]) + tx.tx_bytes, digest_size=32).digest()
    assert keys.verify(signer.public_key, message, base64.b64encode(raw[1:65]).decode())


def compare_with_golden(name: str, tx: TxRecord) -> None:
    actual = {"transaction": describe(tx.tx_bytes),
              "tx_bytes_sha256": hashlib.sha256(tx.tx_bytes).hexdigest(),
              "signature": tx.signatures[0]}
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("SYNCER_UPDATE_GOLDEN"):
        header = (f"# The transaction behind {name}: written by tests/integration/"
                  "test_sui_golden.py\n# with SYNCER_UPDATE_GOLDEN=1. Review every change.\n")
        path.write_text(header + yaml.safe_dump(actual, sort_keys=False), encoding="utf-8")
        pytest.skip(f"golden file {path.name} rewritten")
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert actual["transaction"] == expected["transaction"]
    assert actual["tx_bytes_sha256"] == expected["tx_bytes_sha256"]
    assert actual["signature"] == expected["signature"]


class Setup:
    def __init__(self, sui: SuiGraphQLServer) -> None:
        self.sui = sui
        self.publisher = keys.from_suiprivkey(PUBLISHER)
        self.approver = keys.from_suiprivkey(APPROVER)
        admin = keys.from_suiprivkey(ADMIN)
        self.registry, _ = sui.create_registry("shop-prod", admin.address)
        self.cap = sui.mint_publisher_cap(self.registry, self.publisher.address)
        self.gas = sui.fund(self.publisher.address)
        sui.fund(self.approver.address)
        sui.set_approvers(self.registry, [self.approver.address], 1)
        options = SuiOptions(sui.url, sui.package, {"shop-prod": self.registry},
                             gas_budget=GAS_BUDGET)
        self.ledger = SuiLedger(options)

    def publish(self) -> TxRecord:
        self.ledger.publish("shop-prod", blob_id=BLOB_ID, sha256=SHA256, commit=COMMIT,
                            key=self.publisher)
        return self.sui.transactions[-1]


@pytest.fixture
def setup() -> Iterator[Setup]:
    with SuiGraphQLServer(clock=lambda: CLOCK_MS) as sui:
        ready = Setup(sui)
        yield ready
        ready.ledger.close()


def test_publish_transaction(setup: Setup) -> None:
    tx = setup.publish()
    shown = describe(tx.tx_bytes)
    assert shown["target"] == f"{setup.sui.package}::registry::publish"
    assert shown["sender"] == setup.publisher.address
    assert shown["arguments"] == [f"Input({i})" for i in range(6)]
    cap, registry, blob_id, sha256, commit, clock = shown["inputs"]
    assert (cap["kind"], cap["object"]) == ("ImmOrOwnedObject", setup.cap)
    assert registry == {"kind": "SharedObject", "object": setup.registry,
                        "initial_shared_version": 1, "mutable": True}
    raw_blob_id = base64.urlsafe_b64decode(BLOB_ID + "=")
    assert bytes.fromhex(blob_id["hex"]) == raw_blob_id  # a u256 in BCS: little-endian
    assert int.from_bytes(raw_blob_id, "little").to_bytes(32, "little") == raw_blob_id
    assert sha256["hex"] == "20" + SHA256  # vector<u8>: length 32, then the bytes
    assert bytes.fromhex(commit["hex"]) == uleb128(len(COMMIT)) + COMMIT.encode()
    assert clock == {"kind": "SharedObject", "object": "0x" + "0" * 63 + "6",
                     "initial_shared_version": 1, "mutable": False}
    assert shown["gas"]["payment"][0]["object"] == setup.gas
    check_signature(tx, setup.publisher)
    compare_with_golden("golden-publish", tx)


def test_approve_transaction(setup: Setup) -> None:
    setup.publish()
    setup.ledger.approve("shop-prod", 1, key=setup.approver)
    tx = setup.sui.transactions[-1]
    shown = describe(tx.tx_bytes)
    assert shown["target"] == f"{setup.sui.package}::registry::approve"
    assert shown["sender"] == setup.approver.address
    assert shown["arguments"] == [f"Input({i})" for i in range(3)]
    registry, seq, clock = shown["inputs"]
    assert registry == {"kind": "SharedObject", "object": setup.registry,
                        "initial_shared_version": 1, "mutable": True}
    assert seq == {"kind": "Pure", "hex": (1).to_bytes(8, "little").hex()}  # u64 1
    assert clock == {"kind": "SharedObject", "object": "0x" + "0" * 63 + "6",
                     "initial_shared_version": 1, "mutable": False}
    check_signature(tx, setup.approver)
    compare_with_golden("golden-approve", tx)
