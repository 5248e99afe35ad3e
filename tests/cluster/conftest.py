"""The cluster tier: opt-in tests against a real Kubernetes cluster (kind, k3d, a cloud
cluster), named by the kubeconfig in $SYNCER_TEST_KUBECONFIG; skipped when it is unset.

Each test works in namespaces of its own, `syncer-t-<run>-<nn>-...` (the run's random id and
the test's number), keeps syncer's inventory in one of them (`--inventory-namespace`), and
names its CRD group `t<nn>.<run>.syncer-test.example.com`. Whatever it made is deleted after
it, pass or fail, and the test waits until it is gone; at the end of the run a sweep of the
run's prefix catches anything a test's own cleanup could not remove. The tests rely on
nothing else in the cluster, so it may hold anything; they need the rights to create
namespaces and CRDs (cluster-admin on a disposable cluster). Run with

    SYNCER_TEST_KUBECONFIG=path/to/kubeconfig .venv/bin/python -m pytest -q tests/cluster

A run killed before its teardown can leave namespaces `syncer-t-*` and CRDs of groups
`*.syncer-test.example.com`: nothing else uses those names, delete them by hand.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import urllib3
from cluster_helpers import CHANNEL, ENV_VAR, GROUP_DOMAIN, ApiException, Kube, Names, Shop
from helpers import edit, git, push_with_hook

RUN_ID = secrets.token_hex(3)
RUN = Names(prefix=f"syncer-t-{RUN_ID}", group=f"{RUN_ID}.{GROUP_DOMAIN}")
_numbers = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(ENV_VAR):
        return
    skip = pytest.mark.skip(reason=f"{ENV_VAR} is not set: set it to the kubeconfig of a "
                            "cluster to run the cluster tier against it")
    for item in items:
        if item.get_closest_marker("cluster"):
            item.add_marker(skip)


def _kubeconfig_path() -> Path:
    value = os.environ.get(ENV_VAR)
    if not value:
        pytest.skip(f"{ENV_VAR} is not set")
    return Path(value)


@pytest.fixture(scope="session")
def kube() -> Iterator[Kube]:
    """The cluster under test; at the end of the run, anything left under the run's prefix
    is deleted."""
    path = _kubeconfig_path()
    client = kubernetes.config.new_client_from_config(config_file=str(path))
    try:
        kubernetes.client.VersionApi(client).get_code()
    except (ApiException, urllib3.exceptions.HTTPError) as e:
        client.close()
        pytest.fail(f"the cluster of {ENV_VAR}={path} does not answer: {e}", pytrace=False)
    cluster = Kube(client)
    yield cluster
    try:
        cluster.remove_all(RUN)
    finally:
        client.close()


@pytest.fixture
def names(kube: Kube) -> Iterator[Names]:
    """This test's namespace prefix and CRD group; everything under them is deleted after
    the test (pass or fail), waiting until it is gone."""
    number = next(_numbers)
    mine = Names(prefix=f"{RUN.prefix}-{number:02d}", group=f"t{number:02d}.{RUN.group}")
    yield mine
    kube.remove_all(mine)


@pytest.fixture
def kubeconfig(monkeypatch: pytest.MonkeyPatch) -> Path:
    """$KUBECONFIG set to the cluster under test, for the syncer commands."""
    path = _kubeconfig_path()
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return path


@pytest.fixture
def shop(app_repo: Path, home: Path, names: Names, kubeconfig: Path, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Shop:
    """The example app with its channels' namespaces made unique, syncer initialised, the
    hook installed and main pushed once: release 1 of shop-dev, not synced yet."""
    for channel in (CHANNEL, "shop-prod"):
        edit(app_repo / "syncer.yaml", f"namespace: {channel}\n",
             f"namespace: {names.namespace(channel)}\n")
    git(app_repo, "commit", "-qam", "Namespaces of this test run")
    monkeypatch.chdir(app_repo)
    monkeypatch.setenv("SYNCER_CHANNEL", CHANNEL)
    push_with_hook(app_repo, home, tmp_path)
    capsys.readouterr()
    return Shop(app_repo, home, names, capsys)
