import Foundation

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
