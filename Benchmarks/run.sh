#!/usr/bin/env bash
# acol vs PyTorch, same networks, same training step, same CPU: see Benchmarks/README.md.
#
# Usage: Benchmarks/run.sh [--networks mlp,cnn2] [--steps 30] [--runs 3] [--threads 2]
#                          [--no-build] [--logs DIR]
# The same settings can come from the environment: NETWORKS, STEPS, RUNS, THREADS, NO_BUILD=1,
# LOGS. Flags win over the environment.
#
# For each network it runs acol-bench and torch_bench.py alternately, RUNS times each, in the
# order AB BA AB ... (so a slow drift of the machine's load hits both sides alike), and prints
# the median samples/s of the runs for training and inference with the ratio acol/torch.
set -euo pipefail

NETWORKS=${NETWORKS:-mlp,cnn2}
STEPS=${STEPS:-30}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
NO_BUILD=${NO_BUILD:-0}
LOGS=${LOGS:-}

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --networks) NETWORKS=${2:?--networks needs a value}; shift 2 ;;
        --networks=*) NETWORKS=${1#*=}; shift ;;
        --steps) STEPS=${2:?--steps needs a value}; shift 2 ;;
        --steps=*) STEPS=${1#*=}; shift ;;
        --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --threads) THREADS=${2:?--threads needs a value}; shift 2 ;;
        --threads=*) THREADS=${1#*=}; shift ;;
        --no-build) NO_BUILD=1; shift ;;
        --logs) LOGS=${2:?--logs needs a folder}; shift 2 ;;
        --logs=*) LOGS=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

for v in STEPS RUNS THREADS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
IFS=',' read -r -a NETS <<< "$NETWORKS"
[[ ${#NETS[@]} -gt 0 ]] || die "no networks given"
for n in "${NETS[@]}"; do
    [[ $n == mlp || $n == cnn2 ]] || die "unknown network '$n' (known: mlp, cnn2)"
done

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PEER="$HERE/peer/torch_bench.py"

# PyTorch first: no point building if the other side cannot run.
command -v python3 >/dev/null || die "python3 not found; the PyTorch side needs Python 3"
if ! TORCH_VERSION=$(python3 -c 'import torch; print(torch.__version__)' 2>/dev/null); then
    cat >&2 <<'MSG'
run.sh: PyTorch is not installed for python3. Install the CPU build:
    pip install "torch==2.13.0+cpu"
or, if that wheel is not available on this machine:
    pip install torch
(plain `pip install torch` pulls the CUDA build, about 3 GB; it runs on the CPU at the same speed)
MSG
    exit 1
fi

if [[ -n $LOGS ]]; then
    mkdir -p "$LOGS"
else
    LOGS=$(mktemp -d "${TMPDIR:-/tmp}/acol-bench.XXXXXX")
    trap 'rm -rf "$LOGS"' EXIT
fi

command -v swift >/dev/null || die "swift not found; install the Swift toolchain"
if [[ $NO_BUILD != 1 ]]; then
    echo "building acol-bench (release)..." >&2
    if ! (cd "$ROOT" && swift build -c release --product acol-bench) > "$LOGS/build.txt" 2>&1; then
        tail -n 30 "$LOGS/build.txt" >&2
        die "swift build -c release --product acol-bench failed (log above)"
    fi
fi
BIN=$(cd "$ROOT" && swift build -c release --show-bin-path)/acol-bench
[[ -x $BIN ]] || die "$BIN not found; build it with: swift build -c release --product acol-bench"

cpu_model() {
    local m=""
    command -v lscpu >/dev/null && m=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
    [[ -n $m ]] || m=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
    echo "${m:-unknown}"
}
loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }

LOAD_START=$(loadavg)
if awk -v l="$LOAD_START" 'BEGIN { exit !(l + 0 > 0.5) }'; then
    echo "warning: load average is $LOAD_START: the machine is not idle, the figures will be noisy" >&2
fi

# run_side SIDE NET RUN: runs one benchmark, keeps its output in $LOGS.
run_side() {
    local side=$1 net=$2 r=$3 log="$LOGS/$2-$1-$3.txt"
    echo "  $net run $r: $side" >&2
    if [[ $side == acol ]]; then
        "$BIN" speed "arch=$net" "steps=$STEPS" "threads=$THREADS" > "$log" 2>&1 || {
            cat "$log" >&2; die "acol-bench failed for $net (output above)"; }
    else
        python3 "$PEER" --arch "$net" --steps "$STEPS" --threads "$THREADS" > "$log" 2>&1 || {
            cat "$log" >&2; die "torch_bench.py failed for $net (output above)"; }
    fi
}

# samples LOG NET PHASE: the samples/s of a "NET PHASE: ... X samples/s" line.
samples() {
    local v
    v=$(sed -nE "s/^$2 $3: .* ([0-9.]+) samples\/s.*/\1/p" "$1" | head -n 1)
    [[ -n $v ]] || die "no '$2 $3: ... samples/s' line in $1: $(cat "$1")"
    echo "$v"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END {
    if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A RES
for net in "${NETS[@]}"; do
    echo "$net: $RUNS runs per side, $STEPS steps, $THREADS threads" >&2
    for ((r = 1; r <= RUNS; r++)); do
        if ((r % 2)); then order=(acol torch); else order=(torch acol); fi
        for side in "${order[@]}"; do
            run_side "$side" "$net" "$r"
            for phase in train inference; do
                RES[$net,$side,$phase]+="$(samples "$LOGS/$net-$side-$r.txt" "$net" "$phase") "
            done
        done
    done
done
LOAD_END=$(loadavg)

echo
echo "acol vs PyTorch, samples/s (median of $RUNS runs per side, alternating)"
echo "date:    $(date '+%Y-%m-%d %H:%M:%S %Z')"
echo "cpu:     $(cpu_model), $(nproc) logical cores"
echo "threads: $THREADS    steps: $STEPS (+3 warm-up)    batch: 128 (train), 256 (inference)"
echo "torch:   $TORCH_VERSION    load average: $LOAD_START at start, $LOAD_END at end"
echo
printf '%-6s %-10s %10s %10s %10s   %s\n' network phase acol torch acol/torch "runs (acol | torch)"
for net in "${NETS[@]}"; do
    for phase in train inference; do
        a=$(median <<< "${RES[$net,acol,$phase]}")
        t=$(median <<< "${RES[$net,torch,$phase]}")
        ratio=$(awk -v a="$a" -v t="$t" 'BEGIN { if (t > 0) printf "%.2f", a / t; else print "nan" }')
        ra=${RES[$net,acol,$phase]}; rt=${RES[$net,torch,$phase]}
        printf '%-6s %-10s %10.0f %10.0f %10s   %s | %s\n' "$net" "$phase" "$a" "$t" "$ratio" "${ra% }" "${rt% }"
    done
done
echo
echo "acol/torch > 1: acol is faster. Raw outputs: $LOGS$( [[ $LOGS == "${TMPDIR:-/tmp}"/acol-bench.* ]] && echo ' (removed on exit; keep them with --logs DIR)')"
