"""`python -m syncer_standins.kubeapi`: the stand-in as the demo starts it, in a subprocess."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml


def test_runs_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    command = [sys.executable, "-m", "syncer_standins.kubeapi", "--port", "0",
               "--kubeconfig", str(kubeconfig)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(r"kube-apiserver stand-in listening on (http://127\.0\.0\.1:\d+)\n",
                             line)
        assert found, line
        url = found.group(1)
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == url
        with urllib.request.urlopen(f"{url}/version", timeout=5) as answer:
            assert json.load(answer)["gitVersion"] == "v1.36.2"
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    assert code == 0
