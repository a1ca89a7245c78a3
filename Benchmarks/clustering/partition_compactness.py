"""Label-free compactness of a model's partition in pixel space, per parent, next to its purity.

For each parent with two or more clusters: W/T, the share of the parent's pixel variance (in its
top 50 principal directions) left inside the clusters the model puts the parent's training
images in (the k-means objective, for the network's partition); the purity by fine labels is
printed beside it as a diagnosis only. docs/training.md ("What the mixed footwear splits by").

    acol-bench predict model=M.h5 data=D.h5 split=train out=M.i32
    python3 Benchmarks/clustering/partition_compactness.py D.h5 M.i32 [M2.i32 ...]
"""
import sys
import h5py
import numpy as np


def purity(a, y):
    return sum(np.bincount(y[a == c]).max() for c in np.unique(a)) / len(y)


def main():
    data, models = sys.argv[1], sys.argv[2:]
    with h5py.File(data, "r") as f:
        x = f["train/images"][()]
        x = x.reshape(len(x), -1).astype(np.float32) / 255
        coarse = f["train/coarse_labels"][()]
        fine = f["train/fine_labels"][()] if "fine_labels" in f["train"] else None
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f.attrs.get("parent_names", [])]
    projected = {}
    for p in np.unique(coarse):
        xp = x[coarse == p]
        xp = xp - xp.mean(0)
        _, _, vt = np.linalg.svd(xp[::4], full_matrices=False)
        projected[p] = xp @ vt[:50].T
    for m in models:
        a = np.fromfile(m, dtype=np.int32)
        if len(a) != len(x):
            sys.exit(f"{m}: {len(a)} clusters for {len(x)} training images")
        parts = []
        for p, z in projected.items():
            ap = a[coarse == p]
            if len(np.unique(ap)) < 2:
                continue
            total = ((z - z.mean(0)) ** 2).sum()
            within = sum(((z[ap == c] - z[ap == c].mean(0)) ** 2).sum() for c in np.unique(ap))
            name = names[p] if p < len(names) else str(p)
            text = f"{name} W/T {within / total:.4f}"
            if fine is not None:
                text += f" purity {purity(ap, fine[coarse == p]):.3f}"
            parts.append(text)
        print(m, " | ".join(parts))


if __name__ == "__main__":
    main()
