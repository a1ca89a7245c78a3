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
    /// Training steps a default run takes at least: a small data set gets as many epochs as it
    /// needs to reach them (3,000 images at batch 128: 44 epochs), a large one `epochs` (full
    /// MNIST: 3 epochs are 1,407 steps).
    public static let minimumSteps = 1_000

    /// The default number of epochs for `images` training images at `batchSize`: `epochs`, or
    /// more when that would be fewer than `minimumSteps` steps.
    public static func epochs(forTrainingImages images: Int, batchSize: Int = batchSize) -> Int {
        let perEpoch = max(1, images / max(batchSize, 1))   // full batches (a last batch of one is skipped)
        return min(maximumDefaultEpochs, max(epochs, (minimumSteps + perEpoch - 1) / perEpoch))
    }

    /// The most epochs the default gives (a set of one batch or less).
    public static let maximumDefaultEpochs = 1_000
    /// Two-view consistency (the image and an affine-augmented copy, c = 1) with the marginal
    /// term (c_m = 2): without them two fine classes of a parent often share two clusters.
    /// nil would be the reference training.
    public static let consistency: ConsistencyConfig? = ConsistencyConfig(weight: 1, marginalWeight: 2, views: .cleanAugmented)
    public static let batchSize = 128
    /// Duplicates per parent when neither the user nor the data's fine classes say.
    public static let k = 5
}
