#!/usr/bin/env bash
# The GPU check, on a lent CUDA machine with no internet (see benchmarks/gpu_check.py):
#   here:       python benchmarks/gpu_check.py prepare
#   the device: run(command="bash benchmarks/gpu_check.sh", carry=[".gpu_check"], timeout_s=420)
# Writes $OUT/gpu_check.json (or ./gpu_check.json without $OUT). Extra arguments go to `run`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .gpu_check/encoder ] || { echo "no .gpu_check/: run 'python benchmarks/gpu_check.py prepare' first" >&2; exit 2; }
PY=${PYTHON:-python3}
site=$(mktemp -d)
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" .gpu_check/wheels/*.whl
export PYTHONPATH="$site:$PWD" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 XDOMAIN_NLP_CACHE="$(mktemp -d)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 400 "$PY" benchmarks/gpu_check.py run "$@"
