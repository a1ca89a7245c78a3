#!/usr/bin/env python3
"""Writes the PNG samples of Fixtures/mnist-png: test images of Fixtures/mnist-small as 8-bit grey
PNGs, named by index and true digit (for a person to compare with `acol run`'s answers).

Usage: Scripts/make_png_samples.py [count]   (default 60; uses only the standard library)
"""
import gzip, os, struct, sys, zlib

root = os.path.join(os.path.dirname(__file__), "..")
count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
src = os.path.join(root, "Fixtures", "mnist-small")
out = os.path.join(root, "Fixtures", "mnist-png")
os.makedirs(out, exist_ok=True)
images = gzip.open(os.path.join(src, "t10k-images-idx3-ubyte.gz")).read()[16:]
labels = gzip.open(os.path.join(src, "t10k-labels-idx1-ubyte.gz")).read()[8:]

def png(w, h, rows):
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

for i in range(count):
    px = images[i * 784:(i + 1) * 784]
    with open(os.path.join(out, "%03d-digit%d.png" % (i, labels[i])), "wb") as f:
        f.write(png(28, 28, [px[r * 28:(r + 1) * 28] for r in range(28)]))
print("wrote", count, "PNGs to", out)
