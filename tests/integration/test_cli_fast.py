"""The fast command-line path, through the `syncer` CLI on real git repositories, the embedded
backends and the Kubernetes API stand-in: an unchanged release is neither fetched nor
rendered again, a damaged or forged cache entry is not trusted, `history` encodes no blob
whose pair is known, and local-profile commands import no client they do not use.

Work saved is shown by log lines (`release loaded from the cache`, `blob ID computed`), by
files removed from under the command and by the modules a fresh interpreter holds: never by
timing."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import commit_and_push, edit, run
from syncer_standins.kubeapi import KubeApiServer

from syncer.blobstore.local import LocalBlobStore
from syncer.config import Home
from syncer.ledger.local import LocalLedger
from syncer.model import Release
from syncer.releasecache import ReleaseCache, load_cached

Forge = Callable[[dict[str, Any]], None]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Callable[[str], int]:
    """How many records with this message the release cache and the blob stores logged."""
    caplog.set_level(logging.INFO, logger="syncer.releasecache")
    caplog.set_level(logging.DEBUG, logger="syncer.blobstore")
    return lambda message: sum(r.getMessage() == message for r in caplog.records)


def head(home: Path) -> Release:
    release = LocalLedger(home / "ledger.sqlite").head("shop-dev")
    assert release is not None
    return release


def entries(home: Path) -> list[Path]:
    return sorted((home / "cache" / "releases").glob("[0-9a-f]*"))


def test_an_unchanged_release_is_neither_fetched_nor_rendered_again(
        pushed: Path, home: Path, api: KubeApiServer, capsys: pytest.CaptureFixture[str],
        logs: Callable[[str], int]) -> None:
    assert run(capsys, "sync")[0] == 0
    assert logs("rendered release cached") == 1
    assert logs("blob ID computed") == 0  # the hook's publish recorded the pair
    (home / "blobs" / head(home).blob_id).unlink()  # nothing left to fetch
    assert run(capsys, "diff")[:2] == (0, "")
    code, out, _ = run(capsys, "show", "1")
    assert code == 0 and "name: shop-config" in out
    assert logs("release loaded from the cache") == 2
    assert logs("rendered release cached") == 1  # not rendered again


def _add_a_secret(entry: dict[str, Any]) -> None:
    entry["objects"].append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                             "data": {"password": "aHVudGVyMg=="}})


def _other_bundle(entry: dict[str, Any]) -> None:
    entry["bundle"] = base64.b64encode(b"other bytes").decode()


def _other_channel(entry: dict[str, Any]) -> None:
    entry["channel"] = "shop-prod"


@pytest.mark.parametrize("forge", [_add_a_secret, _other_bundle, _other_channel])
def test_a_forged_entry_that_fails_a_check_is_rendered_again(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str],
        logs: Callable[[str], int], forge: Forge) -> None:
    code, shown, _ = run(capsys, "show", "1")
    assert code == 0
    [path] = entries(home)
    entry = json.loads(path.read_bytes()[65:])
    forge(entry)
    payload = json.dumps(entry).encode()
    path.write_bytes(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    assert run(capsys, "show", "1")[:2] == (0, shown)
    assert logs("release loaded from the cache") == 0
    assert logs("rendered release cached") == 2  # rendered again, and the entry rewritten
    assert run(capsys, "show", "1")[:2] == (0, shown)
    assert logs("release loaded from the cache") == 1


def test_a_damaged_entry_is_ignored_and_written_again(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str],
        logs: Callable[[str], int]) -> None:
    shown = run(capsys, "show", "1")[1]
    [path] = entries(home)
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b'"shop-config"', b'"forged-name"'))  # checksum now wrong
    assert run(capsys, "show", "1")[:2] == (0, shown)
    assert logs("rendered release cached") == 2
    path.write_bytes(raw[: len(raw) // 2])  # a torn write
    assert run(capsys, "show", "1")[:2] == (0, shown)
    assert logs("rendered release cached") == 3
    assert entries(home) == [path] and path.read_bytes() == raw


def test_a_tampered_blob_is_still_caught(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "show", "1")[0] == 0
    blob = home / "blobs" / head(home).blob_id
    blob.write_bytes(blob.read_bytes().replace(b"shop-config", b"shop-c0nfig"))
    code, out, _ = run(capsys, "history")
    assert code == 1 and "SHA-256 of the bytes is" in out
    for path in entries(home):
        path.unlink()
    code, _, err = run(capsys, "show", "1")
    assert code == 2 and "SHA-256 of the bytes is" in err


def test_history_encodes_no_blob_whose_pair_is_known(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str],
        logs: Callable[[str], int]) -> None:
    for replicas in (2, 3):
        edit(pushed / "values" / "dev.yaml", f"replicas: {replicas - 1}",
             f"replicas: {replicas}")
        commit_and_push(pushed, home, f"{replicas} replicas")
    code, out, _ = run(capsys, "history")
    assert code == 0 and len(out.splitlines()) == 4
    assert logs("blob ID computed") == 0  # each publish recorded its pair
    for path in (home / "cache" / "blob-ids").iterdir():
        path.unlink()
    assert run(capsys, "history")[:2] == (0, out)
    assert logs("blob ID computed") == 3  # once per release, then recorded
    assert run(capsys, "history")[:2] == (0, out)
    assert logs("blob ID computed") == 3


def test_concurrent_commands_share_one_good_entry(
        pushed: Path, home: Path, capsys: pytest.CaptureFixture[str],
        logs: Callable[[str], int]) -> None:
    command = [sys.executable, "-m", "syncer", "show", "1"]
    started = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(4)]
    done = [(*p.communicate(timeout=120), p.returncode) for p in started]
    assert [rc for _, _, rc in done] == [0] * 4, [err for _, err, _ in done]
    assert len({out for out, _, _ in done}) == 1
    assert len(entries(home)) == 1
    assert run(capsys, "show", "1")[:2] == (0, done[0][0])
    assert logs("release loaded from the cache") == 1


def test_releases_with_secret_values_or_values_json_cannot_carry_are_not_cached(
        pushed: Path, home: Path) -> None:
    cache = ReleaseCache.under(Home(home))
    blobs = LocalBlobStore(home / "blobs")
    release = head(home)
    loaded = load_cached(release, blobs=blobs, cache=None)
    data = (home / "blobs" / release.blob_id).read_bytes()
    secret = {"apiVersion": "v1", "kind": "secret", "metadata": {"name": "s"}, "data": {}}
    dated = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"},
             "data": {"since": datetime.date(2026, 1, 1)}}
    for extra in (secret, dated):
        cache.put(dataclasses.replace(loaded, objects=(*loaded.objects, extra)), data)
        assert entries(home) == []
    cache.put(loaded, data)
    assert len(entries(home)) == 1
    assert cache.get(release) == loaded


HEAVY = ("pysui", "kubernetes", "httpx", "jinja2", "deepdiff")


@pytest.mark.parametrize(("args", "allowed"), [
    (["history"], set()),
    (["diff"], {"kubernetes", "jinja2", "deepdiff"}),
    (["sync", "--dry-run"], {"kubernetes", "jinja2", "deepdiff"}),
])
def test_local_profile_commands_import_only_what_they_use(
        pushed: Path, api: KubeApiServer, args: list[str], allowed: set[str]) -> None:
    probe = ("import contextlib, io, json, sys\nfrom syncer.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             f"    code = main({args!r})\n"
             f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & "
             f"{set(HEAVY)!r})]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, env=os.environ.copy())
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code in (0, 1), done.stderr
    assert set(loaded) <= allowed
    assert "pysui" not in loaded and "httpx" not in loaded
