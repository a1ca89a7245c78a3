"""Two label-free measures of k-means's partition inside each parent (docs/training.md, "The
start on the head alone"): its stability over four k-means seeds (the mean and worst adjusted
Rand index between the partitions), and the share of images that keep their k-means cluster when
they get the default recipe's photometric copy (u -> min(1, a * u^g), a log-uniform in
[1/1.5, 1.5], g log-uniform in [1/2, 2]). 10,000 training images per parent, pixels in [0, 1].

    python3 Benchmarks/clustering/kmeans_stability.py D.h5 K1,K2,...   (one k per parent; k < 2 skipped)
"""
import sys
import h5py
import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score


def main():
    f = h5py.File(sys.argv[1], "r")
    ks = [int(x) for x in sys.argv[2].split(",")]
    images = f["train/images"]
    x = images[:].reshape(len(images), -1).astype(np.float32) / 255
    parent = f["train/coarse_labels"][:]
    names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["parent_names"]]
    rng = np.random.default_rng(0)
    for p, k in enumerate(ks):
        if k < 2:
            continue
        idx = np.where(parent == p)[0]
        s = rng.choice(idx, min(len(idx), 10000), replace=False)
        fits = [KMeans(k, n_init=1, random_state=r).fit(x[s]) for r in range(4)]
        labels = [m.predict(x[s]) for m in fits]
        ari = [adjusted_rand_score(labels[i], labels[j]) for i in range(4) for j in range(i + 1, 4)]
        a = np.exp(rng.uniform(np.log(1 / 1.5), np.log(1.5), len(s)))[:, None]
        g = np.exp(rng.uniform(np.log(0.5), np.log(2), len(s)))[:, None]
        copy = np.minimum(1, a * np.power(x[s], g)).astype(np.float32)
        kept = (fits[0].predict(copy) == labels[0]).mean()
        print(f"{names[p]}: k {k}, ARI over seeds mean {np.mean(ari):.3f} worst {np.min(ari):.3f}, "
              f"kept under the photometric copy {kept:.3f}")


if __name__ == "__main__":
    main()
