"""ValidatingAdmissionPolicies evaluated locally: the default set on its fixtures, the CEL
extensions, errors, matching, params, and a real kube-apiserver's verdicts replayed."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from syncer_standins import specs

from syncer import cel, policy, policyfiles, policytest, vap, vapeval
from syncer.config import ChannelConfig
from syncer.errors import CelError, PolicyError

TESTDATA = Path(__file__).parents[1] / "testdata" / "policies"
CHANNEL = ChannelConfig("shop-dev", "shop", namespaces=("shop-jobs",))
CASES = sorted(TESTDATA.glob("*--*--*.yaml"))


def verdicts_of(objects: list[dict[str, Any]], policies: vap.PolicySet | None = None
                ) -> list[vap.Verdict]:
    return policy.check(objects, policies or policyfiles.defaults(), channel=CHANNEL)


# --- the default set --------------------------------------------------------------------------

def test_the_default_sets_own_test_passes() -> None:
    """A good and a bad object per default policy (shipped with the package)."""
    base = Path(str(resources.files("syncer").joinpath("data", "policies", "tests")))
    test = policytest.parse_test(yaml.safe_load((base / "defaults.yaml").read_text()),
                                 where="defaults.yaml")
    objects = [o for r in test.resources for o in yaml.safe_load_all((base / r).read_text())
               if o]
    outcomes = policytest.run_test(test, policyfiles.defaults(), objects, where="defaults")
    assert [(o.expected.policy, o.expected.resource, o.got) for o in outcomes if not o.passed
            ] == []
    tested = {o.expected.policy for o in outcomes if o.got == "deny"}
    assert tested == {p.name for p in policyfiles.defaults().policies}
    assert {o.expected.policy for o in outcomes if o.got == "admit"} == tested


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_a_default_policy_on_its_fixture(path: Path) -> None:
    name, expected, _ = path.stem.split("--")
    objects = [o for o in yaml.safe_load_all(path.read_text()) if o]
    mine = [v for v in verdicts_of(objects) if v.policy == name]
    assert ("deny" if any(v.deny for v in mine) else "admit") == expected, mine
    others = [v for v in verdicts_of(objects) if v.policy != name]
    assert others == []  # each fixture breaks at most its own policy


def test_the_plaintext_secret_policy_is_bundle_only_and_names_no_value() -> None:
    only = [p.name for p in policyfiles.defaults().policies if p.bundle_only]
    assert only == ["syncer-no-plaintext-secret"]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
              "data": {"password": "aHVudGVyMg=="}}
    with pytest.raises(PolicyError) as caught:
        policy.enforce([secret], where="channel c", policies=policyfiles.defaults())
    assert "Secret/db" in str(caught.value) and "aHVudGVyMg" not in str(caught.value)


def test_a_channel_with_several_namespaces_allows_each() -> None:
    objects = [{"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": ns}} for ns in ("shop", "shop-jobs")]
    assert verdicts_of(objects) == []
    alone = ChannelConfig("shop-dev", "shop")
    found = policy.check(objects, policyfiles.defaults(), channel=alone)
    assert [v.ref for v in found] == ["ConfigMap/shop-jobs/a"]


# --- CEL and its extensions -------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "value"), [
    ("quantity('500m').isLessThan(quantity('1'))", True),
    ("quantity('2Gi').compareTo(quantity('1024Mi'))", 1),
    ("quantity('1Gi').compareTo(quantity('1073741824'))", 0),
    ("quantity('1k').asInteger()", 1000),
    ("quantity('1.5').isInteger()", False),
    ("quantity('250m').asApproximateFloat()", 0.25),
    ("quantity('1').add(quantity('500m')).compareTo(quantity('1500m'))", 0),
    ("quantity('1').sub(2).sign()", -1),
    ("isQuantity('10Mi') && !isQuantity('ten')", True),
    ("'Hello'.lowerAscii() + 'x'.upperAscii()", "helloX"),
    ("'a,b,c'.split(',')", ["a", "b", "c"]),
    ("'a,b,c'.split(',', 2)", ["a", "b,c"]),
    ("['a', 'b'].join('-')", "a-b"),
    ("'aXbX'.replace('X', '.')", "a.b."),
    ("'  x '.trim()", "x"),
    ("'abcabc'.indexOf('c') + 'abcabc'.lastIndexOf('a')", 5),
    ("'abcdef'.substring(2, 4)", "cd"),
    ("'abc'.charAt(1)", "b"),
    ("'%s has %d items'.format(['cart', 3])", "cart has 3 items"),
    ("[1, 2, 2].isSorted() && ![2, 1].isSorted()", True),
    ("[1, 2, 3].sum()", 6),
    ("[3, 1, 2].min() + [3, 1, 2].max()", 4),
    ("[5, 6, 7].indexOf(6)", 1),
    ("'nginx:1.25'.find('[0-9.]+$')", "1.25"),
    ("'a1b22c333'.findAll('[0-9]+')", ["1", "22", "333"]),
    ("'a1b22c333'.findAll('[0-9]+', 2)", ["1", "22"]),
])
def test_the_kubernetes_extensions(expression: str, value: Any) -> None:
    assert cel.evaluate(expression, {}) == value


@pytest.mark.parametrize(("expression", "named"), [
    ("url('https://x').getHost() == 'x'", "url"),
    ("isIP('10.0.0.1')", "isIP"),
    ("cidr('10.0.0.0/8').containsIP('10.0.0.1')", "cidr"),
    ("object.?spec.?replicas.orValue(1) > 0", "optional field selection"),
])
def test_an_unsupported_extension_is_named(expression: str, named: str) -> None:
    with pytest.raises(CelError, match=named):
        cel.compile_expression(expression)


def test_each_expression_is_compiled_once() -> None:
    expression = "object.metadata.name.size() > 0 && 'compiled-once' != ''"
    cel.compile_expression.cache_clear()
    for name in ("a", "b", "c"):
        cel.evaluate(expression, {"object": {"metadata": {"name": name}}})
    assert cel.compile_expression.cache_info().misses == 1


# --- errors and failurePolicy ----------------------------------------------------------------

def one_policy(validation: dict[str, Any], *, failure: str = "Fail",
               actions: tuple[str, ...] = ("Deny",), extra: dict[str, Any] | None = None
               ) -> vap.PolicySet:
    spec = {"failurePolicy": failure, "validations": [validation], **(extra or {}),
            "matchConstraints": {"resourceRules": [{
                "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                "resources": ["configmaps"]}]}}
    return vap.parse([("p.yaml", {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "p"}, "spec": spec}), ("p.yaml", {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"},
        "spec": {"policyName": "p", "validationActions": list(actions)}})])


CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"},
      "data": {"size": "3"}}


def test_a_cel_error_names_the_policy_validation_and_expression() -> None:
    found = vap.evaluate(one_policy({"expression": "object.spec.replicas > 1"}), [CM])
    assert len(found) == 1 and found[0].deny
    line = str(found[0])
    assert "ValidatingAdmissionPolicy 'p'" in line and "spec.validations[0]" in line
    assert "'object.spec.replicas > 1'" in line and "\n" not in line


def test_a_compile_error_denies_with_fail_and_warns_with_ignore() -> None:
    broken = {"expression": "object.data.size ==="}
    [denied] = vap.evaluate(one_policy(broken), [CM])
    assert denied.deny and "does not compile" in denied.message
    [warned] = vap.evaluate(one_policy(broken, failure="Ignore"), [CM])
    assert not warned.deny and "ignored: failurePolicy Ignore" in warned.message


def test_messages_message_expression_then_message_then_the_expression() -> None:
    rule = {"expression": "int(object.data.size) > 5",
            "messageExpression": "'size ' + object.data.size + ' is too small'",
            "message": "too small"}
    assert vap.evaluate(one_policy(rule), [CM])[0].message == "size 3 is too small"
    rule["messageExpression"] = "object.nothing"
    assert vap.evaluate(one_policy(rule), [CM])[0].message == "too small"
    del rule["message"], rule["messageExpression"]
    assert vap.evaluate(one_policy(rule), [CM])[0].message == (
        "failed expression: int(object.data.size) > 5")


def test_warn_and_audit_warn_deny_denies() -> None:
    rule = {"expression": "false", "message": "no"}
    assert [v.deny for v in vap.evaluate(one_policy(rule, actions=("Warn",)), [CM])] == [False]
    assert [v.deny for v in vap.evaluate(one_policy(rule, actions=("Audit",)), [CM])] == [False]
    warnings = policy.enforce([CM], where="w", policies=one_policy(rule, actions=("Warn",)))
    assert [w.message for w in warnings] == ["no"]
    with pytest.raises(PolicyError, match=r"^w: ConfigMap/shop/c: ValidatingAdmissionPolicy "
                                          r"'p' with binding 'b' denied request: no$"):
        policy.enforce([CM], where="w", policies=one_policy(rule))


def test_variables_and_match_conditions() -> None:
    extra = {"variables": [{"name": "n", "expression": "int(object.data.size)"}],
             "matchConditions": [{"name": "big", "expression": "variables.n > 2"}]}
    rule = {"expression": "variables.n < 3", "message": "too big"}
    assert [v.message for v in vap.evaluate(one_policy(rule, extra=extra), [CM])] == ["too big"]
    small = {**CM, "data": {"size": "1"}}
    assert vap.evaluate(one_policy(rule, extra=extra), [small]) == []


def test_params_by_paramref_and_parameter_not_found() -> None:
    rule = {"expression": "int(object.data.size) <= int(params.data.max)", "message": "big"}
    policies = one_policy(rule, extra={"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}})
    binding = policies.bindings[0]
    limits = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "limits", "namespace": "shop"}, "data": {"max": "2"}}
    for action, expected in (("Deny", ["no params found for policy binding with Deny "
                                       "parameterNotFoundAction"]), ("Allow", [])):
        spec = {**binding.spec, "paramRef": {"name": "limits",
                                             "parameterNotFoundAction": action}}
        bound = vap.PolicySet(policies.policies, (vap.Binding(
            "b", "p", ("Deny",), spec, "p.yaml", binding.obj),))
        assert [v.message for v in vap.evaluate(bound, [CM])] == expected
        assert [v.message for v in vap.evaluate(bound, [CM], params=[limits])] == ["big"]


@pytest.mark.parametrize(("doc", "problem"), [
    ({"kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"}, "spec": {}},
     "spec.validations must list"),
    ({"kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"},
      "spec": {"validations": [{"expression": 1}]}}, r"spec.validations\[0\].expression"),
    ({"kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"},
      "spec": {"policyName": "p", "validationActions": ["Block"]}}, "validationActions"),
])
def test_a_malformed_policy_is_named(doc: dict[str, Any], problem: str) -> None:
    doc = {"apiVersion": "admissionregistration.k8s.io/v1", **doc}
    with pytest.raises(PolicyError, match=rf"^bad.yaml: .*{problem}"):
        vap.parse([("bad.yaml", doc)])


# --- matching ------------------------------------------------------------------------------

def matched(constraints: dict[str, Any], objects: list[dict[str, Any]]) -> list[str]:
    rule = {"expression": "false", "message": "matched"}
    policies = one_policy(rule)
    spec = {**policies.policies[0].spec, "matchConstraints": constraints}
    pset = vap.PolicySet((vap.Policy("p", spec, "p.yaml", policies.policies[0].obj),),
                         policies.bindings)
    return [v.ref for v in vap.evaluate(pset, objects, namespace="shop")]


ALL = {"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}
OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "prod", "labels": {"env": "prod"}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "prod",
                                                          "labels": {"tier": "web"}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
     "metadata": {"name": "r"}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}},
]


@pytest.mark.parametrize(("constraints", "refs"), [
    ({"resourceRules": [{**ALL, "apiGroups": ["apps"]}]}, ["Deployment/d"]),
    ({"resourceRules": [{**ALL, "resources": ["ingresses"]}]}, ["Ingress/i"]),
    ({"resourceRules": [{**ALL, "operations": ["DELETE"]}]}, []),
    ({"resourceRules": [{**ALL, "scope": "Cluster"}]}, ["Namespace/prod", "ClusterRole/r"]),
    ({"resourceRules": [{**ALL, "resources": ["configmaps"], "resourceNames": ["b"]}]},
     ["ConfigMap/b"]),
    ({"resourceRules": [ALL], "excludeResourceRules": [{**ALL, "apiGroups": [""]}]},
     ["Deployment/d", "ClusterRole/r", "Ingress/i"]),
    ({"resourceRules": [{**ALL, "resources": ["configmaps"]}],
      "namespaceSelector": {"matchLabels": {"env": "prod"}}}, ["ConfigMap/prod/a"]),
    ({"resourceRules": [{**ALL, "resources": ["configmaps"]}],
      "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}},
     ["ConfigMap/b"]),
    ({"resourceRules": [ALL], "objectSelector": {"matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["web", "api"]}]}}, ["ConfigMap/prod/a"]),
    ({"resourceRules": [{**ALL, "resources": ["configmaps", "namespaces"]}],
      "objectSelector": {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}},
     ["ConfigMap/prod/a", "ConfigMap/b"]),
])
def test_match_constraints_and_selectors(constraints: dict[str, Any], refs: list[str]) -> None:
    assert matched(constraints, OBJECTS) == refs


# --- a real kube-apiserver's verdicts ----------------------------------------------------------

POLICY_FILES = ["112-post-vap-max-replicas.json", "113-post-vap-no-latest.json",
                "114-post-vap-binding-max-replicas.json",
                "115-post-vap-binding-no-latest.json"]
VERDICTS = ["116-ssa-dryrun-replicas-7-denied.json", "117-ssa-dryrun-latest-image-warning.json",
            "118-ssa-dryrun-valid-deployment.json"]


def transcript(name: str) -> dict[str, Any]:
    folder = specs.find("kubernetes", name)
    if folder is None:
        pytest.skip(specs.missing("kubernetes", name))
    loaded: dict[str, Any] = json.loads((folder / name).read_text())
    return loaded


@pytest.mark.parametrize("name", VERDICTS)
def test_the_local_verdict_is_the_servers(name: str) -> None:
    policies = vap.parse((f, transcript(f)["request"]["body"]) for f in POLICY_FILES)
    recorded = transcript(name)
    obj = yaml.safe_load(recorded["request"]["body"])
    found = vap.evaluate(policies, [obj], namespace="default")
    response = recorded["response"]
    denied = [v for v in found if v.deny]
    warned = [v for v in found if not v.deny]
    if response["status"] >= 400:
        [verdict] = denied
        assert response["body"]["message"].endswith(str(verdict).split(": ", 1)[1])
        assert response["body"]["reason"] == verdict.reason
    else:
        assert denied == []
    header = response["headers"].get("Warning")
    expected = [] if header is None else [header.split(' "', 1)[1].rstrip('"')]
    assert [str(v).split(": ", 1)[1] for v in warned] == expected


def test_variables_are_renamed_outside_string_literals_only() -> None:
    names = (("a", "syncer_v_1"),)
    assert vapeval.rewrite("variables.a + 'variables.a' + \"variables.a\" + x.variables.a",
                           names) == ("syncer_v_1 + 'variables.a' + \"variables.a\" + "
                                      "x.variables.a")
    assert vapeval.rewrite("has(variables.a.b) && variables.zz", names) == (
        "has(syncer_v_1.b) && variables.zz")
