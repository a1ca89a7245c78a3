import Foundation

/// What the network adds: k-means inside each parent on the raw pixels (scaled to [0, 1]),
/// fitted on one set and scored on another with the same metrics as a model. Cluster c of parent
/// p is reported as node c * n_p + p, the node an ACOL head would give it.
public enum KMeansBaseline {
    /// Fits k centroids per parent on `fit` (its coarse labels say the parent) and assigns each
    /// image of `score` to the nearest centroid of its own parent.
    public static func evaluate(fit: ImageSet, score: ImageSet, parents np: Int, k: Int, fineNames: [String] = [],
                                options: KMeans.Options = KMeans.Options()) throws -> Evaluation {
        guard np >= 1, k >= 1 else { throw ACOLError.invalidData("k-means baseline: expected parents >= 1 and k >= 1, found \(np) and \(k)") }
        return try evaluate(fit: fit, score: score, head: ACOLHeadSpec(parents: np, k: k), fineNames: fineNames, options: options)
    }

    /// The same with the head's clusters per parent (one k per parent allowed).
    public static func evaluate(fit: ImageSet, score: ImageSet, head: ACOLHeadSpec, fineNames: [String] = [],
                                options: KMeans.Options = KMeans.Options()) throws -> Evaluation {
        try head.validate()
        let np = head.parents
        guard fit.imageSize == score.imageSize else {
            throw ACOLError.invalidData("k-means baseline: the images to fit and to score differ in size")
        }
        let d = fit.imageSize
        func parentsOf(_ s: ImageSet, _ name: String) throws -> [Int32] {
            if np == 1 { return [Int32](repeating: 0, count: s.count) }
            guard let c = s.coarseLabels else { throw ACOLError.invalidData("k-means baseline: the \(name) images have no parent labels") }
            if let bad = c.first(where: { $0 < 0 || Int($0) >= np }) {
                throw ACOLError.invalidData("k-means baseline: parent label \(bad) of the \(name) images is outside 0..<\(np)")
            }
            return c
        }
        let fitParents = try parentsOf(fit, "fitting"), scoreParents = try parentsOf(score, "scored")
        var assignments = [Int](repeating: 0, count: score.count)
        for p in 0..<np {
            let fitIdx = (0..<fit.count).filter { fitParents[$0] == p }
            let scoreIdx = (0..<score.count).filter { scoreParents[$0] == p }
            if fitIdx.isEmpty || scoreIdx.isEmpty { continue }
            var opts = options
            opts.seed = options.seed &+ UInt64(p)
            let nodes = head.nodes(ofParent: p)
            let km = try KMeans.fit(pixels(fit, fitIdx), count: fitIdx.count, dimension: d, k: min(nodes.count, fitIdx.count), options: opts)
            let (a, _) = km.assign(pixels(score, scoreIdx), count: scoreIdx.count)
            for (o, i) in scoreIdx.enumerated() { assignments[i] = nodes[a[o]] }
        }
        var parentCorrect: Int?
        if score.coarseLabels != nil { parentCorrect = score.count }   // parents are given, never wrong
        return Evaluator.score(assignments: assignments, confidences: [Float](repeating: 1, count: score.count), set: score,
                               head: head, fineNames: fineNames, parentCorrect: parentCorrect)
    }

    static func pixels(_ s: ImageSet, _ idx: [Int]) -> [Float] {
        let d = s.imageSize
        var out = [Float](repeating: 0, count: idx.count * d)
        s.pixels.withUnsafeBufferPointer { px in
            for (o, i) in idx.enumerated() { for t in 0..<d { out[o * d + t] = Float(px[i * d + t]) * (1.0 / 255.0) } }
        }
        return out
    }
}
