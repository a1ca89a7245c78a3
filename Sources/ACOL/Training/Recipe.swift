import Foundation

/// The default training recipe (docs/training.md explains how it was chosen). `GARConfig()`,
/// `TrainConfig()` and `Presets.spec` default to it, and `acol train` uses the same values, so a
/// library user gets what the command-line tool gets.
public enum Recipe {
    /// The architecture preset.
    public static let preset = "cnn2"
    /// Batch normalisation of F before Z (keeps every output node alive).
    public static let batchNormBeforeZ = true
    /// The epsilon of that BatchNorm: Keras's 1e-3, as the authors' code (`--bn-epsilon`).
    public static let headNormEpsilon: Float = ACOLHeadSpec.referenceNormEpsilon
    /// All-node GAR, c_a = c_b = 1, c_F = 1e-6 on the summed ||Z||^2, not symmetric.
    public static let gar = GARConfig(scope: .allNodes, symmetric: false, cA: 1, cB: 1, cF: 1e-6, frobenius: .sum)
    /// SGD lr 0.01, momentum 0.95, Nesterov, decay 1e-6.
    public static let optimizer = OptimizerConfig.sgdReference
    /// Adam lr 1e-3 when the data have one parent (`--parents none`): there is no coarse-label
    /// cross-entropy then, and with SGD, GAR alone let the features of small images fade until
    /// every image went to one cluster (8 x 8 shapes: test purity 0.200 against 0.718 with Adam);
    /// on full MNIST and Fashion-MNIST with one parent, Adam was better too after an epoch (0.979
    /// and 0.729 against 0.955 and 0.715). docs/training.md, "Collapse on small images".
    public static let oneParentOptimizer = OptimizerConfig.adamDefault
    /// Adam lr 1e-3 on a small data set (one whose default training runs more than `epochs`
    /// epochs to reach `minimumSteps`: fewer than 42,667 training images at batch 128). With SGD
    /// such sets plateaued or did not learn their parents at all (the MNIST fixture at 8 x 8
    /// pixels: parent accuracy 0.54, test purity 0.126; with Adam 0.968 and 0.832; the 3,000-image
    /// fixture 0.901 -> 0.947); on full Fashion-MNIST SGD was better (3 epochs, seeds 1 / 2: 0.752
    /// / 0.665 against 0.669 / 0.641), so large sets keep it (docs/training.md, "Adam on small
    /// data sets").
    public static let smallDataOptimizer = OptimizerConfig.adamDefault
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
    /// Two-view consistency (the image and an augmented copy, c = 1) with the marginal term
    /// (c_m = 2): without them two fine classes of a parent often share two clusters. The copy is
    /// affine-augmented and, since 2026-12-07, photometric too (contrast 0.5, gamma 1): on
    /// Fashion-MNIST that raised the training split's purity after one epoch from 0.693 to 0.724
    /// on average over four seeds (docs/training.md). nil would be the reference training.
    public static let consistency: ConsistencyConfig? = ConsistencyConfig(
        weight: 1, marginalWeight: 2, views: .cleanAugmented, augmentation: augmentation)
    /// The augmentation of the default recipe's second view.
    public static let augmentation = AffineAugmentation(maxShift: 2, maxRotation: 10, maxScale: 0.1, maxShear: 0.2,
                                                        flip: false, contrast: 0.5, gamma: 1)
    public static let batchSize = 128
    /// Duplicates per parent when neither the user nor the data's fine classes say.
    public static let k = 5
}

/// The defaults of one way of training. `acol train` starts from one of these (the default
/// recipe, `--recipe paper`, `--unsupervised`, `--labelled N`) and single options override
/// single values.
public struct TrainingDefaults: Sendable {
    /// The way of training, as the training banner names it ("default" is not named there).
    public var name: String
    public var gar: GARConfig
    public var optimizer: OptimizerConfig
    public var batchSize: Int
    /// The two-view / marginal terms (nil: one view, none of them).
    public var consistency: ConsistencyConfig?
    public var batchNormBeforeZ: Bool
    /// Epochs of a large data set.
    public var epochs: Int
    /// Steps a small data set gets at least (its epochs are raised to reach them); 0: none.
    public var minimumSteps: Int
    /// Duplicates per parent (nil: from the data's fine classes, else `Recipe.k`).
    public var k: Int?
    /// The optimizer with one parent (nil: `optimizer`).
    public var oneParentOptimizer: OptimizerConfig? = nil
    /// The optimizer on a small data set, one whose default training runs more than `epochs`
    /// epochs (nil: `optimizer`).
    public var smallDataOptimizer: OptimizerConfig? = nil
    /// The semi-supervised mode's supervised pretraining on the labelled examples, in steps
    /// (0: none; the other ways of training have no pretraining).
    public var pretrainSteps: Int = 0

    /// `epochs`, or more when that would be fewer than `minimumSteps` steps of `batchSize`.
    public func epochs(forTrainingImages images: Int, batchSize: Int? = nil) -> Int {
        let perEpoch = max(1, images / max(batchSize ?? self.batchSize, 1))
        return min(Recipe.maximumDefaultEpochs, max(epochs, (minimumSteps + perEpoch - 1) / perEpoch))
    }

    /// The optimizer for `parents` parents and `images` training images: `oneParentOptimizer`
    /// with one parent, `smallDataOptimizer` when the default training of that many images runs
    /// more than `epochs` epochs, else `optimizer`.
    public func optimizer(parents: Int, trainingImages images: Int, batchSize: Int? = nil) -> OptimizerConfig {
        if parents == 1, let one = oneParentOptimizer { return one }
        if let small = smallDataOptimizer, epochs(forTrainingImages: images, batchSize: batchSize) > epochs { return small }
        return optimizer
    }
}

extension Recipe {
    /// What `acol train` does without options (the values above).
    public static let standard = TrainingDefaults(
        name: "default", gar: gar, optimizer: optimizer, batchSize: batchSize, consistency: consistency,
        batchNormBeforeZ: batchNormBeforeZ, epochs: epochs, minimumSteps: minimumSteps, k: nil,
        oneParentOptimizer: oneParentOptimizer, smallDataOptimizer: smallDataOptimizer)

    /// The reference settings of the paper and the authors' Keras code (ACOL.md): all-node GAR with
    /// c_a = c_b = 1 and c_F = 1e-6 on the summed ||Z||^2, SGD lr 0.01 momentum 0.95 Nesterov
    /// decay 1e-6, batch 128, Glorot-uniform weights, no BatchNorm before Z, one view (no
    /// consistency or marginal term), 50 epochs (the published runs).
    public static let paper = TrainingDefaults(
        name: "paper recipe", gar: GARConfig(scope: .allNodes, symmetric: false, cA: 1, cB: 1, cF: 1e-6, frobenius: .sum),
        optimizer: .sgdReference, batchSize: 128, consistency: nil, batchNormBeforeZ: false,
        epochs: 50, minimumSteps: 0, k: nil)

    /// The unsupervised mode with pseudo-parents, as the authors' pseudo_svhn.py: 20 duplicates per
    /// pseudo-parent, per-parent GAR with c_a = 0.1, c_b = 1, c_F = 1e-6, Adam lr 1e-3, batch 400;
    /// plus the two-view consistency term (c = 1, the transformed image and an augmented copy of
    /// it, no marginal term), which took MNIST from 0.80 after 20 one-view epochs to 0.90 after 10
    /// (one comparison on the MNIST test split; not better on Fashion-MNIST: docs/training.md). An epoch here is one pass with one random transform per image (the
    /// authors' epoch is a pass over every image-transform pair, 8 of ours); 10 epochs, or 1,000
    /// steps on a small set.
    public static let unsupervised = TrainingDefaults(
        name: "unsupervised", gar: GARConfig(scope: .perParent, symmetric: false, cA: 0.1, cB: 1, cF: 1e-6, frobenius: .sum),
        optimizer: .adamDefault, batchSize: 400,
        consistency: ConsistencyConfig(weight: 1, marginalWeight: 0, views: .cleanAugmented),
        batchNormBeforeZ: batchNormBeforeZ, epochs: 10, minimumSteps: 1_000, k: 20)

    /// Clusters of the unsupervised mode's k-means when neither the user nor the data say.
    public static let unsupervisedClusters = 10
    /// k-means++ restarts of the unsupervised mode's final k-means (each on F projected onto
    /// `unsupervisedProjection` principal directions: about 1/40 of a restart on the full F).
    public static let unsupervisedRestarts = 100
    /// Principal directions of F the unsupervised mode's k-means restarts run in.
    public static let unsupervisedProjection: Int? = 50

    /// The semi-supervised mode: one parent, one node per class, and the default recipe's
    /// training (all-node GAR c_a = c_b = 1, SGD, batch 128, BatchNorm before Z, the two-view
    /// consistency and marginal terms with the photometric copy), on batches of 112 unlabelled
    /// + 16 labelled examples with the labelled rows' cross-entropy; no pretraining. On MNIST
    /// with 100 labels this gave 0.96 after one epoch where the authors' procedure below gave
    /// 0.72-0.80 (docs/training.md, "Semi-supervised mode"). 3 epochs, or 1,000 steps on a small set.
    public static let semiSupervised = TrainingDefaults(
        name: "semi-supervised", gar: gar, optimizer: optimizer, batchSize: batchSize, consistency: consistency,
        batchNormBeforeZ: batchNormBeforeZ, epochs: epochs, minimumSteps: minimumSteps, k: nil, pretrainSteps: 0)

    /// The semi-supervised mode as the authors' gar_mnist.py (`--labelled N --recipe paper`):
    /// c_a = 3, c_b = 1, c_F = 1e-6, SGD as the reference, batches of 112 unlabelled + 16
    /// labelled; one view. Pretraining: 2,000 steps of 16 labelled examples (the authors: 2,000
    /// epochs of their 100 examples, 14,000 steps). 3 epochs, or 1,000 steps on a small set.
    public static let semiSupervisedPaper = TrainingDefaults(
        name: "semi-supervised, paper recipe", gar: GARConfig(scope: .allNodes, symmetric: false, cA: 3, cB: 1, cF: 1e-6, frobenius: .sum),
        optimizer: .sgdReference, batchSize: 128, consistency: nil, batchNormBeforeZ: batchNormBeforeZ,
        epochs: epochs, minimumSteps: minimumSteps, k: nil, pretrainSteps: 2_000)
}
