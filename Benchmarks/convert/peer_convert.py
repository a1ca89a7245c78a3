#!/usr/bin/env python3
"""Peer for the acol importer benchmark: MNIST-style IDX .gz -> HDF5 with numpy + h5py.

Usage: python3 Benchmarks/convert/peer_convert.py DIR OUT.h5 [--gzip LEVEL] [--chunk N]
Decodes the four IDX files in DIR (gzip by magic bytes), writes per split
  /<split>/images  u8 [N, 28, 28, 1], chunked (chunk N images), gzip LEVEL (default 4)
  /<split>/labels  int32 [N]
and prints decode and total times (images/s) and the peak RSS (ru_maxrss).
"""
import argparse, gzip, os, resource, struct, time
import numpy as np
import h5py


def read_idx(path):
    with open(path, "rb") as f:
        magic2 = f.read(2)
    opener = gzip.open if magic2 == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    if magic >> 8 != 0x08:
        raise SystemExit(f"{path}: expected an IDX u8 file, found magic {magic:#010x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise SystemExit(f"{path}: expected {int(np.prod(dims))} bytes of data, found {body.size}")
    return body.reshape(dims)


def find(d, prefix):
    for n in sorted(os.listdir(d)):
        if n.replace(".", "-").startswith(prefix):
            return os.path.join(d, n)
    raise SystemExit(f"{d}: no {prefix}* file")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir"); ap.add_argument("out")
    ap.add_argument("--gzip", type=int, default=4); ap.add_argument("--chunk", type=int, default=1024)
    a = ap.parse_args()
    t0 = time.perf_counter()
    splits = {}
    for split, prefix in [("train", "train"), ("test", "t10k")]:
        x = read_idx(find(a.dir, prefix + "-images-idx3"))
        y = read_idx(find(a.dir, prefix + "-labels-idx1")).astype(np.int32)
        if len(x) != len(y):
            raise SystemExit(f"{split}: {len(x)} images, {len(y)} labels")
        splits[split] = (x[..., None], y)
    t1 = time.perf_counter()
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w") as f:
        for split, (x, y) in splits.items():
            g = f.create_group(split)
            g.create_dataset("images", data=x, chunks=(min(a.chunk, len(x)),) + x.shape[1:],
                             compression="gzip" if a.gzip > 0 else None,
                             compression_opts=a.gzip if a.gzip > 0 else None)
            g.create_dataset("labels", data=y)
    os.replace(tmp, a.out)
    t2 = time.perf_counter()
    n = sum(len(v[1]) for v in splits.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peer: {n} images; decode {t1 - t0:.3f} s = {n / (t1 - t0):.0f} images/s; "
          f"decode + HDF5 write (gzip {a.gzip}) {t2 - t0:.3f} s = {n / (t2 - t0):.0f} images/s; "
          f"peak RSS {peak:.1f} MB; output {os.path.getsize(a.out) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
