#!/usr/bin/env python3
"""A Flux-style drift check, the second baseline of bench/noop_diff_1000.py.

What Flux's kustomize-controller does per object (fluxcd/pkg, `ssa.ResourceManager.Diff`),
one object after the other: GET the live object, server-side apply it with `dryRun=All`
(force, its field manager), and call it drifted when the dry run's labels, annotations or
anything outside `metadata` and `status` differ from the live object's. Done here with the
official `kubernetes` Python client; discovery is read once per group version the
manifests use, as a controller's REST mapper holds it.

Usage: python bench/_flux_check.py -f MANIFESTS.yaml [--field-manager NAME]
Exit 0 when nothing drifted, 1 when something did (each drifted object is named); the last
line on stderr is `api requests: N`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote

import kubernetes
import yaml

_requests = 0

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", dest="manifests", required=True)
    parser.add_argument("--field-manager", default="kustomize-controller")
    args = parser.parse_args()
    with open(args.manifests, encoding="utf-8") as f:
        objects = [o for o in yaml.load_all(f, Loader=yaml.CSafeLoader) if o]
    api = kubernetes.config.new_client_from_config()
    resources = _discover(api, {o["apiVersion"] for o in objects})
    drifted = 0
    for obj in objects:
        path = _path(resources, obj)
        live = _call(api, "GET", path)
        dry = _call(api, "PATCH", path, body=obj,
                    query=[("fieldManager", args.field_manager), ("force", "true"),
                           ("dryRun", "All")])
        if _comparable(dry) != _comparable(live):
            drifted += 1
            print(f"drifted: {obj['kind']}/{obj['metadata']['name']}")
    print(f"{len(objects)} objects checked, {drifted} drifted")
    print(f"api requests: {_requests}", file=sys.stderr)
    return 1 if drifted else 0


def _discover(api: Any, api_versions: set[str]) -> dict[tuple[str, str], tuple[str, bool]]:
    """(apiVersion, kind) → (plural, namespaced), one GET per group version."""
    found = {}
    for api_version in sorted(api_versions):
        base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        for res in _call(api, "GET", base).get("resources", []):
            if "/" not in res["name"]:
                found[(api_version, res["kind"])] = (res["name"], bool(res["namespaced"]))
    return found


def _path(resources: dict[tuple[str, str], tuple[str, bool]], obj: dict[str, Any]) -> str:
    api_version, meta = obj["apiVersion"], obj["metadata"]
    plural, namespaced = resources[(api_version, obj["kind"])]
    base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    if namespaced:
        base += f"/namespaces/{quote(meta['namespace'], safe='')}"
    return f"{base}/{plural}/{quote(meta['name'], safe='')}"


def _call(api: Any, method: str, path: str, *, body: Any = None,
          query: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    global _requests  # noqa: PLW0603 - a script's one counter
    _requests += 1
    content = "application/apply-patch+yaml" if method == "PATCH" else "application/json"
    request = api.param_serialize(method=method, resource_path=path, query_params=query or [],
                                  header_params={"Accept": "application/json",
                                                 "Content-Type": content},
                                  body=body, auth_settings=["BearerToken"])
    response = api.call_api(*request)
    raw = response.read()
    if not 200 <= response.status < 300:
        raise SystemExit(f"{method} {path}: HTTP {response.status}: {raw[:300]!r}")
    answer: dict[str, Any] = json.loads(raw)
    return answer


def _comparable(obj: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """What Flux's `hasDrifted` compares: labels, annotations, the rest without metadata and
    status."""
    meta = obj.get("metadata") or {}
    rest = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    return meta.get("labels") or {}, meta.get("annotations") or {}, rest


if __name__ == "__main__":
    sys.exit(main())
