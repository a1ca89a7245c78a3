#!/usr/bin/env python3
"""Prints the benchmark table: sizes against the raw and gzipped IDX files, speeds, ratios."""
import glob
import json
import os
import sys

mnist, files = sys.argv[1], sys.argv[2:]
rows = [json.loads(l) for f in files for l in open(f) if l.strip()]
gz = sum(os.path.getsize(p) for p in glob.glob(f"{mnist}/*-ubyte.gz"))
raw = 60000 * 784 + 16 + 60000 + 8 + 10000 * 784 + 16 + 10000 + 8
print(f"MNIST IDX: raw {raw / 1e6:.2f} MB, .gz {gz / 1e6:.2f} MB; {rows[0]['images']} images ({rows[0]['raw_bytes'] / 1e6:.1f} MB of pixels)")
print(f"{'writer':<16} {'gzip':>4} {'file MB':>8} {'/raw':>6} {'/gz':>6} {'write MB/s':>11} {'img/s':>10} {'read MB/s':>10} {'img/s':>10} {'ranges MB/s':>12}")
by = {}
for r in rows:
    mb = r["raw_bytes"] / 1e6
    by[(r["tool"], r["gzip"])] = r
    print(f"{r['tool']:<16} {r['gzip']:>4} {r['bytes'] / 1e6:>8.2f} {r['bytes'] / raw:>6.3f} {r['bytes'] / gz:>6.3f} "
          f"{mb / r['write_s']:>11.1f} {r['images'] / r['write_s']:>10.0f} {mb / r['read_s']:>10.1f} "
          f"{r['images'] / r['read_s']:>10.0f} {mb / r['read_ranges_s']:>12.1f}")
for (tool, level), r in by.items():
    if tool == "acol":
        for other in ["h5py", "h5py streamed"]:
            o = by.get((other, level))
            if o:
                print(f"acol / {other} (gzip {level}): size {r['bytes'] / o['bytes']:.3f}, write speed {o['write_s'] / r['write_s']:.2f}x, "
                      f"read speed {o['read_s'] / r['read_s']:.2f}x, range-read speed {o['read_ranges_s'] / r['read_ranges_s']:.2f}x")
