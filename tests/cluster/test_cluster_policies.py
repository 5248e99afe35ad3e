"""The shipped policies in a real API server: each installed as `syncer policy install`
prints it, each fixture dry-run applied, and the server's verdict (admit, deny with its
message, warn with its header) equal to syncer's local one.

So that the policies touch nothing else in the cluster, each is installed under a name of
this run, its binding limited to the test's two namespaces (`namespaceSelector`), and the
namespace allowlist reads its params from a ConfigMap in the test's namespace; the same
renamed YAML is what the local evaluation reads. The API stand-in's CEL (cel-python) has
none of the Kubernetes extension libraries: on the stand-in only (found by its all-zero
`gitCommit`), a policy calling one is skipped, never on a real server.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from cluster_helpers import APPLY_PATCH, ApiException, Kube, Names, wait_until

from syncer import cel, policy, policyfiles, policyinstall, vap, vapmatch

pytestmark = pytest.mark.cluster

SHIPPED = Path(str(resources.files("syncer").joinpath("data", "policies", "tests",
                                                       "fixtures")))
CASES = Path(__file__).parents[1] / "testdata" / "policies"
ELSEWHERE = "kube-system"  # the bad fixture's namespace, outside the channel's


def fixtures() -> list[tuple[str, dict[str, Any]]]:
    """(label, object) of every namespaced fixture of the installable default policies."""
    found = [(f"{path.name}:{o['kind']}/{o['metadata']['name']}", o)
             for path in (SHIPPED / "good.yaml", SHIPPED / "bad.yaml")
             for o in yaml.safe_load_all(path.read_text()) if o]
    found += [(path.stem, o) for path in sorted(CASES.glob("*.yaml"))
              for o in yaml.safe_load_all(path.read_text()) if o]
    return [(label, o) for label, o in found if o["kind"] not in ("Secret", "Namespace",
                                                                    "ClusterRole")]


def renamed(policies: vap.PolicySet, names: Names, namespaces: list[str]) -> vap.PolicySet:
    """The installable policies under this run's names, bound to its namespaces only."""
    selection = policyinstall.select(policies)
    docs = []
    for obj in copy.deepcopy(list(selection.objects)):
        obj["metadata"]["name"] = f"{names.prefix}-{obj['metadata']['name']}"
        spec = obj["spec"]
        if obj["kind"] == "ValidatingAdmissionPolicyBinding":
            spec["policyName"] = f"{names.prefix}-{spec['policyName']}"
            spec.setdefault("matchResources", {})["namespaceSelector"] = {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In",
                 "values": namespaces}]}
            if "paramRef" in spec:
                spec["paramRef"]["namespace"] = namespaces[0]
        docs.append(("installed", obj))
    return vap.parse(docs)


def on_standin(kube: Kube) -> bool:
    version = kubernetes.client.VersionApi(kube.client).get_code()
    return bool(version.git_commit == "0" * 40)


def uses_extensions(p: vap.Policy) -> bool:
    spec = p.spec
    expressions = [e["expression"] for key in ("variables", "matchConditions", "validations")
                   for e in spec.get(key) or []]
    expressions += [v["messageExpression"] for v in spec.get("validations") or []
                    if "messageExpression" in v]
    return any(cel.extensions_used(e) for e in expressions)


def dry_run(kube: Kube, obj: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    """Server-side apply with dryRun=All: status, body, Warning header."""
    group, _, version = obj["apiVersion"].rpartition("/")
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    meta = obj["metadata"]
    path = (f"{base}/namespaces/{meta['namespace']}/{vapmatch.plural(obj['kind'])}/"
            f"{meta['name']}")
    serialized = kube.client.param_serialize(
        method="PATCH", resource_path=path, body=json.dumps(obj),
        query_params=[("fieldManager", "syncer-policy-test"), ("dryRun", "All"),
                      ("force", "true")],
        header_params={"Accept": "application/json", "Content-Type": APPLY_PATCH},
        auth_settings=["BearerToken"])
    response = kube.client.call_api(*serialized)
    body = json.loads(response.read() or b"{}")
    return response.status, body, response.headers.get("Warning") or ""


def server_verdict(status: int, body: dict[str, Any], warning: str,
                   policy_name: str) -> tuple[str, str]:
    marker = f"ValidatingAdmissionPolicy '{policy_name}' with binding"
    if status >= 400 and marker in str(body.get("message")):
        return "deny", str(body["message"]).split("denied request: ", 1)[1]
    for part in warning.split('299 - "')[1:]:
        if marker in part:
            return "warn", part.rstrip('", ').split(": ", 1)[1]
    return "admit", ""


def local_verdict(found: list[vap.Verdict], policy_name: str) -> tuple[str, str]:
    mine = [v for v in found if v.policy == policy_name]
    denied = [v for v in mine if v.deny]
    if denied:
        return "deny", denied[0].message
    return ("warn", mine[0].message) if mine else ("admit", "")


INSTALLABLE = [p.name for p in policyfiles.defaults().policies if not p.bundle_only]


@pytest.fixture(params=INSTALLABLE)
def installed(request: pytest.FixtureRequest, kube: Kube, names: Names
              ) -> Iterator[tuple[vap.PolicySet, list[str]]]:
    """One shipped policy and its binding, installed under this run's name."""
    namespaces = [names.app, names.namespace("elsewhere")]
    for ns in namespaces:
        kube.core.create_namespace({"metadata": {"name": ns}})
    everything = renamed(policyfiles.defaults(), names, namespaces)
    wanted = f"{names.prefix}-{request.param}"
    policies = vap.PolicySet(tuple(p for p in everything.policies if p.name == wanted),
                             tuple(b for b in everything.bindings if b.policy == wanted))
    if on_standin(kube) and uses_extensions(policies.policies[0]):
        pytest.skip(f"{request.param} calls a Kubernetes CEL extension, which the API "
                    "stand-in's cel-python lacks (a real server runs this case)")
    params = policy.channel_params(None, namespaces[0])
    params["metadata"]["namespace"] = namespaces[0]
    kube.core.create_namespaced_config_map(namespaces[0], params)
    admission = kubernetes.client.AdmissionregistrationV1Api(kube.client)
    try:
        for p in policies.policies:
            admission.create_validating_admission_policy(p.obj)
        for b in policies.bindings:
            admission.create_validating_admission_policy_binding(b.obj)
        yield policies, namespaces
    finally:
        for b in policies.bindings:
            _delete(lambda n=b.name: admission.delete_validating_admission_policy_binding(n))
        for p in policies.policies:
            _delete(lambda n=p.name: admission.delete_validating_admission_policy(n))


def _delete(call: Any) -> None:
    try:
        call()
    except ApiException as e:
        if e.status != 404:
            raise


def place(obj: dict[str, Any], namespaces: list[str]) -> dict[str, Any]:
    placed = copy.deepcopy(obj)
    meta = placed["metadata"]
    meta["namespace"] = namespaces[1] if meta.get("namespace") == ELSEWHERE else namespaces[0]
    meta.setdefault("labels", {})["app.kubernetes.io/managed-by"] = "syncer"
    return placed


def test_every_fixture_gets_the_same_verdict_from_the_server(
        kube: Kube, installed: tuple[vap.PolicySet, list[str]]) -> None:
    policies, namespaces = installed
    [installed_policy] = policies.policies
    params = policy.channel_params(None, namespaces[0])
    params["metadata"]["namespace"] = namespaces[0]
    cases = [(label, place(o, namespaces)) for label, o in fixtures()]
    verdicts = {label: vap.evaluate(policies, [o], namespace=namespaces[0], params=[params])
                for label, o in cases}
    denied = next(o for label, o in cases if any(v.deny for v in verdicts[label]))
    wait_until(lambda: dry_run(kube, denied)[0] >= 400, "the policy to take effect")
    compared = {"admit": 0, "deny": 0, "warn": 0}
    for label, obj in cases:
        local = local_verdict(verdicts[label], installed_policy.name)
        server = server_verdict(*dry_run(kube, obj), installed_policy.name)
        assert server == local, label
        compared[local[0]] += 1
    assert compared["admit"] > 0 and compared["deny"] > 0
