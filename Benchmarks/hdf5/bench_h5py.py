#!/usr/bin/env python3
"""The h5py side of the benchmark: the same arrays, layout, chunking and compression as
DatasetWriter (chunks of 256 images, gzip LEVEL, extendible first axis), written in the same
1000-image appends and in one call, read back whole and in 1000-image ranges.
Prints JSON lines like hdf5-bench. Usage: bench_h5py.py MNIST_DIR OUT_DIR [levels...]"""
import gzip
import json
import os
import sys
import time

import h5py
import numpy as np

mnist = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets/mnist"
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp"
levels = [int(x) for x in sys.argv[3:]] or [4]


def idx(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read()[header:], dtype=np.uint8)


splits = {}
for name, prefix in [("train", "train"), ("test", "t10k")]:
    px = idx(f"{mnist}/{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
    lb = idx(f"{mnist}/{prefix}-labels-idx1-ubyte.gz", 8).astype(np.int32)
    splits[name] = (px, lb, lb // 5)
total = sum(len(v[1]) for v in splits.values())
STR = h5py.string_dtype()


def write(path, level, streamed):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "acol-dataset"
        f.attrs["format_version"] = 1
        f.attrs["height"], f.attrs["width"], f.attrs["channels"] = 28, 28, 1
        f.attrs["fine_names"] = np.array([str(i) for i in range(10)], dtype=STR)
        f.attrs["parent_names"] = np.array(["0-4", "5-9"], dtype=STR)
        f.attrs["parent_of_fine"] = np.arange(10, dtype=np.int32) // 5
        f.attrs["splits"] = np.array(list(splits), dtype=STR)
        for name, (px, fine, coarse) in splits.items():
            g = f.create_group(name)
            kw = dict(compression="gzip", compression_opts=level)
            n = len(fine) if not streamed else 0
            im = g.create_dataset("images", shape=(n, 28, 28, 1), maxshape=(None, 28, 28, 1), chunks=(256, 28, 28, 1), dtype=np.uint8, **kw)
            fl = g.create_dataset("fine_labels", shape=(n,), maxshape=(None,), chunks=(4096,), dtype=np.int32, **kw)
            cl = g.create_dataset("coarse_labels", shape=(n,), maxshape=(None,), chunks=(4096,), dtype=np.int32, **kw)
            if not streamed:
                im[...] = px; fl[...] = fine; cl[...] = coarse
            else:
                # Same buffering as DatasetWriter: whole chunks of 256 images at a time.
                for i in range(0, len(fine), 1024):
                    j = min(len(fine), i + 1024)
                    for d, v in [(im, px), (fl, fine), (cl, coarse)]:
                        d.resize(j, axis=0); d[i:j] = v[i:j]


for level in levels:
    for streamed in [False, True]:
        path = f"{out}/mnist-h5py-gzip{level}{'-streamed' if streamed else ''}.h5"
        bw = br = brr = float("inf")
        for _ in range(3):
            t0 = time.perf_counter(); write(path, level, streamed); bw = min(bw, time.perf_counter() - t0)
            t1 = time.perf_counter()
            with h5py.File(path, "r") as f:
                n = sum(f[s]["images"][()].shape[0] + 0 * f[s]["fine_labels"][()].shape[0] + 0 * f[s]["coarse_labels"][()].shape[0] for s in splits)
            br = min(br, time.perf_counter() - t1)
            assert n == total
            t2 = time.perf_counter()
            with h5py.File(path, "r") as f:
                for s in splits:
                    d, fl, cl = f[s]["images"], f[s]["fine_labels"], f[s]["coarse_labels"]
                    for i in range(0, d.shape[0], 1000):
                        d[i:i + 1000]; fl[i:i + 1000]; cl[i:i + 1000]
            brr = min(brr, time.perf_counter() - t2)
        print(json.dumps({"tool": "h5py" + (" streamed" if streamed else ""), "gzip": level, "file": path,
                          "bytes": os.path.getsize(path), "images": total, "write_s": bw, "read_s": br,
                          "read_ranges_s": brr, "raw_bytes": total * 784}))
