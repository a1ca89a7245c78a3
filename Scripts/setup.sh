#!/usr/bin/env bash
# Installs the system libraries acol builds against, when they are missing (Debian/Ubuntu).
#   Scripts/setup.sh          the main package's libraries
#   Scripts/setup.sh --mpi    also Open MPI (libopenmpi-dev, openmpi-bin), then builds acol-mpi
#                             (the nested package MPI/, release) when Open MPI is there
# acol-mpi is not built by default: this script runs before every test run, and a release build
# of MPI/ (which compiles the main package again) takes minutes.
set -euo pipefail
mpi=0
[ "${1:-}" = --mpi ] && mpi=1
need=()
pkgs=(libopenblas-dev libdnnl-dev libhdf5-dev libpng-dev zlib1g-dev nettle-dev pkg-config)
[ $mpi = 1 ] && pkgs+=(libopenmpi-dev openmpi-bin)
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.0 or later is needed)" >&2; exit 1; }
if [ $mpi = 1 ]; then
  if pkg-config --exists ompi-c && command -v mpirun >/dev/null; then
    echo "setup: building acol-mpi (MPI/, release)" >&2
    (cd "$(dirname "$0")/../MPI" && swift build -c release 2>&1 | tail -1 >&2)
    echo "setup: acol-mpi is $(cd "$(dirname "$0")/../MPI" && swift build -c release --show-bin-path)/acol-mpi" >&2
  else
    echo "setup: Open MPI (pkg-config ompi-c, mpirun) not found: acol-mpi not built" >&2
  fi
fi
