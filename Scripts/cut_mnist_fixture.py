#!/usr/bin/env python3
"""Cuts the committed MNIST fixture from the full MNIST IDX files.

Usage: Scripts/cut_mnist_fixture.py ../shared/datasets/mnist Fixtures/mnist-small [train_n] [test_n]
Writes the first train_n training and test_n test images and labels as gzip IDX files with the
standard names, byte for byte in the original format (header counts adjusted).
"""
import gzip, os, struct, sys

src, dst = sys.argv[1], sys.argv[2]
train_n = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
test_n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
os.makedirs(dst, exist_ok=True)

def cut(name, n):
    with gzip.open(os.path.join(src, name + ".gz"), "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    item = 1
    for d in dims[1:]:
        item *= d
    header = struct.pack(">I", magic) + struct.pack(">I", n) + data[8:4 + 4 * ndim]
    body = data[4 + 4 * ndim: 4 + 4 * ndim + n * item]
    out = os.path.join(dst, name + ".gz")
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as g:
        g.write(header + body)
    print(out, n, "items", dims[1:])

cut("train-images-idx3-ubyte", train_n)
cut("train-labels-idx1-ubyte", train_n)
cut("t10k-images-idx3-ubyte", test_n)
cut("t10k-labels-idx1-ubyte", test_n)
