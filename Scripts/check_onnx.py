#!/usr/bin/env python3
"""Checks an ONNX file written by `acol export` against `acol run` (Scripts/check_onnx.sh).

    check_onnx.py MODEL.onnx RUN.jsonl

MODEL.onnx: the exported model. RUN.jsonl: `acol run MODEL.h5 PNGS... --format jsonl` of the same
model (its paths are read again here). Checks, with onnx.checker and onnxruntime:
- the file passes onnx.checker (full check, with shape inference) and uses opset >= 13;
- input `pixels` float32 [N, H, W, C], outputs `clusters` [N, n] and `parents` [N, n_p];
- metadata_props: acol.nodes (n nodes in order), acol.parent_names (n_p names);
- for every image: onnxruntime's cluster (argmax of clusters) is acol's cluster, its parent
  (metadata) acol's parent and parent name, clusters[cluster] is acol's confidence within 1e-5;
  each row of clusters sums to 1 and parents equals the clusters pooled by the metadata's
  node -> parent table (1e-5).
Exit status 0 when all holds, 1 otherwise.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

TOL = 1e-5


def fail(msg):
    print(f"check_onnx: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim]


def main():
    if len(sys.argv) != 3:
        fail("usage: check_onnx.py MODEL.onnx RUN.jsonl")
    path, run_path = sys.argv[1], sys.argv[2]

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opset = {o.domain: o.version for o in model.opset_import}
    if opset.get("", 0) < 13:
        fail(f"opset {opset}")
    g = model.graph
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    nodes, parent_names = meta["acol.nodes"], meta["acol.parent_names"]
    n, n_p = len(nodes), len(parent_names)
    if [i.name for i in g.input] != ["pixels"] or [o.name for o in g.output] != ["clusters", "parents"]:
        fail(f"inputs {[i.name for i in g.input]}, outputs {[o.name for o in g.output]}")
    in_dims = dims(g.input[0])
    if len(in_dims) != 4 or not isinstance(in_dims[0], str):
        fail(f"pixels dims {in_dims}")
    _, h, w, c = in_dims
    if dims(g.output[0])[1:] != [n] or dims(g.output[1])[1:] != [n_p]:
        fail(f"output dims {dims(g.output[0])}, {dims(g.output[1])}; metadata has {n} nodes, {n_p} parents")
    if [e["node"] for e in nodes] != list(range(n)):
        fail("acol.nodes is not in node order")

    rows = [json.loads(line) for line in open(run_path, encoding="utf-8") if line.strip()]
    rows = [r for r in rows if "error" not in r]
    if not rows:
        fail(f"{run_path}: no results")
    pixels = np.zeros((len(rows), h, w, c), dtype=np.float32)
    for i, r in enumerate(rows):
        img = Image.open(r["path"])
        img = img.convert("L" if c == 1 else "RGB")
        a = np.asarray(img, dtype=np.uint8)
        pixels[i] = a.reshape(h, w, c)

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    clusters, parents = session.run(["clusters", "parents"], {"pixels": pixels})
    if clusters.shape != (len(rows), n) or parents.shape != (len(rows), n_p):
        fail(f"output shapes {clusters.shape}, {parents.shape}")

    pool = np.zeros((n, n_p), dtype=np.float64)
    for e in nodes:
        pool[e["node"], e["parent"]] = 1
    worst_conf = worst_pool = worst_sum = 0.0
    for i, r in enumerate(rows):
        cl = int(np.argmax(clusters[i]))
        if cl != r["cluster"]:
            fail(f"{r['path']}: onnxruntime cluster {cl}, acol {r['cluster']} ({clusters[i].tolist()})")
        if nodes[cl]["parent"] != r["parent"] or parent_names[r["parent"]] != r["parent_name"]:
            fail(f"{r['path']}: parent {nodes[cl]['parent']} vs acol {r['parent']} {r['parent_name']!r}")
        if nodes[cl].get("fine_label") != r.get("fine_label"):
            fail(f"{r['path']}: fine label {nodes[cl].get('fine_label')} vs acol {r.get('fine_label')}")
        worst_conf = max(worst_conf, abs(float(clusters[i, cl]) - r["confidence"]))
        worst_sum = max(worst_sum, abs(float(clusters[i].astype(np.float64).sum()) - 1))
        worst_pool = max(worst_pool, float(np.abs(clusters[i].astype(np.float64) @ pool - parents[i]).max()))
    for name, value in [("confidence", worst_conf), ("softmax sum", worst_sum), ("pooled parents", worst_pool)]:
        if value > TOL:
            fail(f"largest {name} difference {value:.3g} > {TOL}")
    used = len(set(r["cluster"] for r in rows))
    print(f"check_onnx: OK {path}: opset {opset['']}, {len(g.node)} nodes, {len(rows)} images, "
          f"{used} clusters used; clusters equal, largest differences: confidence {worst_conf:.2g}, "
          f"softmax sum {worst_sum:.2g}, pooled parents {worst_pool:.2g} (onnx {onnx.__version__}, "
          f"onnxruntime {ort.__version__})")


if __name__ == "__main__":
    main()
