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
    /// k-means centroids on F (the penultimate activations), set by the unsupervised mode: when
    /// present the model's clusters are the nearest centroid of each image's F, not the argmax of
    /// Z (whose parents are pseudo-parents, transformations, with no meaning at inference).
    public var featureClusters: KMeans?

    public init(network: Network, gar: GARConfig, preprocessing: Preprocessing, parentNames: [String] = [],
                fineNames: [String] = [], parentOfFine: [Int] = [], clusters: [ClusterInfo] = [],
                settings: TrainingSettings? = nil, history: [EpochRecord] = []) {
        self.parentOfFine = parentOfFine
        self.network = network; self.gar = gar; self.preprocessing = preprocessing
        self.parentNames = parentNames.isEmpty ? (0..<network.spec.head.parents).map { "parent \($0)" } : parentNames
        self.fineNames = fineNames; self.clusters = clusters; self.settings = settings; self.history = history
    }

    public var head: ACOLHeadSpec { network.spec.head }

    /// The head the model's predictions are over: the network's head, or with `featureClusters`
    /// one parent ("all") of k clusters, cluster j = centroid j.
    public var outputHead: ACOLHeadSpec {
        featureClusters.map { ACOLHeadSpec(parents: 1, k: $0.k, batchNormBeforeZ: false) } ?? head
    }

    /// The names of `outputHead`'s parents.
    public var outputParentNames: [String] { featureClusters == nil ? parentNames : ["all"] }

    /// Whether the parent of a prediction means something at inference (false for pseudo-parents).
    public var predictsParents: Bool { featureClusters == nil }

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
        inferBatches(set, columns: head.nodes, batchSize: batchSize) { $0.z }
    }

    /// One output of the network in inference mode, [count, columns], computed batch by batch.
    private func inferBatches(_ set: ImageSet, columns: Int, batchSize: Int,
                              _ pick: ((features: Tensor, z: Tensor)) -> Tensor) -> Tensor {
        var rng = SeededGenerator(seed: 0)
        var out = [Float](repeating: 0, count: set.count * columns)
        var start = 0
        while start < set.count {
            let end = min(set.count, start + max(1, batchSize))
            let x = set.tensor(start..<end, scale: preprocessing.scale, offset: preprocessing.offset)
            out.replaceSubrange((start * columns)..<(end * columns), with: pick(network.forward(x, training: false, rng: &rng)).data)
            start = end
        }
        return Tensor(shape: [set.count, columns], data: out)
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

    /// F [count, d] for the images of `set`, preprocessed as the model says (inference mode).
    public func features(_ set: ImageSet, batchSize: Int = 256) -> Tensor {
        inferBatches(set, columns: network.featureCount, batchSize: batchSize) { $0.features }
    }

    /// Predictions from F [m, d] by nearest centroid: cluster = the nearest centroid, parent 0,
    /// confidence = d2 / (d1 + d2) from the squared distances to the nearest and the second
    /// nearest centroid (0.5 halfway between two, 1 on a centroid).
    public func predictions(fromFeatures f: Tensor, clusters km: KMeans) -> [Prediction] {
        let (a, d1, d2) = km.assignWithRunnerUp(f.data, count: f.rows)
        return (0..<f.rows).map { i in
            let total = d1[i] + d2[i]
            return Prediction(cluster: a[i], parent: 0, confidence: total > 0 ? d2[i] / total : 1,
                              parentProbability: 1, pooledParent: 0)
        }
    }

    public func predict(_ set: ImageSet, batchSize: Int = 256) -> [Prediction] {
        if let km = featureClusters { return predictions(fromFeatures: features(set, batchSize: batchSize), clusters: km) }
        return predictions(fromLogits: logits(set, batchSize: batchSize))
    }
}

import Foundation
