#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (Fuzz/corpus/TARGET/): a few tiny valid inputs,
cut from Fixtures/ or built here. Run from the package root: python3 Fuzz/make_corpus.py"""
import gzip, os, struct, zlib

C = "Fuzz/corpus"
def put(target, name, data):
    os.makedirs(f"{C}/{target}", exist_ok=True)
    open(f"{C}/{target}/{name}", "wb").write(data)

# IDX: image files (3 and 4 dimensions), plain and gzip, with and without labels
def idx_images(n, h, w, c=None):
    dims = [n, h, w] + ([c] if c else [])
    px = bytes((i * 37) % 256 for i in range(n * h * w * (c or 1)))
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + px
def idx_labels(ls):
    return bytes([0, 0, 8, 1]) + struct.pack(">I", len(ls)) + bytes(ls)
put("idx", "plain-3x4x4", idx_images(3, 4, 4))
put("idx", "plain-labels", idx_images(2, 3, 5) + b"\nLABELS\n" + idx_labels([7, 2]))
put("idx", "gzip-labels", gzip.compress(idx_images(2, 4, 4), mtime=0) + b"\nLABELS\n" + gzip.compress(idx_labels([1, 9]), mtime=0))
put("idx", "rgb-4d", idx_images(1, 2, 2, 3))

# CIFAR: first byte 0 = CIFAR-10, 1 = CIFAR-100; then whole records from the fixtures
c10 = open("Fixtures/cifar/cifar-10-batches-bin/data_batch_1.bin", "rb").read()
c100 = open("Fixtures/cifar/cifar-100-binary/train.bin", "rb").read()
put("cifar", "cifar10-1", b"\0" + c10[:3073])
put("cifar", "cifar10-2", b"\2" + c10[:2 * 3073])
put("cifar", "cifar100-1", b"\1" + c100[:3074])

# MAT v5: X (H x W x C x N uint8, column-major) and y (N x 1), plain, compressed, small elements
def tag(t, n): return struct.pack("<II", t, n)
def small(t, data): return struct.pack("<HH", t, len(data)) + data + b"\0" * (4 - len(data))
def pad(b): return b + b"\0" * (-len(b) % 8)
def sub(t, data, allow_small=True):
    return small(t, data) if allow_small and len(data) <= 4 else tag(t, len(data)) + pad(data)
def matrix(name, cls, dims, dtype, data):
    body = tag(6, 8) + struct.pack("<II", cls, 0) + tag(5, 4 * len(dims)) + pad(b"".join(struct.pack("<i", d) for d in dims))
    body += sub(1, name.encode()) + sub(dtype, data)
    return tag(14, len(body)) + body
def mat(elements):
    text = b"MATLAB 5.0 MAT-file, Platform: fuzz seed"
    return text + b" " * (116 - len(text)) + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM" + b"".join(elements)
def compressed(e): z = zlib.compress(e); return tag(15, len(z)) + z
X = matrix("X", 9, [2, 2, 3, 2], 2, bytes(range(24)))
y = matrix("y", 6, [2, 1], 9, struct.pack("<dd", 10, 3))
y8 = matrix("y", 9, [2, 1], 2, bytes([1, 10]))            # 2 bytes: a small element
put("mat", "plain", mat([X, y]))
put("mat", "compressed", mat([compressed(X), compressed(y)]))
put("mat", "small-y", mat([X, y8]))
put("mat", "grey-3d", mat([matrix("X", 9, [3, 2, 1], 2, bytes(range(6))), matrix("y", 9, [1, 1], 2, bytes([4]))]))

# PNG: the small fixtures (grey, RGB, RGBA, palette, 16-bit, grey+alpha)
for d in ["a_grey8", "b_rgb", "c_rgba", "d_palette", "e_grey16", "f_greyalpha"]:
    put("png", d + ".png", open(f"Fixtures/png/flat/{d}/0.png", "rb").read())

# Parent specs
for i, s in enumerate(["0-4,5-9", "0-4:small,5-9:large", "0+2+3+4+6:tops,5+7+9:shoes,1:trouser,8:bag", "div:2", "fashion", "0,1,2"]):
    put("parentspec", f"spec{i}", s.encode())

# Mapping files
put("mapping", "names", b"# Fashion-MNIST\nT-shirt/top: tops\n1: trouser\nPullover: tops\nDress: tops\nCoat: tops\n"
    b"Sandal: footwear\nShirt: tops\nSneaker: footwear\nBag: bag\nAnkle boot: footwear\n")
put("mapping", "crlf-bom", b"\xef\xbb\xbf0: x\r\n1: y\r\n2: x\r\n")
put("mapping", "indices", b"0: a\n1: a\n2: b\n")
