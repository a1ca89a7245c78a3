import Foundation

/// One pseudo-parent of the unsupervised mode (Kilinc & Uysal, arXiv 1802.03063): a rotation by
/// a multiple of 90 degrees counter-clockwise, optionally followed by a horizontal flip, as the
/// authors' `get_pseudos` (numpy rot90, then fliplr).
public struct PseudoTransform: Codable, Equatable, Hashable, Sendable {
    /// Quarter turns counter-clockwise, 0...3.
    public var quarterTurns: Int
    /// Mirror left-right after the rotation.
    public var flip: Bool

    public init(quarterTurns: Int, flip: Bool) {
        self.quarterTurns = ((quarterTurns % 4) + 4) % 4; self.flip = flip
    }

    /// "rot0", "rot90", ..., "flip-rot270".
    public var name: String { (flip ? "flip-" : "") + "rot\(quarterTurns * 90)" }

    /// The transforms the paper uses: 0/90/180/270 degrees, without and with a flip (8) on square
    /// images; on other images the quarter turns would change the shape, so 0/180 degrees without
    /// and with a flip (4).
    public static func standard(height: Int, width: Int) -> [PseudoTransform] {
        let turns = height == width ? [0, 1, 2, 3] : [0, 2]
        return [false, true].flatMap { f in turns.map { PseudoTransform(quarterTurns: $0, flip: f) } }
    }

    /// Whether the transform keeps an h x w image h x w (odd quarter turns need h == w).
    public func keepsShape(height: Int, width: Int) -> Bool { quarterTurns % 2 == 0 || height == width }

    /// Source pixel (row, column) of output pixel (i, j) in an h x w image.
    @inline(__always)
    func source(_ i: Int, _ j: Int, h: Int, w: Int) -> (Int, Int) {
        // fliplr after rotation: output column j reads the rotated image's column w - 1 - j.
        let jj = flip ? w - 1 - j : j
        switch quarterTurns {
        case 1: return (jj, w - 1 - i)           // rot90 (square): out[i][j] = in[j][n-1-i]
        case 2: return (h - 1 - i, w - 1 - jj)
        case 3: return (h - 1 - jj, i)           // rot270 (square): out[i][j] = in[n-1-j][i]
        default: return (i, jj)
        }
    }

    /// Image `row` of x [m, h, w, c] transformed, written into `out` (h * w * c values).
    func apply(_ x: UnsafeBufferPointer<Float>, row: Int, h: Int, w: Int, c: Int, into out: UnsafeMutableBufferPointer<Float>, at base: Int) {
        let size = h * w * c, src = row * size
        for i in 0..<h {
            for j in 0..<w {
                let (si, sj) = source(i, j, h: h, w: w)
                let o = base + (i * w + j) * c, s = src + (si * w + sj) * c
                for ch in 0..<c { out[o + ch] = x[s + ch] }
            }
        }
    }
}

/// The settings of the unsupervised mode: every training image gets, per batch, one of the
/// transforms drawn at random, and that transform's index is its parent label; after training,
/// k-means on the penultimate activations F of the untransformed images gives the clusters.
public struct PseudoParentConfig: Codable, Equatable, Sendable {
    /// The pseudo-parents, in parent-index order.
    public var transforms: [PseudoTransform]
    /// Clusters of the final k-means on F.
    public var clusters: Int
    /// k-means++ restarts (the lowest inertia is kept: an unsupervised criterion). On F of MNIST,
    /// restarts of clearly different inertia ranked as their accuracy, and the run of lowest
    /// inertia came up in about 1 of 8 restarts (docs/training.md), hence many cheap restarts.
    public var restarts: Int
    /// The restarts run on F projected onto its top `projection` principal directions, the best
    /// three are refined on the full F (`KMeans.Options.projection`); nil: on the full F (the
    /// files written before 2026-12-03, whose restarts were all on the full F).
    public var projection: Int?

    public init(transforms: [PseudoTransform], clusters: Int, restarts: Int = Recipe.unsupervisedRestarts,
                projection: Int? = Recipe.unsupervisedProjection) {
        self.transforms = transforms; self.clusters = clusters; self.restarts = restarts; self.projection = projection
    }

    /// x [m, h, w, c] with row i transformed by `transforms[labels[i]]`.
    public func apply(_ x: Tensor, labels: [Int32]) -> Tensor {
        precondition(x.shape.count == 4 && labels.count == x.shape[0], "PseudoParentConfig.apply: x must be [m, h, w, c] with one label per row")
        let m = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
        var out = [Float](repeating: 0, count: x.count)
        x.data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for i in 0..<m { transforms[Int(labels[i])].apply(xp, row: i, h: h, w: w, c: c, into: op, at: i * h * w * c) }
            }
        }
        return Tensor(shape: x.shape, data: out)
    }

    /// One uniformly drawn transform index per row.
    public func draw(_ m: Int, rng: inout SeededGenerator) -> [Int32] {
        (0..<m).map { _ in Int32(Int.random(in: 0..<transforms.count, using: &rng)) }
    }

    /// Checks the settings against images of h x w: at least one transform, every one keeping
    /// the shape, no repeats, at least one cluster.
    public func validate(height h: Int, width w: Int) throws {
        guard !transforms.isEmpty else { throw ACOLError.invalidSettings("unsupervised mode: no pseudo-parent transforms") }
        guard Set(transforms).count == transforms.count else { throw ACOLError.invalidSettings("unsupervised mode: a pseudo-parent transform is repeated") }
        if let bad = transforms.first(where: { !$0.keepsShape(height: h, width: w) }) {
            throw ACOLError.invalidSettings("unsupervised mode: \(bad.name) turns \(h)x\(w) images into \(w)x\(h) (odd quarter turns need square images)")
        }
        guard clusters >= 1 else { throw ACOLError.invalidSettings("unsupervised mode: expected at least 1 k-means cluster, found \(clusters)") }
        guard restarts >= 1 else { throw ACOLError.invalidSettings("unsupervised mode: expected at least 1 k-means restart, found \(restarts)") }
        if let projection, projection < 1 {
            throw ACOLError.invalidSettings("unsupervised mode: expected a k-means projection of at least 1 dimension (or none), found \(projection)")
        }
    }
}
