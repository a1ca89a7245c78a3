import Foundation

/// The k nearest neighbours of every point among the points of its own group (its parent), by
/// Euclidean distance in the points' top principal directions (`PrincipalSubspace`, `rank` of
/// them: distances there are those of the points with their smallest variations left out, and
/// a 784-pixel image costs 50 multiply-adds per pair instead of 784). The squared distances of
/// a block of points to all of its group come from one GEMM through BLAS
/// (|a - b|^2 = |a|^2 - 2 a.b + |b|^2); each point keeps its k closest, ties to the lower index.
/// A point is never its own neighbour; in a group of g <= k points, the g - 1 others are listed
/// first and the rest of the row repeats the point itself.
/// Deterministic for a given seed and thread count.
public struct NearestNeighbours: Sendable, Equatable {
    /// Neighbours per point.
    public let k: Int
    /// [count, k], row-major: row i holds point i's neighbours, nearest first.
    public let indices: [Int32]

    public var count: Int { k > 0 ? indices.count / k : 0 }

    /// Point i's neighbours.
    public func of(_ i: Int) -> ArraySlice<Int32> { indices[(i * k)..<((i + 1) * k)] }

    /// `points` [count, dimension]; `groups` one group per point (nil: one group), e.g. the
    /// parent labels. Throws when the sizes do not fit or k < 1.
    public static func find(points: [Float], count m: Int, dimension d: Int, groups: [Int32]? = nil,
                            k: Int, rank: Int = 50, seed: UInt64 = 1) throws -> NearestNeighbours {
        guard m > 0, d > 0, points.count == m * d, k >= 1 else {
            throw ACOLError.invalidData("nearest neighbours: expected m > 0 points of dimension d > 0 and k >= 1, found m = \(m), d = \(d), k = \(k), \(points.count) values")
        }
        if let g = groups, g.count != m {
            throw ACOLError.invalidData("nearest neighbours: expected one group per point (\(m)), found \(g.count)")
        }
        // Coordinates y [m, r] in the top-r principal directions (the points themselves when
        // r would not be smaller than d).
        let r = min(rank, d, m)
        let y: [Float], dim: Int
        if r < d && r >= 1 {
            y = try PrincipalSubspace.fit(points, count: m, dimension: d, rank: r, seed: seed).project(points, count: m)
            dim = r
        } else {
            y = points; dim = d
        }
        var members: [Int32: [Int]] = [:]
        for i in 0..<m { members[groups?[i] ?? 0, default: []].append(i) }
        var out = [Int32](repeating: 0, count: m * k)
        for key in members.keys.sorted() {
            search(members[key]!, y: y, dimension: dim, k: k, into: &out)
        }
        return NearestNeighbours(k: k, indices: out)
    }

    /// The neighbours of every point of one group `ids` (indices into y [m, dim]) among the group.
    private static func search(_ ids: [Int], y: [Float], dimension dim: Int, k: Int, into out: inout [Int32]) {
        let g = ids.count
        // The group's coordinates, contiguous [g, dim], and squared norms [g].
        var a = [Float](repeating: 0, count: g * dim)
        var norm = [Float](repeating: 0, count: g)
        for (o, i) in ids.enumerated() {
            var s: Float = 0
            for t in 0..<dim { let v = y[i * dim + t]; a[o * dim + t] = v; s += v * v }
            norm[o] = s
        }
        let block = 256
        var dot = [Float](repeating: 0, count: min(block, g) * g)
        var start = 0
        while start < g {
            let rows = min(block, g - start)
            // dot [rows, g] = A[start..<start+rows] A^T
            a.withUnsafeBufferPointer { ap in
                dot.withUnsafeMutableBufferPointer { dp in
                    parallelGemm(transB: true, m: rows, n: g, k: dim, a: ap.baseAddress! + start * dim, lda: dim,
                                 b: ap.baseAddress!, ldb: dim, c: dp.baseAddress!, ldc: g)
                }
            }
            // Each row keeps its k smallest |b|^2 - 2 a.b (|a|^2 is the same along a row).
            let workers = max(1, min(Threads.count, rows))
            dot.withUnsafeBufferPointer { dp in
                out.withUnsafeMutableBufferPointer { op in
                    let dBase = dp.baseAddress!, oBase = op.baseAddress!
                    Threads.run(parts: workers) { part in
                        var bestD = [Float](repeating: .infinity, count: k)
                        var bestJ = [Int](repeating: -1, count: k)
                        for row in stride(from: part, to: rows, by: workers) {
                            let self_ = start + row
                            for t in 0..<k { bestD[t] = .infinity; bestJ[t] = -1 }
                            let line = dBase + row * g
                            for j in 0..<g where j != self_ {
                                let dist = norm[j] - 2 * line[j]
                                if dist < bestD[k - 1] || bestJ[k - 1] < 0 {
                                    // Insert keeping ascending order; an equal distance goes
                                    // after the ones already there (lower index first).
                                    var p = k - 1
                                    while p > 0 && (bestJ[p - 1] < 0 || dist < bestD[p - 1]) {
                                        bestD[p] = bestD[p - 1]; bestJ[p] = bestJ[p - 1]; p -= 1
                                    }
                                    bestD[p] = dist; bestJ[p] = j
                                }
                            }
                            let me = ids[self_]
                            for t in 0..<k {
                                oBase[me * k + t] = Int32(bestJ[t] >= 0 ? ids[bestJ[t]] : me)
                            }
                        }
                    }
                }
            }
            start += rows
        }
    }
}
