#!/usr/bin/env bash
# Builds the benchmark in release mode and runs both sides; prints a table with ratios.
# Usage: Benchmarks/hdf5/run.sh [MNIST_DIR] [gzip levels...]   (default: /work/shared/datasets/mnist, 4)
set -euo pipefail
cd "$(dirname "$0")"
MNIST=${1:-/work/shared/datasets/mnist}; shift || true
LEVELS=${*:-4}
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
swift build -c release >&2
.build/release/hdf5-bench "$MNIST" "$OUT" $LEVELS > "$OUT/acol.jsonl"
python3 bench_h5py.py "$MNIST" "$OUT" $LEVELS > "$OUT/h5py.jsonl"
python3 report.py "$MNIST" "$OUT/acol.jsonl" "$OUT/h5py.jsonl"
