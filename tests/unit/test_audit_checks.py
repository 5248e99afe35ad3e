"""The pure parts of the audit: the history's order and a bundle against its commit."""

from __future__ import annotations

from dataclasses import replace

from syncer.audit import Status, chain_checks, files_check
from syncer.bundle import CommitInfo, build, unpack
from syncer.model import Release

INFO = CommitInfo("c" * 40, "t" * 40, "Ada", "ada@example.com", 0, "first")
FILES = {"syncer.yaml": b"channels: {}\n", "templates/a.yaml": b"kind: A\n"}


def release(seq: int, ms: int, commit: str = "c" * 40) -> Release:
    return Release("dev", seq, "b" * 43, "s" * 64, commit, "0x1", ms)


def test_seqs_in_order_and_times_that_never_go_back_pass() -> None:
    checks = chain_checks([release(1, 5), release(2, 5), release(3, 9)])
    assert [c.status for c in checks] == [Status.OK] * 3


def test_a_gap_and_a_time_going_back_fail_on_their_release() -> None:
    checks = chain_checks([release(1, 5), release(3, 6), release(3, 4)])
    assert [c.status for c in checks] == [Status.OK, Status.FAIL, Status.FAIL]
    assert checks[1].detail == "seq 3 where 2 was expected"
    assert checks[2].detail == "published before release 3"


def test_the_bundle_of_the_commit_is_its_files_byte_for_byte() -> None:
    data = build(INFO, FILES)
    check = files_check(unpack(data).manifest, data, commit=INFO, files=FILES,
                        release=release(1, 0))
    assert (check.status, check.detail) == (
        Status.OK, "the bundle built again is the blob, byte for byte")


def test_files_added_removed_or_changed_are_named() -> None:
    data = build(INFO, {**FILES, "templates/b.yaml": b"kind: B\n"})
    committed = {"syncer.yaml": FILES["syncer.yaml"], "templates/a.yaml": b"kind: Z\n",
                 "templates/c.yaml": b"kind: C\n"}
    check = files_check(unpack(data).manifest, data, commit=INFO, files=committed,
                        release=release(1, 0))
    assert check.status is Status.FAIL
    assert check.detail == ("the bundle differs from commit cccccccccccc: templates/a.yaml has "
                            "another SHA-256; templates/b.yaml is in the bundle, not in the "
                            "commit; templates/c.yaml is in the commit, not in the bundle")


def test_a_bundle_of_another_commit_or_tree_fails() -> None:
    data = build(INFO, FILES)
    other = files_check(unpack(data).manifest, data, commit=INFO, files=FILES,
                        release=release(1, 0, commit="d" * 40))
    assert other.detail == "the bundle is of commit cccccccccccc, the release records dddddddddddd"
    moved = replace(INFO, tree="e" * 40)
    tree = files_check(unpack(data).manifest, data, commit=moved, files=FILES,
                       release=release(1, 0))
    assert (tree.status, tree.detail) == (
        Status.FAIL, "the manifest names tree tttttttttttt, the commit has tree eeeeeeeeeeee")
