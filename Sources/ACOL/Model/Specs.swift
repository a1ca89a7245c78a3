import Foundation

/// Padding of a convolution.
public enum Padding: String, Codable, Sendable {
    case same, valid
}

/// The kind of a layer, as written in the architecture JSON of a model file.
public enum LayerType: String, Codable, Sendable {
    case dense, conv2d, maxPool2d = "max_pool2d", relu, dropout, flatten, batchNorm = "batch_norm"
}

/// One layer of a network body, in a form that serialises to natural JSON
/// (`{"type":"dense","units":2048}`) so the model file can be read by anyone.
public struct LayerSpec: Codable, Equatable, Sendable {
    public var type: LayerType
    /// dense: output units.
    public var units: Int?
    /// conv2d: output channels.
    public var filters: Int?
    /// conv2d: kernel height and width.
    public var kernel: [Int]?
    /// conv2d: padding.
    public var padding: Padding?
    /// max_pool2d: window and stride.
    public var pool: Int?
    /// dropout: the fraction of units dropped in training.
    public var rate: Float?
    /// dense, conv2d: max-norm constraint on each unit's incoming weight vector.
    public var maxNorm: Float?
    /// batch_norm: running-statistics momentum (Keras convention: new = m * old + (1 - m) * batch).
    public var momentum: Float?
    /// batch_norm: epsilon added to the variance.
    public var epsilon: Float?

    public init(type: LayerType, units: Int? = nil, filters: Int? = nil, kernel: [Int]? = nil,
                padding: Padding? = nil, pool: Int? = nil, rate: Float? = nil, maxNorm: Float? = nil,
                momentum: Float? = nil, epsilon: Float? = nil) {
        self.type = type; self.units = units; self.filters = filters; self.kernel = kernel
        self.padding = padding; self.pool = pool; self.rate = rate; self.maxNorm = maxNorm
        self.momentum = momentum; self.epsilon = epsilon
    }

    public static func dense(_ units: Int, maxNorm: Float? = nil) -> LayerSpec {
        LayerSpec(type: .dense, units: units, maxNorm: maxNorm)
    }
    public static func conv2d(_ filters: Int, kernel: Int = 3, padding: Padding = .same,
                              maxNorm: Float? = nil) -> LayerSpec {
        LayerSpec(type: .conv2d, filters: filters, kernel: [kernel, kernel], padding: padding, maxNorm: maxNorm)
    }
    public static func conv2d(_ filters: Int, kernel: [Int], padding: Padding = .same) -> LayerSpec {
        LayerSpec(type: .conv2d, filters: filters, kernel: kernel, padding: padding)
    }
    public static func maxPool2d(_ size: Int = 2) -> LayerSpec { LayerSpec(type: .maxPool2d, pool: size) }
    public static let relu = LayerSpec(type: .relu)
    public static func dropout(_ rate: Float) -> LayerSpec { LayerSpec(type: .dropout, rate: rate) }
    public static let flatten = LayerSpec(type: .flatten)
    public static func batchNorm(momentum: Float = 0.99, epsilon: Float = 1e-3) -> LayerSpec {
        LayerSpec(type: .batchNorm, momentum: momentum, epsilon: epsilon)
    }
}

/// The ACOL output layer: Z = F W + b with `parents * k` nodes (node j belongs to parent
/// j mod parents and is duplicate j / parents), softmax over all nodes, sum-pooling into parents.
public struct ACOLHeadSpec: Codable, Equatable, Sendable {
    /// n_p, the number of parents (coarse classes). 1 means no coarse labels.
    public var parents: Int
    /// k, the duplicates per parent.
    public var k: Int
    /// Batch normalisation of F (with learnt scale and shift) before Z.
    public var batchNormBeforeZ: Bool

    public init(parents: Int, k: Int, batchNormBeforeZ: Bool = true) {
        self.parents = parents; self.k = k; self.batchNormBeforeZ = batchNormBeforeZ
    }

    /// n = n_p * k output nodes.
    public var nodes: Int { parents * k }
    public func parent(ofNode j: Int) -> Int { j % parents }
    public func duplicate(ofNode j: Int) -> Int { j / parents }
}

/// Everything needed to rebuild a network: input shape, body layers and the ACOL head.
public struct NetworkSpec: Codable, Equatable, Sendable {
    /// Input shape of one example, [height, width, channels].
    public var inputShape: [Int]
    public var layers: [LayerSpec]
    public var head: ACOLHeadSpec
    /// The preset this was built from, if any ("mlp", "cnn1", ...).
    public var preset: String?
    /// How Dense and Conv2D weights (and biases) are drawn; nil means Glorot-uniform (files
    /// written before this field existed).
    public var initializer: WeightInitializer?

    public init(inputShape: [Int], layers: [LayerSpec], head: ACOLHeadSpec, preset: String? = nil,
                initializer: WeightInitializer? = nil) {
        self.inputShape = inputShape; self.layers = layers; self.head = head; self.preset = preset
        self.initializer = initializer
    }
}

/// Initial weights of Dense and Conv2D layers (the ACOL head included).
public enum WeightInitializer: String, Codable, Sendable, CaseIterable {
    /// Glorot-uniform weights, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), zero biases: the
    /// Keras reference.
    case glorotUniform = "glorot_uniform"
    /// Weights and biases U(-l, l) with l = 1 / sqrt(fan_in): PyTorch's default for Linear and
    /// Conv2d (Kaiming-uniform with a = sqrt(5)). Smaller weights than Glorot for every layer of
    /// the presets, and non-zero biases.
    case fanInUniform = "fan_in_uniform"
}

/// Which nodes GAR's affinity and balance are computed over.
public enum GARScope: String, Codable, Sendable {
    /// All n = n_p * k nodes together (the reference default).
    case allNodes = "all_nodes"
    /// Each parent's k x k block separately, averaged over the parents.
    case perParent = "per_parent"
}

/// How the Frobenius term c_F * ||Z||^2 is reduced over the batch.
public enum FrobeniusReduction: String, Codable, Sendable {
    /// Sum over the batch (the Keras reference).
    case sum
    /// Mean over the batch (the PyTorch reference).
    case mean
}

/// The graph-based activity regulariser.
public struct GARConfig: Codable, Equatable, Sendable {
    public var scope: GARScope
    /// Also apply affinity and balance to max(0, -Z) (the authors' later code).
    public var symmetric: Bool
    public var cA: Float
    public var cB: Float
    public var cF: Float
    public var frobenius: FrobeniusReduction
    /// Added to the denominators of affinity and balance.
    public var epsilon: Float

    public init(scope: GARScope = .perParent, symmetric: Bool = false, cA: Float = 1, cB: Float = 1,
                cF: Float = 1e-6, frobenius: FrobeniusReduction = .sum, epsilon: Float = 1e-7) {
        self.scope = scope; self.symmetric = symmetric; self.cA = cA; self.cB = cB; self.cF = cF
        self.frobenius = frobenius; self.epsilon = epsilon
    }

    /// The reference code's defaults: all-node scope, c_a = c_b = 1, c_F = 1e-6 (sum).
    public static let reference = GARConfig(scope: .allNodes, symmetric: false)
}

/// How raw u8 pixels become network input: x = pixel * scale + offset.
public struct Preprocessing: Codable, Equatable, Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var scale: Float
    public var offset: Float

    public init(height: Int, width: Int, channels: Int, scale: Float = 1.0 / 255.0, offset: Float = 0) {
        self.height = height; self.width = width; self.channels = channels
        self.scale = scale; self.offset = offset
    }
}

/// What one output node (cluster) was found to be, from fine labels seen after training.
public struct ClusterInfo: Codable, Equatable, Sendable {
    public var node: Int
    public var parent: Int
    public var duplicate: Int
    /// Examples assigned to this cluster when the mapping was computed.
    public var count: Int
    /// The majority fine label among them (nil when the cluster is empty or labels were unknown).
    public var fineLabel: Int?
    public var fineName: String?
    /// Examples of the majority label.
    public var majorityCount: Int
    /// majorityCount / count (0 when empty).
    public var share: Double

    public init(node: Int, parent: Int, duplicate: Int, count: Int, fineLabel: Int?, fineName: String?,
                majorityCount: Int, share: Double) {
        self.node = node; self.parent = parent; self.duplicate = duplicate; self.count = count
        self.fineLabel = fineLabel; self.fineName = fineName; self.majorityCount = majorityCount
        self.share = share
    }
}

/// One epoch of training history.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var loss: Double
    public var parentAccuracy: Double
    public var affinity: Double
    public var balance: Double
    public var purity: Double?
    public var nmi: Double?
    public var hungarianAccuracy: Double?
    public var clustersUsed: Int?
    public var testParentAccuracy: Double?
    public var testPurity: Double?
    public var testNMI: Double?
    public var testHungarianAccuracy: Double?
    public var seconds: Double

    public init(epoch: Int, loss: Double, parentAccuracy: Double, affinity: Double, balance: Double,
                purity: Double? = nil, nmi: Double? = nil, hungarianAccuracy: Double? = nil,
                clustersUsed: Int? = nil, testParentAccuracy: Double? = nil, testPurity: Double? = nil,
                testNMI: Double? = nil, testHungarianAccuracy: Double? = nil, seconds: Double) {
        self.epoch = epoch; self.loss = loss; self.parentAccuracy = parentAccuracy
        self.affinity = affinity; self.balance = balance; self.purity = purity; self.nmi = nmi
        self.hungarianAccuracy = hungarianAccuracy; self.clustersUsed = clustersUsed
        self.testParentAccuracy = testParentAccuracy; self.testPurity = testPurity
        self.testNMI = testNMI; self.testHungarianAccuracy = testHungarianAccuracy; self.seconds = seconds
    }
}

public enum OptimizerKind: String, Codable, Sendable {
    case sgd, adam
}

/// Optimiser settings. SGD: lr / (1 + decay * step), momentum, Nesterov. Adam: beta1, beta2, eps.
public struct OptimizerConfig: Codable, Equatable, Sendable {
    public var kind: OptimizerKind
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var decay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float

    public init(kind: OptimizerKind, learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                decay: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
        self.kind = kind; self.learningRate = learningRate; self.momentum = momentum
        self.nesterov = nesterov; self.decay = decay; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// The reference: SGD lr 0.01, decay 1e-6, momentum 0.95, Nesterov.
    public static let sgdReference = OptimizerConfig(kind: .sgd, learningRate: 0.01, momentum: 0.95,
                                                     nesterov: true, decay: 1e-6)
    public static let adamDefault = OptimizerConfig(kind: .adam, learningRate: 1e-3)
}

/// The settings a model was trained with, kept in the model file.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public var optimizer: OptimizerConfig
    public var batchSize: Int
    public var epochs: Int
    public var seed: UInt64
    public var datasetFile: String?
    public var datasetSHA256: String?

    public init(optimizer: OptimizerConfig, batchSize: Int, epochs: Int, seed: UInt64,
                datasetFile: String? = nil, datasetSHA256: String? = nil) {
        self.optimizer = optimizer; self.batchSize = batchSize; self.epochs = epochs; self.seed = seed
        self.datasetFile = datasetFile; self.datasetSHA256 = datasetSHA256
    }
}

/// A named weight or statistic tensor of a network, as stored in a model file.
public struct NamedTensor: Equatable, Sendable {
    /// A stable path such as "layers/00_conv2d/kernel" or "head/dense/bias".
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name; self.shape = shape; self.values = values
    }
}
