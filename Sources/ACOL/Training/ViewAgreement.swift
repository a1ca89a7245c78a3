import Foundation

/// How well a model's clusters hold under the augmentation, without any fine label: the mutual
/// information between the cluster of an image and the cluster of an augmented copy of it,
/// inside each parent (the objective of IIC, Ji et al. 2019), averaged over the images.
///
/// For the m_p probe images of parent p, with s_i and s'_i the softmax of Z over p's nodes for
/// the image and for its copy (inference mode),
///     J = sym( (1/m_p) sum_i s_i s'_i^T ),   MI_p = sum_ab J_ab log( J_ab / (J_a. J_.b) ),
/// and the score is sum_p (m_p / m) MI_p, in nats. It is high when every image lands
/// confidently in one cluster, its copy in the same one, and the clusters are used evenly
/// (MI_p <= log k_p); two classes mixed over two clusters lower it, because a class's copies
/// then move between the clusters it is spread over.
public enum ViewAgreement {
    /// The score of `model` on `count` images of `set` (a seeded choice) and one copy of each
    /// made by `augmentation`. The images and the copies depend only on `seed`, so models
    /// scored with the same seed are compared on the same views. The parents are the set's
    /// coarse labels (all images in parent 0 when the head has one).
    public static func mutualInformation(model: ACOLModel, set: ImageSet, augmentation: AffineAugmentation,
                                         count: Int = 5_000, seed: UInt64) -> Double {
        perParent(model: model, set: set, augmentation: augmentation, count: count, seed: seed)
            .reduce(0) { $0 + ($1.mi.isNaN ? 0 : $1.share * $1.mi) }
    }

    /// Each parent's MI_p (NaN for a parent of one node or without probe images) and its share
    /// of the probe images.
    public static func perParent(model: ACOLModel, set: ImageSet, augmentation: AffineAugmentation,
                                 count: Int = 5_000, seed: UInt64) -> [(mi: Double, share: Double)] {
        let head = model.head
        guard set.count > 0, head.parents == 1 || set.coarseLabels != nil else { return [] }
        var rng = SeededGenerator(seed: seed &+ 0xA6EE)
        var order = Array(0..<set.count)
        order.shuffle(using: &rng)
        let probe = set.subset(Array(order.prefix(min(count, set.count))))
        let p = model.preprocessing
        let x = probe.tensor(0..<probe.count, scale: p.scale, offset: p.offset)
        let copy = augmentation.apply(x, rng: &rng, range: p.inputRange)
        let z = model.network.logits(x), zc = model.network.logits(copy)
        let parentOf = (0..<probe.count).map { head.parents == 1 ? 0 : Int(probe.coarseLabels![$0]) }
        var out: [(mi: Double, share: Double)] = []
        for parent in 0..<head.parents {
            let nodes = (0..<head.nodes).filter { head.parent(ofNode: $0) == parent }
            let rows = (0..<probe.count).filter { parentOf[$0] == parent }
            let share = Double(rows.count) / Double(probe.count)
            // One node (or no image): nothing to agree on.
            guard !rows.isEmpty, nodes.count > 1 else { out.append((.nan, share)); continue }
            let k = nodes.count
            var joint = [Double](repeating: 0, count: k * k)
            for i in rows {
                let a = softmax(z, row: i, nodes: nodes), b = softmax(zc, row: i, nodes: nodes)
                for u in 0..<k where a[u] > 0 { for v in 0..<k { joint[u * k + v] += a[u] * b[v] } }
            }
            out.append((mutualInformation(joint: joint, k: k), share))
        }
        return out
    }

    /// MI of the symmetrised, normalised k x k joint (row-major), in nats.
    static func mutualInformation(joint raw: [Double], k: Int) -> Double {
        let total = raw.reduce(0, +)
        guard total > 0 else { return 0 }
        var j = [Double](repeating: 0, count: k * k)
        for a in 0..<k { for b in 0..<k { j[a * k + b] = (raw[a * k + b] + raw[b * k + a]) / (2 * total) } }
        var marginal = [Double](repeating: 0, count: k)
        for a in 0..<k { for b in 0..<k { marginal[a] += j[a * k + b] } }
        var mi = 0.0
        for a in 0..<k { for b in 0..<k where j[a * k + b] > 0 {
            mi += j[a * k + b] * log(j[a * k + b] / (marginal[a] * marginal[b]))
        } }
        return mi
    }

    /// softmax over `nodes` of row `row` of z [m, n], in Double.
    private static func softmax(_ z: Tensor, row: Int, nodes: [Int]) -> [Double] {
        let n = z.columns
        let v = nodes.map { Double(z.data[row * n + $0]) }
        let top = v.max() ?? 0
        let e = v.map { exp($0 - top) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
