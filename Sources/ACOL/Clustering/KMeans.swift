import Foundation

/// k-means (Lloyd's algorithm) with k-means++ seeding and restarts, distances through BLAS:
/// ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, the cross term one GEMM [m, d] x [d, k] per iteration.
/// Among restarts the one with the lowest inertia (sum of squared distances: an unsupervised
/// criterion) is kept. Deterministic for a given seed and thread count.
public struct KMeans: Sendable {
    /// Centroids [k, d], row-major.
    public var centroids: [Float]
    public var k: Int
    public var dimension: Int
    /// Sum of squared distances of the fitted points to their centroids.
    public var inertia: Double
    /// Lloyd iterations of the kept run.
    public var iterations: Int

    public struct Options: Sendable {
        public var restarts: Int
        public var maxIterations: Int
        /// Stop when no assignment changes, or the inertia improves by less than this fraction.
        public var tolerance: Double
        public var seed: UInt64
        /// When set and below the points' dimension: the restarts run on the points' coordinates
        /// in their top `projection` principal directions (`PrincipalSubspace`), where each costs
        /// projection / d of a full one; the `refine` runs of lowest inertia there are then
        /// continued with Lloyd's iterations on the full points (from the means of their
        /// clusters), and the one of lowest full inertia is kept. nil: every restart on the
        /// full points.
        public var projection: Int?
        /// Projected runs refined on the full points (with `projection`).
        public var refine: Int
        public init(restarts: Int = 4, maxIterations: Int = 100, tolerance: Double = 1e-6, seed: UInt64 = 1,
                    projection: Int? = nil, refine: Int = 3) {
            self.restarts = restarts; self.maxIterations = maxIterations; self.tolerance = tolerance; self.seed = seed
            self.projection = projection; self.refine = refine
        }
    }

    public init(centroids: [Float], k: Int, dimension: Int, inertia: Double = .nan, iterations: Int = 0) {
        self.centroids = centroids; self.k = k; self.dimension = dimension; self.inertia = inertia; self.iterations = iterations
    }

    /// Fits k centroids to `points` [m, d]. Fewer distinct points than k leave some centroids
    /// duplicated (never NaN). Throws when m == 0, k < 1 or the sizes do not fit.
    public static func fit(_ points: [Float], count m: Int, dimension d: Int, k: Int,
                           options: Options = Options()) throws -> KMeans {
        let (size, overflow) = m.multipliedReportingOverflow(by: d)
        // k above m duplicates centroids (as documented), up to the node limit.
        guard m > 0, d > 0, k >= 1, !overflow, points.count == size, k <= max(m, ACOLLimits.maxNodes) else {
            throw ACOLError.invalidData("k-means: expected m > 0 points of dimension d > 0 (m x d values) and 1 <= k <= max(m, \(ACOLLimits.maxNodes)), found m = \(m), d = \(d), k = \(k), \(points.count) values")
        }
        if let i = points.firstIndex(where: { !$0.isFinite }) {
            throw ACOLError.invalidData("k-means: expected finite coordinates, found \(points[i]) in point \(i / d)")
        }
        if let r = options.projection, r >= 1, r < d, r <= m {
            return try fitProjected(points, count: m, dimension: d, k: k, rank: r, options: options)
        }
        var rng = SeededGenerator(seed: options.seed &+ 0xC105)
        var best: KMeans?
        for _ in 0..<max(1, options.restarts) {
            let start = plusPlus(points, m: m, d: d, k: k, rng: &rng)
            let run = lloyd(points, m: m, d: d, k: k, start: start, options: options)
            if best == nil || run.inertia < best!.inertia { best = run }
        }
        return best!
    }

    /// `fit` with `options.projection = r`: restarts on the projected points, the best
    /// `options.refine` of them refined on the full points.
    static func fitProjected(_ points: [Float], count m: Int, dimension d: Int, k: Int, rank r: Int,
                             options: Options) throws -> KMeans {
        let subspace = try PrincipalSubspace.fit(points, count: m, dimension: d, rank: r, seed: options.seed)
        let p = subspace.project(points, count: m)
        var rng = SeededGenerator(seed: options.seed &+ 0xC105)
        var runs: [KMeans] = []
        for _ in 0..<max(1, options.restarts) {
            let start = plusPlus(p, m: m, d: r, k: k, rng: &rng)
            runs.append(lloyd(p, m: m, d: r, k: k, start: start, options: options))
        }
        // Lowest projected inertia first; ties keep the earlier restart (stable sort).
        let kept = runs.enumerated().sorted { ($0.element.inertia, $0.offset) < ($1.element.inertia, $1.offset) }
                       .prefix(max(1, options.refine)).map(\.element)
        var best: KMeans?
        for run in kept {
            let (a, _, _) = nearest(p, m: m, d: r, centroids: run.centroids, k: k)
            let start = means(points, m: m, d: d, k: k, assignment: a, fallback: run.centroids, subspace: subspace)
            let full = lloyd(points, m: m, d: d, k: k, start: start, options: options)
            if best == nil || full.inertia < best!.inertia { best = full }
        }
        return best!
    }

    /// The mean [k, d] of the points of each cluster; a cluster without points takes its
    /// projected centroid mapped back (mean + c Q).
    static func means(_ x: [Float], m: Int, d: Int, k: Int, assignment a: [Int], fallback: [Float],
                      subspace: PrincipalSubspace) -> [Float] {
        let (sums, counts) = clusterSums(x, m: m, d: d, k: k, assignment: a)
        var c = [Float](repeating: 0, count: k * d)
        let r = subspace.rank
        for j in 0..<k {
            if counts[j] > 0 {
                for t in 0..<d { c[j * d + t] = Float(sums[j * d + t] / Double(counts[j])) }
            } else {
                for t in 0..<d {
                    var v = subspace.mean[t]
                    for i in 0..<r { v += fallback[j * r + i] * subspace.basis[i * d + t] }
                    c[j * d + t] = v
                }
            }
        }
        return c
    }

    /// Per cluster: the sum [k, d] (in Double) of the points [m, d] assigned to it, and their count.
    static func clusterSums(_ x: [Float], m: Int, d: Int, k: Int, assignment a: [Int]) -> (sums: [Double], counts: [Int]) {
        var sums = [Double](repeating: 0, count: k * d)
        var counts = [Int](repeating: 0, count: k)
        x.withUnsafeBufferPointer { p in
            for i in 0..<m {
                let j = a[i]
                counts[j] += 1
                for t in 0..<d { sums[j * d + t] += Double(p[i * d + t]) }
            }
        }
        return (sums, counts)
    }

    /// Lloyd's iterations from given centroids (exposed for tests against a reference).
    public static func lloyd(_ points: [Float], m: Int, d: Int, k: Int, start: [Float], options: Options = Options()) -> KMeans {
        var c = start
        var assign = [Int](repeating: -1, count: m)
        var inertia = Double.infinity
        var it = 0
        while it < options.maxIterations {
            it += 1
            let (a, dist, _) = nearest(points, m: m, d: d, centroids: c, k: k)
            let changed = zip(a, assign).contains { $0 != $1 }
            let newInertia = dist.reduce(0) { $0 + Double($1) }
            assign = a
            // Update: the mean of each cluster; an empty cluster takes the point farthest from its centroid.
            let (sums, counts) = clusterSums(points, m: m, d: d, k: k, assignment: a)
            var taken = Set<Int>()
            for j in 0..<k {
                if counts[j] > 0 {
                    for t in 0..<d { c[j * d + t] = Float(sums[j * d + t] / Double(counts[j])) }
                } else {
                    var far = 0
                    var farD: Float = -1
                    for i in 0..<m where dist[i] > farD && !taken.contains(i) { far = i; farD = dist[i] }
                    taken.insert(far)
                    for t in 0..<d { c[j * d + t] = points[far * d + t] }
                }
            }
            let improved = inertia.isFinite ? (inertia - newInertia) / max(inertia, 1e-30) : 1
            inertia = newInertia
            if !changed || improved < options.tolerance { break }
        }
        let (_, dist, _) = nearest(points, m: m, d: d, centroids: c, k: k)
        return KMeans(centroids: c, k: k, dimension: d, inertia: dist.reduce(0) { $0 + Double($1) }, iterations: it)
    }

    /// The nearest centroid of each point [m, d] and the squared distance to it.
    public func assign(_ points: [Float], count m: Int) -> (cluster: [Int], distance: [Float]) {
        let r = KMeans.nearest(points, m: m, d: dimension, centroids: centroids, k: k)
        return (r.0, r.1)
    }

    /// The nearest centroid of each point [m, d], the squared distance to it and to the second
    /// nearest (equal to the first when k == 1).
    public func assignWithRunnerUp(_ points: [Float], count m: Int) -> (cluster: [Int], distance: [Float], second: [Float]) {
        KMeans.nearest(points, m: m, d: dimension, centroids: centroids, k: k)
    }

    static func nearest(_ x: [Float], m: Int, d: Int, centroids c: [Float], k: Int) -> ([Int], [Float], [Float]) {
        var cn = [Float](repeating: 0, count: k)
        for j in 0..<k { var s: Float = 0; for t in 0..<d { s += c[j * d + t] * c[j * d + t] }; cn[j] = s }
        var out = [Int](repeating: 0, count: m), best = [Float](repeating: 0, count: m)
        var second = [Float](repeating: 0, count: m)
        let block = 4096
        var dots = [Float](repeating: 0, count: min(m, block) * k)
        var start = 0
        while start < m {
            let rows = min(block, m - start)
            x.withUnsafeBufferPointer { xp in
                c.withUnsafeBufferPointer { cp in
                    dots.withUnsafeMutableBufferPointer { dp in
                        // dots [rows, k] = X[rows, d] C^T
                        parallelGemm(transB: true, m: rows, n: k, k: d, a: xp.baseAddress! + start * d, lda: d,
                                     b: cp.baseAddress!, ldb: d, c: dp.baseAddress!, ldc: k)
                    }
                }
            }
            x.withUnsafeBufferPointer { xp in
                for r in 0..<rows {
                    let i = start + r
                    var xn: Float = 0
                    for t in 0..<d { xn += xp[i * d + t] * xp[i * d + t] }
                    var bj = 0
                    var bd = Float.infinity, sd = Float.infinity
                    for j in 0..<k {
                        let v = xn - 2 * dots[r * k + j] + cn[j]
                        if v < bd { sd = bd; bd = v; bj = j } else if v < sd { sd = v }
                    }
                    out[i] = bj; best[i] = max(0, bd); second[i] = max(0, k == 1 ? bd : sd)
                }
            }
            start += rows
        }
        return (out, best, second)
    }

    /// k-means++ seeding: the first centre uniformly, each next with probability proportional to
    /// the squared distance to the nearest centre chosen so far.
    static func plusPlus(_ x: [Float], m: Int, d: Int, k: Int, rng: inout SeededGenerator) -> [Float] {
        var c = [Float](repeating: 0, count: k * d)
        let first = Int(rng.next() % UInt64(m))
        for t in 0..<d { c[t] = x[first * d + t] }
        var dist = [Float](repeating: 0, count: m)
        for i in 0..<m {
            var s: Float = 0
            for t in 0..<d { let v = x[i * d + t] - c[t]; s += v * v }
            dist[i] = s
        }
        for j in 1..<max(k, 1) {
            let total = dist.reduce(0) { $0 + Double($1) }
            var pick = Int(rng.next() % UInt64(m))
            if total > 0 {
                var r = Double(rng.nextUnitFloat()) * total
                for i in 0..<m { r -= Double(dist[i]); if r <= 0 { pick = i; break } }
            }
            for t in 0..<d { c[j * d + t] = x[pick * d + t] }
            for i in 0..<m {
                var s: Float = 0
                for t in 0..<d { let v = x[i * d + t] - c[j * d + t]; s += v * v }
                if s < dist[i] { dist[i] = s }
            }
        }
        return c
    }
}
