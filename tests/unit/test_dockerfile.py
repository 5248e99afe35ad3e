"""The Dockerfile, checked where no Docker engine is needed: what it is built from, who it
runs as, what it runs, and that the Deployment of `syncer install` runs the image as the
image expects (its entrypoint, its user, its $SYNCER_HOME)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from syncer import install
from syncer.cli import build_parser

ROOT = Path(__file__).parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines()]
    found = [ln.split(None, 1) for ln in lines if ln and not ln.startswith("#")]
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "") for parts in found]


def of(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


def container() -> dict[str, Any]:
    (deployment,) = [o for o in install.build().objects if o["kind"] == "Deployment"]
    (found,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(found)


def pod_user() -> int:
    (deployment,) = [o for o in install.build().objects if o["kind"] == "Deployment"]
    return int(deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"])


def image_user() -> tuple[int, int]:
    (user,) = of("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit(), f"USER {user} is not numeric uid:gid"
    return int(uid), int(gid)


def env() -> dict[str, str]:
    pairs = re.findall(r"(\w+)=(\S+)", " ".join(of("ENV")))
    return dict(pairs)


def test_two_stages_from_a_pinned_python_3_11_slim() -> None:
    (arg,) = [a for a in of("ARG") if a.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim(-[a-z]+)?", arg)
    stages = of("FROM")
    assert len(stages) == 2
    assert all(s.split()[0] == "${PYTHON_IMAGE}" for s in stages)


def test_it_runs_as_a_numeric_user_that_is_not_root() -> None:
    uid, gid = image_user()
    assert uid != 0 and gid != 0
    assert pod_user() == uid


def test_the_entrypoint_is_the_console_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    (entrypoint,) = of("ENTRYPOINT")
    assert json.loads(entrypoint) == ["syncer"]
    assert scripts["syncer"] == "syncer.cli:main"


def test_only_the_wheel_is_installed() -> None:
    runs = " ".join(of("RUN"))
    assert "pip wheel --no-deps" in runs and "/dist/syncer-*.whl" in runs
    assert not re.search(r"\[(test|demo)\]|standins|pytest", runs)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1:].count("!tests/") == 0
    assert "!standins/" not in ignored and ignored.index("*") < ignored.index("!syncer/")


def test_the_deployment_runs_the_image_as_it_expects() -> None:
    found = container()
    assert "command" not in found  # the image's ENTRYPOINT, `syncer`, stays
    values = {e["name"]: e.get("value") for e in found["env"]}
    assert values["SYNCER_HOME"] == env()["SYNCER_HOME"]
    for args in command_lines():
        before = args[:args.index("run")]  # syncer's global options, then its command
        assert build_parser().parse_args([*before, "install"]).command == "install"


def command_lines() -> list[list[str]]:
    """The syncer command lines of the Deployment and of the image's CMD."""
    (cmd,) = of("CMD")
    return [container()["args"], json.loads(cmd)]


def test_syncer_run_takes_the_deployments_flags() -> None:
    for args in command_lines():
        assert build_parser().parse_args(args).command == "run"
