/// A trained (or training) ACOL model: the network and everything a model file keeps beside it.
public final class ACOLModel {
    public let network: Network
    public var gar: GARConfig
    public var preprocessing: Preprocessing
    /// Names of the parents (n_p of them).
    public var parentNames: [String]
    /// Names of the fine classes, when known (used by the cluster mapping).
    public var fineNames: [String]
    /// The parent of each fine class (index into `parentNames`), when the model was trained with
    /// a fine-to-parent mapping; lets evaluation derive coarse labels from fine ones.
    public var parentOfFine: [Int]
    /// What each output node was found to be (empty until computed with fine labels).
    public var clusters: [ClusterInfo]
    public var settings: TrainingSettings?
    public var history: [EpochRecord]

    public init(network: Network, gar: GARConfig, preprocessing: Preprocessing, parentNames: [String] = [],
                fineNames: [String] = [], parentOfFine: [Int] = [], clusters: [ClusterInfo] = [],
                settings: TrainingSettings? = nil, history: [EpochRecord] = []) {
        self.parentOfFine = parentOfFine
        self.network = network; self.gar = gar; self.preprocessing = preprocessing
        self.parentNames = parentNames.isEmpty ? (0..<network.spec.head.parents).map { "parent \($0)" } : parentNames
        self.fineNames = fineNames; self.clusters = clusters; self.settings = settings; self.history = history
    }

    public var head: ACOLHeadSpec { network.spec.head }

    /// One example's result.
    public struct Prediction: Equatable, Sendable {
        /// argmax_j Z[j]: the output node (cluster).
        public var cluster: Int
        /// cluster mod n_p.
        public var parent: Int
        /// softmax(Z)[cluster].
        public var confidence: Float
        /// Y[parent]: the pooled probability of that parent.
        public var parentProbability: Float
        /// argmax of Y, the parent the pooled output predicts (usually `parent`; it differs when
        /// several duplicates of another parent together outweigh the winning node).
        public var pooledParent: Int
    }

    /// Z for the images of `set` [count, H, W, C], preprocessed as the model says.
    public func logits(_ set: ImageSet, batchSize: Int = 256) -> Tensor {
        var rng = SeededGenerator(seed: 0)
        let n = head.nodes
        var out = [Float](repeating: 0, count: set.count * n)
        var start = 0
        while start < set.count {
            let end = min(set.count, start + batchSize)
            let x = set.tensor(start..<end, scale: preprocessing.scale, offset: preprocessing.offset)
            let z = network.forward(x, training: false, rng: &rng).z
            out.replaceSubrange((start * n)..<(end * n), with: z.data)
            start = end
        }
        return Tensor(shape: [set.count, n], data: out)
    }

    /// Predictions from Z [m, n].
    public func predictions(fromLogits z: Tensor) -> [Prediction] {
        let n = head.nodes, np = head.parents
        let parentOf = head.nodeParents
        var out: [Prediction] = []
        out.reserveCapacity(z.rows)
        z.data.withUnsafeBufferPointer { zp in
            for i in 0..<z.rows {
                let row = zp.baseAddress! + i * n
                var best = 0
                for j in 1..<n where row[j] > row[best] { best = j }
                var total: Float = 0
                var pooled = [Float](repeating: 0, count: np)
                for j in 0..<n { let e = expf(row[j] - row[best]); total += e; pooled[parentOf[j]] += e }
                var bestParent = 0
                for p in 1..<np where pooled[p] > pooled[bestParent] { bestParent = p }
                out.append(Prediction(cluster: best, parent: parentOf[best], confidence: 1 / total,
                                      parentProbability: pooled[parentOf[best]] / total, pooledParent: bestParent))
            }
        }
        return out
    }

    public func predict(_ set: ImageSet, batchSize: Int = 256) -> [Prediction] {
        predictions(fromLogits: logits(set, batchSize: batchSize))
    }
}

import Foundation
