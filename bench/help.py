#!/usr/bin/env python3
"""`syncer --help` (the console script of this environment) against `python -c pass` with
the same interpreter (the baseline: starting Python at all). Each is run several times;
the median and the fastest are shown.

Usage: python bench/help.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import sys

import _harness as h

TARGET = 0.3  # issue 9: syncer --help under 0.3 s
SIDES = {
    "`syncer --help`": h.syncer_cmd("--help"),
    "`syncer --version`": h.syncer_cmd("--version"),
    "`python -c pass` (baseline)": [sys.executable, "-c", "pass"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per side (default 10)")
    args = parser.parse_args()
    h.header("syncer --help", None)
    for cmd in SIDES.values():  # once each, not measured: files in the page cache
        h.run_child("warm-up", cmd)
    runs: dict[str, list[h.Run]] = {name: [] for name in SIDES}
    for _ in range(args.repeat):
        for name, cmd in SIDES.items():
            runs[name].append(h.run_child(name, cmd))
    print(f"load average at end: {h.load()}")
    mine = h.median_run(runs["`syncer --help`"])
    rows = []
    for name, side in runs.items():
        med = h.median_run(side)
        fastest = min(r.seconds for r in side)
        rows.append([name, h.seconds(med.seconds), h.seconds(fastest),
                     f"{med.peak_rss_mib:.0f}", h.ratio(med.seconds, mine.seconds)])
    print(f"\n{args.repeat} runs per side, interleaved")
    h.table(rows, head=["command", "median wall s", "fastest s", "peak RSS MiB",
                        "this ÷ syncer --help"])
    print(f"\ntarget: syncer --help under {TARGET:g} s: median {h.seconds(mine.seconds)} s — "
          f"{h.verdict(mine.seconds < TARGET)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
