#!/usr/bin/env python3
"""Writes the MNIST fixture (Fixtures/mnist-small) at 8 x 8 and 16 x 16 pixels as gzip IDX folders,
for the small-image rows of docs/training.md:
    python3 Scripts/downsample_fixture.py OUT_DIR
    acol convert OUT_DIR/small8 --parents 0-4,5-9 -o small8.h5
8 x 8: means of 3 x 3 blocks of the centre 24 x 24; 16 x 16: means of 2 x 2 blocks of the image
padded to 32 x 32 with zeros. Needs numpy."""
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idx_gzip

SRC = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "mnist-small")

def read(name):
    return idx_gzip.read(os.path.join(SRC, name))

write = idx_gzip.write

out = sys.argv[1] if len(sys.argv) > 1 else "."
for d in ("small8", "small16"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
for split in ("train", "t10k"):
    x = read(f"{split}-images-idx3-ubyte.gz").astype(np.float32)
    y = read(f"{split}-labels-idx1-ubyte.gz")
    small = {"small8": x[:, 2:26, 2:26].reshape(-1, 8, 3, 8, 3).mean((2, 4)),
             "small16": np.pad(x, ((0, 0), (2, 2), (2, 2))).reshape(-1, 16, 2, 16, 2).mean((2, 4))}
    for d, a in small.items():
        write(os.path.join(out, d, f"{split}-images-idx3-ubyte.gz"), np.clip(a + 0.5, 0, 255).astype(np.uint8))
        write(os.path.join(out, d, f"{split}-labels-idx1-ubyte.gz"), y)
