import Foundation

/// The default training recipe (docs/training.md explains how it was chosen). `GARConfig()`,
/// `TrainConfig()` and `Presets.spec` default to it, and `acol train` uses the same values, so a
/// library user gets what the command-line tool gets.
public enum Recipe {
    /// The architecture preset.
    public static let preset = "cnn2"
    /// Batch normalisation of F before Z (keeps every output node alive).
    public static let batchNormBeforeZ = true
    /// All-node GAR, c_a = c_b = 1, c_F = 1e-6 on the summed ||Z||^2, not symmetric.
    public static let gar = GARConfig(scope: .allNodes, symmetric: false, cA: 1, cB: 1, cF: 1e-6, frobenius: .sum)
    /// SGD lr 0.01, momentum 0.95, Nesterov, decay 1e-6.
    public static let optimizer = OptimizerConfig.sgdReference
    public static let epochs = 5
    public static let batchSize = 128
    /// Duplicates per parent when neither the user nor the data's fine classes say.
    public static let k = 5
}
