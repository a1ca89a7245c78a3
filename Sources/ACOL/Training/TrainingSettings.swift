import Foundation

/// The settings a model was trained with, kept in the model file.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public var optimizer: OptimizerConfig
    public var batchSize: Int
    public var epochs: Int
    public var seed: UInt64
    public var datasetFile: String?
    public var datasetSHA256: String?
    /// The two-view consistency and marginal terms (nil: the reference training).
    public var consistency: ConsistencyConfig?
    /// The unsupervised mode's pseudo-parents and final k-means (nil: trained on real parents).
    public var pseudoParents: PseudoParentConfig?
    /// The semi-supervised mode (nil: not semi-supervised).
    public var semiSupervised: SemiSupervisedConfig?
    /// Heads trained side by side (`TrainConfig.heads`; 1: the model's head alone).
    public var heads: Int
    /// The k-means start (`TrainConfig.kmeansStart`; nil: none).
    public var kmeansStart: KMeansStart?

    public init(optimizer: OptimizerConfig, batchSize: Int, epochs: Int, seed: UInt64,
                datasetFile: String? = nil, datasetSHA256: String? = nil, consistency: ConsistencyConfig? = nil, heads: Int = 1, kmeansStart: KMeansStart? = nil,
                pseudoParents: PseudoParentConfig? = nil, semiSupervised: SemiSupervisedConfig? = nil) {
        self.optimizer = optimizer; self.batchSize = batchSize; self.epochs = epochs; self.seed = seed
        self.datasetFile = datasetFile; self.datasetSHA256 = datasetSHA256; self.consistency = consistency
        self.pseudoParents = pseudoParents; self.semiSupervised = semiSupervised; self.heads = heads
        self.kmeansStart = kmeansStart
    }
}
