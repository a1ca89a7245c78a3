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
    /// Epochs of the default run (3: with the two-view terms every seed we ran was above 0.97
    /// after one epoch on MNIST; docs/training.md).
    public static let epochs = 3
    /// Two-view consistency (the image and an affine-augmented copy, c = 1) with the marginal
    /// term (c_m = 2): without them two fine classes of a parent often share two clusters.
    /// nil would be the reference training.
    public static let consistency: ConsistencyConfig? = ConsistencyConfig(weight: 1, marginalWeight: 2, views: .cleanAugmented)
    public static let batchSize = 128
    /// Duplicates per parent when neither the user nor the data's fine classes say.
    public static let k = 5
}
