#!/usr/bin/env bash
# Checks `acol export` against onnx and onnxruntime: trains two small models on the MNIST subset
# in Fixtures/ (a CNN with BatchNorm in every block, and an MLP with one k per parent and no
# BatchNorm before Z), exports them, runs onnx.checker, and compares onnxruntime's outputs on
# Fixtures/mnist-png with `acol run`: the same cluster (and parent) for every image,
# probabilities within 1e-5 (Scripts/check_onnx.py).
#
#   Scripts/check_onnx.sh
#
# Makes (or reuses) the virtual environment .venv-onnx with onnx, onnxruntime, numpy and Pillow
# from PyPI. Uses the acol binary in $ACOL, else builds the debug one. Work files go to a
# temporary folder, removed at the end. The Swift tests do not need any of this.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

if [ -z "${ACOL:-}" ]; then
    swift build --product acol >/dev/null
    ACOL="$PWD/.build/debug/acol"
fi
VENV=${VENV:-.venv-onnx}
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check onnx==1.23.2 onnxruntime==1.32.0 numpy pillow

work=$(mktemp -d /tmp/acol-check-onnx.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$ACOL" convert Fixtures/mnist-small --parents 0-4,5-9 -o "$work/data.h5" >/dev/null

check() {   # NAME TRAIN-OPTIONS...
    local name=$1; shift
    "$ACOL" train "$work/data.h5" -o "$work/$name.h5" --epochs 1 --limit 1000 --seed 3 --quiet "$@" >/dev/null
    "$ACOL" export "$work/$name.h5" -o "$work/$name.onnx"
    "$ACOL" run "$work/$name.h5" Fixtures/mnist-png --format jsonl -o "$work/$name.jsonl" --quiet
    "$VENV/bin/python" Scripts/check_onnx.py "$work/$name.onnx" "$work/$name.jsonl"
}
check cnn --arch cnn2 --filters 8 --hidden 64 --block-norm
check mlp --arch mlp --hidden 64 -k 3,2 --no-batch-norm

echo "check_onnx.sh: all checks passed in $(( $(date +%s) - started )) s"
