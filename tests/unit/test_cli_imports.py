"""The command line loads only what it uses: building the parser (and so `syncer --help`)
imports none of the heavy client libraries. Checked in a fresh interpreter, by the modules it
holds, never by timing. tests/integration/test_cli_fast.py checks the commands themselves."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pysui", "pysui_fastcrypto", "kubernetes", "httpx", "jinja2", "deepdiff", "git",
         "urllib3")


def loaded_after(code: str) -> list[str]:
    """The heavy top-level packages a fresh interpreter holds after running `code`."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & "
             f"{set(HEAVY)!r})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_building_the_parser_imports_no_client_library() -> None:
    assert loaded_after("import syncer.cli; syncer.cli.build_parser()") == []


def test_help_imports_no_client_library() -> None:
    code = ("import contextlib, io, syncer.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    syncer.cli.main(['--help'])\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    syncer.cli.main(['sync', '--help'])")
    assert loaded_after(code) == []


def test_the_public_api_stays_lazy() -> None:
    assert loaded_after("import syncer") == []


def test_policies_load_the_cel_engine_without_its_command_line_tool() -> None:
    # the `cel` package's __init__ imports its CLI (typer, prompt_toolkit, rich): 0.3 s per
    # process that checks a policy, for nothing
    code = ("import syncer.cel, sys\n"
            "assert syncer.cel.evaluate('object.a + 1', {'object': {'a': 1}}) == 2\n"
            "print([m for m in ('typer', 'prompt_toolkit', 'rich', 'cel.cli') "
            "if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
