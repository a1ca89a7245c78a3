#!/usr/bin/env bash
# acol run against Pillow + PyTorch (torch_run_png.py) on one PNG folder, alternating.
#
# Usage: Benchmarks/peer/run_png_compare.sh MODEL.h5 FOLDER [RUNS]   (RUNS default 5)
# MODEL.h5: an `mlp` model (the peer runs the same MLP); FOLDER: e.g. from make_png_folder.py.
#
# One warm-up run of each side comes first and is not counted: the first pass over a folder
# reads the files from disk, whichever tool runs it. Then RUNS runs of each, in the order
# AB BA AB ... Each side's images/s is what it prints itself (the clock starts after the file
# list and the model are ready); wall time and peak memory are /usr/bin/time's. Prints every run
# and the medians with the ratio acol / peer.
set -euo pipefail
MODEL=${1:?usage: run_png_compare.sh MODEL.h5 FOLDER [RUNS]}
FOLDER=${2:?usage: run_png_compare.sh MODEL.h5 FOLDER [RUNS]}
RUNS=${3:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
ACOL=${ACOL:-$HERE/../../.build/release/acol}
[[ -x $ACOL ]] || { echo "run_png_compare.sh: $ACOL not built (swift build -c release)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "run_png_compare.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

one() {  # one(side, n) -> appends "rate wall rss" to $TMP/side
    local side=$1 log=$TMP/$1.$2.log
    rm -f "$TMP/acol.csv" "$TMP/torch.csv"
    if [[ $side == acol ]]; then
        /usr/bin/time -f 'WALL %e RSS %M' "$ACOL" run "$MODEL" "$FOLDER" -o "$TMP/acol.csv" 2> "$log" > /dev/null
    else
        /usr/bin/time -f 'WALL %e RSS %M' python3 "$HERE/torch_run_png.py" "$FOLDER" -o "$TMP/torch.csv" 2> "$log" > /dev/null
    fi
    local rate wall rss
    rate=$(grep -o '[0-9.,]* images/s' "$log" | tail -1 | tr -d ', ' | sed 's/images\/s//')
    wall=$(awk '/^WALL/ {print $2}' "$log"); rss=$(awk '/RSS/ {print $4}' "$log")
    echo "$rate $wall $rss" >> "$TMP/$side"
    printf '%-5s run %s: %10s images/s  wall %6s s  peak %6s MB\n' "$side" "$2" "$rate" "$wall" "$((rss / 1024))"
}

echo "warm-up (not counted):"
one acol 0; one torch 0; rm -f "$TMP/acol" "$TMP/torch"
for ((i = 1; i <= RUNS; i++)); do
    if (( i % 2 )); then one acol "$i"; one torch "$i"; else one torch "$i"; one acol "$i"; fi
done
python3 - "$TMP/acol" "$TMP/torch" <<'PY'
import statistics, sys
def rows(p): return [list(map(float, l.split())) for l in open(p) if l.strip()]
a, t = rows(sys.argv[1]), rows(sys.argv[2])
med = lambda xs, i: statistics.median(x[i] for x in xs)
print(f"median images/s: acol {med(a,0):,.0f}  peer {med(t,0):,.0f}  ratio {med(a,0)/med(t,0):.2f}x")
print(f"median wall s:   acol {med(a,1):.2f}  peer {med(t,1):.2f}  ratio {med(t,1)/med(a,1):.2f}x faster")
print(f"peak memory MB:  acol {max(x[2] for x in a)/1024:.0f}  peer {max(x[2] for x in t)/1024:.0f}")
PY
