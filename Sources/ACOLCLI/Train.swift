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
        split, when there is one, is scored after every epoch.

        Examples:
          acol train mnist.h5 -o model.h5
          acol train mnist.h5 -o model.h5 --arch mlp -k 10 --epochs 3 --log train.jsonl
          acol train digits.h5 -o model.h5 --parents 0-4,5-9
        """)

    @Argument(help: "The data-set file (made by 'acol convert').")
    var data: String

    @Option(name: .shortAndLong, help: "The model file to write.")
    var output: String

    @Option(help: "Architecture preset: mlp, cnn1, cnn2, cnn3.")
    var arch: String = Recipe.preset

    @Option(name: .customShort("k"), help: "Duplicates (clusters) per parent: one number for all, or one per parent by name or in order ('tops=5,footwear=3,trouser=1,bag=1', '5,3,1,1'). Default: the most fine classes any parent has, else 5.")
    var k: ClusterCounts?

    @Option(help: "Parents when the data set has none, or to replace its own: '0-4,5-9', 'div:2', a mapping file, or 'none'.")
    var parents: String?

    @Option(help: "GAR scope: all (all output nodes) or parent (each parent's duplicates).")
    var garScope: ScopeArg = Recipe.gar.scope == .allNodes ? .all : .parent

    @Flag(inversion: .prefixedNo, help: "Symmetric GAR: also apply affinity and balance to max(0, -Z).")
    var symmetric = Recipe.gar.symmetric

    @Option(help: "GAR affinity coefficient c_a.")
    var ca: Float = Recipe.gar.cA

    @Option(help: "GAR balance coefficient c_b.")
    var cb: Float = Recipe.gar.cB

    @Option(help: "Frobenius coefficient c_F.")
    var cf: Float = Recipe.gar.cF

    @Option(help: "Frobenius term over the batch: sum (Keras reference) or mean (PyTorch reference).")
    var frobenius: FrobeniusArg = .sum

    @Flag(inversion: .prefixedNo, help: "Batch normalisation of the penultimate activations before Z.")
    var batchNorm = Recipe.batchNormBeforeZ

    @Option(help: "Optimizer: sgd (momentum 0.95, Nesterov, decay 1e-6) or adam.")
    var optimizer: OptimizerArg = Recipe.optimizer.kind == .sgd ? .sgd : .adam

    @Option(help: "Learning rate (default: 0.01 for sgd, 0.001 for adam).")
    var lr: Float?

    @Option(help: "Epochs (default: 3, or as many as give 1000 training steps on a small data set: 44 for 3,000 images at batch 128).")
    var epochs: Int?

    @Option(help: "Mini-batch size.")
    var batchSize: Int = Recipe.batchSize

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

    @Option(help: "Consistency weight c: forward each batch as two views (see --views) and add c * mean(-log sum_j S_ij S'_ij); 0 turns the term and the second view off.")
    var consistency: Float = Recipe.consistency?.weight ?? 0

    @Option(help: "Weight c_m of the marginal term c_m * (log n - H(mean softmax(Z))), which counts examples per node (with --consistency 0 it applies to the one clean view); 0 turns it off.")
    var marginal: Float = Recipe.consistency?.marginalWeight ?? 0

    @Option(help: "The two views of the consistency term: clean-aug (the image and an augmented copy) or aug-aug (two augmented copies).")
    var views: ViewsArg = .cleanAug

    @Option(help: "Augmentation: translation in pixels (uniform in +-N).")
    var augShift: Float = 2

    @Option(help: "Augmentation: rotation in degrees (uniform in +-N).")
    var augRotate: Float = 10

    @Option(help: "Augmentation: relative scale (uniform in 1 +- N).")
    var augScale: Float = 0.1

    @Option(help: "Augmentation: horizontal shear (uniform in +-N).")
    var augShear: Float = 0.2

    @Option(help: "Momentum of the running statistics of the BatchNorm before Z (Keras convention, default 0.99; PyTorch's 0.1 is 0.9 here). Only inference uses them.")
    var bnMomentum: Float?

    @Option(help: "Train on the first N training images only.")
    var limit: Int?

    @Option(help: "Also write each epoch as a JSON line to this file.")
    var log: String?

    @Flag(help: "Print only the final summary.")
    var quiet = false

    func validate() throws {
        try k?.validate("-k")
        try OptionCheck.range("--epochs", epochs, 1...ACOLLimits.maxEpochs)
        try OptionCheck.range("--batch-size", batchSize, 2...65_536)
        try OptionCheck.range("--limit", limit, 2...Int(Int32.max))
        try OptionCheck.range("--hidden", hidden, 1...ACOLLimits.maxUnits)
        try OptionCheck.range("--filters", filters, 1...4_096)
        try OptionCheck.positive("--lr", lr)
        try OptionCheck.nonNegative("--ca", ca)
        try OptionCheck.nonNegative("--cb", cb)
        try OptionCheck.nonNegative("--cf", cf)
        try OptionCheck.nonNegative("--consistency", consistency)
        try OptionCheck.nonNegative("--marginal", marginal)
        if let m = bnMomentum, !(m.isFinite && m >= 0 && m < 1) {
            throw ValidationError("--bn-momentum must be a finite number in [0, 1), found \(m)")
        }
        if !Presets.names.contains(arch) {
            throw ValidationError("unknown --arch '\(arch)' (known: \(Presets.names.joined(separator: ", ")))")
        }
    }

    func run() throws {
        try reportingErrors { try train() }
    }

    /// The clusters of each parent: from -k, else `defaultK` for every parent.
    static func clusterCounts(_ k: ClusterCounts?, parentNames: [String], parentOfFine: [Int]) throws -> [Int] {
        try (k ?? ClusterCounts(defaultK(parents: parentNames.count, parentOfFine: parentOfFine))).resolve(parentNames: parentNames)
    }

    /// k when -k is not given: the most fine classes any parent has, else the recipe's.
    static func defaultK(parents np: Int, parentOfFine: [Int]) -> Int {
        var perParent = [Int](repeating: 0, count: max(np, 1))
        for p in parentOfFine where p >= 0 && p < np { perParent[p] += 1 }
        if let m = perParent.max(), m > 0 { return m }
        return Recipe.k
    }

    /// GAR as the options say (the library's `GARConfig()` when none is given).
    var garConfig: GARConfig {
        GARConfig(scope: garScope == .all ? .allNodes : .perParent, symmetric: symmetric,
                  cA: ca, cB: cb, cF: cf, frobenius: frobenius == .sum ? .sum : .mean)
    }

    /// The two-view terms as the options say (the library's `Recipe.consistency` when none is
    /// given): --consistency > 0 gives two views per image; --marginal alone the marginal term on
    /// the one view; both 0 the reference training.
    var consistencyConfig: ConsistencyConfig? {
        consistency != 0
            ? ConsistencyConfig(weight: consistency, marginalWeight: marginal, views: views.views,
                                augmentation: AffineAugmentation(maxShift: augShift, maxRotation: augRotate,
                                                                 maxScale: augScale, maxShear: augShear))
            : (marginal != 0 ? ConsistencyConfig(weight: 0, marginalWeight: marginal, views: .single) : nil)
    }

    /// The optimiser as the options say (the library's `Recipe.optimizer` when none is given).
    var optimizerConfig: OptimizerConfig {
        var opt: OptimizerConfig = optimizer == .sgd ? .sgdReference : .adamDefault
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
        if !quiet { Console.note("reading \(data)") }
        let prepared = try DatasetLoader.load(data, parents: try parentSource(parents))
        guard var trainSet = prepared.trainingSplit else {
            throw CLIError.file(data, "the data set has no splits")
        }
        if let limit, limit < trainSet.count { trainSet = trainSet.subset(Array(0..<limit)) }
        let testSet = prepared.splits["test"]
        let np = prepared.parentNames.count
        let counts = try Train.clusterCounts(k, parentNames: prepared.parentNames, parentOfFine: prepared.parentOfFine)
        let kk = counts.max() ?? 1, nodes = counts.reduce(0, +)
        let clustersText = Set(counts).count == 1 ? "\(np) parents x \(kk) clusters" : "\(np) parents x (\(counts.map(String.init).joined(separator: ", "))) clusters"
        if nodes < 2 { throw CLIError.option("the parents' clusters must give at least 2 output nodes (have \(clustersText))") }
        if nodes > ACOLLimits.maxNodes { throw CLIError.option("the parents' clusters must give at most \(ACOLLimits.maxNodes) output nodes (have \(nodes))") }
        let d = prepared.description
        var spec = try Presets.spec(arch, inputShape: [d.height, d.width, d.channels], parents: np, k: kk,
                                    batchNormBeforeZ: batchNorm, filters: filters, hidden: hidden,
                                    blockNorm: blockNorm, duplicates: Set(counts).count > 1 ? counts : nil)
        spec.initializer = initializer.initializer
        let network = try Network(spec: spec, seed: seed)
        if let bnMomentum { network.headNorm?.momentum = bnMomentum }
        let gar = garConfig
        let model = ACOLModel(network: network, gar: gar,
                              preprocessing: Preprocessing(height: d.height, width: d.width, channels: d.channels),
                              parentNames: prepared.parentNames, fineNames: prepared.fineNames,
                              parentOfFine: prepared.parentOfFine)
        let opt = optimizerConfig
        let consistencyConfig = self.consistencyConfig
        let epochs = self.epochs ?? Recipe.epochs(forTrainingImages: trainSet.count, batchSize: batchSize)
        var config = TrainConfig(epochs: epochs, batchSize: batchSize, optimizer: opt, seed: seed, consistency: consistencyConfig)
        config.datasetFile = (data as NSString).lastPathComponent
        if isRoot { config.datasetSHA256 = try FileDigest.sha256(ofFile: data) }
        let trainer = Trainer(model: model, config: config, dataParallel: dataParallel)
        if !quiet {
            let ranks = dataParallel.map { ", \($0.size) ranks of \(threads) threads each" } ?? ", \(threads) threads"
            Console.note("training \(arch) (\(network.parameterCount) parameters) on \(trainSet.count) images, \(clustersText), \(epochs) epochs\(ranks) (OpenBLAS \(BLASInfo.coreName) kernels)"
                         + (consistencyConfig.map { c in String(format: "; consistency %g (%@), marginal %g", c.weight, c.views.rawValue, c.marginalWeight) } ?? "")
                         + (testSet.map { "; scoring \($0.count) test images" } ?? ""))
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
        if !model.clusters.isEmpty && !quiet {
            Console.out("")
            Console.out("clusters (majority fine label on the \(mapped) split):")
            Console.out(clusterTable(model.clusters, parentNames: model.parentNames))
        }
        Console.out(String(format: "saved %@ (%.0f s)", output, Date().timeIntervalSince(started)))
    }
}

func epochLine(_ r: EpochRecord, of total: Int) -> String {
    var s = "epoch \(r.epoch)/\(total)  loss \(fmt(r.loss))  parent-acc \(fmt(r.parentAccuracy))  affinity \(fmt(r.affinity))  balance \(fmt(r.balance))"
    if let p = r.purity { s += "  purity \(fmt(p))" }
    if let n = r.nmi { s += "  nmi \(fmt(n))" }
    if r.testParentAccuracy != nil || r.testPurity != nil {
        s += "  | test parent-acc \(fmt(r.testParentAccuracy))"
        if let p = r.testPurity { s += "  purity \(fmt(p))  nmi \(fmt(r.testNMI))" }
    }
    s += String(format: "  %.1fs", r.seconds)
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
