#!/usr/bin/env python3
"""First apply of 1,000 ConfigMaps and their Namespace: `syncer sync` against `kubectl apply
--server-side` (the baseline), on the same API server in the same run.

Each side applies the same manifests into its own fresh namespace (new names every run), so
that neither finds anything the other wrote. syncer's release is published beforehand (not
measured); kubectl reads the same objects from one file. Both sides' tools have run once
before the measurement (kubectl's discovery cache is warm; syncer published the release from
the same $SYNCER_HOME). Everything is deleted afterwards.

Usage: python bench/apply_1000.py [--objects N] [--repeat N] [--keep]
Against a real cluster: KUBECONFIG=path python bench/apply_1000.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _harness as h

TARGET = 8.0  # issue 9: at least 8x faster than kubectl apply --server-side


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=1000, help="ConfigMaps (default 1000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (default 1); "
                        "the median is reported, the sides alternate who goes first")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    with h.workdir(args.keep) as work, h.api_server(work) as server:
        h.header(f"first apply of {args.objects:,} ConfigMaps + 1 Namespace", server)
        cache = work / "kubectl-cache"
        h.warm_kubectl(server, cache)
        ours, theirs = [], []
        for index in range(args.repeat):
            pair = _one_round(server, work / f"round-{index}", cache, args.objects,
                              syncer_first=index % 2 == 0)
            ours.append(pair[0])
            theirs.append(pair[1])
        _report(ours, theirs, server, args.objects)
    return 0


def _one_round(server: h.Server, work: Path, cache: Path, count: int, *,
               syncer_first: bool) -> tuple[h.Run, h.Run]:
    suffix = h.tag()
    ns_syncer, ns_kubectl = f"bench-apply-syncer-{suffix}", f"bench-apply-kubectl-{suffix}"
    channel = f"bench-apply-{suffix}"
    repo = h.app_repo(work / "app", work / "syncer-home", channels={channel: ns_syncer},
                      files={"templates/objects.yaml": h.objects(ns_syncer, count)})
    repo.publish()
    manifest = work / "kubectl.yaml"
    manifest.write_text(h.objects(ns_kubectl, count))
    try:
        def ours() -> h.Run:
            return h.run_child("syncer sync", server.syncer("sync", "--channel", channel),
                               server=server, counter=server.counter(h.syncer_requests),
                               env=repo.env(server), cwd=repo.path)

        def theirs() -> h.Run:
            return h.run_child("kubectl apply --server-side",
                               h.kubectl(server, cache, "apply", "--server-side",
                                         *server.kubectl_flags(), "-f", str(manifest)),
                               server=server, counter=server.counter(h.kubectl_requests))

        if syncer_first:
            first, second = ours(), theirs()
            return first, second
        second, first = theirs(), ours()
        return first, second
    finally:
        h.delete_namespaces(server, cache, [ns_syncer, ns_kubectl])
        h.cleanup_syncer(server, cache, [channel])


def _report(ours: list[h.Run], theirs: list[h.Run], server: h.Server, count: int) -> None:
    mine, base = h.median_run(ours), h.median_run(theirs)
    print(f"load average at end: {h.load()}")
    print(f"\n{len(ours)} run(s) per side; median shown"
          + (f" (syncer: {', '.join(h.seconds(r.seconds) for r in ours)} s; kubectl: "
             f"{', '.join(h.seconds(r.seconds) for r in theirs)} s)" if len(ours) > 1 else ""))
    h.table([
        ["`syncer sync`", h.seconds(mine.seconds), h.requests_cell(mine),
         f"{mine.peak_rss_mib:.0f}", "1.00x"],
        ["`kubectl apply --server-side` (baseline)", h.seconds(base.seconds),
         h.requests_cell(base), f"{base.peak_rss_mib:.0f}", h.ratio(base.seconds, mine.seconds)],
    ], head=[f"first apply, {count:,} ConfigMaps + 1 Namespace", "wall s", "API requests",
             "peak RSS MiB", "baseline ÷ syncer"])
    speedup = base.seconds / mine.seconds
    print(f"\ntarget: syncer at least {TARGET:g}x faster than kubectl apply --server-side: "
          f"{speedup:.2f}x — {h.verdict(speedup >= TARGET)}"
          + ("" if not server.is_standin else " (on the stand-in; the issue's target is "
             "for a real API server)"))


if __name__ == "__main__":
    sys.exit(main())
