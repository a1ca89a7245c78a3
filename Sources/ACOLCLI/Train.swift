import ArgumentParser
import ACOL
import ACOLHDF5
import Foundation

enum ScopeArg: String, ExpressibleByArgument, CaseIterable { case all, parent }
enum FrobeniusArg: String, ExpressibleByArgument, CaseIterable { case sum, mean }
enum OptimizerArg: String, ExpressibleByArgument, CaseIterable { case sgd, adam }
enum ViewsArg: String, ExpressibleByArgument, CaseIterable {
    case cleanAug = "clean-aug", augAug = "aug-aug"
    var views: ConsistencyViews { self == .cleanAug ? .cleanAugmented : .twoAugmented }
}
enum RecipeArg: String, ExpressibleByArgument, CaseIterable {
    case standard = "default", paper
}
enum InitArg: String, ExpressibleByArgument, CaseIterable {
    case glorot, fanin
    var initializer: WeightInitializer { self == .glorot ? .glorotUniform : .fanInUniform }
}


struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an ACOL model on the train split of a data-set file.",
        discussion: """
        The network is trained as a classifier of the parents (coarse labels); GAR makes the k \
        duplicates of each parent's output node compete, so each becomes one fine cluster. The test \
        split, when there is one, is scored after every epoch (after every n-th and the last when \
        there are more than 50 epochs: 50 times in all).

        Examples:
          acol train mnist.h5 -o model.h5
          acol train mnist.h5 -o model.h5 --arch mlp -k 10 --epochs 3 --log train.jsonl
          acol train digits.h5 -o model.h5 --parents 0-4,5-9
          acol train fashion.h5 -o model.h5 -k tops=5,footwear=3,trouser=1,bag=1
          acol train mnist.h5 -o model.h5 --recipe paper --epochs 50

        Unsupervised (no labels used): each image gets one of 8 pseudo-parents per batch (rotations \
        by 0/90/180/270 degrees, with and without a mirror; 4 on non-square images), k duplicates \
        per pseudo-parent (default 20), per-parent GAR; then k-means on F of the untransformed \
        training images gives --clusters clusters (the lowest-inertia of --kmeans-restarts \
        restarts, run in F's top --kmeans-projection principal directions and refined on the \
        full F), stored in the model; eval and run assign the nearest centroid:
          acol train mnist.h5 -o model.h5 --unsupervised --clusters 10
          acol train mnist.h5 -o model.h5 --unsupervised --kmeans-restarts 300

        Semi-supervised (one parent, one node per fine class): N labelled training examples \
        (N / classes per class, the rest unlabelled); the default recipe (GAR, the two-view terms) \
        trains on batches of unlabelled plus labelled examples, with the labelled ones' \
        cross-entropy; --recipe paper is the authors' procedure (2000 steps of pretraining on \
        the labelled examples, then GAR with c_a 3, one view; the labelled rows' cross-entropy \
        stays on unless --labelled-weight 0):
          acol train mnist.h5 -o model.h5 --labelled 100
          acol train mnist.h5 -o model.h5 --labelled 100 --recipe paper

        Options left out take the defaults of the chosen way of training (the table "Defaults \
        of the three ways of training" in docs/training.md); options given always win.
        """)

    @Argument(help: "The data-set file (made by 'acol convert').")
    var data: String

    @Option(name: .shortAndLong, help: "The model file to write.")
    var output: String

    @Option(help: "Architecture preset: mlp, cnn1, cnn2, cnn3.")
    var arch: String = Recipe.preset

    @Option(name: .customShort("k"), help: "Duplicates (clusters) per parent: one number for all, or one per parent by name or in order ('tops=5,footwear=3,trouser=1,bag=1', '5,3,1,1'). Default: the most fine classes any parent has in the training split, else 5.")
    var k: ClusterCounts?

    @Option(help: "Parents when the data set has none, or to replace its own: '0-4,5-9', 'div:2', a mapping file, or 'none'.")
    var parents: String?

    @Option(help: "The defaults to start from: default (the recipe of docs/training.md) or paper (the reference settings of the paper and the authors' code: no BatchNorm before Z, one view, 50 epochs; with --labelled the authors' semi-supervised procedure: 2000 pretraining steps, c_a 3, one view, 3 epochs).")
    var recipe: RecipeArg = .standard

    @Flag(help: "Unsupervised mode: pseudo-parents (rotations and mirrors) instead of the data's parents, k-means on F afterwards (see above). Defaults: k 20, per-parent GAR, c_a 0.1, Adam, batch 400, consistency 1 without the marginal term, 10 epochs.")
    var unsupervised = false

    @Option(help: "Unsupervised mode: clusters of the final k-means (default: the number of fine classes the data set names, else 10).")
    var clusters: Int?

    @Option(help: "Unsupervised mode: k-means++ restarts (the lowest inertia is kept; default \(Recipe.unsupervisedRestarts)).")
    var kmeansRestarts: Int?

    @Option(help: "Unsupervised mode: principal directions of F the k-means restarts run in (the best 3 are then refined on the full F; default \(Recipe.unsupervisedProjection ?? 0)); 0: every restart on the full F (slow).")
    var kmeansProjection: Int?

    @Option(help: "Semi-supervised mode: labelled training examples in all, N / classes per class (e.g. 100). Defaults: the default recipe's, batches of 112 unlabelled + 16 labelled, no pretraining; with --recipe paper the authors' (c_a 3, one view, 2000 pretraining steps).")
    var labelled: Int?

    @Option(help: "Semi-supervised mode: steps of supervised pretraining on the labelled examples, batch 16 (default 0; 2000 with --recipe paper).")
    var pretrainSteps: Int?

    @Option(help: "Semi-supervised mode: labelled examples in each batch (after the pretraining, if any).")
    var labelledPerBatch: Int = 16

    @Option(help: "Semi-supervised mode: weight of the labelled examples' cross-entropy in the batches (0: the unsupervised terms alone; the authors' GAR-only phase is --recipe paper --labelled-weight 0).")
    var labelledWeight: Float = 1

    @Option(help: "GAR scope: all (all output nodes) or parent (each parent's duplicates). Default: all; parent in the unsupervised mode.")
    var garScope: ScopeArg?

    @Flag(inversion: .prefixedNo, help: "Symmetric GAR: also apply affinity and balance to max(0, -Z) (default: off).")
    var symmetric: Bool?

    @Option(help: "GAR affinity coefficient c_a (default 1; 0.1 unsupervised, 3 with --labelled --recipe paper).")
    var ca: Float?

    @Option(help: "GAR balance coefficient c_b (default 1).")
    var cb: Float?

    @Option(help: "Frobenius coefficient c_F (default 1e-6).")
    var cf: Float?

    @Option(help: "Frobenius term over the batch: sum (Keras reference, the default) or mean (PyTorch reference).")
    var frobenius: FrobeniusArg?

    @Flag(inversion: .prefixedNo, help: "Batch normalisation of the penultimate activations before Z (default: on; off with --recipe paper, except with --labelled).")
    var batchNorm: Bool?

    @Option(help: "Optimizer: sgd (momentum 0.95, Nesterov, decay 1e-6) or adam (default: sgd; adam on a small data set, one whose default training runs more than 3 epochs, with one parent, e.g. --parents none, and unsupervised).")
    var optimizer: OptimizerArg?

    @Option(help: "Learning rate (default: 0.01 for sgd, 0.001 for adam).")
    var lr: Float?

    @Option(help: "Epochs (default: 3, or as many as give 1000 training steps on a small data set: 44 for 3,000 images at batch 128; 50 with --recipe paper on parents; unsupervised 10, or 1000 steps).")
    var epochs: Int?

    @Option(help: "Mini-batch size (default 128; 400 unsupervised).")
    var batchSize: Int?

    @Option(help: "Random seed: the same seed gives the same model.")
    var seed: UInt64 = 1

    @OptionGroup var threadOptions: ThreadOptions

    @Option(help: "Filters f of the CNN presets.")
    var filters: Int = 32

    @Option(help: "Units of the dense hidden layers.")
    var hidden: Int = 2048

    @Option(help: "Initial weights: glorot (Glorot-uniform, zero biases; the Keras reference) or fanin (weights and biases U(+-1/sqrt(fan_in)), PyTorch's default).")
    var initializer: InitArg = .glorot

    @Flag(help: "BatchNorm at the start of every block of the preset (input, each later conv block, each Dense), as in the authors' later PyTorch models.")
    var blockNorm = false

    @Option(help: "Consistency weight c: forward each batch as two views (see --views) and add c * mean(-log sum_j S_ij S'_ij); 0 turns the term and the second view off (default 1; 0 with --recipe paper).")
    var consistency: Float?

    @Option(help: "Weight c_m of the marginal term c_m * (log n - H(mean softmax(Z))), which counts examples per node (with --consistency 0 it applies to the one clean view); 0 turns it off (default 2; 0 with --recipe paper and --unsupervised).")
    var marginal: Float?

    @Option(help: "The two views of the consistency term: clean-aug (the image and an augmented copy) or aug-aug (two augmented copies).")
    var views: ViewsArg = .cleanAug

    @Option(help: "Heads trained side by side on the same features (IIC's sub-heads): after each epoch the head with the lowest mean objective becomes the model's head, the others go on training; only that head is saved (default 1; not with --unsupervised; docs/training.md says where it helped and where not).")
    var heads: Int?

    @Option(help: "A k-means start: for the first N training steps, also pull each image towards the node that k-means on the pixels inside its parent gives it (cross-entropy, weight 1, training the head's last layer only), then train on the usual objective; 0: none (the default). Not with --unsupervised or --labelled (docs/training.md, \"A k-means start\").")
    var kmeansStart: Int?

    @Option(help: "The parents that get the k-means start, by name or number, comma-separated ('footwear', '1,3'); the others train without it (default: every parent; needs --kmeans-start).")
    var kmeansStartParents: String?

    /// "footwear,bag" or "1,3": parent numbers, each once.
    static func parentList(_ text: String, parentNames: [String]) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let key = part.trimmingCharacters(in: .whitespaces)
            let p = try parentIndex(key, in: parentNames, option: "--kmeans-start-parents", instead: { _ in "give the number" })
            guard !out.contains(p) else { throw CLIError.option("--kmeans-start-parents: parent '\(key)' given twice") }
            out.append(p)
        }
        return out
    }

    @Option(help: "Augmentation: translation in pixels (uniform in +-N).")
    var augShift: Float = 2

    @Option(help: "Augmentation: rotation in degrees (uniform in +-N).")
    var augRotate: Float = 10

    @Option(help: "Augmentation: relative scale (uniform in 1 +- N).")
    var augScale: Float = 0.1

    @Option(help: "Augmentation: horizontal shear (uniform in +-N).")
    var augShear: Float = 0.2

    @Flag(help: "Augmentation: also mirror left-right, half of the images (for mirror-symmetric classes such as garments or objects, not digits; default: off).")
    var augFlip = false

    @Option(help: "Augmentation: contrast, pixel values (as fractions of 255) times a factor log-uniform in [1/(1+N), 1+N], capped at 255 (0: off; default: 0.5, and 0 with --unsupervised).")
    var augContrast: Float?

    @Option(help: "Augmentation: gamma, pixel values (as fractions of 255) raised to a power log-uniform in [1/(1+N), 1+N] (0: off; default: 1, and 0 with --unsupervised).")
    var augGamma: Float?

    @Option(help: "Momentum of the running statistics of the BatchNorm before Z (Keras convention, default 0.99; PyTorch's 0.1 is 0.9 here). Only inference uses them.")
    var bnMomentum: Float?

    @Option(help: "Epsilon of the BatchNorm before Z (default: 1e-3, Keras's, as the authors' code). Stored in the model file.")
    var bnEpsilon: Float?

    @Option(help: "Train on the first N training images only.")
    var limit: Int?

    @Option(help: "Also write each epoch as a JSON line to this file.")
    var log: String?

    @Flag(help: "Print only the final line: the model saved, with the last epoch's test figures (warnings still show).")
    var quiet = false

    func validate() throws {
        try k?.validate("-k")
        try OptionCheck.range("--epochs", epochs, 1...ACOLLimits.maxEpochs)
        try OptionCheck.range("--batch-size", batchSize, 2...65_536)
        try OptionCheck.range("--limit", limit, 2...Int(Int32.max))
        try OptionCheck.range("--hidden", hidden, 1...ACOLLimits.maxUnits)
        try OptionCheck.range("--filters", filters, 1...4_096)
        try OptionCheck.range("--clusters", clusters, 1...ACOLLimits.maxNodes)
        try OptionCheck.range("--kmeans-restarts", kmeansRestarts, 1...1_000)
        try OptionCheck.range("--kmeans-projection", kmeansProjection, 0...4_096)
        try OptionCheck.range("--labelled", labelled, 1...Int(Int32.max))
        try OptionCheck.range("--pretrain-steps", pretrainSteps, 0...10_000_000)
        try OptionCheck.range("--labelled-per-batch", labelledPerBatch, 1...65_536)
        try OptionCheck.range("--heads", heads, 1...ACOLLimits.maxHeads)
        try OptionCheck.range("--kmeans-start", kmeansStart, 0...100_000_000)
        try OptionCheck.positive("--lr", lr)
        try OptionCheck.nonNegative("--ca", ca)
        try OptionCheck.nonNegative("--cb", cb)
        try OptionCheck.nonNegative("--cf", cf)
        try OptionCheck.nonNegative("--consistency", consistency)
        try OptionCheck.nonNegative("--marginal", marginal)
        try OptionCheck.nonNegative("--labelled-weight", labelledWeight)
        // The augmentation's ranges are the library's (AffineAugmentation.limits): a scale of 1 or
        // more could make a factor of 0, infinite values an image of NaN.
        let options = ["maxShift": "--aug-shift", "maxRotation": "--aug-rotate", "maxScale": "--aug-scale",
                       "maxShear": "--aug-shear", "contrast": "--aug-contrast", "gamma": "--aug-gamma"]
        if let bad = AffineAugmentation(maxShift: augShift, maxRotation: augRotate, maxScale: augScale, maxShear: augShear,
                                        contrast: augContrast ?? 0, gamma: augGamma ?? 0).outOfRange {
            throw ValidationError("\(options[bad.name] ?? bad.name) must be a number in [0, \(String(format: "%g", bad.range.upperBound))], found \(bad.value)")
        }
        if let m = bnMomentum, !(m.isFinite && m >= 0 && m < 1) {
            throw ValidationError("--bn-momentum must be a finite number in [0, 1), found \(m)")
        }
        if let e = bnEpsilon, !(e.isFinite && e > 0) {
            throw ValidationError("--bn-epsilon must be a finite number above 0, found \(e)")
        }
        if !Presets.names.contains(arch) {
            throw ValidationError("unknown --arch '\(arch)' (known: \(Presets.names.joined(separator: ", ")))")
        }
        if unsupervised && labelled != nil {
            throw ValidationError("--unsupervised and --labelled are two different modes: give one of them")
        }
        if labelled != nil && k != nil {
            throw ValidationError("-k does not apply with --labelled: the semi-supervised head has one node per class")
        }
        for (name, given) in [("--clusters", clusters != nil), ("--kmeans-restarts", kmeansRestarts != nil),
                              ("--kmeans-projection", kmeansProjection != nil)] where given && !unsupervised {
            throw ValidationError("\(name) applies to the unsupervised mode only (add --unsupervised)")
        }
        if kmeansStartParents != nil && (kmeansStart ?? 0) == 0 {
            throw ValidationError("--kmeans-start-parents needs --kmeans-start N (N > 0)")
        }
        if let kmeansStart, kmeansStart > 0, unsupervised || labelled != nil {
            throw ValidationError("--kmeans-start does not apply with \(unsupervised ? "--unsupervised" : "--labelled"): it starts from the data set's own parents")
        }
        if unsupervised, let heads, heads > 1 {
            throw ValidationError("--heads does not apply with --unsupervised: that mode's clusters come from k-means on the features, not from a head")
        }
        if unsupervised && augFlip {
            throw ValidationError("--aug-flip does not apply with --unsupervised: the mirrored images are that mode's pseudo-parents")
        }
        if (unsupervised || labelled != nil) && parents != nil {
            throw ValidationError("--parents does not apply with \(unsupervised ? "--unsupervised" : "--labelled"): that mode makes its own parents")
        }
        if unsupervised && recipe != .standard {
            throw ValidationError("--recipe applies to training on parents and to --labelled; --unsupervised has its own defaults")
        }
        if pretrainSteps != nil && labelled == nil {
            throw ValidationError("--pretrain-steps applies to the semi-supervised mode only (add --labelled N)")
        }
    }

    func run() throws {
        try reportingErrors { try train() }
    }

    /// The clusters of each parent: from -k, else `defaultK` for every parent.
    static func clusterCounts(_ k: ClusterCounts?, parentNames: [String], parentOfFine: [Int], present: Set<Int32>? = nil) throws -> [Int] {
        try (k ?? ClusterCounts(defaultK(parents: parentNames.count, parentOfFine: parentOfFine, present: present))).resolve(parentNames: parentNames)
    }

    /// k when -k is not given: the most fine classes any parent has, else the recipe's. With
    /// `present` (the fine labels the training split has), only those classes count: labels
    /// without names (0, 300, 600, ...) imply classes up to the largest, most of them empty.
    static func defaultK(parents np: Int, parentOfFine: [Int], present: Set<Int32>? = nil) -> Int {
        var perParent = [Int](repeating: 0, count: max(np, 1))
        for (f, p) in parentOfFine.enumerated() where p >= 0 && p < np && present?.contains(Int32(f)) != false { perParent[p] += 1 }
        if let m = perParent.max(), m > 0 { return m }
        return Recipe.k
    }

    /// The defaults the options start from.
    var defaults: TrainingDefaults {
        if unsupervised { return Recipe.unsupervised }
        if labelled != nil { return recipe == .paper ? Recipe.semiSupervisedPaper : Recipe.semiSupervised }
        return recipe == .paper ? Recipe.paper : Recipe.standard
    }

    /// GAR as the options say (the chosen defaults where none is given).
    var garConfig: GARConfig {
        let d = defaults.gar
        return GARConfig(scope: garScope.map { $0 == .all ? .allNodes : .perParent } ?? d.scope, symmetric: symmetric ?? d.symmetric,
                         cA: ca ?? d.cA, cB: cb ?? d.cB, cF: cf ?? d.cF,
                         frobenius: frobenius.map { $0 == .sum ? .sum : .mean } ?? d.frobenius)
    }

    /// The two-view terms as the options say (the chosen defaults' when none is given):
    /// --consistency > 0 gives two views per image; --marginal alone the marginal term on the one
    /// view; both 0 one view and neither term.
    var consistencyConfig: ConsistencyConfig? {
        let d = defaults.consistency
        let c = consistency ?? d?.weight ?? 0, m = marginal ?? d?.marginalWeight ?? 0
        return c != 0
            ? ConsistencyConfig(weight: c, marginalWeight: m, views: views.views,
                                augmentation: AffineAugmentation(maxShift: augShift, maxRotation: augRotate,
                                                                 maxScale: augScale, maxShear: augShear, flip: augFlip,
                                                                 contrast: augContrast ?? d?.augmentation.contrast ?? 0,
                                                                 gamma: augGamma ?? d?.augmentation.gamma ?? 0))
            : (m != 0 ? ConsistencyConfig(weight: 0, marginalWeight: m, views: .single) : nil)
    }

    /// The semi-supervised pretraining steps: --pretrain-steps, else the chosen defaults' (0 for
    /// --labelled, 2,000 for --labelled --recipe paper; 0 outside the semi-supervised mode).
    var resolvedPretrainSteps: Int { pretrainSteps ?? defaults.pretrainSteps }

    /// The optimiser as the options say (the chosen defaults' when none is given), for a large
    /// data set with parents.
    var optimizerConfig: OptimizerConfig { optimizerConfig(parents: 2) }

    /// As `optimizerConfig`, for a training with `parents` parents on `trainingImages` images
    /// (batches of `batchSize`): the default recipe takes Adam with one parent
    /// (`Recipe.oneParentOptimizer`; there is no coarse-label cross-entropy then, and with SGD
    /// GAR alone let small images collapse into one cluster) and on a small data set
    /// (`Recipe.smallDataOptimizer`).
    func optimizerConfig(parents: Int, trainingImages: Int = .max, batchSize: Int? = nil) -> OptimizerConfig {
        var opt: OptimizerConfig = optimizer.map { $0 == .sgd ? .sgdReference : .adamDefault }
            ?? defaults.optimizer(parents: parents, trainingImages: trainingImages, batchSize: batchSize)
        if let lr { opt.learningRate = lr }
        return opt
    }

    /// Trains as the options say: alone (`dataParallel` nil, `acol train`), or as one process of
    /// a data-parallel job (acol-mpi), where every process loads the whole data set, takes its
    /// rows of each batch, and only the root (rank 0) writes the model and the log and prints.
    /// `defaultThreads`: threads when --threads is not given (nil: all cores).
    func train(dataParallel: DataParallel? = nil, defaultThreads: Int? = nil) throws {
        let threads = threadOptions.apply(default: defaultThreads)
        let started = Date()
        let isRoot = dataParallel?.isRoot ?? true
        let quiet = self.quiet || !isRoot
        // Outputs are checked before any work: not the data set, not each other, not special files.
        let otherOutputs = log.map { [$0] } ?? []
        try OutputFile.check(output, inputs: [data], otherOutputs: otherOutputs)
        let logFile = isRoot ? try log.map { try OutputFile($0, inputs: [data], otherOutputs: [output]) } : nil
        // An empty temporary file of the model held for the whole run: a second training to the
        // same output refuses to start instead of racing this one (the save writes its own).
        let reservation = isRoot ? try OutputFile(output, inputs: [data], otherOutputs: otherOutputs, keepOpen: false) : nil
        defer { reservation?.abort() }
        if !quiet { Console.note("reading \(data)") }
        let defaults = self.defaults
        let ownParents = unsupervised || labelled != nil
        let prepared = try DatasetLoader.load(data, parents: ownParents ? .none : try parentSource(parents))
        guard let trainName = prepared.trainingSplitName, var trainSet = prepared.splits[trainName] else {
            throw CLIError.file(data, "the data set has no splits")
        }
        if let limit, limit < trainSet.count { trainSet = trainSet.subset(Array(0..<limit)) }
        // Without a "train" split the first split trains; when that is "test", nothing held out
        // is left to score (its figures would be on the training images).
        let testSet = trainName == "test" ? nil : prepared.splits["test"]
        if trainName != "train" && isRoot {
            Console.warn("\(data) has no 'train' split: training on '\(trainName)' (\(trainSet.count) images)"
                         + (trainName == "test" ? "; no held-out split is scored" : ""))
        }
        let d = prepared.description
        let batchSize = self.batchSize ?? defaults.batchSize

        // The parents and the clusters of each: the data's, pseudo-parents, or one of the classes.
        var parentNames = prepared.parentNames
        var pseudo: PseudoParentConfig?
        var semi: SemiSupervisedConfig?
        let counts: [Int]
        if unsupervised {
            let transforms = PseudoTransform.standard(height: d.height, width: d.width)
            let named = prepared.fineNames.count
            pseudo = PseudoParentConfig(transforms: transforms, clusters: clusters ?? (named > 0 ? named : Recipe.unsupervisedClusters),
                                        restarts: kmeansRestarts ?? Recipe.unsupervisedRestarts,
                                        projection: kmeansProjection.map { $0 > 0 ? $0 : nil } ?? Recipe.unsupervisedProjection)
            parentNames = transforms.map(\.name)
            counts = try (k ?? ClusterCounts(defaults.k ?? 20)).resolve(parentNames: parentNames)
        } else if let labelled {
            guard let fine = trainSet.fineLabels else {
                throw CLIError.file(data, "--labelled needs fine labels in the training split, and it has none")
            }
            let classes = Array(Set(fine)).sorted()
            if classes.count < 2 { throw CLIError.file(data, "--labelled needs at least 2 fine classes in the training split, found \(classes.count)") }
            if labelled > trainSet.count { throw CLIError.option("--labelled \(labelled) is more than the \(trainSet.count) training images") }
            if labelledPerBatch >= batchSize { throw CLIError.option("--labelled-per-batch \(labelledPerBatch) must be smaller than --batch-size \(batchSize)") }
            semi = SemiSupervisedConfig(labelled: labelled, classes: classes, pretrainSteps: resolvedPretrainSteps,
                                        labelledPerBatch: labelledPerBatch, labelledWeight: labelledWeight)
            parentNames = ["all"]
            counts = [classes.count]
        } else {
            counts = try Train.clusterCounts(k, parentNames: prepared.parentNames, parentOfFine: prepared.parentOfFine,
                                             present: trainSet.fineLabels.map(Set.init))
        }
        let np = parentNames.count
        let kk = counts.max() ?? 1, nodes = counts.reduce(0, +)
        let clustersText = Set(counts).count == 1 ? "\(np) \(unsupervised ? "pseudo-parents" : (np == 1 ? "parent" : "parents")) x \(kk) clusters" : "\(np) parents x (\(counts.map(String.init).joined(separator: ", "))) clusters"
        if nodes < 2 { throw CLIError.option("the parents' clusters must give at least 2 output nodes (have \(clustersText))") }
        if nodes > ACOLLimits.maxNodes { throw CLIError.option("the parents' clusters must give at most \(ACOLLimits.maxNodes) output nodes (have \(nodes))") }
        let perStep = batchSize - (semi.map { min($0.labelledPerBatch, $0.labelled) } ?? 0)
        let opt = optimizerConfig(parents: np, trainingImages: trainSet.count, batchSize: perStep)
        let headEpsilon = bnEpsilon ?? Recipe.headNormEpsilon
        var spec = try Presets.spec(arch, inputShape: [d.height, d.width, d.channels], parents: np, k: kk,
                                    batchNormBeforeZ: batchNorm ?? defaults.batchNormBeforeZ, filters: filters, hidden: hidden,
                                    blockNorm: blockNorm, duplicates: Set(counts).count > 1 ? counts : nil,
                                    headNormEpsilon: headEpsilon)
        spec.initializer = initializer.initializer
        let network = try Network(spec: spec, seed: seed)
        if let bnMomentum { network.headNorm?.momentum = bnMomentum }
        let gar = garConfig
        let model = ACOLModel(network: network, gar: gar,
                              preprocessing: Preprocessing(height: d.height, width: d.width, channels: d.channels),
                              parentNames: parentNames, fineNames: prepared.fineNames,
                              parentOfFine: ownParents ? [] : prepared.parentOfFine)
        let consistencyConfig = self.consistencyConfig
        let epochs = self.epochs ?? defaults.epochs(forTrainingImages: trainSet.count, batchSize: perStep)
        var config = TrainConfig(epochs: epochs, batchSize: batchSize, optimizer: opt, seed: seed, consistency: consistencyConfig)
        config.heads = heads ?? 1
        if let kmeansStart, kmeansStart > 0 {
            config.kmeansStart = KMeansStart(steps: kmeansStart, parents: try kmeansStartParents.map { try Self.parentList($0, parentNames: parentNames) })
        }
        config.pseudoParents = pseudo
        config.semiSupervised = semi
        config.datasetFile = (data as NSString).lastPathComponent
        if isRoot { config.datasetSHA256 = try FileDigest.sha256(ofFile: data) }
        let trainer = Trainer(model: model, config: config, dataParallel: dataParallel)
        // The splits against the model and the mode, before any work; the error names the file.
        do {
            try trainer.validate(trainSet, name: "training set")
            if let testSet { try trainer.validate(testSet, name: "test set") }
        } catch let e as ACOLError {
            throw CLIError.file(data, e.localizedDescription)
        }
        if let pseudo, pseudo.clusters > trainSet.count {
            Console.warn("\(pseudo.clusters) clusters asked of \(trainSet.count) training images: the k-means makes \(trainSet.count)")
        }
        if !quiet {
            let mode = defaults.name == Recipe.standard.name ? "" : "\(defaults.name), "
            let ranks = dataParallel.map { ", \($0.size) ranks of \(threads) threads each" } ?? ", \(threads) threads"
            let adam = optimizer == nil && opt.kind == .adam && defaults.optimizer.kind != .adam
                ? (np == 1 ? "; Adam (one parent)" : "; Adam (a small data set)") : ""
            Console.note("training \(arch) (\(network.parameterCount) parameters) on \(trainSet.count) images, \(mode)\(clustersText), \(epochs) epochs\(ranks) (\(ComputeLibraries.summary))"
                         + (consistencyConfig.map { c in
                            let a = c.augmentation
                            let photo = c.views == .single || !(a.contrast > 0 || a.gamma > 0) ? ""
                                : String(format: ", contrast %g, gamma %g", a.contrast, a.gamma)
                            return String(format: "; consistency %g (%@%@), marginal %g", c.weight, c.views.rawValue, photo, c.marginalWeight)
                        } ?? "")
                         + adam + (config.kmeansStart.map { ks in "; k-means start, \(ks.steps) steps" + (ks.parents.map { " (" + $0.map { parentNames[$0] }.joined(separator: ", ") + ")" } ?? "") } ?? "") + (testSet.map { "; scoring \($0.count) test images" } ?? ""))
            if let pseudo { Console.note("pseudo-parents: \(pseudo.transforms.map(\.name).joined(separator: ", ")); afterwards k-means (\(pseudo.clusters) clusters, \(pseudo.restarts) restarts\(pseudo.projection.map { " in \($0) principal directions" } ?? "")) on F of the training images" + (testSet != nil ? "; per-epoch test figures from k-means on the test split's own F" : "")) }
            if let semi { Console.note("semi-supervised: \(semi.labelled) labelled examples (\(semi.labelled / semi.classes.count) or more per class of \(semi.classes.count)), " + (semi.pretrainSteps > 0 ? "\(semi.pretrainSteps) pretraining steps, then " : "") + "\(batchSize - semi.labelledPerBatch) unlabelled + \(semi.labelledPerBatch) labelled per batch") }
        }
        if let semi, semi.pretrainSteps > 0 {
            let t0 = Date()
            let pre = ProgressBar("pretraining", enabled: !quiet && Console.stderrIsTerminal)
            try trainer.pretrain(trainSet) { d, t in pre.update(d, t) }
            pre.finish()
            if !quiet {
                var line = String(format: "pretrained on %d labelled examples: %d steps, %.1f s", semi.labelled, semi.pretrainSteps, Date().timeIntervalSince(t0))
                if let testSet, let fine = testSet.fineLabels,
                   let acc = Evaluator.classAccuracy(assignments: Evaluator.evaluate(model, on: testSet).assignments, fine: fine, classes: semi.classes) {
                    line += String(format: "; test accuracy (node = class) %.4f", acc)
                }
                Console.note(line)
            }
        }
        if let start = config.kmeansStart {
            let t0 = Date()
            do { try trainer.prepareKMeansStart(trainSet) } catch let e as ACOLError { throw CLIError.file(data, e.localizedDescription) }
            if !quiet {
                Console.note(String(format: "k-means start: k-means inside each parent on the training pixels (at most %d images fitted per parent), %.1f s", start.maxFitImages, Date().timeIntervalSince(t0)))
            }
        }
        var logError: Error?
        var bar = ProgressBar("epoch 1/\(epochs)", enabled: !quiet && Console.stderrIsTerminal)
        var epoch = 1
        try trainer.fit(train: trainSet, test: testSet, fineNames: prepared.fineNames, onBatch: { done, total in
            bar.update(done, total)
        }, onEpoch: { r in
            bar.finish()
            if !quiet { Console.out(epochLine(r, of: epochs)) }
            if let logFile, logError == nil {
                do { try logFile.write(try jsonText(r, pretty: false) + "\n") } catch {
                    logError = error
                    trainer.stopRequested = true
                }
            }
            epoch += 1
            bar = ProgressBar("epoch \(epoch)/\(epochs)", enabled: !quiet && Console.stderrIsTerminal)
        })
        bar.finish()
        if let logError { throw logError }
        guard isRoot else { return }
        try ModelFile.save(model, to: output, creator: "acol \(ACOLCommand.version)", inputs: [data], otherOutputs: otherOutputs)
        try logFile?.commit()
        let mapped = testSet?.fineLabels != nil ? "test" : "train"
        if let km = model.featureClusters, !quiet {
            Console.out(String(format: "k-means on F: %d clusters of %d-dimensional features of %d training images, inertia %.4g", km.k, km.dimension, trainSet.count, km.inertia))
        }
        if !model.clusters.isEmpty && !quiet {
            Console.out("")
            Console.out("clusters (majority fine label on the \(mapped) split):")
            Console.out(clusterTable(model.clusters, parentNames: model.outputParentNames))
        }
        if model.featureClusters == nil {
            for c in ClusterInfo.collapsedParents(model.clusters) {
                let name = c.parent < model.outputParentNames.count ? " (\(model.outputParentNames[c.parent]))" : ""
                Console.warn("all \(c.images) \(mapped)-split images of parent \(c.parent)\(name) went to one of its \(c.nodes) clusters (\(c.node)): "
                             + "unless the parent holds one class, the training collapsed; on small images try \(opt.kind == .adam ? "" : "--optimizer adam or ")--arch mlp (docs/training.md, \"Collapse on small images\")")
            }
        }
        // Under --quiet this line is the summary: the last epoch's held-out figures with it.
        let figures = quiet ? model.history.last.flatMap(testFigures) : nil
        Console.out(String(format: "saved %@ (%.0f s)", output, Date().timeIntervalSince(started)) + (figures.map { ": " + $0 } ?? ""))
    }
}

func epochLine(_ r: EpochRecord, of total: Int) -> String {
    var s = "epoch \(r.epoch)/\(total)  loss \(fmt(r.loss))" + (r.head.map { " (head \($0))" } ?? "") + "  parent-acc \(fmt(r.parentAccuracy))  affinity \(fmt(r.affinity))  balance \(fmt(r.balance))"
    if let p = r.purity { s += "  purity \(fmt(p))" }
    if let n = r.nmi { s += "  nmi \(fmt(n))" }
    if let t = testFigures(r) { s += "  | " + t }
    s += String(format: "  %.1fs", r.seconds)
    return s
}

/// An epoch's held-out figures ("test parent-acc A  purity P  nmi N ..."), nil when none were scored.
func testFigures(_ r: EpochRecord) -> String? {
    guard r.testParentAccuracy != nil || r.testPurity != nil else { return nil }
    var s = "test parent-acc \(fmt(r.testParentAccuracy))"
    if let p = r.testPurity { s += "  purity \(fmt(p))  nmi \(fmt(r.testNMI))" }
    if let a = r.testAccuracy { s += "  accuracy (node = class) \(fmt(a))" }
    return s
}

func clusterTable(_ clusters: [ClusterInfo], parentNames: [String]) -> String {
    let rows = clusters.map { c -> [String] in
        let pn = c.parent < parentNames.count ? parentNames[c.parent] : "\(c.parent)"
        let label = c.fineLabel.map { l in c.fineName.map { $0 == "\(l)" ? $0 : "\(l) (\($0))" } ?? "\(l)" } ?? "-"
        return ["\(c.node)", "\(c.parent) \(pn)", "\(c.duplicate)", "\(c.count)", label,
                c.count > 0 ? String(format: "%.3f", c.share) : "-"]
    }
    return table(["cluster", "parent", "dup", "size", "majority", "share"], rows, rightAlign: [0, 2, 3, 5])
}
