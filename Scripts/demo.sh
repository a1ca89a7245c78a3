#!/usr/bin/env bash
# The main job, end to end, on data shipped in the repository (an MNIST subset):
# installs what is missing, builds acol in release mode, converts the IDX files to an acol data
# set with parents 0-4 / 5-9, trains an ACOL model (2 parents x 5 clusters; the defaults: 44
# epochs on these 3,000 images), scores it, inspects
# the model, runs it on a folder of PNG images, and draws one row of images per cluster.
# Output goes to ./demo-output (or the folder given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
OUT="${1:-demo-output}"
mkdir -p "$OUT"
echo "== building (release)" >&2
swift build -c release --product acol 2>&1 | tail -1 >&2
ACOL="$(swift build -c release --show-bin-path)/acol"

set -x
"$ACOL" convert Fixtures/mnist-small --parents 0-4,5-9 -o "$OUT/mnist-small.h5"
"$ACOL" train "$OUT/mnist-small.h5" -o "$OUT/model.h5" --log "$OUT/train.jsonl"
"$ACOL" eval "$OUT/model.h5" "$OUT/mnist-small.h5"
"$ACOL" inspect "$OUT/model.h5"
"$ACOL" run "$OUT/model.h5" Fixtures/mnist-png --output "$OUT/run.csv"
head -n 6 "$OUT/run.csv"
"$ACOL" montage "$OUT/model.h5" "$OUT/mnist-small.h5" -o "$OUT/clusters.png"
