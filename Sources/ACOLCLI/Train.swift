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

/// The training recipe's defaults (docs/training.md explains how they were chosen).
enum Recipe {
    static let arch = "cnn2"
    static let scope = ScopeArg.all
    static let symmetric = false
    static let batchNorm = true
    static let optimizer = OptimizerArg.sgd
    static let epochs = 3
    /// Two-view consistency (clean image and an affine-augmented copy) and the marginal term:
    /// without them two fine classes of a parent often share two clusters (docs/training.md).
    static let consistency: Float = 1
    static let marginal: Float = 2
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
    var arch: String = Recipe.arch

    @Option(name: .customShort("k"), help: "Duplicates (clusters) per parent (default: the most fine classes any parent has, else 5).")
    var k: Int?

    @Option(help: "Parents when the data set has none, or to replace its own: '0-4,5-9', 'div:2', a mapping file, or 'none'.")
    var parents: String?

    @Option(help: "GAR scope: all (all output nodes) or parent (each parent's duplicates).")
    var garScope: ScopeArg = Recipe.scope

    @Flag(inversion: .prefixedNo, help: "Symmetric GAR: also apply affinity and balance to max(0, -Z).")
    var symmetric = Recipe.symmetric

    @Option(help: "GAR affinity coefficient c_a.")
    var ca: Float = 1

    @Option(help: "GAR balance coefficient c_b.")
    var cb: Float = 1

    @Option(help: "Frobenius coefficient c_F.")
    var cf: Float = 1e-6

    @Option(help: "Frobenius term over the batch: sum (Keras reference) or mean (PyTorch reference).")
    var frobenius: FrobeniusArg = .sum

    @Flag(inversion: .prefixedNo, help: "Batch normalisation of the penultimate activations before Z.")
    var batchNorm = Recipe.batchNorm

    @Option(help: "Optimizer: sgd (momentum 0.95, Nesterov, decay 1e-6) or adam.")
    var optimizer: OptimizerArg = Recipe.optimizer

    @Option(help: "Learning rate (default: 0.01 for sgd, 0.001 for adam).")
    var lr: Float?

    @Option(help: "Epochs.")
    var epochs: Int = Recipe.epochs

    @Option(help: "Mini-batch size.")
    var batchSize: Int = 128

    @Option(help: "Random seed: the same seed gives the same model.")
    var seed: UInt64 = 1

    @Option(help: "Threads to train on (default: all cores).")
    var threads: Int?

    @Option(help: "Filters f of the CNN presets.")
    var filters: Int = 32

    @Option(help: "Units of the dense hidden layers.")
    var hidden: Int = 2048

    @Option(help: "Initial weights: glorot (Glorot-uniform, zero biases; the Keras reference) or fanin (weights and biases U(+-1/sqrt(fan_in)), PyTorch's default).")
    var initializer: InitArg = .glorot

    @Flag(help: "BatchNorm at the start of every block of the preset (input, each later conv block, each Dense), as in the authors' later PyTorch models.")
    var blockNorm = false

    @Option(help: "Consistency weight c: forward each batch as two views (see --views) and add c * mean(-log sum_j S_ij S'_ij); 0 turns the term and the second view off.")
    var consistency: Float = Recipe.consistency

    @Option(help: "Weight c_m of the marginal term c_m * (log n - H(mean softmax(Z))), which counts examples per node (with --consistency 0 it applies to the one clean view); 0 turns it off.")
    var marginal: Float = Recipe.marginal

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
        if let k, k < 1 { throw ValidationError("-k must be at least 1") }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if batchSize < 2 { throw ValidationError("--batch-size must be at least 2") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2") }
        if consistency < 0 || marginal < 0 { throw ValidationError("--consistency and --marginal must be at least 0") }
        if !Presets.names.contains(arch) {
            throw ValidationError("unknown --arch '\(arch)' (known: \(Presets.names.joined(separator: ", ")))")
        }
    }

    func run() throws {
        try reportingErrors { try train() }
    }

    func train() throws {
        let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
        Threads.set(threads)
        let started = Date()
        if !quiet { Console.note("reading \(data)") }
        let prepared = try DataLoading.load(data, splits: nil, parents: parents)
        guard var trainSet = prepared.splits["train"] ?? prepared.splitOrder.first.flatMap({ prepared.splits[$0] }) else {
            throw CLIError.file(data, "the data set has no splits")
        }
        if let limit, limit < trainSet.count { trainSet = trainSet.subset(Array(0..<limit)) }
        let testSet = prepared.splits["test"]
        let np = prepared.parentNames.count
        var kk = k ?? 5
        if k == nil, !prepared.parentOfFine.isEmpty {
            var perParent = [Int](repeating: 0, count: np)
            for p in prepared.parentOfFine where p >= 0 && p < np { perParent[p] += 1 }
            if let m = perParent.max(), m > 0 { kk = m }
        }
        if np * kk < 2 { throw CLIError.option("parents x k must give at least 2 output nodes (have \(np) x \(kk))") }
        let d = prepared.description
        var spec = try Presets.spec(arch, inputShape: [d.height, d.width, d.channels], parents: np, k: kk,
                                    batchNormBeforeZ: batchNorm, filters: filters, hidden: hidden,
                                    blockNorm: blockNorm)
        spec.initializer = initializer.initializer
        let network = try Network(spec: spec, seed: seed)
        if let bnMomentum { network.headNorm?.momentum = bnMomentum }
        let gar = GARConfig(scope: garScope == .all ? .allNodes : .perParent, symmetric: symmetric,
                            cA: ca, cB: cb, cF: cf, frobenius: frobenius == .sum ? .sum : .mean)
        let model = ACOLModel(network: network, gar: gar,
                              preprocessing: Preprocessing(height: d.height, width: d.width, channels: d.channels),
                              parentNames: prepared.parentNames, fineNames: prepared.fineNames,
                              parentOfFine: prepared.parentOfFine)
        var opt: OptimizerConfig = optimizer == .sgd ? .sgdReference : .adamDefault
        if let lr { opt.learningRate = lr }
        model.settings = TrainingSettings(optimizer: opt, batchSize: batchSize, epochs: epochs, seed: seed,
                                          datasetFile: (data as NSString).lastPathComponent,
                                          datasetSHA256: try SHA256.hex(ofFile: data))
        // --consistency > 0: two views per image; --marginal alone: the marginal term on one view.
        let consistencyConfig: ConsistencyConfig? = consistency != 0
            ? ConsistencyConfig(weight: consistency, marginalWeight: marginal, views: views.views,
                                augmentation: AffineAugmentation(maxShift: augShift, maxRotation: augRotate,
                                                                 maxScale: augScale, maxShear: augShear))
            : (marginal != 0 ? ConsistencyConfig(weight: 0, marginalWeight: marginal, views: .single) : nil)
        let trainer = Trainer(model: model, config: TrainConfig(epochs: epochs, batchSize: batchSize, optimizer: opt, seed: seed,
                                                                consistency: consistencyConfig))
        if !quiet {
            Console.note("training \(arch) (\(network.parameterCount) parameters) on \(trainSet.count) images, \(np) parents x \(kk) clusters, \(epochs) epochs, \(threads) threads (OpenBLAS \(BLASInfo.coreName) kernels)"
                         + (consistencyConfig.map { c in String(format: "; consistency %g (%@), marginal %g", c.weight, c.views.rawValue, c.marginalWeight) } ?? "")
                         + (testSet.map { "; scoring \($0.count) test images" } ?? ""))
        }
        var logHandle: FileHandle?
        if let log {
            guard FileManager.default.createFile(atPath: log, contents: nil) else { throw CLIError.file(log, "cannot be created") }
            logHandle = FileHandle(forWritingAtPath: log)
        }
        defer { try? logHandle?.close() }
        var bar = ProgressBar("epoch 1/\(epochs)", enabled: !quiet && Console.stderrIsTerminal)
        var epoch = 1
        try trainer.fit(train: trainSet, test: testSet, fineNames: prepared.fineNames, onBatch: { done, total in
            bar.update(done, total)
        }, onEpoch: { r in
            bar.finish()
            if !quiet { Console.out(epochLine(r, of: epochs)) }
            if let h = logHandle, let line = try? jsonText(EpochLog(r), pretty: false) {
                h.write(Data((line + "\n").utf8))
            }
            epoch += 1
            bar = ProgressBar("epoch \(epoch)/\(epochs)", enabled: !quiet && Console.stderrIsTerminal)
        })
        bar.finish()
        try ModelFile.save(model, to: output, creator: "acol \(ACOLCommand.version)")
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

/// An epoch as one JSON line of `--log`.
struct EpochLog: Encodable {
    var epoch: Int
    var loss: Double
    var parent_accuracy: Double
    var affinity: Double
    var balance: Double
    var purity: Double?
    var nmi: Double?
    var hungarian_accuracy: Double?
    var clusters_used: Int?
    var test_parent_accuracy: Double?
    var test_purity: Double?
    var test_nmi: Double?
    var test_hungarian_accuracy: Double?
    var seconds: Double

    init(_ r: EpochRecord) {
        epoch = r.epoch; loss = r.loss; parent_accuracy = r.parentAccuracy; affinity = r.affinity
        balance = r.balance; purity = r.purity; nmi = r.nmi; hungarian_accuracy = r.hungarianAccuracy
        clusters_used = r.clustersUsed; test_parent_accuracy = r.testParentAccuracy; test_purity = r.testPurity
        test_nmi = r.testNMI; test_hungarian_accuracy = r.testHungarianAccuracy; seconds = r.seconds
    }
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
