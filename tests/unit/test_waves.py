"""Sync waves: the annotation, its bounds, and the order of Namespaces and CRDs."""

from __future__ import annotations

import pytest

from syncer import plan, waves
from syncer.errors import PolicyError
from syncer.model import ObjectRef
from syncer.policy import enforce
from syncer.vap import PolicySet


def cm(name: str, wave: object = None, namespace: str = "shop") -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "namespace": namespace}
    if wave is not None:
        meta["annotations"] = {waves.ANNOTATION_WAVE: wave}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def ns(name: str, wave: object = None) -> dict[str, object]:
    obj = cm(name, wave)
    obj["kind"] = "Namespace"
    del obj["metadata"]["namespace"]  # type: ignore[attr-defined]
    return obj


def crd(group: str, kind: str, wave: object = None) -> dict[str, object]:
    obj = cm(f"{kind.lower()}s.{group}", wave)
    obj.update(apiVersion="apiextensions.k8s.io/v1", kind="CustomResourceDefinition",
               spec={"group": group, "names": {"kind": kind, "plural": f"{kind.lower()}s"}})
    del obj["metadata"]["namespace"]  # type: ignore[attr-defined]
    return obj


@pytest.mark.parametrize(("raw", "wave"), [(None, 0), ("0", 0), ("-1", -1), ("+3", 3),
                                           (" 7 ", 7), (5, 5), ("100", 100), ("-100", -100)])
def test_a_wave_is_an_integer_annotation(raw: object, wave: int) -> None:
    assert waves.wave_of(cm("a", raw)) == wave


@pytest.mark.parametrize("raw", ["one", "1.5", "", "101", "-101", "1e2", "٣", "0x1",
                                 "9" * 5000, True, "--1"])
def test_a_bad_wave_is_refused_naming_the_object(raw: object) -> None:
    with pytest.raises(PolicyError, match=r"^ConfigMap/shop/a: annotation syncer.io/wave must "
                                          r"be an integer from -100 to 100, not "):
        waves.wave_of(cm("a", raw))


def test_a_bad_wave_fails_the_release_policy() -> None:
    with pytest.raises(PolicyError, match="ConfigMap/shop/a: annotation syncer.io/wave"):
        enforce([cm("a", "late")], where="release 3", policies=PolicySet())


def test_an_object_before_its_namespace_or_crd_is_refused() -> None:
    waves.check([ns("shop", "-1"), cm("a", "-1"), crd("example.com", "Widget", "1"),
                 {**cm("w", "1"), "apiVersion": "example.com/v1", "kind": "Widget"}])
    with pytest.raises(PolicyError, match=r"ConfigMap/shop/a: in wave 0, before Namespace shop "
                                          r"\(wave 1\)"):
        waves.check([ns("shop", "1"), cm("a")])
    widget = {**cm("w"), "apiVersion": "example.com/v1", "kind": "Widget"}
    with pytest.raises(PolicyError, match=r"Widget/shop/w: in wave 0, before the CRD of its "
                                          r"kind \(wave 2\)"):
        waves.check([crd("example.com", "Widget", "2"), widget])


def test_admission_webhooks_come_last_and_are_pruned_first() -> None:
    hook = ObjectRef("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "",
                     "checks")
    deploy = ObjectRef("apps", "Deployment", "shop", "web")
    namespace = ObjectRef("", "Namespace", "", "shop")
    ordered = sorted([hook, deploy, namespace], key=plan.apply_order)
    assert ordered == [namespace, deploy, hook]
