#!/usr/bin/env bash
# The 2-rank test of acol-mpi (docs/scaling.md): 2 ranks against 1, same seed and global batch,
# the same weights after 20 steps (largest difference at most 1e-4 of each tensor's scale).
#   Scripts/test_mpi.sh [OUTPUT_FOLDER]
# Installs Open MPI when it is missing (Scripts/setup.sh --mpi: apt, as root or with sudo),
# builds the nested package MPI/ (release), converts the committed MNIST fixture (one split, so
# the epoch time is training time), trains the default recipe on the mlp preset for 20 steps
# (--limit 2560 at batch 128, one epoch) with
#   mpirun -np 1 acol-mpi train ...        (one rank: exactly `acol train`, no reduction)
#   mpirun -np 2 acol-mpi train ...        (each rank half of every batch, one thread each)
# and compares the two models with acol-weights-diff (the exit status). Then reports, without
# testing, the same for cnn2 and the time per step of both.
set -euo pipefail
cd "$(dirname "$0")/.."
# Open MPI when missing, and a release build of MPI/ (acol-mpi, acol-weights-diff).
Scripts/setup.sh --mpi
OUT="${1:-MPI/.build/test-mpi}"
mkdir -p "$OUT"
# acol itself (for convert), from the same build folder: the main package is MPI/'s dependency.
(cd MPI && swift build -c release --product acol 2>&1 | tail -1 >&2)
BIN="$(cd MPI && swift build -c release --show-bin-path)"
# mpirun as root needs --allow-run-as-root; --oversubscribe lets 2 ranks run where fewer cores
# are free; no binding, so each rank's one thread goes where the kernel puts it; ranks waiting in a
# reduction yield the core rather than spin (the machine may be shared).
MPIRUN=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca mpi_yield_when_idle 1)
"$BIN/acol" convert Fixtures/mnist-small --parents 0-4,5-9 --split train -o "$OUT/mnist-small.h5" >/dev/null
# 20 steps: the first 2560 images at batch 128, one epoch.
TRAIN=(train "$OUT/mnist-small.h5" --limit 2560 --epochs 1 --batch-size 128 --seed 7 --quiet)
seconds() { sed -n 's/.*"seconds" *: *\([0-9.e+-]*\).*/\1/p' "$1" | head -n 1; }
per_step() { awk -v a="$(seconds "$2")" -v b="$(seconds "$3")" -v what="$1" \
    'BEGIN { printf "%s time per step: 1 rank x 2 threads %.3f s, 2 ranks x 1 thread %.3f s\n", what, a / 20, b / 20 }'; }

# The test: the default recipe (two views with augmentation, dropout, BatchNorm before Z, GAR,
# the marginal term) on the mlp preset. The CNN presets cannot be compared this way: their
# training amplifies differences of float rounding into discrete ones within a few steps (even
# 1 against 2 threads of one process differs by 1e-3 to 1e-1 after 20 steps; docs/scaling.md),
# see the report below.
echo "== mlp, default recipe: 1 rank against 2 ranks" >&2
"${MPIRUN[@]}" -np 1 "$BIN/acol-mpi" "${TRAIN[@]}" --arch mlp --threads 2 -o "$OUT/mlp-1.h5" --log "$OUT/mlp-1.jsonl"
"${MPIRUN[@]}" -np 2 "$BIN/acol-mpi" "${TRAIN[@]}" --arch mlp --threads 1 -o "$OUT/mlp-2.h5" --log "$OUT/mlp-2.jsonl"
per_step mlp "$OUT/mlp-1.jsonl" "$OUT/mlp-2.jsonl"
"$BIN/acol-weights-diff" "$OUT/mlp-2.h5" "$OUT/mlp-1.h5" --tolerance 1e-4 > "$OUT/mlp-diff.txt" || status=$?
tail -n 1 "$OUT/mlp-diff.txt"

# A report, not a test: cnn2 (the whole default recipe) for its time per step, with the
# difference of 2 ranks from 1 beside that of 1 thread from 2 in one process.
echo "== cnn2, default recipe: 1 rank against 2 ranks (report only)" >&2
"${MPIRUN[@]}" -np 1 "$BIN/acol-mpi" "${TRAIN[@]}" --threads 2 -o "$OUT/cnn2-1.h5" --log "$OUT/cnn2-1.jsonl"
"${MPIRUN[@]}" -np 2 "$BIN/acol-mpi" "${TRAIN[@]}" --threads 1 -o "$OUT/cnn2-2.h5" --log "$OUT/cnn2-2.jsonl"
"$BIN/acol" "${TRAIN[@]}" --threads 1 -o "$OUT/cnn2-1t.h5" >/dev/null
per_step cnn2 "$OUT/cnn2-1.jsonl" "$OUT/cnn2-2.jsonl"
echo "cnn2, 2 ranks against 1:      $("$BIN/acol-weights-diff" "$OUT/cnn2-2.h5" "$OUT/cnn2-1.h5" | tail -n 1)"
echo "cnn2, 1 thread against 2:     $("$BIN/acol-weights-diff" "$OUT/cnn2-1t.h5" "$OUT/cnn2-1.h5" | tail -n 1)"

# The cnn2 runs of 20 steps differ (above) because the trajectory is chaotic, not the step: after
# 2 steps 2 ranks and 1 process agree to about 1e-4 (a missing reduction of BatchNorm, GAR or a
# gradient would differ by far more in the first step), so this short run is checked.
echo "== cnn2, default recipe, 2 steps: 1 rank against 2 ranks" >&2
SHORT=(train "$OUT/mnist-small.h5" --limit 256 --epochs 1 --batch-size 128 --seed 7 --quiet)
"${MPIRUN[@]}" -np 1 "$BIN/acol-mpi" "${SHORT[@]}" --threads 2 -o "$OUT/cnn2-short-1.h5"
"${MPIRUN[@]}" -np 2 "$BIN/acol-mpi" "${SHORT[@]}" --threads 1 -o "$OUT/cnn2-short-2.h5"
"$BIN/acol-weights-diff" "$OUT/cnn2-short-2.h5" "$OUT/cnn2-short-1.h5" --tolerance 1e-3 > "$OUT/cnn2-short-diff.txt" || status=$?
echo "cnn2, 2 steps, 2 ranks against 1: $(tail -n 1 "$OUT/cnn2-short-diff.txt")"
exit "${status:-0}"
