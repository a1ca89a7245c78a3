import Foundation

/// A k-means start: before training, k-means on the pixels inside each parent (as `acol baseline
/// kmeans`) gives every training image a node (cluster c of parent p: the head's c-th node of p);
/// during the first `steps` steps the objective also has the cross-entropy of softmax(Z) against
/// that node, with weight `weight`, on every row (both views); its gradient trains the head's
/// dense layer only unless `trainsBody`. After them the network trains on the usual objective
/// alone. No fine label is read.
///
/// It starts the duplicates of each parent from a partition of the raw pixels instead of from the
/// random initial weights: docs/training.md ("A k-means start") has what it did on which data.
public struct KMeansStart: Codable, Equatable, Sendable {
    /// Steps that carry the k-means targets (counted from the first step of training).
    public var steps: Int
    /// Weight of the cross-entropy against the k-means node.
    public var weight: Float
    /// Images per parent k-means is fitted on at most (a random sample, drawn with the training
    /// seed, when a parent has more; every image is then assigned to its nearest centroid), which
    /// bounds its time. Large images lower it further: the sample holds at most `maxFitValues`
    /// pixel values.
    public var maxFitImages: Int
    /// The parents whose images get a k-means node (nil: every parent); the images of the others
    /// have no target, and their rows train on the usual objective alone from the first step.
    public var parents: [Int]?
    /// Whether the term's gradient reaches the body (false: it trains the head's dense layer
    /// only, a stop-gradient at the head's input). With the body trained by it, the grey levels
    /// that k-means follows in one parent were learnt by the shared features and cost the other
    /// parents (Fashion-MNIST's tops); docs/training.md, "A k-means start".
    public var trainsBody: Bool

    public init(steps: Int, weight: Float = 1, maxFitImages: Int = 20_000, parents: [Int]? = nil, trainsBody: Bool = false) {
        self.steps = steps; self.weight = weight; self.maxFitImages = maxFitImages; self.parents = parents
        self.trainsBody = trainsBody
    }

    private enum CodingKeys: String, CodingKey { case steps, weight, maxFitImages, parents, trainsBody }

    /// A record without `trainsBody` was written before it existed, when the term trained the body.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        weight = try c.decode(Float.self, forKey: .weight)
        maxFitImages = try c.decode(Int.self, forKey: .maxFitImages)
        parents = try c.decodeIfPresent([Int].self, forKey: .parents)
        trainsBody = try c.decodeIfPresent(Bool.self, forKey: .trainsBody) ?? true
    }

    /// Pixel values (floats) the fitted sample holds at most: 2^26, 256 MiB (20,000 images up to
    /// 57 x 57 x 1 or 32 x 32 x 3 are below it); the images are then assigned in slices of at
    /// most as many (`KMeansBaseline.fitAndAssign`).
    public static let maxFitValues = 1 << 26

    public func validate() throws {
        guard steps >= 1, weight.isFinite, weight > 0, maxFitImages >= 1 else {
            throw ACOLError.invalidSettings("k-means start: expected steps >= 1, a finite weight > 0 and at least 1 image to fit, found \(steps) steps, weight \(weight), \(maxFitImages) images")
        }
        if let parents, parents.isEmpty || Set(parents).count != parents.count {
            throw ACOLError.invalidSettings("k-means start: expected a list of different parents (or none for all), found \(parents)")
        }
    }

    /// `validate`, and every listed parent is one of the head's n_p.
    public func validate(parents np: Int) throws {
        try validate()
        if let bad = parents?.first(where: { !(0..<np).contains($0) }) {
            throw ACOLError.invalidSettings("k-means start: parent \(bad) is outside 0..<\(np)")
        }
    }

    /// The node of every image of `set` [count]: k-means (seeded with `seed`) on the pixels
    /// scaled to [0, 1] inside each parent, cluster c of parent p mapped to `head.nodes(ofParent: p)[c]`;
    /// -1 for the images of a parent not in `parents`.
    /// Shapes: the set's pixels [count, H * W * C]; the result [count].
    public func targets(for set: ImageSet, head: ACOLHeadSpec, seed: UInt64) throws -> [Int32] {
        try validate(parents: head.parents)
        let np = head.parents
        let labels = try KMeansBaseline.parents(of: set, parents: np, what: "training", context: "k-means start")
        var out = [Int32](repeating: -1, count: set.count)
        let d = set.imageSize
        for p in 0..<np where self.parents?.contains(p) ?? true {
            let idx = (0..<set.count).filter { labels[$0] == p }
            if idx.isEmpty { continue }
            let nodes = head.nodes(ofParent: p)
            // A random sample of at most maxFitImages to fit on (drawn with the seed; evenly
            // spaced ones could follow a periodic order of the images).
            let fitCount = max(nodes.count, min(maxFitImages, Self.maxFitValues / max(d, 1)))
            var fitIdx = idx
            if idx.count > fitCount {
                var rng = SeededGenerator(seed: seed &+ 0x4B4D &+ UInt64(p))
                fitIdx.shuffle(using: &rng)
                fitIdx = Array(fitIdx.prefix(fitCount)).sorted()
            }
            var options = KMeans.Options()
            options.seed = seed &+ UInt64(p)
            try KMeansBaseline.fitAndAssign(fit: set, fitIndices: fitIdx, score: set, scoreIndices: idx, nodes: nodes,
                                            options: options) { out[$0] = Int32($1) }
        }
        return out
    }
}
