import Foundation

/// The span of the top principal directions of a point set, found by subspace iteration
/// (block power iteration on the covariance, without forming it): Q <- orth(Xc^T (Xc Q)),
/// Xc = X - mean, each step two GEMMs [m, d] x [d, r] and [r, m] x [m, d] through BLAS and a
/// modified Gram-Schmidt on the r basis vectors. k-means only needs the subspace (distances are
/// the same in any orthonormal basis of it), so no eigenvectors are computed.
/// Deterministic for a given seed and thread count.
public struct PrincipalSubspace: Sendable {
    /// Orthonormal basis vectors [r, d], row-major (row i is basis vector i).
    public var basis: [Float]
    /// The mean of the points [d].
    public var mean: [Float]
    public var rank: Int
    public var dimension: Int

    /// Fits the top-`rank` subspace of `points` [m, d] with `iterations` power steps from a
    /// Gaussian start drawn from `seed`. Throws when the sizes do not fit or rank is not in
    /// 1...min(m, d).
    public static func fit(_ points: [Float], count m: Int, dimension d: Int, rank r: Int,
                           iterations: Int = 6, seed: UInt64 = 1) throws -> PrincipalSubspace {
        guard m > 0, d > 0, points.count == m * d, r >= 1, r <= min(m, d) else {
            throw ACOLError.invalidData("principal subspace: expected m > 0 points of dimension d > 0 and 1 <= rank <= min(m, d), found m = \(m), d = \(d), rank = \(r), \(points.count) values")
        }
        // mean [d] (summed in Double)
        var sum = [Double](repeating: 0, count: d)
        points.withUnsafeBufferPointer { p in
            for i in 0..<m { for t in 0..<d { sum[t] += Double(p[i * d + t]) } }
        }
        let mean = sum.map { Float($0 / Double(m)) }
        var rng = SeededGenerator(seed: seed &+ 0x9C4)
        // Q [r, d]: Gaussian (Box-Muller), then orthonormal rows.
        var q = [Float](repeating: 0, count: r * d)
        for i in 0..<(r * d) {
            let u1 = max(Double(rng.nextUnitFloat()), 1e-12), u2 = Double(rng.nextUnitFloat())
            q[i] = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
        }
        orthonormalizeRows(&q, rows: r, columns: d)
        var colSum = [Float](repeating: 0, count: r)        // sum over points of V
        for _ in 0..<max(1, iterations) {
            // V = Xc Q^T [m, r]: the points' coordinates in the current basis.
            let v = PrincipalSubspace(basis: q, mean: mean, rank: r, dimension: d).project(points, count: m)
            v.withUnsafeBufferPointer { vp in
                colSum.withUnsafeMutableBufferPointer { columnSums(vp.baseAddress!, rows: m, n: r, into: $0.baseAddress!) }
            }
            // Q = V^T Xc = V^T X - (1^T V)^T mean  [r, d]
            v.withUnsafeBufferPointer { vp in
                points.withUnsafeBufferPointer { xp in
                    q.withUnsafeMutableBufferPointer { qp in
                        parallelGemm(transA: true, m: r, n: d, k: m, a: vp.baseAddress!, lda: r,
                                     b: xp.baseAddress!, ldb: d, c: qp.baseAddress!, ldc: d)
                    }
                }
            }
            for i in 0..<r { for t in 0..<d { q[i * d + t] -= colSum[i] * mean[t] } }
            orthonormalizeRows(&q, rows: r, columns: d)
        }
        return PrincipalSubspace(basis: q, mean: mean, rank: r, dimension: d)
    }

    /// Coordinates [m, rank] of `points` [m, d] in the subspace: (x - mean) Q^T.
    public func project(_ points: [Float], count m: Int) -> [Float] {
        let d = dimension, r = rank
        var out = [Float](repeating: 0, count: m * r)
        guard m > 0 else { return out }
        points.withUnsafeBufferPointer { xp in
            basis.withUnsafeBufferPointer { qp in
                out.withUnsafeMutableBufferPointer { op in
                    parallelGemm(transB: true, m: m, n: r, k: d, a: xp.baseAddress!, lda: d,
                                 b: qp.baseAddress!, ldb: d, c: op.baseAddress!, ldc: r)
                }
            }
        }
        var meanQ = [Float](repeating: 0, count: r)
        for i in 0..<r { var s: Float = 0; for t in 0..<d { s += mean[t] * basis[i * d + t] }; meanQ[i] = s }
        for a in 0..<m { for i in 0..<r { out[a * r + i] -= meanQ[i] } }
        return out
    }

    /// Modified Gram-Schmidt on the rows of x [rows, columns] (in Double). A row that is
    /// (numerically) in the span of the earlier ones is replaced by the first unit vector
    /// orthogonal to them, so the result always has orthonormal rows.
    static func orthonormalizeRows(_ x: inout [Float], rows: Int, columns n: Int) {
        var q = x.map(Double.init)
        var spare = 0
        for i in 0..<rows {
            var attempts = 0
            while true {
                for j in 0..<i {
                    var dot = 0.0
                    for t in 0..<n { dot += q[i * n + t] * q[j * n + t] }
                    for t in 0..<n { q[i * n + t] -= dot * q[j * n + t] }
                }
                var norm = 0.0
                for t in 0..<n { norm += q[i * n + t] * q[i * n + t] }
                norm = norm.squareRoot()
                if norm > 1e-10 || attempts > n {
                    let s = norm > 0 ? 1 / norm : 0
                    for t in 0..<n { q[i * n + t] *= s }
                    break
                }
                // Degenerate: try the next unit vector.
                for t in 0..<n { q[i * n + t] = t == spare % n ? 1 : 0 }
                spare += 1; attempts += 1
            }
        }
        x = q.map(Float.init)
    }
}
