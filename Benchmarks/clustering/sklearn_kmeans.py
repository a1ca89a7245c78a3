#!/usr/bin/env python3
"""scikit-learn's k-means on F dumped by `acol-bench features`, for comparison with acol's KMeans.

    python3 Benchmarks/clustering/sklearn_kmeans.py PREFIX [--k 10] [--singles 8] [--pca 50 --pca-restarts 30]

Reads PREFIX-{train,test}.{f32,labels,shape} and prints, each with the training inertia and the
test split's Hungarian accuracy (nearest centroid against the fine labels):
  1. KMeans(k, n_init=10) (greedy k-means++) with random_state 1, 2, 3;
  2. --singles single runs from plain k-means++ (n_local_trials=1), sorted by inertia;
  3. --pca-restarts plain restarts on the top --pca principal components, each then refined with
     Lloyd's iterations on the full F from its clusters' means (what acol's projected restarts do).
Needs numpy, scipy and scikit-learn (pip install scikit-learn). Not used by acol at run time.
"""
import argparse
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.decomposition import PCA

ap = argparse.ArgumentParser()
ap.add_argument("prefix")
ap.add_argument("--k", type=int, default=10)
ap.add_argument("--singles", type=int, default=8)
ap.add_argument("--pca", type=int, default=50)
ap.add_argument("--pca-restarts", type=int, default=30)
a = ap.parse_args()


def load(split):
    rows, cols = map(int, open(f"{a.prefix}-{split}.shape").read().split())
    x = np.fromfile(f"{a.prefix}-{split}.f32", dtype=np.float32).reshape(rows, cols)
    return x, np.fromfile(f"{a.prefix}-{split}.labels", dtype=np.int32)


def hungarian(assign, y):
    c = np.zeros((assign.max() + 1, y.max() + 1))
    np.add.at(c, (assign, y), 1)
    r, s = linear_sum_assignment(-c)
    return c[r, s].sum() / len(y)


ftr, ytr = load("train")
fte, yte = load("test")
for seed in (1, 2, 3):
    km = KMeans(a.k, n_init=10, random_state=seed).fit(ftr)
    print(f"KMeans(n_init=10) seed {seed}: inertia {km.inertia_:.6g}  test hungarian {hungarian(km.predict(fte), yte):.3f}")
runs = []
for seed in range(a.singles):
    init, _ = kmeans_plusplus(ftr, a.k, random_state=seed, n_local_trials=1)
    km = KMeans(a.k, init=init, n_init=1).fit(ftr)
    runs.append((km.inertia_, hungarian(km.predict(fte), yte)))
print("single plain k-means++ runs (inertia / hungarian):", ", ".join(f"{i:.6g} / {h:.3f}" for i, h in sorted(runs)))
pca = PCA(a.pca, random_state=0).fit(ftr)
ptr = pca.transform(ftr)
print(f"top {a.pca} principal components: {pca.explained_variance_ratio_.sum():.3f} of the variance")
runs = []
for seed in range(a.pca_restarts):
    init, _ = kmeans_plusplus(ptr, a.k, random_state=seed, n_local_trials=1)
    km = KMeans(a.k, init=init, n_init=1).fit(ptr)
    start = np.stack([ftr[km.labels_ == j].mean(0) for j in range(a.k)])
    full = KMeans(a.k, init=start, n_init=1).fit(ftr)
    runs.append((km.inertia_, full.inertia_, hungarian(full.predict(fte), yte)))
runs.sort()
print("projected restarts, lowest projected inertia first (projected / full inertia / hungarian):",
      ", ".join(f"{p:.6g} / {f:.6g} / {h:.3f}" for p, f, h in runs[:5]))
