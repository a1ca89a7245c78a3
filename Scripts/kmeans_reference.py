#!/usr/bin/env python3
"""Reference values for acol's k-means (Tests/ACOLTests/KMeansTests.swift).

Lloyd's algorithm in numpy (float64) from fixed starting centroids, on points in overlapping
blobs, run until no assignment changes: the final assignments, centroids and inertia. Writes
Fixtures/kmeans/reference.json. Run: python3 Scripts/kmeans_reference.py (numpy only)."""
import json, os
import numpy as np

rng = np.random.default_rng(7)
d, k = 5, 4
centres = rng.normal(0, 2.0, size=(k, d))
points = np.concatenate([rng.normal(c, 1.2, size=(40, d)) for c in centres]).astype(np.float32)
order = rng.permutation(len(points))
points = points[order]
start = points[[0, 1, 2, 3]].astype(np.float64)

x = points.astype(np.float64)
c = start.copy()
assign = None
for it in range(1, 101):
    dist = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    a = dist.argmin(1)
    changed = assign is None or (a != assign).any()
    assign = a
    for j in range(k):
        c[j] = x[a == j].mean(0)
    if not changed:
        break
dist = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
out = {
    "d": d, "k": k, "points": points.ravel().tolist(), "start": start.ravel().tolist(),
    "assignments": dist.argmin(1).tolist(), "centroids": c.ravel().tolist(),
    "inertia": float(dist.min(1).sum()),
}
path = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "kmeans", "reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, "inertia", out["inertia"], "iterations", it)
