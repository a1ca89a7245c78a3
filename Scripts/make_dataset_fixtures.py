#!/usr/bin/env python3
"""Writes the small importer fixtures under Fixtures/ (PNG folders, CIFAR-10/100 binary, SVHN .mat).

Usage: python3 Scripts/make_dataset_fixtures.py [Fixtures]
Every pixel follows a formula the Swift tests recompute (Tests/ACOLDatasetsTests):
  PNG images (8 wide, 6 high), image k of a class:  v(y, x, c) = (y*16 + x*3 + c*50 + k*7) % 256
  CIFAR record i of a file (global index g):       v(y, x, c) = (g*31 + y*8 + x*5 + c*70) % 256
  SVHN image n:                                     v(y, x, c) = (n*37 + y*7 + x*3 + c*60) % 256
Deterministic: running it twice gives identical files (PNG without timestamps, .mat header
date fixed).
"""
import os, sys
import numpy as np
from PIL import Image
import scipy.io

root = sys.argv[1] if len(sys.argv) > 1 else "Fixtures"
W, H = 8, 6


def formula_png(k, c):
    y, x = np.mgrid[0:H, 0:W]
    return ((y * 16 + x * 3 + c * 50 + k * 7) % 256).astype(np.uint8)


def rgb(k, channels=3):
    return np.stack([formula_png(k, c) for c in range(channels)], axis=-1)


def save(img, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path, format="PNG", optimize=False)


def make_png():
    d = os.path.join(root, "png")
    # Flat layout root/<class>/*.png, one class per PNG kind (2 images each).
    flat = os.path.join(d, "flat")
    for k in range(2):
        save(Image.fromarray(formula_png(k, 0), "L"), f"{flat}/a_grey8/{k}.png")
        save(Image.fromarray(rgb(k), "RGB"), f"{flat}/b_rgb/{k}.png")
        save(Image.fromarray(rgb(k, 4), "RGBA"), f"{flat}/c_rgba/{k}.png")
        # palette: the RGB image with its colours in a palette (fewer than 256 colours)
        px = rgb(k).reshape(-1, 3)
        colours, index = np.unique(px, axis=0, return_inverse=True)
        assert len(colours) <= 256
        p = Image.fromarray(index.reshape(H, W).astype(np.uint8), "P")
        p.putpalette(colours.flatten().tolist() + [0] * (768 - 3 * len(colours)))
        save(p, f"{flat}/d_palette/{k}.png")
        # 16-bit grey: v * 257, so scaling back to 8 bits gives v exactly
        g16 = formula_png(k, 0).astype(np.uint16) * 257
        save(Image.fromarray(g16), f"{flat}/e_grey16/{k}.png")
        save(Image.fromarray(np.stack([formula_png(k, 0), formula_png(k, 3)], -1), "LA"), f"{flat}/f_greyalpha/{k}.png")
    # Two-level layout root/<parent>/<class>/*.png (grey).
    tree = os.path.join(d, "tree")
    for parent, classes in [("animals", ["cat", "dog"]), ("vehicles", ["car"])]:
        for c in classes:
            for k in range(2):
                save(Image.fromarray(formula_png(k, 0), "L"), f"{tree}/{parent}/{c}/{k}.png")
    # train/ and test/ splits.
    for split, n in [("train", 3), ("test", 1)]:
        for c in ["x", "y"]:
            for k in range(n):
                save(Image.fromarray(rgb(k), "RGB"), f"{d}/splits/{split}/{c}/{k}.png")
    # Two sizes in one class (an error unless a resize mode is given).
    save(Image.fromarray(formula_png(0, 0), "L"), f"{d}/sizes/a/0.png")
    y, x = np.mgrid[0:12, 0:16]
    save(Image.fromarray(((y * 8 + x) % 256).astype(np.uint8), "L"), f"{d}/sizes/a/1.png")
    # A file named .png that is not one, among good PNGs.
    save(Image.fromarray(formula_png(0, 0), "L"), f"{d}/bad/a/0.png")
    save(Image.fromarray(formula_png(1, 0), "L"), f"{d}/bad/a/2.png")
    with open(f"{d}/bad/a/1.png", "wb") as f:
        f.write(b"this is not a PNG file\n")


def cifar_pixels(g):
    y, x = np.mgrid[0:32, 0:32]
    planes = [((g * 31 + y * 8 + x * 5 + c * 70) % 256).astype(np.uint8) for c in range(3)]
    return b"".join(p.tobytes() for p in planes)  # R plane, G plane, B plane, row-major


C10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def make_cifar():
    d10 = os.path.join(root, "cifar", "cifar-10-batches-bin")
    os.makedirs(d10, exist_ok=True)
    g = 0
    for name, n in [("data_batch_1.bin", 3), ("data_batch_2.bin", 2)]:
        with open(os.path.join(d10, name), "wb") as f:
            for _ in range(n):
                f.write(bytes([(g * 3) % 10]) + cifar_pixels(g))
                g += 1
    with open(os.path.join(d10, "test_batch.bin"), "wb") as f:
        for t in range(2):
            f.write(bytes([9 - t]) + cifar_pixels(100 + t))
    with open(os.path.join(d10, "batches.meta.txt"), "w") as f:
        f.write("\n".join(C10) + "\n\n")

    d100 = os.path.join(root, "cifar", "cifar-100-binary")
    os.makedirs(d100, exist_ok=True)
    # (coarse, fine) pairs from the standard hierarchy: apple(0) is in fruit_and_vegetables(4),
    # beaver(4) in aquatic_mammals(0), worm(99) in non-insect_invertebrates(13), woman(98) in people(14)
    records = {"train.bin": [(4, 0), (0, 4), (13, 99), (4, 0)], "test.bin": [(14, 98), (0, 4)]}
    for name, recs in records.items():
        with open(os.path.join(d100, name), "wb") as f:
            for i, (c, fi) in enumerate(recs):
                f.write(bytes([c, fi]) + cifar_pixels(200 + i if name == "train.bin" else 300 + i))


def svhn_x(n):
    y, x, c, k = np.mgrid[0:32, 0:32, 0:3, 0:n]
    return ((k * 37 + y * 7 + x * 3 + c * 60) % 256).astype(np.uint8)  # [32, 32, 3, N] as MATLAB's X


def make_svhn():
    d = os.path.join(root, "svhn")
    os.makedirs(d, exist_ok=True)
    # train: uncompressed, y as double (as the real files), labels 10 (digit 0), 1, 2, ...
    scipy.io.savemat(os.path.join(d, "train_32x32.mat"),
                     {"X": svhn_x(5), "y": np.array([[10], [1], [2], [3], [10]], dtype=np.float64)},
                     do_compression=False)
    # test: zlib-compressed elements, y as uint8
    scipy.io.savemat(os.path.join(d, "test_32x32.mat"),
                     {"X": svhn_x(3), "y": np.array([[5], [10], [9]], dtype=np.uint8)}, do_compression=True)
    for name in ["train_32x32.mat", "test_32x32.mat"]:
        fix_mat_header(os.path.join(d, name))


def fix_mat_header(path):
    """Replaces the creation date in the 116-byte header text so the file is reproducible."""
    with open(path, "r+b") as f:
        text = b"MATLAB 5.0 MAT-file Platform: posix, Created on: Thu Jan  1 00:00:00 1970"
        f.write(text.ljust(116, b" "))


make_png()
make_cifar()
make_svhn()
total = sum(os.path.getsize(os.path.join(p, f)) for sub in ["png", "cifar", "svhn"]
            for p, _, fs in os.walk(os.path.join(root, sub)) for f in fs)
print(f"fixtures written under {root}: {total} bytes")
