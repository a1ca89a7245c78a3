import Foundation

/// Clustering scores of cluster assignments against fine labels.
public enum ClusterMetrics {
    /// counts[c][l]: examples of label l assigned to cluster c.
    public static func contingency(assignments: [Int], labels: [Int32], clusters: Int, classes: Int) -> [[Int]] {
        var t = [[Int]](repeating: [Int](repeating: 0, count: classes), count: clusters)
        for (a, l) in zip(assignments, labels) where a >= 0 && a < clusters && l >= 0 && Int(l) < classes {
            t[a][Int(l)] += 1
        }
        return t
    }

    /// Purity, the authors' "clustering accuracy": each cluster votes for its majority label;
    /// (sum of the majority counts) / m.
    public static func purity(_ table: [[Int]]) -> Double {
        let total = table.reduce(0) { $0 + $1.reduce(0, +) }
        guard total > 0 else { return 0 }
        return Double(table.reduce(0) { $0 + ($1.max() ?? 0) }) / Double(total)
    }

    /// Best one-to-one mapping of clusters to labels (Hungarian algorithm on the contingency
    /// table, padded to a square): matched examples / m.
    public static func hungarianAccuracy(_ table: [[Int]]) -> Double {
        // Empty rows and columns change nothing in the best matching: leave them out, so that
        // sparse label values (a label of 40,000 among ten) cost nothing.
        let rows = table.filter { $0.contains { $0 > 0 } }
        let cols = (0..<(table.first?.count ?? 0)).filter { j in rows.contains { $0[j] > 0 } }
        let table = rows.map { r in cols.map { r[$0] } }
        let total = table.reduce(0) { $0 + $1.reduce(0, +) }
        guard total > 0, let classes = table.first?.count else { return 0 }
        let n = max(table.count, classes)
        // Minimise cost = max - count.
        let maxCount = table.flatMap { $0 }.max() ?? 0
        var cost = [[Int]](repeating: [Int](repeating: maxCount, count: n), count: n)
        for i in 0..<table.count { for j in 0..<classes { cost[i][j] = maxCount - table[i][j] } }
        let assignment = hungarian(cost)
        var matched = 0
        for (i, j) in assignment.enumerated() where i < table.count && j < classes { matched += table[i][j] }
        return Double(matched) / Double(total)
    }

    /// Min-cost perfect matching of a square cost matrix (shortest augmenting paths, O(n^3)).
    /// Returns, for each row, its column.
    static func hungarian(_ a: [[Int]]) -> [Int] {
        let n = a.count
        let inf = Int.max / 4
        var u = [Int](repeating: 0, count: n + 1), v = [Int](repeating: 0, count: n + 1)
        var p = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Int](repeating: inf, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = inf, j1 = 0
                for j in 1...n where !used[j] {
                    let cur = a[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...n {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var rowToCol = [Int](repeating: 0, count: n)
        for j in 1...n where p[j] > 0 { rowToCol[p[j] - 1] = j - 1 }
        return rowToCol
    }

    /// Normalised mutual information with the arithmetic-mean normalisation
    /// (scikit-learn's default): I(U; V) / ((H(U) + H(V)) / 2).
    public static func nmi(_ table: [[Int]]) -> Double {
        let total = Double(table.reduce(0) { $0 + $1.reduce(0, +) })
        guard total > 0, let classes = table.first?.count else { return 0 }
        let rowSums = table.map { Double($0.reduce(0, +)) }
        var colSums = [Double](repeating: 0, count: classes)
        for r in table { for j in 0..<classes { colSums[j] += Double(r[j]) } }
        var mi = 0.0
        for (i, r) in table.enumerated() {
            for j in 0..<classes where r[j] > 0 {
                let nij = Double(r[j])
                mi += nij / total * log(nij * total / (rowSums[i] * colSums[j]))
            }
        }
        func entropy(_ xs: [Double]) -> Double {
            xs.reduce(0) { $1 > 0 ? $0 - $1 / total * log($1 / total) : $0 }
        }
        let hu = entropy(rowSums), hv = entropy(colSums)
        if hu == 0 && hv == 0 { return 1 }
        let denom = (hu + hv) / 2
        return denom > 0 ? max(0, mi / denom) : 0
    }

    /// Non-empty clusters.
    public static func clustersUsed(_ table: [[Int]]) -> Int {
        table.filter { $0.reduce(0, +) > 0 }.count
    }

    /// The contingency table over the label values that occur (sorted), not over 0...max label:
    /// column c counts label `values[c]`. Memory is clusters x distinct labels.
    public static func compactContingency(assignments: [Int], labels: [Int32], clusters: Int) -> (table: [[Int]], values: [Int]) {
        let values = Array(Set(labels.map { Int($0) })).sorted()
        let column = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
        var t = [[Int]](repeating: [Int](repeating: 0, count: values.count), count: clusters)
        for (a, l) in zip(assignments, labels) where a >= 0 && a < clusters { t[a][column[Int(l)]!] += 1 }
        return (t, values)
    }

    /// Per-node mapping: size, majority fine label, its count and share. `labelValues[c]` is the
    /// label of column c (default: c).
    public static func mapping(_ table: [[Int]], head: ACOLHeadSpec, fineNames: [String], labelValues: [Int]? = nil) -> [ClusterInfo] {
        table.enumerated().map { (node, row) in
            let count = row.reduce(0, +)
            var best: Int? = nil
            if count > 0 { best = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) } }
            let mc = best.map { row[$0] } ?? 0
            if let labelValues, let b = best { best = labelValues[b] }
            return ClusterInfo(node: node, parent: head.parent(ofNode: node), duplicate: head.duplicate(ofNode: node),
                               count: count, fineLabel: best,
                               fineName: best.flatMap { $0 >= 0 && $0 < fineNames.count ? fineNames[$0] : nil },
                               majorityCount: mc, share: count > 0 ? Double(mc) / Double(count) : 0)
        }
    }
}
