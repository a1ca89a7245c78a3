#!/usr/bin/env python3
"""Writes MNIST test images as 28 x 28 grey PNGs, one subfolder per digit: OUT/<label>/<index>.png.

    python3 Benchmarks/peer/make_png_folder.py OUT [-n 10000] [--mnist /work/shared/datasets/mnist]

The folder is the input of both `acol run MODEL.h5 OUT` and `torch_run_png.py OUT`.
"""
import argparse
import gzip
import os
import struct
import sys

try:
    import numpy as np
    from PIL import Image
except ImportError as e:
    sys.exit(f'make_png_folder.py: {e}; install with `pip install numpy pillow`')


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    if magic >> 8 != 0x08:                      # 0x00000803 images, 0x00000801 labels (u8)
        raise ValueError(f'{path}: not a u8 IDX file (magic {magic:#010x})')
    ndim = magic & 0xFF
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(folder, stem):
    for name in (stem + '.gz', stem):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    sys.exit(f'make_png_folder.py: no {stem}(.gz) in {folder}')


def main():
    p = argparse.ArgumentParser(description='MNIST test images -> PNG folder with 10 class subfolders')
    p.add_argument('out', help='output folder (created)')
    p.add_argument('-n', '--count', type=int, default=10000, help='images to write (default 10000)')
    p.add_argument('--mnist', default='/work/shared/datasets/mnist', help='folder of the MNIST IDX files')
    a = p.parse_args()
    images = read_idx(find(a.mnist, 't10k-images-idx3-ubyte'))
    labels = read_idx(find(a.mnist, 't10k-labels-idx1-ubyte'))
    if not 0 < a.count <= len(images):
        sys.exit(f'make_png_folder.py: --count must be 1..{len(images)}')
    for d in range(10):
        os.makedirs(os.path.join(a.out, str(d)), exist_ok=True)
    for i in range(a.count):
        Image.fromarray(images[i]).save(os.path.join(a.out, str(int(labels[i])), f'{i:05d}.png'))
    print(f'{a.count} PNGs written to {a.out}', file=sys.stderr)


if __name__ == '__main__':
    main()
