#!/usr/bin/env python3
"""No-op check of objects that are already applied and unchanged: `syncer diff` against
`kubectl diff --server-side` (baseline 1) and a Flux-style check (baseline 2: one GET and
one server-side dry-run apply per object, sequential; see bench/_flux_check.py), on the same
API server in the same run, for 100 and 1,000 ConfigMaps (+ their Namespace), to show how
the number of requests grows.

Set-up (not measured): syncer syncs its release into its own namespace; kubectl applies the
same manifests into another. syncer diff checks syncer's objects; kubectl diff and the
Flux-style check read kubectl's (the check dry-runs as their field manager, `kubectl`).
Every side must find nothing to change (exit 0); anything else stops the benchmark.

Usage: python bench/noop_diff_1000.py [--sizes 100,1000] [--repeat 3] [--keep]
Against a real cluster: KUBECONFIG=path python bench/noop_diff_1000.py
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import _harness as h

TARGET = 20.0  # issue 9: at least 20x faster than kubectl diff --server-side
FLUX_CHECK = Path(__file__).resolve().with_name("_flux_check.py")
SIDES = ("syncer diff", "kubectl diff --server-side", "Flux-style GET + dry run")


class Setup:
    """One size: syncer's channel and namespace synced, kubectl's namespace applied."""

    def __init__(self, server: h.Server, work: Path, cache: Path, count: int) -> None:
        suffix = h.tag()
        self.server, self.cache, self.count = server, cache, count
        self.ns_syncer = f"bench-diff-syncer-{count}-{suffix}"
        self.ns_kubectl = f"bench-diff-kubectl-{count}-{suffix}"
        self.channel = f"bench-diff-{count}-{suffix}"
        self.repo = h.app_repo(work / "app", work / "syncer-home",
                               channels={self.channel: self.ns_syncer},
                               files={"templates/objects.yaml":
                                      h.configmaps(self.ns_syncer, count)})
        self.manifest = work / "kubectl.yaml"
        self.manifest.write_text(h.configmaps(self.ns_kubectl, count))

    def apply(self) -> None:
        self.repo.publish()
        h.quiet(h.syncer_cmd("sync", "--channel", self.channel), env=self.repo.env(self.server),
                cwd=self.repo.path)
        h.quiet(h.kubectl(self.server, self.cache, "apply", "--server-side",
                          *self.server.kubectl_flags(), "-f", str(self.manifest)))

    def clean(self) -> None:
        h.delete_namespaces(self.server, self.cache, [self.ns_syncer, self.ns_kubectl])
        h.cleanup_syncer(self.server, self.cache, [self.channel])

    def sides(self) -> list[Callable[[], h.Run]]:
        server = self.server

        def syncer_diff() -> h.Run:
            return h.run_child(SIDES[0], h.syncer_cmd(*server.syncer_flags(), "diff",
                                                      "--channel", self.channel),
                               server=server, counter=server.counter(h.syncer_requests),
                               env=self.repo.env(server), cwd=self.repo.path)

        def kubectl_diff() -> h.Run:
            return h.run_child(SIDES[1], h.kubectl(server, self.cache, "diff", "--server-side",
                                                   *server.kubectl_flags(validates=False),
                                                   "-f",
                                                   str(self.manifest)),
                               server=server, counter=server.counter(h.kubectl_requests))

        def flux_check() -> h.Run:
            return h.run_child(SIDES[2], [sys.executable, str(FLUX_CHECK), "-f",
                                          str(self.manifest), "--field-manager", "kubectl"],
                               server=server, env=server.env(),
                               counter=server.counter(_flux_requests))

        return [syncer_diff, kubectl_diff, flux_check]


def _flux_requests(stderr: str) -> int:
    """The check counts its own requests and says so on stderr."""
    found = [line for line in stderr.splitlines() if line.startswith("api requests: ")]
    return int(found[-1].split(": ", 1)[1]) if found else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000",
                        help="object counts, comma-separated (default 100,1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side and size "
                        "(default 3); the median is reported, the order of the sides rotates")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with h.workdir(args.keep) as work, h.api_server(work) as server:
        h.header("no-op check of unchanged objects: syncer diff, kubectl diff --server-side, "
                 "a Flux-style check", server)
        cache = work / "kubectl-cache"
        h.warm_kubectl(server, cache)
        results: dict[int, list[list[h.Run]]] = {}
        for count in sizes:
            setup = Setup(server, work / f"size-{count}", cache, count)
            try:
                setup.apply()
                results[count] = _measure(setup.sides(), args.repeat)
            finally:
                setup.clean()
        print(f"load average at end: {h.load()}")
        _report(results, args.repeat, server)
    return 0


def _measure(sides: list[Callable[[], h.Run]], repeat: int) -> list[list[h.Run]]:
    runs: list[list[h.Run]] = [[] for _ in sides]
    for index in range(repeat):
        order = list(range(len(sides)))
        order = order[index % len(order):] + order[:index % len(order)]
        for side in order:
            runs[side].append(sides[side]())
    return runs


def _report(results: dict[int, list[list[h.Run]]], repeat: int, server: h.Server) -> None:
    print(f"\n{repeat} run(s) per side and size; the median is shown")
    rows = []
    for count, runs in results.items():
        mine = h.median_run(runs[0])
        for label, side in zip(SIDES, runs, strict=True):
            med = h.median_run(side)
            rows.append([f"{count:,}", f"`{label}`" + (" (baseline)" if side is not runs[0]
                                                       else ""),
                         h.seconds(med.seconds), h.requests_cell(med),
                         f"{med.peak_rss_mib:.0f}", h.ratio(med.seconds, mine.seconds)])
    h.table(rows, head=["objects", "no-op check", "wall s", "API requests", "peak RSS MiB",
                        "this ÷ syncer"])
    _verdicts(results, server)


def _verdicts(results: dict[int, list[list[h.Run]]], server: h.Server) -> None:
    largest = max(results)
    runs = results[largest]
    mine, kubectl = h.median_run(runs[0]), h.median_run(runs[1])
    speedup = kubectl.seconds / mine.seconds
    where = " (on the stand-in; the issue's target is for a real API server)" \
        if server.is_standin else ""
    print(f"\ntarget: syncer diff of {largest:,} objects at least {TARGET:g}x faster than "
          f"kubectl diff --server-side: {speedup:.2f}x — {h.verdict(speedup >= TARGET)}{where}")
    counts = {count: h.median_run(r[0]).requests for count, r in results.items()}
    if len(counts) > 1 and None not in counts.values():
        shown = ", ".join(f"{n} requests for {c:,} objects" for c, n in counts.items())
        grows = len(set(counts.values())) > 1
        print(f"target: syncer's requests grow with kinds, not objects: {shown} — "
              f"{h.verdict(not grows)}")


if __name__ == "__main__":
    sys.exit(main())
