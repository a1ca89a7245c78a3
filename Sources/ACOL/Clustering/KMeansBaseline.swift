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
        let fitParents = try parents(of: fit, parents: np, what: "fitting", context: "k-means baseline")
        let scoreParents = try parents(of: score, parents: np, what: "scored", context: "k-means baseline")
        var assignments = [Int](repeating: 0, count: score.count)
        for p in 0..<np {
            let fitIdx = (0..<fit.count).filter { fitParents[$0] == p }
            let scoreIdx = (0..<score.count).filter { scoreParents[$0] == p }
            if fitIdx.isEmpty || scoreIdx.isEmpty { continue }
            var opts = options
            opts.seed = options.seed &+ UInt64(p)
            try fitAndAssign(fit: fit, fitIndices: fitIdx, score: score, scoreIndices: scoreIdx,
                             nodes: head.nodes(ofParent: p), options: opts) { assignments[$0] = $1 }
        }
        var parentCorrect: Int?
        if score.coarseLabels != nil { parentCorrect = score.count }   // parents are given, never wrong
        return Evaluator.score(assignments: assignments, confidences: [Float](repeating: 1, count: score.count), set: score,
                               head: head, fineNames: fineNames, parentCorrect: parentCorrect)
    }

    /// The parent of every image of `s` (all 0 with one parent); `what` names the images and
    /// `context` the caller in the messages.
    static func parents(of s: ImageSet, parents np: Int, what: String, context: String) throws -> [Int32] {
        if np == 1 { return [Int32](repeating: 0, count: s.count) }
        guard let c = s.coarseLabels, c.count == s.count else {
            throw ACOLError.invalidData("\(context): the \(what) images have no parent labels")
        }
        if let bad = c.first(where: { $0 < 0 || Int($0) >= np }) {
            throw ACOLError.invalidData("\(context): parent label \(bad) of the \(what) images is outside 0..<\(np)")
        }
        return c
    }

    /// Pixel values (floats) one slice of assigned images holds at most: 2^26, 256 MiB.
    static let maxSliceValues = 1 << 26

    /// k-means on the images `fitIndices` of `fit` (k = the parent's node count, at most the
    /// images), then each image `scoreIndices[i]` of `score` is given the node of its nearest
    /// centroid: `assign(image, node)`. Images are assigned in slices of at most `maxSliceValues`
    /// pixel values, so that a large parent never needs all its pixels as floats at once.
    /// Shapes: the fitted pixels [fitIndices.count, H * W * C], each slice [<= 8,192, H * W * C].
    static func fitAndAssign(fit: ImageSet, fitIndices: [Int], score: ImageSet, scoreIndices: [Int], nodes: [Int],
                             options: KMeans.Options, assign: (Int, Int) -> Void) throws {
        let d = fit.imageSize
        let km = try KMeans.fit(pixels(fit, fitIndices), count: fitIndices.count, dimension: d,
                                k: min(nodes.count, fitIndices.count), options: options)
        let slice = max(1, min(8_192, maxSliceValues / max(d, 1)))
        var s = 0
        while s < scoreIndices.count {
            let part = Array(scoreIndices[s..<min(scoreIndices.count, s + slice)])
            let (a, _) = km.assign(pixels(score, part), count: part.count)
            for (o, i) in part.enumerated() { assign(i, nodes[a[o]]) }
            s += slice
        }
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
