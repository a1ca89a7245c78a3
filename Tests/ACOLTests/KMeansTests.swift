import Foundation
import Testing
@testable import ACOL

@Suite struct KMeansTests {
    static var reference: [String: Any] {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let data = FileManager.default.contents(atPath: url.appendingPathComponent("Fixtures/kmeans/reference.json").path)!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test func lloydMatchesTheNumpyReference() throws {
        let r = Self.reference
        let d = r["d"] as! Int, k = r["k"] as! Int
        let points = (r["points"] as! [Double]).map { Float($0) }
        let start = (r["start"] as! [Double]).map { Float($0) }
        let m = points.count / d
        let km = KMeans.lloyd(points, m: m, d: d, k: k, start: start)
        let (a, _) = km.assign(points, count: m)
        #expect(a == r["assignments"] as! [Int])
        expectClose(km.centroids, r["centroids"] as! [Double], rel: 1e-4, floor: 1e-4, "centroids")
        expectClose(km.inertia, r["inertia"] as! Double, rel: 1e-4, "inertia")
    }

    @Test func fitSeparatesClearBlobsWhateverTheSeed() throws {
        // Four tight blobs far apart: every restart of k-means++ finds them.
        var rng = SeededGenerator(seed: 3)
        let centres: [[Float]] = [[0, 0], [10, 0], [0, 10], [10, 10]]
        var pts: [Float] = [], truth: [Int] = []
        for i in 0..<200 {
            let c = i % 4
            pts += [centres[c][0] + rng.nextFloat(-0.5, 0.5), centres[c][1] + rng.nextFloat(-0.5, 0.5)]
            truth.append(c)
        }
        for seed in [1, 2, 3] as [UInt64] {
            let km = try KMeans.fit(pts, count: 200, dimension: 2, k: 4, options: .init(restarts: 2, seed: seed))
            let (a, _) = km.assign(pts, count: 200)
            // The same partition as the truth, up to renaming.
            var map: [Int: Int] = [:]
            for (x, t) in zip(a, truth) { if let y = map[x] { #expect(y == t) } else { map[x] = t } }
            #expect(Set(map.values).count == 4)
            #expect(km.inertia < 200 * 0.5)
        }
    }

    @Test func degenerateInputsAreErrorsOrStayFinite() throws {
        #expect(throws: ACOLError.self) { _ = try KMeans.fit([], count: 0, dimension: 2, k: 2) }
        #expect(throws: ACOLError.self) { _ = try KMeans.fit([1, 2, 3], count: 2, dimension: 2, k: 2) }
        // More clusters than distinct points: centroids stay finite.
        let km = try KMeans.fit([1, 1, 1, 1, 1, 1], count: 3, dimension: 2, k: 3)
        #expect(km.centroids.allSatisfy { $0.isFinite })
    }

    @Test func baselineClustersWithinParents() throws {
        // Two parents, each hiding two fine classes that differ in which half of the image is lit.
        var px: [UInt8] = [], fine: [Int32] = [], coarse: [Int32] = []
        var rng = SeededGenerator(seed: 5)
        for i in 0..<80 {
            let f = i % 4
            for p in 0..<16 {
                let lit = (f % 2 == 0) == (p < 8)
                let base: Float = lit ? 200 : 20
                px.append(UInt8(base + Float(f / 2) * 30 + rng.nextFloat(0, 10)))
            }
            fine.append(Int32(f)); coarse.append(Int32(f / 2))
        }
        let set = ImageSet(count: 80, height: 4, width: 4, channels: 1, pixels: px, fineLabels: fine, coarseLabels: coarse)
        let ev = try KMeansBaseline.evaluate(fit: set, score: set, parents: 2, k: 2)
        #expect(ev.purity == 1)
        #expect(ev.parentAccuracy == 1)
        // Every cluster stays inside its parent: node j belongs to parent j mod 2.
        for (i, a) in ev.assignments.enumerated() { #expect(a % 2 == Int(coarse[i])) }
    }

    @Test func principalSubspaceSpansTheNumpyEigenvectors() throws {
        let r = Self.reference["subspace"] as! [String: Any]
        let d = r["d"] as! Int, rank = r["rank"] as! Int
        let points = (r["points"] as! [Double]).map { Float($0) }
        let ref = r["basis"] as! [Double]           // [rank, d], numpy's top eigenvectors
        let m = points.count / d
        let s = try PrincipalSubspace.fit(points, count: m, dimension: d, rank: rank, iterations: 8, seed: 2)
        expectClose(s.mean, r["mean"] as! [Double], rel: 1e-5, floor: 1e-5, "mean")
        // Orthonormal rows.
        for i in 0..<rank {
            for j in 0..<rank {
                var dot: Double = 0
                for t in 0..<d { dot += Double(s.basis[i * d + t]) * Double(s.basis[j * d + t]) }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5, "basis rows \(i), \(j): \(dot)")
            }
        }
        // The same subspace: each reference eigenvector lies in acol's span (its projection onto
        // the span has length 1), whatever basis acol picked inside it.
        for i in 0..<rank {
            var len2: Double = 0
            for j in 0..<rank {
                var dot: Double = 0
                for t in 0..<d { dot += ref[i * d + t] * Double(s.basis[j * d + t]) }
                len2 += dot * dot
            }
            #expect(abs(len2 - 1) < 1e-4, "eigenvector \(i): squared length in the span \(len2)")
        }
        // project = (x - mean) Q^T
        let p = s.project(points, count: m)
        for a in [0, 7, m - 1] {
            for j in 0..<rank {
                var v: Double = 0
                for t in 0..<d { v += (Double(points[a * d + t]) - Double(s.mean[t])) * Double(s.basis[j * d + t]) }
                #expect(abs(Double(p[a * rank + j]) - v) < 1e-3 * max(1, abs(v)))
            }
        }
        #expect(throws: ACOLError.self) { _ = try PrincipalSubspace.fit(points, count: m, dimension: d, rank: d + 1) }
        #expect(throws: ACOLError.self) { _ = try PrincipalSubspace.fit(points, count: m, dimension: d, rank: 0) }
    }

    @Test func principalSubspaceOfDegenerateDataStaysOrthonormal() throws {
        // Every point equal: the covariance is 0, the basis must still be orthonormal and finite.
        let s = try PrincipalSubspace.fit([Float](repeating: 3, count: 10 * 6), count: 10, dimension: 6, rank: 4)
        #expect(s.basis.allSatisfy { $0.isFinite })
        for i in 0..<4 {
            var n: Float = 0
            for t in 0..<6 { n += s.basis[i * 6 + t] * s.basis[i * 6 + t] }
            #expect(abs(n - 1) < 1e-5)
        }
        #expect(s.project([Float](repeating: 3, count: 6), count: 1).allSatisfy { abs($0) < 1e-5 })
    }

    /// Four clusters in a 3-dimensional subspace of 40 dimensions (offsets 0 or 6 along three
    /// random orthogonal directions), isotropic noise 0.6 in all 40, 400 points.
    static func plantedClusters() -> (points: [Float], truth: [Int], d: Int) {
        var rng = SeededGenerator(seed: 11)
        let d = 40
        var dirs = (0..<(3 * d)).map { _ in rng.nextFloat(-1, 1) }
        PrincipalSubspace.orthonormalizeRows(&dirs, rows: 3, columns: d)
        let codes: [[Float]] = [[0, 0, 0], [6, 0, 0], [0, 6, 0], [0, 0, 6]]
        var pts: [Float] = [], truth: [Int] = []
        for i in 0..<400 {
            let c = i % 4
            for t in 0..<d {
                var v = rng.nextFloat(-0.6, 0.6) * 1.7
                for j in 0..<3 { v += codes[c][j] * dirs[j * d + t] }
                pts.append(v + 2)
            }
            truth.append(c)
        }
        return (pts, truth, d)
    }

    @Test func projectedRestartsFindThePlantedClustersAndTheFullInertia() throws {
        let (pts, truth, d) = Self.plantedClusters()
        let m = truth.count
        let full = try KMeans.fit(pts, count: m, dimension: d, k: 4, options: .init(restarts: 4, seed: 1))
        for seed in [1, 2] as [UInt64] {
            let km = try KMeans.fit(pts, count: m, dimension: d, k: 4, options: .init(restarts: 20, seed: seed, projection: 3))
            #expect(km.dimension == d && km.centroids.count == 4 * d)
            let (a, dist) = km.assign(pts, count: m)
            var map: [Int: Int] = [:]
            for (x, t) in zip(a, truth) { if let y = map[x] { #expect(y == t) } else { map[x] = t } }
            #expect(Set(map.values).count == 4)
            // The refinement runs on the full points: its inertia is the full-space one.
            let recomputed = dist.reduce(0) { $0 + Double($1) }
            #expect(abs(km.inertia - recomputed) <= 1e-4 * recomputed)
            #expect(km.inertia <= full.inertia * (1 + 1e-5))
            // Deterministic for a seed.
            let again = try KMeans.fit(pts, count: m, dimension: d, k: 4, options: .init(restarts: 20, seed: seed, projection: 3))
            #expect(again.centroids == km.centroids)
        }
        // A projection at or above the dimension is the plain fit.
        let same = try KMeans.fit(pts, count: m, dimension: d, k: 4, options: .init(restarts: 4, seed: 1, projection: d))
        #expect(same.centroids == full.centroids)
    }
}

@Suite struct KMeansInputTests {
    /// Points that are not finite, sizes that overflow, or an absurd k are refused, not trapped
    /// on or turned into NaN centroids.
    @Test func badInputsAreRefused() {
        #expect(throws: ACOLError.self) { _ = try KMeans.fit([1, .nan, 3, 4], count: 2, dimension: 2, k: 2) }
        #expect(throws: ACOLError.self) { _ = try KMeans.fit([1, 2], count: Int.max / 2, dimension: 4, k: 2) }
        #expect(throws: ACOLError.self) { _ = try KMeans.fit([1, 2, 3, 4], count: 2, dimension: 2, k: Int.max / 2) }
        #expect(throws: Never.self) { _ = try KMeans.fit([1, 2, 3, 4], count: 2, dimension: 2, k: 3) }   // k > m: allowed
    }
}
