import Foundation

/// Which two views of each image the consistency term compares.
public enum ConsistencyViews: String, Codable, Sendable, CaseIterable {
    /// The image itself and one augmented copy.
    case cleanAugmented = "clean_augmented"
    /// Two independently augmented copies (the clean image is not forwarded).
    case twoAugmented = "two_augmented"
    /// One view, no augmentation: only the marginal term applies (the consistency weight is ignored).
    case single
}

/// Random affine augmentation of images: rotation, isotropic scale, horizontal shear and
/// translation about the image centre, optionally a left-right mirror (for data whose classes
/// are mirror-symmetric: garments, objects; not digits), bilinear resampling, zero outside the
/// image. Optionally photometric as well: each image's pixel values, taken as fractions u of the
/// input range, become min(1, a * u^g) with a contrast factor a and a gamma g drawn per image
/// (the background, u = 0, stays 0): a garment's darkness or a print's contrast then does not
/// decide its cluster.
public struct AffineAugmentation: Codable, Equatable, Sendable {
    /// Translation in pixels, drawn uniformly from [-maxShift, maxShift] in x and in y.
    public var maxShift: Float
    /// Rotation in degrees, uniform in [-maxRotation, maxRotation].
    public var maxRotation: Float
    /// Scale factor, uniform in [1 - maxScale, 1 + maxScale].
    public var maxScale: Float
    /// Horizontal shear (x += shear * y), uniform in [-maxShear, maxShear].
    public var maxShear: Float
    /// Mirror left-right with probability 1/2 (one more draw per image when on).
    public var flip: Bool
    /// Contrast: the pixel fractions are multiplied by a, log-uniform in [1 / (1 + c), 1 + c]
    /// (0: off).
    public var contrast: Float
    /// Gamma: the pixel fractions are raised to g, log-uniform in [1 / (1 + c), 1 + c] (0: off).
    /// With either photometric setting on, each image takes two more draws (a and g).
    public var gamma: Float

    /// The ranges a training accepts (`Trainer` checks them, the CLI names its options after
    /// them): shift 0...1,024 pixels, rotation 0...180 degrees, scale 0...0.9 (a factor of 0 would
    /// collapse the image), shear 0...10, contrast and gamma 0...10; every value finite.
    public static let limits: [(name: String, value: KeyPath<AffineAugmentation, Float>, range: ClosedRange<Float>)] = [
        ("maxShift", \.maxShift, 0...1024), ("maxRotation", \.maxRotation, 0...180), ("maxScale", \.maxScale, 0...0.9),
        ("maxShear", \.maxShear, 0...10), ("contrast", \.contrast, 0...10), ("gamma", \.gamma, 0...10),
    ]

    /// The first setting outside `limits` (its name, value and range), or nil.
    public var outOfRange: (name: String, value: Float, range: ClosedRange<Float>)? {
        for l in Self.limits where !(self[keyPath: l.value].isFinite && l.range.contains(self[keyPath: l.value])) {
            return (l.name, self[keyPath: l.value], l.range)
        }
        return nil
    }

    /// Throws `invalidSettings` naming the first setting outside `limits`.
    public func validate() throws {
        if let bad = outOfRange {
            throw ACOLError.invalidSettings("augmentation \(bad.name): expected a number in 0...\(String(format: "%g", bad.range.upperBound)), found \(bad.value)")
        }
    }

    public init(maxShift: Float = 2, maxRotation: Float = 10, maxScale: Float = 0.1, maxShear: Float = 0.2,
                flip: Bool = false, contrast: Float = 0, gamma: Float = 0) {
        self.maxShift = maxShift; self.maxRotation = maxRotation; self.maxScale = maxScale; self.maxShear = maxShear
        self.flip = flip; self.contrast = contrast; self.gamma = gamma
    }

    private enum CodingKeys: String, CodingKey { case maxShift, maxRotation, maxScale, maxShear, flip, contrast, gamma }

    /// Model files written before the mirror existed have no `flip`: they read as off.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxShift = try c.decode(Float.self, forKey: .maxShift)
        maxRotation = try c.decode(Float.self, forKey: .maxRotation)
        maxScale = try c.decode(Float.self, forKey: .maxScale)
        maxShear = try c.decode(Float.self, forKey: .maxShear)
        flip = try c.decodeIfPresent(Bool.self, forKey: .flip) ?? false
        contrast = try c.decodeIfPresent(Float.self, forKey: .contrast) ?? 0
        gamma = try c.decodeIfPresent(Float.self, forKey: .gamma) ?? 0
    }

    /// Whether the photometric part is on.
    var photometric: Bool { contrast > 0 || gamma > 0 }

    /// Draws per image: rotation, scale, shear, two shifts, the mirror when on, contrast and
    /// gamma when the photometric part is on.
    var drawsPerImage: Int { 5 + (flip ? 1 : 0) + (photometric ? 2 : 0) }

    /// Images [m, h, w, c] (already scaled to network input) transformed with parameters drawn
    /// from `rng`: five draws per image (six with the mirror, two more with the photometric
    /// part), in image order. `range`: the input values of pixel 0 and pixel 255 (the
    /// preprocessing's), which the photometric part maps to the fractions 0 and 1.
    public func apply(_ x: Tensor, rng: inout SeededGenerator, range: (Float, Float) = (0, 1)) -> Tensor {
        apply(x, rng: &rng, shard: nil, range: range)
    }

    /// As `apply`, for this process's images of a batch split over processes: x [m, h, w, c]
    /// holds the whole batch's images `shard.segments` (nil: the whole batch). Each image gets
    /// the parameters one process draws for it; the draws of the other images are skipped, so
    /// the generator ends where one process's ends.
    public func apply(_ x: Tensor, rng: inout SeededGenerator, shard: BatchShard?, range: (Float, Float) = (0, 1)) -> Tensor {
        precondition(x.shape.count == 4, "AffineAugmentation: input must be [m, h, w, c]")
        let m = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
        let size = h * w * c
        var out = [Float](repeating: 0, count: x.count)
        let cy = Float(h - 1) / 2, cx = Float(w - 1) / 2
        let logContrast = Foundation.log(1 + contrast), logGamma = Foundation.log(1 + gamma)
        // The whole batch's image of each local image, and how many draws to skip before it.
        var globalIndex = Array(0..<m)
        if let shard { globalIndex = shard.segments.flatMap { Array($0) } }
        var drawnFor = 0   // images of the whole batch whose parameters have been drawn
        func skip(to image: Int) {
            while drawnFor < image { for _ in 0..<drawsPerImage { _ = rng.next() }; drawnFor += 1 }
        }
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<min(m, globalIndex.count) {
                    if shard != nil { skip(to: globalIndex[i]); drawnFor += 1 }
                    let theta = rng.nextFloat(-maxRotation, maxRotation) * Float.pi / 180
                    let s = 1 + rng.nextFloat(-maxScale, maxScale)
                    let sh = rng.nextFloat(-maxShear, maxShear)
                    let tx = rng.nextFloat(-maxShift, maxShift), ty = rng.nextFloat(-maxShift, maxShift)
                    // The mirror is applied to the source: output (xo, yo) samples the
                    // transformed image at (2 cx - xs, ys).
                    let mirrored = flip && rng.nextFloat(0, 1) < 0.5
                    var factor: Float = 1, power: Float = 1
                    if photometric {
                        factor = Foundation.exp(rng.nextFloat(-logContrast, logContrast))
                        power = Foundation.exp(rng.nextFloat(-logGamma, logGamma))
                    }
                    // Forward map (about the centre): p' = R(theta) * Shear * s * p + t.
                    // M = s * [[cos, -sin], [sin, cos]] * [[1, sh], [0, 1]].
                    let co = cos(theta), si = sin(theta)
                    let a = s * co, b = s * (co * sh - si)
                    let cc = s * si, d = s * (si * sh + co)
                    let det = a * d - b * cc
                    // Inverse for sampling: p = M^-1 (p' - t).
                    let ia = d / det, ib = -b / det, ic = -cc / det, id = a / det
                    let base = i * size
                    for yo in 0..<h {
                        for xo in 0..<w {
                            let ux = Float(xo) - cx - tx, uy = Float(yo) - cy - ty
                            let xt = ia * ux + ib * uy + cx, ys = ic * ux + id * uy + cy
                            let xs = mirrored ? 2 * cx - xt : xt
                            // A degenerate map (settings outside `validate`'s ranges) samples nothing.
                            guard xs.isFinite, ys.isFinite, abs(xs) < 1e7, abs(ys) < 1e7 else {
                                for ch in 0..<c { dst[base + (yo * w + xo) * c + ch] = 0 }
                                continue
                            }
                            let x0 = Int(xs.rounded(.down)), y0 = Int(ys.rounded(.down))
                            let fx = xs - Float(x0), fy = ys - Float(y0)
                            // The four neighbours in the order (y0, x0), (y0, x0 + 1), (y0 + 1, x0),
                            // (y0 + 1, x0 + 1); those outside the image or with weight 0 are skipped.
                            let wy0 = 1 - fy, wx0 = 1 - fx
                            let okY0 = y0 >= 0 && y0 < h && wy0 != 0, okY1 = y0 + 1 >= 0 && y0 + 1 < h && fy != 0
                            let okX0 = x0 >= 0 && x0 < w && wx0 != 0, okX1 = x0 + 1 >= 0 && x0 + 1 < w && fx != 0
                            for ch in 0..<c {
                                var v: Float = 0
                                if okY0 {
                                    if okX0 { v += wy0 * wx0 * src[base + (y0 * w + x0) * c + ch] }
                                    if okX1 { v += wy0 * fx * src[base + (y0 * w + x0 + 1) * c + ch] }
                                }
                                if okY1 {
                                    if okX0 { v += fy * wx0 * src[base + ((y0 + 1) * w + x0) * c + ch] }
                                    if okX1 { v += fy * fx * src[base + ((y0 + 1) * w + x0 + 1) * c + ch] }
                                }
                                dst[base + (yo * w + xo) * c + ch] = v
                            }
                        }
                    }
                    if photometric { Self.adjust(dst, from: base, count: size, factor: factor, power: power, range: range) }
                }
            }
        }
        if let shard { skip(to: shard.globalRows) }
        return Tensor(shape: x.shape, data: out)
    }

    /// The photometric part on one image's `count` values from `base`: u = (v - lo) / (hi - lo)
    /// clamped to [0, 1], then v = lo + (hi - lo) * min(1, factor * u^power).
    private static func adjust(_ p: UnsafeMutableBufferPointer<Float>, from base: Int, count: Int,
                               factor: Float, power: Float, range: (Float, Float)) {
        let lo = range.0, span = range.1 - range.0
        guard span != 0 else { return }
        for t in base..<(base + count) {
            let u = min(max((p[t] - lo) / span, 0), 1)
            let g = u > 0 ? Foundation.pow(u, power) : 0
            p[t] = lo + span * min(1, factor * g)
        }
    }
}

/// Agreement between the cluster distributions of two views of the same images (an addition to
/// the ACOL objective, not part of the reference): with S = softmax(Z) over all n nodes for the
/// first view and S' for the second,
///     C = weight * mean_i( -log( sum_j S_ij S'_ij + eps ) ).
/// sum_j S_ij S'_ij is the probability that both views land in the same cluster; the term is
/// smallest when both are confidently in the same node. GAR's balance is indifferent to how two
/// fine classes share two clusters; this term ties an image to its own transformed copy, so a
/// split along a feature the transformation changes (slant, thickness, position) costs.
/// Gradient: dC/dZ_ik = weight / m * S_ik (p_i - S'_ik) / (p_i + eps), p_i = sum_j S_ij S'_ij,
/// and symmetrically for Z'.
///
/// Optional marginal term (with the consistency term this is IIC's mutual information):
///     M = marginalWeight * (log n - H(q)),  q = mean over all 2m rows of S,
/// which counts examples per node (unlike GAR's balance, which sums squared activity and can be
/// met by scaling a node's Z): it penalises one class split over two nodes while two others share
/// one. dM/dZ_ik = marginalWeight / (2m) * S_ik (log q_k - sum_j S_ij log q_j).
public struct ConsistencyConfig: Codable, Equatable, Sendable {
    public var weight: Float
    public var marginalWeight: Float
    public var views: ConsistencyViews
    public var augmentation: AffineAugmentation
    public var epsilon: Float

    public init(weight: Float = 1, marginalWeight: Float = 0, views: ConsistencyViews = .cleanAugmented,
                augmentation: AffineAugmentation = AffineAugmentation(), epsilon: Float = 1e-7) {
        self.weight = weight; self.marginalWeight = marginalWeight; self.views = views
        self.augmentation = augmentation; self.epsilon = epsilon
    }
}

public enum ConsistencyLoss {
    public struct Result {
        public var loss: Double
        /// mean_i p_i: how often the two views agree, in expectation.
        public var agreement: Double
        /// dC/dZ [2m, n] (empty unless asked for).
        public var dZ: [Float]
    }

    /// `z` is [2m, n]: rows 0..<m the first views, rows m..<2m the second views of the same images.
    public static func evaluate(z: Tensor, weight: Float, epsilon: Float = 1e-7, gradient: Bool) -> Result {
        evaluate(z: z, weight: weight, epsilon: epsilon, gradient: gradient, shard: nil)
    }

    /// As `evaluate`, for this process's rows of a batch split over processes (`shard` over the
    /// 2M rows of both views; nil: the whole batch): the mean is over the whole batch's M images
    /// (the summed loss and agreement are reduced over the processes), dZ is this process's rows.
    public static func evaluate(z: Tensor, weight: Float, epsilon: Float = 1e-7, gradient: Bool,
                                shard: BatchShard?) -> Result {
        let rows = z.rows, n = z.columns
        precondition(rows % 2 == 0, "ConsistencyLoss: Z must hold two views of each image")
        let m = rows / 2
        let mAll = shard.map { $0.globalRows / 2 } ?? m
        var dZ = [Float](repeating: 0, count: gradient ? rows * n : 0)
        var loss = 0.0, agree = 0.0
        let eps = Double(epsilon), w = Double(weight) / Double(max(mAll, 1))
        z.data.withUnsafeBufferPointer { zp in
            var s1 = [Double](repeating: 0, count: n), s2 = [Double](repeating: 0, count: n)
            func softmax(_ row: Int, _ out: inout [Double]) {
                var mx = -Float.infinity
                for j in 0..<n { mx = max(mx, zp[row * n + j]) }
                var t = 0.0
                for j in 0..<n { out[j] = Foundation.exp(Double(zp[row * n + j] - mx)); t += out[j] }
                for j in 0..<n { out[j] /= t }
            }
            for i in 0..<m {
                softmax(i, &s1); softmax(m + i, &s2)
                var p = 0.0
                for j in 0..<n { p += s1[j] * s2[j] }
                loss -= Foundation.log(p + eps)
                agree += p
                if gradient {
                    let inv = 1 / (p + eps)
                    for j in 0..<n {
                        dZ[i * n + j] = Float(w * s1[j] * (p - s2[j]) * inv)
                        dZ[(m + i) * n + j] = Float(w * s2[j] * (p - s1[j]) * inv)
                    }
                }
            }
        }
        if let shard {
            var total = [loss, agree]
            shard.reduction.sum(&total)
            loss = total[0]; agree = total[1]
        }
        return Result(loss: Double(weight) * loss / Double(max(mAll, 1)), agreement: agree / Double(max(mAll, 1)), dZ: dZ)
    }

    /// M = weight * (log n - H(q)) with q the mean of softmax(Z) over all rows of `z` [rows, n],
    /// and its gradient.
    public static func marginal(z: Tensor, weight: Float, gradient: Bool) -> (loss: Double, entropy: Double, dZ: [Float]) {
        marginal(z: z, weight: weight, gradient: gradient, shard: nil)
    }

    /// As `marginal`, for this process's rows of a batch split over processes (nil: the whole
    /// batch): q is the mean over the whole batch's rows (the column sums of softmax(Z) are
    /// reduced over the processes), dZ is this process's rows.
    public static func marginal(z: Tensor, weight: Float, gradient: Bool,
                                shard: BatchShard?) -> (loss: Double, entropy: Double, dZ: [Float]) {
        let rows = z.rows, n = z.columns
        let rowsAll = shard?.globalRows ?? rows
        var s = [Double](repeating: 0, count: rows * n)
        var q = [Double](repeating: 0, count: n)
        z.data.withUnsafeBufferPointer { zp in
            for i in 0..<rows {
                var mx = -Float.infinity
                for j in 0..<n { mx = max(mx, zp[i * n + j]) }
                var t = 0.0
                for j in 0..<n { s[i * n + j] = Foundation.exp(Double(zp[i * n + j] - mx)); t += s[i * n + j] }
                for j in 0..<n { s[i * n + j] /= t; q[j] += s[i * n + j] }
            }
        }
        shard?.reduction.sum(&q)
        for j in 0..<n { q[j] /= Double(max(rowsAll, 1)) }
        let logq = q.map { Foundation.log(max($0, 1e-30)) }
        var h = 0.0
        for j in 0..<n where q[j] > 0 { h -= q[j] * logq[j] }
        var dZ = [Float](repeating: 0, count: gradient ? rows * n : 0)
        if gradient {
            let w = Double(weight) / Double(max(rowsAll, 1))
            for i in 0..<rows {
                var mean = 0.0
                for j in 0..<n { mean += s[i * n + j] * logq[j] }
                for j in 0..<n { dZ[i * n + j] = Float(w * s[i * n + j] * (logq[j] - mean)) }
            }
        }
        return (Double(weight) * (Foundation.log(Double(n)) - h), h, dZ)
    }
}
