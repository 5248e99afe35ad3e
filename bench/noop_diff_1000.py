#!/usr/bin/env python3
"""No-op check of objects that are already applied and unchanged: `syncer diff` against
`kubectl diff --server-side` (baseline 1) and a Flux-style check (baseline 2: one GET and
one server-side dry-run apply per object, sequential; see bench/_flux_check.py), on the same
API server in the same run. Sizes: 100 and 1,000 ConfigMaps, and 1,000 objects of 4 kinds
(ConfigMap, ServiceAccount, Service, Role), each with their Namespace, to show how the
number of requests grows: with kinds, or with objects.

Set-up (not measured): syncer syncs its release into its own namespace; kubectl applies the
same manifests into another. syncer diff checks syncer's objects, with its cache under
$SYNCER_HOME as the set-up's sync left it, and again with that cache emptied first; kubectl
diff and the Flux-style check read kubectl's (the check dry-runs as their field manager,
`kubectl`).
Each side should find nothing to change (exit 0); a side that finds something (exit 1) is
shown as such, since that is false drift.

Usage: python bench/noop_diff_1000.py [--sizes 100,1000,1000:4] [--repeat 3] [--keep]
(N:K is N objects of K kinds.)
Against a real cluster: KUBECONFIG=path python bench/noop_diff_1000.py
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import _harness as h

TARGET = 20.0  # issue 9: at least 20x faster than kubectl diff --server-side
FLUX_CHECK = Path(__file__).resolve().with_name("_flux_check.py")
SIDES = ("syncer diff", "syncer diff, empty cache", "kubectl diff --server-side",
         "Flux-style GET + dry run")
BASELINES = SIDES[2:]
Size = tuple[int, int]  # objects, kinds


class Setup:
    """One size: syncer's channel and namespace synced, kubectl's namespace applied."""

    def __init__(self, server: h.Server, work: Path, cache: Path, size: Size) -> None:
        suffix = h.tag()
        count, kinds = size
        self.server, self.cache = server, cache
        name = f"{count}-{kinds}k-{suffix}"
        self.ns_syncer, self.ns_kubectl = f"bench-diff-syncer-{name}", f"bench-diff-kubectl-{name}"
        self.channel = f"bench-diff-{name}"
        self.repo = h.app_repo(work / "app", work / "syncer-home",
                               channels={self.channel: self.ns_syncer},
                               files={"templates/objects.yaml":
                                      h.objects(self.ns_syncer, count, kinds=kinds)})
        self.manifest = work / "kubectl.yaml"
        self.manifest.write_text(h.objects(self.ns_kubectl, count, kinds=kinds))

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

        def syncer_diff(label: str = SIDES[0]) -> h.Run:
            return h.run_child(label, server.syncer("diff", "--channel", self.channel),
                               server=server, counter=server.counter(h.syncer_requests),
                               env=self.repo.env(server), cwd=self.repo.path, expect=(0, 1))

        def syncer_diff_cold() -> h.Run:
            shutil.rmtree(self.repo.home / "cache", ignore_errors=True)
            return syncer_diff(SIDES[1])

        def kubectl_diff() -> h.Run:
            return h.run_child(SIDES[2], h.kubectl(server, self.cache, "diff", "--server-side",
                                                   *server.kubectl_flags(validates=False),
                                                   "-f", str(self.manifest)),
                               server=server, counter=server.counter(h.kubectl_requests),
                               expect=(0, 1))

        def flux_check() -> h.Run:
            return h.run_child(SIDES[3], [sys.executable, str(FLUX_CHECK), "-f",
                                          str(self.manifest), "--field-manager", "kubectl"],
                               server=server, env=server.env(),
                               counter=server.counter(_flux_requests), expect=(0, 1))

        return [syncer_diff, syncer_diff_cold, kubectl_diff, flux_check]


def _flux_requests(stderr: str) -> int:
    """The check counts its own requests and says so on stderr."""
    found = [line for line in stderr.splitlines() if line.startswith("api requests: ")]
    return int(found[-1].split(": ", 1)[1]) if found else 0


def parse_sizes(text: str) -> list[Size]:
    sizes = []
    for item in text.split(","):
        count, _, kinds = item.partition(":")
        sizes.append((int(count), int(kinds or 1)))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,1000:4", type=parse_sizes,
                        help="objects[:kinds], comma-separated (default 100,1000,1000:4; "
                        f"at most {len(h.KINDS)} kinds)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side and size "
                        "(default 3); the median is reported, the order of the sides rotates")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    with h.workdir(args.keep) as work, h.api_server(work) as server:
        h.header("no-op check of unchanged objects: syncer diff, kubectl diff --server-side, "
                 "a Flux-style check", server)
        cache = work / "kubectl-cache"
        h.warm_kubectl(server, cache)
        results: dict[Size, list[list[h.Run]]] = {}
        for size in args.sizes:
            setup = Setup(server, work / f"size-{size[0]}-{size[1]}", cache, size)
            try:
                setup.apply()
                results[size] = _measure(setup.sides(), args.repeat)
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


def _report(results: dict[Size, list[list[h.Run]]], repeat: int, server: h.Server) -> None:
    print(f"\n{repeat} run(s) per side and size; the median is shown")
    rows = []
    for (count, kinds), runs in results.items():
        mine = h.median_run(runs[0])
        for label, side in zip(SIDES, runs, strict=True):
            med = h.median_run(side)
            found = "nothing" if all(r.code == 0 for r in side) else "DIFFERENCES (exit 1)"
            rows.append([f"{count:,}", str(kinds), f"`{label}`" + (" (baseline)"
                                                                 if label in BASELINES
                                                                 else ""),
                         found, h.seconds(med.seconds), h.requests_cell(med),
                         f"{med.peak_rss_mib:.0f}", h.ratio(med.seconds, mine.seconds)])
    h.table(rows, head=["objects", "kinds", "no-op check", "found", "wall s", "API requests",
                        "peak RSS MiB", "this ÷ syncer"])
    _differences(results)
    _verdicts(results, server)


def _differences(results: dict[Size, list[list[h.Run]]]) -> None:
    for (count, kinds), runs in results.items():
        for label, side in zip(SIDES, runs, strict=True):
            changed = next((r for r in side if r.code != 0), None)
            if changed is not None:
                print(f"\n{label} on {count:,} objects of {kinds} kind(s) found differences "
                      f"on a no-op; what it printed first:\n{changed.stdout[:1500]}")


def _verdicts(results: dict[Size, list[list[h.Run]]], server: h.Server) -> None:
    largest = max((s for s in results if s[1] == 1), default=max(results))
    runs = results[largest]
    mine, kubectl = h.median_run(runs[0]), h.median_run(runs[2])
    speedup = kubectl.seconds / mine.seconds
    where = " (on the stand-in; the issue's target is for a real API server)" \
        if server.is_standin else ""
    print(f"\ntarget: syncer diff of {largest[0]:,} objects at least {TARGET:g}x faster than "
          f"kubectl diff --server-side: {speedup:.2f}x — {h.verdict(speedup >= TARGET)}{where}")
    counts = {size: h.median_run(r[0]).requests for size, r in results.items()}
    if None in counts.values():
        return
    shown = "; ".join(f"{n} for {c:,} objects of {k} kind(s)" for (c, k), n in counts.items())
    by_kinds: dict[int, set[int | None]] = {}
    for (_, kinds), n in counts.items():
        by_kinds.setdefault(kinds, set()).add(n)
    flat = all(len(ns) == 1 for ns in by_kinds.values())
    print(f"target: syncer's requests grow with kinds, not objects: {shown} — "
          f"{h.verdict(flat)}" + ("" if flat else " (same kinds, different counts)"))


if __name__ == "__main__":
    sys.exit(main())
