#!/usr/bin/env bash
# Every benchmark, one after the other, with their default sizes; the output of each is
# also kept in bench/results/<name>.txt. Against a real cluster: KUBECONFIG=path bench/run_all.sh
# Run it on a quiet machine: the numbers are wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
mkdir -p bench/results
for name in help render_policy_diff publish apply_1000 noop_diff_1000; do
    echo "== bench/$name.py"
    "$python" "bench/$name.py" | tee "bench/results/$name.txt"
    echo
done
