#!/usr/bin/env python3
"""Reference values for acol's k-means and principal subspace (Tests/ACOLTests/KMeansTests.swift).

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

# The principal subspace (PrincipalSubspace.swift): points in 12 dimensions whose covariance has
# eigenvalues 25, 16, 9 and then 0.25 or less, in a random orientation; the top-3 eigenvectors
# of the sample covariance (numpy eigh, float64). Drawn after the k-means data, whose values
# stay as they were.
sd, sr, sm = 12, 3, 300
scales = np.array([5.0, 4.0, 3.0] + [0.5] * 4 + [0.3] * 5)
rot, _ = np.linalg.qr(rng.normal(size=(sd, sd)))
sub_points = ((rng.normal(size=(sm, sd)) * scales) @ rot.T + rng.normal(0, 3, size=sd)).astype(np.float32)
xs = sub_points.astype(np.float64)
cov = np.cov(xs, rowvar=False)
w, v = np.linalg.eigh(cov)
top = v[:, np.argsort(w)[::-1][:sr]].T     # [r, d]
out["subspace"] = {"d": sd, "rank": sr, "points": sub_points.ravel().tolist(), "basis": top.ravel().tolist(),
                   "mean": xs.mean(0).tolist(), "eigenvalues": sorted(w.tolist(), reverse=True)}
path = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "kmeans", "reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, "inertia", out["inertia"], "iterations", it)
