import Foundation
import Testing
@testable import ACOL

@Suite struct NearestNeighboursTests {
    static var reference: [String: Any] { KMeansTests.reference["neighbours"] as! [String: Any] }

    @Test func withinGroupsMatchesTheNumpyReference() throws {
        let r = Self.reference
        let d = r["d"] as! Int, k = r["k"] as! Int
        let points = (r["points"] as! [Double]).map { Float($0) }
        let groups = (r["groups"] as! [Int]).map { Int32($0) }
        let m = points.count / d
        // rank >= d: the distances of the points themselves.
        let nn = try NearestNeighbours.find(points: points, count: m, dimension: d, groups: groups, k: k)
        #expect(nn.k == k && nn.count == m)
        #expect(nn.indices.map { Int($0) } == r["indices"] as! [Int])
        // Never itself unless its group has no one else left; always within its group.
        for i in 0..<m {
            for j in nn.of(i) { #expect(groups[Int(j)] == groups[i]) }
        }
    }

    @Test func inTheTopPrincipalDirectionsMatchesTheNumpyReference() throws {
        let s = KMeansTests.reference["subspace"] as! [String: Any]
        let r = Self.reference, p = r["projected"] as! [String: Any]
        let d = s["d"] as! Int, k = r["k"] as! Int, rank = p["rank"] as! Int
        let points = (s["points"] as! [Double]).map { Float($0) }
        let m = points.count / d
        let nn = try NearestNeighbours.find(points: points, count: m, dimension: d, k: k, rank: rank)
        // Distances in numpy's top-3 eigenvector coordinates of the neighbours found here.
        let basis = s["basis"] as! [Double], mean = s["mean"] as! [Double]
        func coords(_ i: Int) -> [Double] {
            (0..<rank).map { a in (0..<d).reduce(0.0) { $0 + (Double(points[i * d + $1]) - mean[$1]) * basis[a * d + $1] } }
        }
        let y = (0..<m).map(coords)
        var found: [Double] = []
        for i in 0..<m {
            for j in nn.of(i) { found.append(zip(y[i], y[Int(j)]).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }) }
        }
        expectClose(found, p["distances"] as! [Double], rel: 1e-3, floor: 1e-3, "neighbour distances")
        // Most rows also name the same neighbours (near-equal distances may swap).
        let same = zip(nn.indices.map { Int($0) }, p["indices"] as! [Int]).filter { $0 == $1 }.count
        #expect(Double(same) >= 0.95 * Double(m * k))
    }

    @Test func smallGroupsRepeatThePointAndBadSizesThrow() throws {
        // Group 1 has two points: each has one other, the rest of its row is itself.
        let pts: [Float] = [0, 0, 1, 0, 5, 5, 6, 5, 0, 1]
        let nn = try NearestNeighbours.find(points: pts, count: 5, dimension: 2, groups: [0, 0, 1, 1, 0], k: 3)
        #expect(Array(nn.of(2)) == [3, 2, 2])
        #expect(Array(nn.of(3)) == [2, 3, 3])
        #expect(Array(nn.of(0)) == [1, 4, 0])   // 1 and 4 at distance 1: the lower index first
        #expect(throws: ACOLError.self) { _ = try NearestNeighbours.find(points: pts, count: 5, dimension: 2, k: 0) }
        #expect(throws: ACOLError.self) { _ = try NearestNeighbours.find(points: pts, count: 4, dimension: 2, k: 1) }
        #expect(throws: ACOLError.self) {
            _ = try NearestNeighbours.find(points: pts, count: 5, dimension: 2, groups: [0, 1], k: 1)
        }
    }
}
