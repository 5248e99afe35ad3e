#!/usr/bin/env python3
"""syncer's pure core on 100, 1,000 and 10,000 objects: render (Jinja2 and plain YAML),
policy, place and decorate, parse the LIST answers, decide drift object by object and write
the unified diff of each changed object. No API server: the live objects are read from a
file. Baselines: parsing the same objects, written as one YAML stream, with PyYAML's
`yaml.safe_load_all` (the pure-Python loader) and with `yaml.load_all(Loader=CSafeLoader)`
(libyaml).

The app repository: a third each of ConfigMaps (plain YAML files), Deployments and Services
(Jinja2 templates with a loop, values from values/common.yaml), 200 objects of a kind per
file. The live objects are what the kube-apiserver stand-in answers for one object of each
kind applied by syncer (defaults, managedFields, status), repeated with each object's name;
1 object in 100 was edited live, so that the plan finds it and diffs it. Each side is one
child process (bench/_core_child.py): wall time and peak RSS are the whole process's,
interpreter start and imports included; the core's own seconds come from inside it.

Usage: python bench/render_policy_diff.py [--sizes 100,1000,10000] [--repeat 1] [--keep]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _harness as h
import yaml
from _core_child import BLOB_ID, CHANNEL, SEQ

CHILD = Path(__file__).resolve().with_name("_core_child.py")
NAMESPACE = "bench-core"
KINDS = ("ConfigMap", "Deployment", "Service")  # object i is of kind KINDS[i % 3]
PER_FILE = 200
EDITED_EVERY = 100  # object i was edited live when i % 100 == 50
TARGET_SECONDS, TARGET_MIB = 5.0, 300.0  # issue 9, for 10,000 objects
SIDES = ("syncer render + policy + diff", "yaml.safe_load_all (baseline)",
         "yaml.load_all, CSafeLoader (baseline)")
MODES = ("syncer", "safe_load_all", "csafe_load_all")

CONFIG = f"""version: 1
sources: [templates, values]
templates: templates
channels:
  {CHANNEL}:
    branch: main
    namespace: {NAMESPACE}
    values: [values/common.yaml]
"""
VALUES = """image: registry.example.com/shop/web
tag: "1.4.2"
replicas: 2
logLevel: info
cpu: 100m
memory: 128Mi
cpuLimit: 500m
memoryLimit: 256Mi
"""
DEPLOYMENT = """{% for i in range(START, STOP, 3) %}{% set n = "app-i" ~ ("%05d"|format(i)) %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ n }}
  labels:
    app: {{ n }}
    tier: web
spec:
  replicas: {{ values.replicas }}
  selector:
    matchLabels:
      app: {{ n }}
  template:
    metadata:
      labels:
        app: {{ n }}
        tier: web
    spec:
      containers:
        - name: web
          image: "{{ values.image }}:{{ values.tag }}"
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: "{{ values.logLevel }}"
            - name: INSTANCE
              value: "{{ n }}"
          resources:
            requests: {cpu: "{{ values.cpu }}", memory: "{{ values.memory }}"}
            limits: {cpu: "{{ values.cpuLimit }}", memory: "{{ values.memoryLimit }}"}
{% endfor %}"""
SERVICE = """{% for i in range(START, STOP, 3) %}{% set n = "app-i" ~ ("%05d"|format(i)) %}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ n }}
  labels:
    app: {{ n }}
spec:
  selector:
    app: {{ n }}
  ports:
    - name: http
      port: 80
      targetPort: http
{% endfor %}"""


def token(i: int) -> str:
    return f"i{i:05d}"


def configmap(i: int) -> str:
    n = f"app-{token(i)}"
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n  labels:\n"
            f"    app: {n}\ndata:\n  LOG_LEVEL: info\n  GREETING: hello from {n}\n"
            f"  settings.yaml: |\n    listen: 8080\n    upstream: {n}.{NAMESPACE}.svc\n"
            f"    retries: 3\n")


def app_files(count: int) -> dict[str, str]:
    """The app repository of `count` objects: path → text."""
    files = {"syncer.yaml": CONFIG, "values/common.yaml": VALUES}
    span = 3 * PER_FILE
    for start in range(0, count, span):
        stop = min(start + span, count)
        chunk = f"{start // span:03d}"
        cms = [configmap(i) for i in range(start, stop) if i % 3 == 0]
        if cms:
            files[f"templates/configmaps-{chunk}.yaml"] = "---\n".join(cms)
        for offset, name, text in ((1, "deployments", DEPLOYMENT), (2, "services", SERVICE)):
            if start + offset < stop:
                body = text.replace("START", str(start + offset)).replace("STOP", str(stop))
                files[f"templates/{name}-{chunk}.yaml.j2"] = body
    return files


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def rendered(files: dict[str, str]) -> list[dict[str, Any]]:
    """The objects the repository renders to, undecorated (syncer's own render)."""
    from syncer.config import parse_config  # noqa: PLC0415
    from syncer.render import render_channel  # noqa: PLC0415

    raw = {path: text.encode() for path, text in files.items()}
    config = parse_config(raw["syncer.yaml"])
    return render_channel(raw, config=config, channel=config.channel(CHANNEL))


def live_samples(work: Path) -> dict[str, dict[str, Any]]:
    """What a kube-apiserver answers for objects 0, 1 and 2 (one of each kind) applied by
    syncer: the stand-in in this process, through syncer's own cluster client."""
    from syncer import plan  # noqa: PLC0415
    from syncer.cluster import connect  # noqa: PLC0415
    from syncer.kinds import offline_scope  # noqa: PLC0415
    from syncer.model import ObjectRef  # noqa: PLC0415

    objects = rendered(app_files(3))
    placed = plan.place(objects, scope=offline_scope(objects), namespace=NAMESPACE)
    desired = plan.decorate(placed, channel=CHANNEL, seq=SEQ, blob_id=BLOB_ID)
    with h.standin_server() as server:
        cluster = connect(kubeconfig=server.write_kubeconfig(work / "kubeconfig"))
        discovery = cluster.discover()
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        cluster.apply(namespace, discovery.require("", "Namespace"))
        for obj in desired:
            cluster.apply(obj, discovery.of(ObjectRef.of(obj)))
        samples: dict[str, dict[str, Any]] = {}
        for _ in range(3):  # a few requests later: the controllers have written status
            for obj in desired:
                ref = ObjectRef.of(obj)
                found = cluster.get(discovery.of(ref), namespace=ref.namespace, name=ref.name)
                assert found is not None
                samples[ref.kind] = found
    return samples


def live_objects(count: int, samples: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Object i as the server holds it: the sample of its kind under its own name, edited
    by hand for 1 object in 100."""
    texts = {kind: json.dumps(obj) for kind, obj in samples.items()}
    for i in range(count):
        kind = KINDS[i % 3]
        obj = json.loads(texts[kind].replace(token(KINDS.index(kind)), token(i)))
        if i % EDITED_EVERY == EDITED_EVERY // 2:
            _edit(obj)
        yield obj


def _edit(obj: dict[str, Any]) -> None:
    if obj["kind"] == "ConfigMap":
        obj["data"]["GREETING"] = "edited by hand"
    elif obj["kind"] == "Deployment":
        obj["spec"]["replicas"] = 5
    else:
        obj["spec"]["ports"][0]["port"] = 8080


def list_answers(objects: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    """One LIST answer per kind; items carry no apiVersion and kind, as a server's don't."""
    answers: dict[str, dict[str, Any]] = {}
    for obj in objects:
        item = copy.copy(obj)
        api_version, kind = item.pop("apiVersion"), item.pop("kind")
        answer = answers.setdefault(kind, {"apiVersion": api_version, "kind": f"{kind}List",
                                           "metadata": {"resourceVersion": "1"}, "items": []})
        answer["items"].append(item)
    return list(answers.values())


def prepare(work: Path, count: int, samples: dict[str, dict[str, Any]]) -> int:
    """Write DIR/app, DIR/live.json and DIR/rendered.yaml; the number of edited objects."""
    files = app_files(count)
    write(work / "app", files)
    (work / "live.json").write_text(json.dumps(list_answers(live_objects(count, samples))))
    objects = rendered(files)
    with open(work / "rendered.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump_all(objects, f, sort_keys=False)
    return sum(1 for i in range(count) if i % EDITED_EVERY == EDITED_EVERY // 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="object counts, comma-separated (default 100,1000,10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side and size "
                        "(default 3); the median is reported")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with h.workdir(args.keep) as work:
        h.header("render + policy + diff (syncer's pure core), no API server", None)
        samples = live_samples(work)
        results: dict[int, list[tuple[h.Run, dict[str, Any]]]] = {}
        for count in sizes:
            where = work / f"size-{count}"
            edited = prepare(where, count, samples)
            results[count] = [_measure(mode, where, args.repeat) for mode in MODES]
            found = results[count][0][1]
            if found["changed"] != edited:
                print(f"WARNING: {count:,} objects, {edited} edited live, but the plan "
                      f"changes {found['changed']}: false drift or missed drift")
        print(f"load average at end: {h.load()}")
        _report(results, args.repeat)
    return 0


def _measure(mode: str, where: Path, repeat: int) -> tuple[h.Run, dict[str, Any]]:
    runs = [h.run_child(mode, [sys.executable, str(CHILD), mode, str(where)])
            for _ in range(repeat)]
    best = h.median_run(runs)
    return best, json.loads(best.stdout.strip().splitlines()[-1])


def _report(results: dict[int, list[tuple[h.Run, dict[str, Any]]]], repeat: int) -> None:
    print(f"\n{repeat} run(s) per side and size; the median (by process wall time) is shown")
    rows = []
    for count, sides in results.items():
        mine = sides[0][0]
        for label, (run, inside) in zip(SIDES, sides, strict=True):
            rows.append([f"{count:,}", label, h.seconds(run.seconds),
                         h.seconds(inside["core_s"]), f"{run.peak_rss_mib:.0f}",
                         h.ratio(run.seconds, mine.seconds)])
    h.table(rows, head=["objects", "side", "process wall s", "core s", "peak RSS MiB",
                        "this ÷ syncer (wall)"])
    print("\nsyncer's phases (seconds, median run): read files, render, policy, "
          "plan + diff; changed objects found / diff lines")
    for count, sides in results.items():
        d = sides[0][1]
        print(f"  {count:>6,}: read {d['read_s']:.3f}, render {d['render_s']:.3f}, policy "
              f"{d['policy_s']:.3f}, plan + diff {d['plan_diff_s']:.3f}; {d['changed']} "
              f"changed / {d['diff_lines']} diff lines")
    largest = max(results)
    run = results[largest][0][0]
    if largest >= 10_000:
        print(f"\ntarget: {largest:,} objects in under {TARGET_SECONDS:g} s: "
              f"{h.seconds(run.seconds)} s (whole process) — "
              f"{h.verdict(run.seconds < TARGET_SECONDS)}")
        print(f"target: {largest:,} objects in under {TARGET_MIB:g} MiB: "
              f"{run.peak_rss_mib:.0f} MiB peak RSS — "
              f"{h.verdict(run.peak_rss_mib < TARGET_MIB)}")


if __name__ == "__main__":
    sys.exit(main())
