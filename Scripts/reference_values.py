#!/usr/bin/env python3
"""Reference values for the core-library tests (Tests/ACOLTests/ReferenceValues.swift).

Everything here is computed in float64 with numpy (and scipy's linear_sum_assignment), written
from the formulas of docs/ACOL.md, not ported from the Swift code:

- the ACOL objective (softmax over all nodes, sum-pooling of the k interleaved duplicates,
  mean cross-entropy, GAR affinity / balance / Frobenius term) for every GAR variant, with
  dLoss/dZ by the complex-step method (exact to rounding, independent of any hand derivation);
- purity, Hungarian accuracy and NMI (arithmetic normalisation) of fixed assignments;
- Dense and Conv2D ('same' and 'valid') forward passes with fixed weights, by explicit loops;
- a BatchNorm training forward (batch statistics, biased variance) and its running statistics.

Inputs are drawn from a seeded generator and rounded to float32 first, so the Swift tests feed
exactly the numbers used here. Run from the repository root:

    python3 Scripts/reference_values.py        # rewrites Tests/ACOLTests/ReferenceValues.swift
"""
import os
import numpy as np
from scipy.optimize import linear_sum_assignment

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ACOLTests",
                   "ReferenceValues.swift")

rng = np.random.default_rng(20261129)


def f32(a):
    """Rounds to float32 and back to float64: the exact values the Swift side will hold."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def away_from_zero(shape, lo=0.15, hi=1.5):
    """Uniform magnitudes in [lo, hi) with random signs (no ReLU kinks near 0, no ties)."""
    mag = rng.uniform(lo, hi, size=shape)
    sgn = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    return f32(mag * sgn)


# ----------------------------------------------------------------------------------------------
# ACOL objective
# ----------------------------------------------------------------------------------------------
C_A, C_B, C_F = 1.5, 0.75, 0.0625           # exactly representable in float32
EPS = float(np.float32(1e-7))               # GARConfig.epsilon is a Float


def pooled_output(z, n_p):
    """S = softmax(Z) over all n nodes; Y = S P with P = k stacked identities (node j -> j mod n_p)."""
    zmax = z.real.max(axis=1, keepdims=True)
    e = np.exp(z - zmax)
    s = e / e.sum(axis=1, keepdims=True)
    m, n = z.shape
    k = n // n_p
    P = np.zeros((n, n_p))
    for d in range(k):
        P[d * n_p:(d + 1) * n_p, :] = np.eye(n_p)
    return s @ P


def affinity_balance(b):
    """a and b of ACOL.md on B [m, nb] (N = B^T B, v = diag N, V = v^T v)."""
    nb = b.shape[1]
    N = b.T @ b                      # plain transpose: complex-step safe (no conjugation)
    v = np.diag(N)
    V = np.outer(v, v)
    trN, trV = np.trace(N), np.trace(V)
    a = (N.sum() - trN) / ((nb - 1) * trN + EPS)
    bal = (V.sum() - trV) / ((nb - 1) * trV + EPS)
    return a, bal


def relu(x):
    # Branch on the real part so the complex step passes through max(0, .) correctly.
    return np.where(x.real > 0, x, 0.0 * x)


def objective(z, parents, n_p, scope, symmetric, frob):
    """Returns (Y, CE, affinity, balance, F, U, loss) for Z [m, n] (real or complex)."""
    m, n = z.shape
    k = n // n_p
    y = pooled_output(z, n_p)
    if n_p > 1:
        ce = -np.mean(np.log(y[np.arange(m), parents]))
    else:
        ce = 0.0 * z[0, 0]           # one parent: Y = 1, no cross-entropy
    if scope == "allNodes":
        groups = [list(range(n))]
    else:
        groups = [[d * n_p + p for d in range(k)] for p in range(n_p)]
    signs = [1.0, -1.0] if symmetric else [1.0]
    aff = 0.0
    bal = 0.0
    for s in signs:
        for g in groups:
            a_, b_ = affinity_balance(relu(s * z[:, g]))
            aff = aff + a_
            bal = bal + b_
    aff = aff / (len(signs) * len(groups))
    bal = bal / (len(signs) * len(groups))
    F = (z * z).sum()
    if frob == "mean":
        F = F / (m * n)
    U = C_A * aff + C_B * (1 - bal) + C_F * F
    return y, ce, aff, bal, F, U, ce + U


def complex_step_grad(fun, z, h=1e-30):
    g = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        zc = z.astype(np.complex128)
        zc[idx] += 1j * h
        g[idx] = fun(zc).imag / h
    return g


def objective_cases(z, parents, n_p, variants):
    out = []
    for scope, symmetric, frob in variants:
        y, ce, aff, bal, F, U, L = objective(z, parents, n_p, scope, symmetric, frob)
        dz = complex_step_grad(lambda zz: objective(zz, parents, n_p, scope, symmetric, frob)[6], z)
        out.append(dict(scope=scope, symmetric=symmetric, frob=frob, ce=ce, aff=aff, bal=bal, F=F,
                        U=U, loss=L, dz=dz, y=y))
    return out


ALL_VARIANTS = [(s, sym, fr) for s in ("allNodes", "perParent") for sym in (False, True)
                for fr in ("sum", "mean")]

# Two parents, k = 3: m = 6, n = 6.
OBJ_M, OBJ_NP, OBJ_K = 6, 2, 3
obj_z = away_from_zero((OBJ_M, OBJ_NP * OBJ_K))
obj_parents = np.array([0, 1, 1, 0, 1, 0])
obj_cases = objective_cases(obj_z, obj_parents, OBJ_NP, ALL_VARIANTS)

# One parent (no coarse labels), k = 4: m = 5, n = 4. Cross-entropy is identically zero.
ONE_M, ONE_K = 5, 4
one_z = away_from_zero((ONE_M, ONE_K))
one_cases = objective_cases(one_z, np.zeros(ONE_M, dtype=int), 1, ALL_VARIANTS)

# ----------------------------------------------------------------------------------------------
# Clustering metrics
# ----------------------------------------------------------------------------------------------


def contingency(assign, labels, clusters, classes):
    t = np.zeros((clusters, classes), dtype=np.int64)
    for a, l in zip(assign, labels):
        t[a, l] += 1
    return t


def purity(t):
    return t.max(axis=1).sum() / t.sum()


def hungarian_accuracy(t):
    r, c = linear_sum_assignment(t, maximize=True)
    return t[r, c].sum() / t.sum()


def nmi(t):
    """I(U;V) / ((H(U) + H(V)) / 2) with natural logs (scikit-learn's default normalisation)."""
    total = t.sum()
    pij = t / total
    pi = pij.sum(axis=1)
    pj = pij.sum(axis=0)
    nz = pij > 0
    mi = (pij[nz] * np.log(pij[nz] / np.outer(pi, pj)[nz])).sum()
    hu = -(pi[pi > 0] * np.log(pi[pi > 0])).sum()
    hv = -(pj[pj > 0] * np.log(pj[pj > 0])).sum()
    return mi / ((hu + hv) / 2)


# Square: 4 clusters, 4 classes, 24 examples.
sq_labels = rng.integers(0, 4, size=24)
sq_assign = np.where(rng.uniform(size=24) < 0.5, (sq_labels + 1) % 4, rng.integers(0, 4, size=24))
# Rectangular: 6 clusters, 3 classes, 30 examples (more clusters than classes).
re_labels = rng.integers(0, 3, size=30)
re_assign = np.where(rng.uniform(size=30) < 0.6, 2 * re_labels + rng.integers(0, 2, size=30),
                     rng.integers(0, 6, size=30))
metric_sets = []
for name, assign, labels, clusters, classes in (("square", sq_assign, sq_labels, 4, 4),
                                                ("rectangular", re_assign, re_labels, 6, 3)):
    t = contingency(assign, labels, clusters, classes)
    metric_sets.append(dict(name=name, assign=assign, labels=labels, clusters=clusters,
                            classes=classes, table=t, purity=purity(t),
                            hungarian=hungarian_accuracy(t), nmi=nmi(t)))

# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------
dense_x = f32(rng.normal(size=(3, 4)))
dense_w = f32(rng.normal(size=(4, 5)) * 0.5)
dense_b = f32(rng.normal(size=5) * 0.1)
dense_y = dense_x @ dense_w + dense_b


def conv2d(x, kernel, bias, padding):
    """x [m, H, W, C], kernel [kh, kw, C, F]; stride 1; 'same' pads (k - 1) // 2 before."""
    m, H, W, C = x.shape
    kh, kw, _, F = kernel.shape
    if padding == "same":
        pt, pl, oh, ow = (kh - 1) // 2, (kw - 1) // 2, H, W
    else:
        pt, pl, oh, ow = 0, 0, H - kh + 1, W - kw + 1
    y = np.zeros((m, oh, ow, F))
    for n in range(m):
        for oy in range(oh):
            for ox in range(ow):
                for f in range(F):
                    acc = bias[f]
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = oy + ky - pt, ox + kx - pl
                            if 0 <= iy < H and 0 <= ix < W:
                                acc += np.dot(x[n, iy, ix, :], kernel[ky, kx, :, f])
                    y[n, oy, ox, f] = acc
    return y


conv_x = f32(rng.normal(size=(2, 4, 5, 2)))
conv_cases = []
for kshape, padding in (((2, 3), "same"), ((2, 3), "valid"), ((3, 3), "same")):
    kern = f32(rng.normal(size=kshape + (2, 3)) * 0.5)
    bias = f32(rng.normal(size=3) * 0.1)
    conv_cases.append(dict(kernel_shape=list(kshape), padding=padding, kernel=kern, bias=bias,
                           y=conv2d(conv_x, kern, bias, padding)))

BN_EPS, BN_MOM = float(np.float32(1e-3)), float(np.float32(0.99))
bn_x = f32(rng.normal(size=(2, 3, 2, 3)) * 2 + 1)       # [m, H, W, C], C = 3
bn_gamma = f32(rng.uniform(0.5, 1.5, size=3))
bn_beta = f32(rng.normal(size=3) * 0.2)
flat = bn_x.reshape(-1, 3)
bn_mean = flat.mean(axis=0)
bn_var = flat.var(axis=0)                                 # biased, used for normalising
bn_y = (bn_gamma * (flat - bn_mean) / np.sqrt(bn_var + BN_EPS) + bn_beta).reshape(bn_x.shape)
bn_running_mean = (1 - BN_MOM) * bn_mean                  # from running mean 0
bn_running_var = BN_MOM * 1 + (1 - BN_MOM) * flat.var(axis=0, ddof=1)   # unbiased, from 1

# ----------------------------------------------------------------------------------------------
# Swift output
# ----------------------------------------------------------------------------------------------


def fl(a):
    """Float32 literals (shortest round-trip repr)."""
    return "[" + ", ".join(repr(float(np.float32(v))) for v in np.ravel(a)) + "]"


def dl(a):
    return "[" + ", ".join(repr(float(v)) for v in np.ravel(a)) + "]"


def il(a):
    return "[" + ", ".join(str(int(v)) for v in np.ravel(a)) + "]"


def d(v):
    return repr(float(np.real(v)))


def objective_swift(cases):
    rows = []
    for c in cases:
        rows.append(
            "        ObjectiveCase(scope: .%s, symmetric: %s, frobenius: .%s,\n"
            "                      crossEntropy: %s, affinity: %s, balance: %s,\n"
            "                      frobeniusValue: %s, regularizer: %s, loss: %s,\n"
            "                      dZ: %s)"
            % (c["scope"], "true" if c["symmetric"] else "false", c["frob"], d(c["ce"]), d(c["aff"]),
               d(c["bal"]), d(c["F"]), d(c["U"]), d(c["loss"]), dl(c["dz"])))
    return "[\n" + ",\n".join(rows) + ",\n    ]"


lines = []
w = lines.append
w("// Generated by Scripts/reference_values.py (numpy, float64). Do not edit: rerun the script.")
w("// Inputs are float32-exact; expected values are float64.")
w("@testable import ACOL")
w("")
w("struct ObjectiveCase {")
w("    var scope: GARScope")
w("    var symmetric: Bool")
w("    var frobenius: FrobeniusReduction")
w("    var crossEntropy: Double")
w("    var affinity: Double")
w("    var balance: Double")
w("    var frobeniusValue: Double")
w("    var regularizer: Double")
w("    var loss: Double")
w("    var dZ: [Double]")
w("}")
w("")
w("struct MetricCase {")
w("    var name: String")
w("    var assignments: [Int]")
w("    var labels: [Int32]")
w("    var clusters: Int")
w("    var classes: Int")
w("    var table: [[Int]]")
w("    var purity: Double")
w("    var hungarianAccuracy: Double")
w("    var nmi: Double")
w("}")
w("")
w("struct ConvCase {")
w("    var kernelShape: [Int]")
w("    var padding: Padding")
w("    var kernel: [Float]")
w("    var bias: [Float]")
w("    var outputShape: [Int]")
w("    var y: [Double]")
w("}")
w("")
w("enum Ref {")
w("    // GAR constants used by every objective case.")
w("    static let cA: Float = %s, cB: Float = %s, cF: Float = %s, epsilon: Float = %s"
  % (repr(C_A), repr(C_B), repr(C_F), repr(float(np.float32(1e-7)))))
w("")
w("    // Two parents, k = %d: Z [%d, %d], parent labels, pooled Y [%d, %d]."
  % (OBJ_K, OBJ_M, OBJ_NP * OBJ_K, OBJ_M, OBJ_NP))
w("    static let objParents = %d, objK = %d, objM = %d" % (OBJ_NP, OBJ_K, OBJ_M))
w("    static let objZ: [Float] = %s" % fl(obj_z))
w("    static let objLabels: [Int32] = %s" % il(obj_parents))
w("    static let objY: [Double] = %s" % dl(obj_cases[0]["y"]))
w("    static let objCases: [ObjectiveCase] = %s" % objective_swift(obj_cases))
w("")
w("    // One parent, k = %d: Z [%d, %d]; cross-entropy is zero." % (ONE_K, ONE_M, ONE_K))
w("    static let oneK = %d, oneM = %d" % (ONE_K, ONE_M))
w("    static let oneZ: [Float] = %s" % fl(one_z))
w("    static let oneCases: [ObjectiveCase] = %s" % objective_swift(one_cases))
w("")
w("    // Clustering metrics (NMI: arithmetic normalisation, natural logs).")
w("    static let metricCases: [MetricCase] = [")
for c in metric_sets:
    w("        MetricCase(name: \"%s\", assignments: %s, labels: %s," % (c["name"], il(c["assign"]), il(c["labels"])))
    w("                   clusters: %d, classes: %d, table: [%s]," % (
        c["clusters"], c["classes"], ", ".join(il(r) for r in c["table"])))
    w("                   purity: %s, hungarianAccuracy: %s, nmi: %s)," % (
        d(c["purity"]), d(c["hungarian"]), d(c["nmi"])))
w("    ]")
w("")
w("    // Dense: x [3, 4], W [4, 5], b [5] -> y [3, 5].")
w("    static let denseX: [Float] = %s" % fl(dense_x))
w("    static let denseW: [Float] = %s" % fl(dense_w))
w("    static let denseB: [Float] = %s" % fl(dense_b))
w("    static let denseY: [Double] = %s" % dl(dense_y))
w("")
w("    // Conv2D: x [2, 4, 5, 2] NHWC; kernels [kh, kw, 2, 3].")
w("    static let convXShape = [2, 4, 5, 2]")
w("    static let convX: [Float] = %s" % fl(conv_x))
w("    static let convCases: [ConvCase] = [")
for c in conv_cases:
    w("        ConvCase(kernelShape: %s, padding: .%s," % (il(c["kernel_shape"]), c["padding"]))
    w("                 kernel: %s," % fl(c["kernel"]))
    w("                 bias: %s, outputShape: %s," % (fl(c["bias"]), il(c["y"].shape)))
    w("                 y: %s)," % dl(c["y"]))
w("    ]")
w("")
w("    // BatchNorm (training): x [2, 3, 2, 3], momentum %s, epsilon %s, running stats from 0 / 1."
  % (repr(BN_MOM), repr(BN_EPS)))
w("    static let bnXShape = [2, 3, 2, 3]")
w("    static let bnX: [Float] = %s" % fl(bn_x))
w("    static let bnGamma: [Float] = %s" % fl(bn_gamma))
w("    static let bnBeta: [Float] = %s" % fl(bn_beta))
w("    static let bnY: [Double] = %s" % dl(bn_y))
w("    static let bnRunningMean: [Double] = %s" % dl(bn_running_mean))
w("    static let bnRunningVar: [Double] = %s" % dl(bn_running_var))
w("}")

with open(OUT, "w") as fh:
    fh.write("\n".join(lines) + "\n")
print("wrote", os.path.normpath(OUT))
