"""The syncer wheel holds the product alone, and it depends on what the product imports.

The wheel is built from this checkout with hatchling, the project's build backend, as
`pip wheel .` would build it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
# Import name → distribution, for every third-party module the product imports.
DISTRIBUTIONS = {
    "deepdiff": "deepdiff", "git": "gitpython", "httpx": "httpx", "jinja2": "jinja2",
    "kubernetes": "kubernetes", "pysui": "pysui", "pysui_fastcrypto": "pysui-fastcrypto",
    "urllib3": "urllib3", "yaml": "pyyaml", "prometheus_client": "prometheus-client",
    "pyrage": "pyrage", "cryptography": "cryptography", "cel": "common-expression-language",
    "rich": "rich",
    "watchdog": "watchdog",
}
# Required on purpose although nothing imports them yet (each says why in pyproject.toml).
RESERVED: set[str] = set()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
                   cwd=ROOT, check=True, capture_output=True)
    (built,) = out.glob("syncer-*.whl")
    return zipfile.ZipFile(built)


def requirements(wheel: zipfile.ZipFile) -> set[str]:
    """The distributions the wheel requires outside any extra."""
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(name).decode())
    plain = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    return {r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip()
            .lower() for r in plain}


def imported_third_party() -> set[str]:
    """Top-level modules imported anywhere in syncer/ that are not syncer's or the stdlib's."""
    found: set[str] = set()
    for path in (ROOT / "syncer").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "syncer"}


def test_the_wheel_holds_the_product_alone(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert tops == {"syncer", "syncer-0.1.0.dist-info"}
    assert not [n for n in wheel.namelist() if "standins" in n or "/testing/" in n]
    assert "syncer/data/pre-push" in wheel.namelist()


def test_runtime_dependencies_are_what_the_product_imports(wheel: zipfile.ZipFile) -> None:
    imported = imported_third_party()
    assert imported <= set(DISTRIBUTIONS), f"map these to a distribution: {imported}"
    assert requirements(wheel) == {DISTRIBUTIONS[m] for m in imported} | RESERVED
