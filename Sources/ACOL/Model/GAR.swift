import Foundation

/// Which nodes GAR's affinity and balance are computed over.
public enum GARScope: String, Codable, Sendable {
    /// All n = n_p * k nodes together (the reference default).
    case allNodes = "all_nodes"
    /// Each parent's k x k block separately, averaged over the parents.
    case perParent = "per_parent"
}

/// How the Frobenius term c_F * ||Z||^2 is reduced over the batch.
public enum FrobeniusReduction: String, Codable, Sendable {
    /// Sum over the batch (the Keras reference).
    case sum
    /// Mean over the batch (the PyTorch reference).
    case mean
}

/// The graph-based activity regulariser.
public struct GARConfig: Codable, Equatable, Sendable {
    public var scope: GARScope
    /// Also apply affinity and balance to max(0, -Z) (the authors' later code).
    public var symmetric: Bool
    public var cA: Float
    public var cB: Float
    public var cF: Float
    public var frobenius: FrobeniusReduction
    /// Added to the denominators of affinity and balance.
    public var epsilon: Float

    public init(scope: GARScope = .allNodes, symmetric: Bool = false, cA: Float = 1, cB: Float = 1,
                cF: Float = 1e-6, frobenius: FrobeniusReduction = .sum, epsilon: Float = 1e-7) {
        self.scope = scope; self.symmetric = symmetric; self.cA = cA; self.cB = cB; self.cF = cF
        self.frobenius = frobenius; self.epsilon = epsilon
    }

    /// The reference code's defaults: all-node scope, c_a = c_b = 1, c_F = 1e-6 (sum).
    public static let reference = GARConfig(scope: .allNodes, symmetric: false)
}

/// The ACOL objective on one mini-batch: cross-entropy on the pooled parent probabilities plus
/// GAR, with its gradient with respect to Z.
///
/// Shapes: Z [m, n] with n = n_p * k (node j: parent j mod n_p, duplicate j / n_p);
/// S = softmax(Z) [m, n]; Y = S P [m, n_p]; parents [m].
public struct ACOLObjective {
    public let head: ACOLHeadSpec
    public let gar: GARConfig

    public init(head: ACOLHeadSpec, gar: GARConfig) { self.head = head; self.gar = gar }

    public struct Result {
        /// Cross-entropy + U.
        public var loss: Double
        public var crossEntropy: Double
        /// U = c_a * a + c_b * (1 - b) + c_F * F.
        public var regularizer: Double
        /// Affinity a in [0, 1] (averaged over parents and signs as the scope says).
        public var affinity: Double
        /// Balance b in [0, 1].
        public var balance: Double
        /// ||Z||^2 summed, or its mean, as configured.
        public var frobenius: Double
        /// Examples whose argmax of Y is their parent label (over all processes with a shard).
        public var correctParents: Int
        /// dLoss/dZ [m, n] (empty unless asked for); with a shard, this process's rows.
        public var dZ: [Float]
        /// Y [m, n_p].
        public var pooled: [Float]
    }

    /// Column groups GAR is computed over: one group of all nodes, or one per parent.
    var blocks: [[Int]] {
        switch gar.scope {
        case .allNodes: return [Array(0..<head.nodes)]
        case .perParent: return (0..<head.parents).map { head.nodes(ofParent: $0) }
        }
    }

    /// One block's per-process part of GAR: B = max(0, sign * Z) restricted to `cols` [m, nb],
    /// its row sums r [m], the diagonal v of N = B^T B (column sums of B^2) [nb] and sN = sum of
    /// all N_ij (= sum_i r_i^2). v and sN are sums over rows: a batch split over processes sums
    /// them to get the whole batch's.
    struct GARBlockPart {
        var cols: [Int]
        var sign: Float
        var bm: [Double]
        var r: [Double]
        var v: [Double]
        var sN: Double
    }

    func garBlockPart(z: UnsafeBufferPointer<Float>, m: Int, n: Int, cols: [Int], sign: Float) -> GARBlockPart {
        let nb = cols.count
        // B [m, nb] in Double.
        var bm = [Double](repeating: 0, count: m * nb)
        for i in 0..<m { for (c, j) in cols.enumerated() { bm[i * nb + c] = Double(max(0, sign * z[i * n + j])) } }
        var r = [Double](repeating: 0, count: m)      // row sums
        var v = [Double](repeating: 0, count: nb)     // diag(N): column sums of B^2
        for i in 0..<m {
            for c in 0..<nb { let x = bm[i * nb + c]; r[i] += x; v[c] += x * x }
        }
        let sN = r.reduce(0) { $0 + $1 * $1 }         // sum of all N_ij
        return GARBlockPart(cols: cols, sign: sign, bm: bm, r: r, v: v, sN: sN)
    }

    /// Affinity and balance of one block from its (whole-batch) v and sN and, if `grad` is
    /// given, adds weight * (c_a * da/dZ - c_b * db/dZ) into it for this process's rows
    /// (grad [m, n]).
    func garBlockFinish(_ part: GARBlockPart, m: Int, n: Int, weight: Double,
                        grad: UnsafeMutableBufferPointer<Float>?) -> (a: Double, b: Double) {
        let cols = part.cols, nb = cols.count, bm = part.bm, r = part.r, v = part.v, sN = part.sN
        let sign = part.sign
        let t = v.reduce(0, +)                        // tr N
        let q = v.reduce(0) { $0 + $1 * $1 }          // tr V
        let eps = Double(gar.epsilon)
        let numA = sN - t, denA = Double(nb - 1) * t + eps
        let numB = t * t - q, denB = Double(nb - 1) * q + eps
        let a = numA / denA, b = numB / denB
        if let g = grad {
            let ca = Double(gar.cA), cb = Double(gar.cB)
            for i in 0..<m {
                for (c, j) in cols.enumerated() {
                    let x = bm[i * nb + c]
                    if x <= 0 { continue }
                    let dA = ((2 * r[i] - 2 * x) * denA - numA * Double(nb - 1) * 2 * x) / (denA * denA)
                    let dB = ((4 * t * x - 4 * v[c] * x) * denB - numB * Double(nb - 1) * 4 * v[c] * x) / (denB * denB)
                    g[i * n + j] += Float(weight * (ca * dA - cb * dB) * Double(sign))
                }
            }
        }
        return (a, b)
    }

    /// The loss and, with `gradient`, dLoss/dZ. `parents` may be nil when n_p == 1.
    public func evaluate(z: Tensor, parents: [Int32]?, gradient: Bool) -> Result {
        evaluate(z: z, parents: parents, gradient: gradient, shard: nil)
    }

    /// As `evaluate`, for this process's rows Z [m, n] of a batch split over processes (`shard`;
    /// nil: the whole batch is here). The cross-entropy is divided by the whole batch's row
    /// count; GAR's v and sN of every block, the summed cross-entropy, the correct count and
    /// ||Z||^2 are summed over the processes (one reduction) before use, so the loss, affinity,
    /// balance and correct count are the whole batch's and dZ holds this process's rows of the
    /// whole batch's gradient.
    public func evaluate(z: Tensor, parents: [Int32]?, gradient: Bool, shard: BatchShard?) -> Result {
        let m = z.rows, n = head.nodes, np = head.parents
        precondition(z.columns == n, "ACOLObjective: Z has \(z.columns) columns, head has \(n) nodes")
        // Rows of the whole batch.
        let mAll = shard?.globalRows ?? m
        let parentOf = head.nodeParents
        let nodesOf = (0..<np).map { head.nodes(ofParent: $0) }
        var dZ = [Float](repeating: 0, count: gradient ? m * n : 0)
        var pooled = [Float](repeating: 0, count: m * np)
        var ce = 0.0
        var correct = 0
        var affinity = 0.0, balance = 0.0, frob = 0.0
        z.data.withUnsafeBufferPointer { zp in
            // Softmax over all nodes, pooling, cross-entropy.
            var s = [Double](repeating: 0, count: n)
            for i in 0..<m {
                let row = i * n
                var mx = -Float.infinity
                for j in 0..<n { mx = max(mx, zp[row + j]) }
                var total = 0.0
                for j in 0..<n { s[j] = Double((zp[row + j] - mx)).exp; total += s[j] }
                var y = [Double](repeating: 0, count: np)
                for j in 0..<n { s[j] /= total; y[parentOf[j]] += s[j] }
                var best = 0
                for p in 0..<np { pooled[i * np + p] = Float(y[p]); if y[p] > y[best] { best = p } }
                if let parents {
                    let p = Int(parents[i])
                    // -log Y_p computed as log-sum-exp differences for accuracy.
                    var lseP = 0.0
                    for j in nodesOf[p] { lseP += Double(zp[row + j] - mx).exp }
                    ce += total.log - lseP.log
                    if best == p { correct += 1 }
                    if gradient {
                        for j in 0..<n {
                            let own = (parentOf[j] == p) ? s[j] / y[p] : 0
                            dZ[row + j] = Float((s[j] - own) / Double(mAll))
                        }
                    }
                }
            }
            // GAR: each block's per-row parts.
            let blocks = self.blocks
            let signs: [Float] = gar.symmetric ? [1, -1] : [1]
            let w = 1.0 / Double(blocks.count * signs.count)
            var parts: [GARBlockPart] = []
            for sgn in signs {
                for cols in blocks { parts.append(garBlockPart(z: zp, m: m, n: n, cols: cols, sign: sgn)) }
            }
            var sq = 0.0
            for i in 0..<(m * n) { sq += Double(zp[i]) * Double(zp[i]) }
            if let shard {
                // [ce, correct, ||Z||^2, (v..., sN) of each block] over all processes.
                var total = [ce, Double(correct), sq]
                for p in parts { total += p.v; total.append(p.sN) }
                shard.reduction.sum(&total)
                ce = total[0]; correct = Int(total[1].rounded()); sq = total[2]
                var o = 3
                for k in 0..<parts.count {
                    let nb = parts[k].v.count
                    parts[k].v = Array(total[o..<(o + nb)]); parts[k].sN = total[o + nb]
                    o += nb + 1
                }
            }
            ce /= Double(max(mAll, 1))
            dZ.withUnsafeMutableBufferPointer { g in
                for part in parts {
                    let (a, b) = garBlockFinish(part, m: m, n: n, weight: w, grad: gradient ? g : nil)
                    affinity += w * a; balance += w * b
                }
                let scale: Double = gar.frobenius == .sum ? 1 : 1 / Double(max(mAll * n, 1))
                frob = sq * scale
                if gradient && gar.cF != 0 {
                    let k = Float(2 * Double(gar.cF) * scale)
                    for i in 0..<(m * n) { g[i] += k * zp[i] }
                }
            }
        }
        let u = Double(gar.cA) * affinity + Double(gar.cB) * (1 - balance) + Double(gar.cF) * frob
        return Result(loss: ce + u, crossEntropy: ce, regularizer: u, affinity: affinity, balance: balance,
                      frobenius: frob, correctParents: correct, dZ: dZ, pooled: pooled)
    }
}

extension Double {
    @inline(__always) var exp: Double { Foundation.exp(self) }
    @inline(__always) var log: Double { Foundation.log(self) }
}
