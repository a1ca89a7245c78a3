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
}
