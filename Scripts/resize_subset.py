#!/usr/bin/env python3
"""Writes a random subset of an IDX data set (MNIST, Fashion-MNIST), resized, as a gzip IDX folder,
for the small-data rows of docs/training.md:
    python3 Scripts/resize_subset.py SRC_DIR OUT_DIR TRAIN_COUNT TEST_COUNT SIZE SEED
    acol convert OUT_DIR --parents fashion -o small.h5
SRC_DIR holds train-/t10k-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz. The images are drawn
without replacement with numpy's generator seeded by SEED (kept in their order) and, unless SIZE
is 28, resized to SIZE x SIZE by box averaging (Pillow). Needs numpy and Pillow."""
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx_gzip import read, write

def resize(x, size):
    from PIL import Image
    return np.stack([np.asarray(Image.fromarray(i).resize((size, size), Image.BOX)) for i in x])

if len(sys.argv) != 7:
    sys.exit(__doc__)
src, out = sys.argv[1], sys.argv[2]
counts = {"train": int(sys.argv[3]), "t10k": int(sys.argv[4])}
size, seed = int(sys.argv[5]), int(sys.argv[6])
rng = np.random.default_rng(seed)
os.makedirs(out, exist_ok=True)
for split, n in counts.items():
    x = read(os.path.join(src, f"{split}-images-idx3-ubyte.gz"))
    y = read(os.path.join(src, f"{split}-labels-idx1-ubyte.gz"))
    idx = np.sort(rng.choice(len(x), n, replace=False))
    x, y = x[idx], y[idx]
    if size != x.shape[1]:
        x = resize(x, size)
    write(os.path.join(out, f"{split}-images-idx3-ubyte.gz"), x)
    write(os.path.join(out, f"{split}-labels-idx1-ubyte.gz"), y)
