#!/usr/bin/env python3
"""Writes the h5py-made fixtures in Fixtures/hdf5/ (see docs/file-format.md for the layout).

  model-h5py.h5          a small acol model file written by h5py, with random weights
  dataset-h5py.h5        a small acol data-set file written by h5py (two splits)
  dataset-h5py-lzf.h5    the same layout with the images compressed by h5py's own lzf filter,
                         which libhdf5 does not have (acol must refuse it, naming the filter)
  dataset-h5py-virtual.h5   the same layout with the images a virtual dataset mapped from a
                         file that does not exist, and
  dataset-h5py-external.h5  with the images in external raw storage (/dev/zero): data that is not
                         in the file itself, which acol must refuse (libhdf5 would read zeros)
  dataset-h5py-libver-latest.h5  the same layout written with libver='latest' (gzip images): with
                         HDF5 2.0 under h5py its layout message has a version libhdf5 1.10
                         cannot decode (acol must say the file needs an older format version)
  dataset-h5py-empty-source.h5  the same layout whose descriptive `source` attribute is
                         h5py.Empty (a null dataspace): read as no source
  h5py-reference.json    what the Swift tests expect to read: the model's logits for a few
                         input images (computed here with numpy, independently of the Swift
                         code: checks the HWIO / [in, out] kernel layouts), and data-set checksums

Deterministic (fixed seed). Run from the repository root:  python3 Scripts/make_hdf5_fixtures.py
Needs numpy and h5py. The tests never call Python; the outputs are committed.
"""
import json
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "hdf5")
STR = h5py.string_dtype()  # variable-length UTF-8: comes back as str


def model(rng):
    # Architecture: the same JSON the Swift NetworkSpec encoder writes (keys of its Codable form).
    arch = {
        "inputShape": [8, 8, 1],
        "layers": [
            {"type": "conv2d", "filters": 4, "kernel": [3, 3], "padding": "same"},
            {"type": "relu"},
            {"type": "max_pool2d", "pool": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 16},
            {"type": "relu"},
        ],
        "head": {"parents": 2, "k": 3, "batchNormBeforeZ": True},
    }
    n_p, k = 2, 3
    n = n_p * k
    f32 = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)
    w = {
        "layers/00_conv2d/kernel": f32(3, 3, 1, 4),          # HWIO
        "layers/00_conv2d/bias": f32(4),
        "layers/04_dense/kernel": f32(4 * 4 * 4, 16),        # [in, out]
        "layers/04_dense/bias": f32(16),
        "head/batch_norm/gamma": (1 + 0.1 * rng.standard_normal(16)).astype(np.float32),
        "head/batch_norm/beta": f32(16),
        "head/batch_norm/running_mean": f32(16),
        "head/batch_norm/running_var": rng.uniform(0.5, 2.0, 16).astype(np.float32),
        "head/dense/kernel": f32(16, n),
        "head/dense/bias": f32(n),
    }
    path = os.path.join(OUT, "model-h5py.h5")
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "acol-model"
        f.attrs["format_version"] = 1
        f.attrs["creator"] = "make_hdf5_fixtures.py (h5py %s)" % h5py.__version__
        f.attrs["created"] = "2025-01-01T00:00:00Z"
        f.attrs["architecture"] = json.dumps(arch)
        for name, v in w.items():
            f.create_dataset("weights/" + name, data=v)
        a = f.create_group("acol")
        a.attrs["n_p"] = n_p
        a.attrs["k"] = k
        a.attrs["nodes"] = n
        a.attrs["node_order"] = "interleaved: node j -> parent j mod n_p, duplicate j div n_p"
        a.attrs["parent_names"] = np.array(["small", "large"], dtype=STR)
        a.attrs["fine_names"] = np.array(["zero", "one", "two", "three", "four", "five"], dtype=STR)
        a["node_parent"] = np.arange(n, dtype=np.int32) % n_p
        a["node_duplicate"] = np.arange(n, dtype=np.int32) // n_p
        c = a.create_group("clusters")
        c["node"] = np.arange(n, dtype=np.int32)
        c["parent"] = np.arange(n, dtype=np.int32) % n_p
        c["duplicate"] = np.arange(n, dtype=np.int32) // n_p
        c["count"] = np.array([10, 0, 7, 3, 5, 9], dtype=np.int64)
        c["fine_label"] = np.array([0, -1, 2, 3, 4, 5], dtype=np.int32)
        c["majority_count"] = np.array([8, 0, 7, 2, 5, 6], dtype=np.int64)
        c["share"] = np.array([0.8, 0.0, 1.0, 2 / 3, 1.0, 6 / 9])
        c.attrs["fine_name"] = np.array(["zero", "", "two", "three", "four", "five"], dtype=STR)
        g = a.create_group("gar")
        g.attrs["scope"] = "per_parent"
        g.attrs["symmetric"] = np.int32(1)
        g.attrs["c_a"] = np.float32(0.5)
        g.attrs["c_b"] = np.float32(2.0)
        g.attrs["c_F"] = np.float32(1e-6)
        g.attrs["frobenius"] = "mean"
        g.attrs["epsilon"] = np.float32(1e-7)
        p = f.create_group("preprocessing")
        p.attrs["height"] = 8
        p.attrs["width"] = 8
        p.attrs["channels"] = 1
        p.attrs["scale"] = np.float32(1 / 255)
        p.attrs["offset"] = np.float32(-0.5)
        t = f.create_group("training")
        t.attrs["optimizer"] = "adam"
        t.attrs["learning_rate"] = np.float32(1e-3)
        t.attrs["momentum"] = np.float32(0)
        t.attrs["nesterov"] = np.int32(0)
        t.attrs["decay"] = np.float32(0)
        t.attrs["beta1"] = np.float32(0.9)
        t.attrs["beta2"] = np.float32(0.999)
        t.attrs["epsilon"] = np.float32(1e-7)
        t.attrs["batch_size"] = 32
        t.attrs["epochs"] = 2
        t.attrs["seed"] = np.uint64(42)
        t.attrs["dataset_file"] = "tiny.h5"
        t.attrs["dataset_sha256"] = "00" * 32
        h = f.create_group("history")
        h["epoch"] = np.array([1, 2], dtype=np.int64)
        h["loss"] = np.array([1.5, 1.25])
        h["parent_accuracy"] = np.array([0.5, 0.75])
        h["affinity"] = np.array([0.25, 0.125])
        h["balance"] = np.array([0.5, 0.625])
        h["purity"] = np.array([np.nan, 0.5])
        h["nmi"] = np.array([np.nan, 0.25])
        h["hungarian_accuracy"] = np.array([np.nan, 0.375])
        h["clusters_used"] = np.array([-1, 5], dtype=np.int64)
        for name in ["test_parent_accuracy", "test_purity", "test_nmi", "test_hungarian_accuracy"]:
            h[name] = np.array([np.nan, np.nan])
        h["seconds"] = np.array([0.5, 0.75])

    # Reference forward pass (inference), NHWC.
    x_u8 = rng.integers(0, 256, size=(3, 8, 8, 1), dtype=np.uint8)
    x = x_u8.astype(np.float32) * np.float32(1 / 255) + np.float32(-0.5)
    kern, b = w["layers/00_conv2d/kernel"], w["layers/00_conv2d/bias"]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    y = np.zeros((3, 8, 8, 4), dtype=np.float64)
    for i in range(3):
        for j in range(3):
            y += np.einsum("nhwc,cf->nhwf", xp[:, i:i + 8, j:j + 8, :].astype(np.float64), kern[i, j].astype(np.float64))
    y = np.maximum(y + b, 0)
    y = y.reshape(3, 4, 2, 4, 2, 4).max(axis=(2, 4))          # max pool 2
    y = y.reshape(3, -1)                                        # flatten (h, w, c order)
    y = np.maximum(y @ w["layers/04_dense/kernel"] + w["layers/04_dense/bias"], 0)
    eps = 1e-3                                                   # BatchNorm default epsilon
    y = (y - w["head/batch_norm/running_mean"]) / np.sqrt(w["head/batch_norm/running_var"] + eps) \
        * w["head/batch_norm/gamma"] + w["head/batch_norm/beta"]
    z = y @ w["head/dense/kernel"] + w["head/dense/bias"]
    return {"images": x_u8.reshape(-1).tolist(), "count": 3, "logits": z.reshape(-1).tolist()}


def dataset(rng):
    h, w, c = 6, 5, 3
    fine_names = ["cat", "dog", "car", "bus"]
    parent_names = ["animal", "vehicle"]
    parent_of_fine = [0, 0, 1, 1]
    path = os.path.join(OUT, "dataset-h5py.h5")
    expected = {"height": h, "width": w, "channels": c, "fine_names": fine_names, "parent_names": parent_names,
                "parent_of_fine": parent_of_fine, "splits": {}}
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "acol-dataset"
        f.attrs["format_version"] = 1
        f.attrs["creator"] = "make_hdf5_fixtures.py"
        f.attrs["created"] = "2025-01-01T00:00:00Z"
        f.attrs["source"] = np.bytes_("synthetic")         # a fixed-length string, as some writers do
        f.attrs["height"] = h
        f.attrs["width"] = w
        f.attrs["channels"] = c
        f.attrs["fine_names"] = np.array(fine_names, dtype=STR)
        f.attrs["parent_names"] = np.array(parent_names, dtype=STR)
        f.attrs["parent_of_fine"] = np.array(parent_of_fine, dtype=np.int64)
        f.attrs["splits"] = np.array(["train", "test"], dtype=STR)
        for name, n, coarse in [("train", 40, True), ("test", 12, False)]:
            g = f.create_group(name)
            img = rng.integers(0, 256, size=(n, h, w, c), dtype=np.uint8)
            fine = rng.integers(0, 4, size=n).astype(np.int32 if coarse else np.int64)
            g.create_dataset("images", data=img, chunks=(16, h, w, c), maxshape=(None, h, w, c),
                             compression="gzip", compression_opts=4)
            g.create_dataset("fine_labels", data=fine, compression="gzip")
            if coarse:
                g.create_dataset("coarse_labels", data=np.array(parent_of_fine, dtype=np.int32)[fine])
            g.attrs["count"] = n
            expected["splits"][name] = {
                "count": n, "pixel_sum": int(img.astype(np.int64).sum()),
                "first_image": img[0].reshape(-1).tolist(), "last_image": img[-1].reshape(-1).tolist(),
                "fine_labels": fine.tolist(),
                "coarse_labels": (np.array(parent_of_fine)[fine].tolist() if coarse else None),
            }
    return expected


def small_dataset(f, h, w, c, n):
    """The root attributes and a train split with fine labels (0, 1, 0, ...) of a small data set;
    returns the split group, for the caller to add its images."""
    f.attrs["format"] = "acol-dataset"
    f.attrs["format_version"] = 1
    f.attrs["height"] = h
    f.attrs["width"] = w
    f.attrs["channels"] = c
    f.attrs["splits"] = np.array(["train"], dtype=STR)
    g = f.create_group("train")
    g.create_dataset("fine_labels", data=np.arange(n, dtype=np.int32) % 2)
    return g


def dataset_lzf():
    h, w, c = 4, 4, 1
    rng = np.random.default_rng(7)
    with h5py.File(os.path.join(OUT, "dataset-h5py-lzf.h5"), "w") as f:
        g = small_dataset(f, h, w, c, 8)
        g.create_dataset("images", data=rng.integers(0, 256, size=(8, h, w, c), dtype=np.uint8),
                         chunks=(4, h, w, c), compression="lzf")


def dataset_outside():
    h, w, c, n = 4, 4, 1, 8
    layout = h5py.VirtualLayout(shape=(n, h, w, c), dtype=np.uint8)
    layout[:] = h5py.VirtualSource("missing-source.h5", "images", shape=(n, h, w, c))
    with h5py.File(os.path.join(OUT, "dataset-h5py-virtual.h5"), "w") as f:
        small_dataset(f, h, w, c, n).create_virtual_dataset("images", layout, fillvalue=0)
    with h5py.File(os.path.join(OUT, "dataset-h5py-external.h5"), "w") as f:
        small_dataset(f, h, w, c, n).create_dataset("images", (n, h, w, c), np.uint8,
                                                    external=[("/dev/zero", 0, n * h * w * c)])


def dataset_variants():
    """Strings as other writers store them: fixed-length UTF-8 (h5py string_dtype('utf-8', n)) for
    the name lists and the split list, and `format` as a list of one fixed-length string; and a
    split list that names a split twice (refused)."""
    h, w, c, n = 4, 4, 1, 8
    rng = np.random.default_rng(11)
    with h5py.File(os.path.join(OUT, "dataset-h5py-utf8-fixed.h5"), "w") as f:
        g = small_dataset(f, h, w, c, n)
        g.create_dataset("images", data=rng.integers(0, 256, size=(n, h, w, c), dtype=np.uint8))
        f.attrs["format"] = np.array([b"acol-dataset"], dtype=h5py.string_dtype("utf-8", 12))
        f.attrs["fine_names"] = np.array(["zero".encode(), "één".encode()], dtype=h5py.string_dtype("utf-8", 8))
        f.attrs["splits"] = np.array([b"train"], dtype=h5py.string_dtype("utf-8", 5))
    with h5py.File(os.path.join(OUT, "dataset-h5py-splits-twice.h5"), "w") as f:
        g = small_dataset(f, h, w, c, n)
        g.create_dataset("images", data=rng.integers(0, 256, size=(n, h, w, c), dtype=np.uint8))
        f.attrs["splits"] = np.array(["train", "train"], dtype=STR)


def dataset_libver_latest():
    h, w, c, n = 4, 4, 1, 8
    rng = np.random.default_rng(13)
    with h5py.File(os.path.join(OUT, "dataset-h5py-libver-latest.h5"), "w", libver="latest") as f:
        small_dataset(f, h, w, c, n).create_dataset(
            "images", data=rng.integers(0, 256, size=(n, h, w, c), dtype=np.uint8), compression="gzip")


def dataset_empty_source():
    h, w, c, n = 4, 4, 1, 8
    rng = np.random.default_rng(17)
    with h5py.File(os.path.join(OUT, "dataset-h5py-empty-source.h5"), "w") as f:
        g = small_dataset(f, h, w, c, n)
        g.create_dataset("images", data=rng.integers(0, 256, size=(n, h, w, c), dtype=np.uint8))
        f.attrs["source"] = h5py.Empty(STR)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240607)
    ref = {"model": model(rng), "dataset": dataset(rng)}
    dataset_lzf()
    dataset_outside()
    dataset_variants()
    dataset_libver_latest()
    dataset_empty_source()
    with open(os.path.join(OUT, "h5py-reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
