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

extension LayerSpec {
    /// The name of body layer `index` in tensor names and the model file: "layers/00_conv2d".
    public static func groupName(index: Int, type: LayerType) -> String {
        "layers/" + (index < 10 ? "0\(index)" : "\(index)") + "_" + type.rawValue
    }
}
