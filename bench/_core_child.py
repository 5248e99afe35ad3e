#!/usr/bin/env python3
"""The measured side of bench/render_policy_diff.py, one process per run.

    python bench/_core_child.py syncer DIR     syncer's pure core on DIR/app and DIR/live.json
    python bench/_core_child.py safe_load_all DIR      baseline: yaml.safe_load_all of
    python bench/_core_child.py csafe_load_all DIR     DIR/rendered.yaml (pure Python / libyaml)

Prints one JSON line: the phases' seconds and what was found.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

CHANNEL = "bench"
SEQ = 1
BLOB_ID = "bench-blob-id"


def syncer_core(work: Path) -> dict[str, Any]:
    """render → policy → place, decorate → LIST answers parsed → decide (drift) → unified
    diff of each changed object: what a sync does between fetching a bundle and the first
    request to dry-run or apply."""
    from syncer import plan  # noqa: PLC0415 - the imports are part of the cost measured
    from syncer.config import parse_config  # noqa: PLC0415
    from syncer.diff import unified  # noqa: PLC0415
    from syncer.kinds import offline_scope  # noqa: PLC0415
    from syncer.model import Action, ObjectRef  # noqa: PLC0415
    from syncer.policy import enforce  # noqa: PLC0415
    from syncer.render import render_channel  # noqa: PLC0415

    start = time.perf_counter()
    app = work / "app"
    files = {p.relative_to(app).as_posix(): p.read_bytes()
             for p in sorted(app.rglob("*")) if p.is_file()}
    config = parse_config(files["syncer.yaml"])
    channel = config.channel(CHANNEL)
    t_read = time.perf_counter()
    objects = render_channel(files, config=config, channel=channel)
    t_render = time.perf_counter()
    enforce(objects, where=f"release {SEQ} of {CHANNEL}")
    t_policy = time.perf_counter()
    placed = plan.place(objects, scope=offline_scope(objects), namespace=channel.namespace)
    desired = plan.decorate(placed, channel=CHANNEL, seq=SEQ, blob_id=BLOB_ID)
    managed = {}
    for answer in json.loads((work / "live.json").read_bytes()):
        for item in answer["items"]:
            item.setdefault("apiVersion", answer["apiVersion"])
            item.setdefault("kind", answer["kind"].removesuffix("List"))
            managed[ObjectRef.of(item)] = item
    changes = plan.decide(desired, plan.LiveState(managed), list(managed), channel=CHANNEL)
    updates = changes.of(Action.UPDATE, Action.CREATE, Action.PRUNE)
    diff_lines = sum(unified(c.ref, c.live, c.desired).count("\n") for c in updates)
    t_diff = time.perf_counter()
    return {"read_s": t_read - start, "render_s": t_render - t_read,
            "policy_s": t_policy - t_render, "plan_diff_s": t_diff - t_policy,
            "core_s": t_diff - t_read, "objects": len(objects),
            "unchanged": len(changes.of(Action.UNCHANGED)), "changed": len(updates),
            "diff_lines": diff_lines}


def load_all(work: Path, *, libyaml: bool) -> dict[str, Any]:
    import yaml  # noqa: PLC0415

    start = time.perf_counter()
    text = (work / "rendered.yaml").read_text(encoding="utf-8")
    if libyaml:
        docs = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d]
    else:
        docs = [d for d in yaml.safe_load_all(text) if d]
    return {"core_s": time.perf_counter() - start, "objects": len(docs)}


def main() -> int:
    mode, work = sys.argv[1], Path(sys.argv[2])
    if mode == "syncer":
        out = syncer_core(work)
    elif mode in ("safe_load_all", "csafe_load_all"):
        out = load_all(work, libyaml=mode == "csafe_load_all")
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
