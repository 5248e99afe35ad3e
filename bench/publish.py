#!/usr/bin/env python3
"""`syncer publish` of bundles of about 10 KiB, 1 MiB and 10 MiB, on the embedded local
profile (local blob store and ledger under a fresh $SYNCER_HOME), in a real git repository.
Baselines, on the same commit: `git archive` of the same sources piped into `sha256sum`
(what any content-addressed publish must at least do), and the Walrus blob ID of the
bundle's bytes alone (`syncer.blobstore.blob_id_of`: RedStuff encoding, 1000 shards).

The repository holds ConfigMaps of about 4 KiB each (plain YAML, 256 per file) in
templates/; publish renders and checks them all. Each measured publish is of a new commit
(one comment changed) that no ledger has seen; one publish ran before, not measured.

Usage: python bench/publish.py [--sizes 10K,1M,10M] [--repeat 3] [--keep]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _harness as h

CHANNEL = "bench-publish"
PER_FILE = 256
OBJECT_BYTES = 4096
SIDES = ("`syncer publish`", "`git archive` into `sha256sum` (baseline)",
         "blob ID of the bundle (baseline)")
BLOB_ID = ("import sys\nfrom syncer.blobstore import blob_id_of\n"
           "print(blob_id_of(open(sys.argv[1], 'rb').read()))")
_UNITS = {"K": 1024, "M": 1024 * 1024}


def parse_size(text: str) -> int:
    unit = text[-1].upper()
    return int(float(text[:-1]) * _UNITS[unit]) if unit in _UNITS else int(text)


def label(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


def templates(size: int) -> dict[str, str]:
    """ConfigMaps adding up to about `size` bytes, less the archive's own overhead."""
    room = max(size - 5 * 1024, 1024)
    count = max(1, room // OBJECT_BYTES)
    payload = max(64, room // count - 100)
    files = {}
    for start in range(0, count, PER_FILE):
        docs = []
        for i in range(start, min(start + PER_FILE, count)):
            docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blob-{i:05d}\n"
                        f"data:\n  index: \"{i}\"\n  payload: {h.filler(i, payload)}\n")
        files[f"templates/configmaps-{start // PER_FILE:03d}.yaml"] = (
            "# revision 0\n" + "---\n".join(docs))
    return files


def newest_blob(home: Path) -> Path:
    blobs = [p for p in (home / "blobs").rglob("*") if p.is_file()]
    return max(blobs, key=lambda p: p.stat().st_mtime_ns)


def bump(repo: h.AppRepo, revision: int) -> None:
    """A new commit of the same size: the first template's comment changes."""
    first = sorted((repo.path / "templates").iterdir())[0]
    text = first.read_text()
    first.write_text(text.replace(f"# revision {revision - 1}\n", f"# revision {revision}\n",
                                  1))
    repo.commit(f"bench: revision {revision}")


def measure(work: Path, size: int, repeat: int) -> tuple[list[list[h.Run]], int]:
    repo = h.app_repo(work / "app", work / "syncer-home", channels={CHANNEL: "bench-publish"},
                      files=templates(size))
    repo.publish()  # warm-up, not measured
    runs: list[list[h.Run]] = [[], [], []]
    bundle_bytes = 0
    env = repo.env()
    for revision in range(1, repeat + 1):
        bump(repo, revision)
        runs[0].append(h.run_child(SIDES[0], h.syncer_cmd("publish", "--channel", CHANNEL),
                                   env=env, cwd=repo.path))
        blob = newest_blob(repo.home)
        bundle_bytes = blob.stat().st_size
        runs[1].append(h.run_child(SIDES[1], [
            "sh", "-c", "git archive --format=tar HEAD syncer.yaml templates | sha256sum"],
            env=env, cwd=repo.path))
        runs[2].append(h.run_child(SIDES[2], [sys.executable, "-c", BLOB_ID, str(blob)],
                                   env=env))
    return runs, bundle_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10K,1M,10M",
                        help="bundle sizes, comma-separated (default 10K,1M,10M)")
    parser.add_argument("--repeat", type=int, default=3, help="publishes per size "
                        "(default 3); the median is reported")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    with h.workdir(args.keep) as work:
        h.header("syncer publish on the local profile (no API server)", None)
        rows = []
        for size in sizes:
            runs, bundle = measure(work / f"size-{size}", size, args.repeat)
            mine = h.median_run(runs[0])
            for name, side in zip(SIDES, runs, strict=True):
                med = h.median_run(side)
                rows.append([label(size), f"{bundle:,}", name, h.seconds(med.seconds),
                             f"{med.peak_rss_mib:.0f}", h.ratio(med.seconds, mine.seconds)])
        print(f"load average at end: {h.load()}")
        print(f"\n{args.repeat} run(s) per side and size; the median is shown")
        h.table(rows, head=["bundle", "bundle bytes", "side", "wall s", "peak RSS MiB",
                            "this ÷ syncer"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
