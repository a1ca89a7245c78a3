#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/, a separate package) and runs one target.
#   Scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   Scripts/fuzz.sh all SECONDS          each target in turn, SECONDS each
# Targets: idx cifar mat png parentspec mapping (the importers; `all` runs these), and
# dataset-h5 model-h5 (the HDF5 readers; run them by name). See docs/fuzzing.md.
# Seeds: Fuzz/corpus/TARGET (committed, never written); inputs found while fuzzing go to
# Fuzz/.build/corpus/TARGET, crashes to Fuzz/.build/artifacts/TARGET/. Exit status: libFuzzer's
# (0: no crash in the time given).
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../Fuzz"
targets=(idx cifar mat png parentspec mapping)
h5targets=(dataset-h5 model-h5)
if [ $# -lt 2 ]; then echo "usage: $0 TARGET|all SECONDS [libFuzzer options]  (targets: ${targets[*]} ${h5targets[*]})" >&2; exit 2; fi
target=$1 seconds=$2; shift 2
if [ "$target" = all ]; then
    for t in "${targets[@]}"; do "$self" "$t" "$seconds" "$@"; done
    exit 0
fi
case " ${targets[*]} ${h5targets[*]} " in *" $target "*) ;; *) echo "unknown target '$target' (${targets[*]} ${h5targets[*]})" >&2; exit 2 ;; esac
# libFuzzer and the sanitizers come with the Swift toolchain; lld links them (gold fails on
# SwiftPM's --defsym main=<module>_main with the sanitizer runtimes).
# The toolchain's lld, wherever the toolchain is (toolset-lld.json names /opt/swift's).
lld="$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld"
toolset=toolset-lld.json
if [ -x "$lld" ]; then
    mkdir -p .build
    printf '{ "schemaVersion": "1.0", "linker": { "path": "%s" } }\n' "$lld" > .build/toolset-lld.json
    toolset=.build/toolset-lld.json
fi
swift build -c release --toolset "$toolset" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "fuzz-$target" >&2
bin=$(swift build -c release --toolset "$toolset" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --show-bin-path)/fuzz-$target
mkdir -p ".build/corpus/$target" ".build/artifacts/$target"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix=".build/artifacts/$target/" "$@" ".build/corpus/$target" "corpus/$target"
