#!/usr/bin/env bash
# The GPU check, on a lent CUDA machine with no network (see benchmarks/gpu_check.py):
#   here:       python benchmarks/gpu_check.py prepare
#   the device: run(command="bash benchmarks/gpu_check.sh", carry=[".gpu_check"], timeout_s=600)
# Writes $OUT/gpu_check.json (or ./gpu_check.json without $OUT) after every phase, and
# $OUT/gpu_check.log. Extra arguments go to `gpu_check.py run` (e.g. --skip pos_en_de_compiled).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .gpu_check/encoder.e5s1 ] || { echo "no .gpu_check/: run 'python benchmarks/gpu_check.py prepare' first" >&2; exit 2; }
PY=${PYTHON:-python3}
work=$(mktemp -d)
mkdir -p "$work/site"
tar xJf .gpu_check/site.tar.xz -C "$work/site"
tar xJf .gpu_check/data.tar.xz -C "$work"
# The package's metadata (its spaCy entry points) as an install would leave it; the code stays the tree's.
"$PY" -m pip install -q --no-deps --no-index --no-build-isolation --no-compile --target "$work/pkg" . >/dev/null 2>&1 \
  && rm -rf "$work/pkg/xdomain_nlp" || echo "could not install the package's metadata: spaCy factories come from an import"
export PYTHONPATH="$work/site:$PWD:$work/pkg" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export XDOMAIN_NLP_DATA="$work/data" XDOMAIN_NLP_CACHE="$work/cache"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
out=${OUT:-.}
set -o pipefail
timeout "${GPU_CHECK_TIMEOUT:-540}" "$PY" benchmarks/gpu_check.py run --data "$work/data" "$@" 2>&1 | tee "$out/gpu_check.log" | grep -v "it/s\]$" || true
