import Foundation

/// Training settings beside the model's own (GAR, preprocessing).
public struct TrainConfig: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerConfig
    public var seed: UInt64
    /// When set, every batch is forwarded as two views (see `ConsistencyConfig`): the
    /// cross-entropy and GAR see both, and the consistency term ties each image's two views.
    /// nil: the reference training, one view per image.
    public var consistency: ConsistencyConfig?
    /// The unsupervised mode (nil: the data set's parents): each image's parent is a random
    /// transformation of it, and k-means on F after training gives the clusters.
    public var pseudoParents: PseudoParentConfig?
    /// The semi-supervised mode (nil: not semi-supervised); needs one parent.
    public var semiSupervised: SemiSupervisedConfig?
    /// The data set's file name and SHA-256, recorded in the model's settings (nil: unknown).
    public var datasetFile: String?
    public var datasetSHA256: String?
    /// Heads trained side by side on the same F (IIC's sub-heads; 1: the model's head alone).
    /// After each epoch the head with the lowest mean objective over it becomes the model's head;
    /// the others go on training, and only the model's head is saved.
    public var heads: Int = 1
    /// A k-means start (nil: none): the first steps also pull each image towards the node that
    /// k-means on the pixels inside its parent gives it (`KMeansStart`). Not with the
    /// unsupervised or semi-supervised mode.
    public var kmeansStart: KMeansStart?

    public init(epochs: Int = Recipe.epochs, batchSize: Int = Recipe.batchSize, optimizer: OptimizerConfig = Recipe.optimizer,
                seed: UInt64 = 1, consistency: ConsistencyConfig? = Recipe.consistency) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer; self.seed = seed
        self.consistency = consistency
    }
}

extension TrainConfig {
    /// What `acol train` uses without options for `images` training images in `parents` parents
    /// (`Recipe.standard`): 3 epochs, or more on a small set to reach `Recipe.minimumSteps`
    /// steps; SGD, or Adam with one parent or on a small set; the two-view terms. `TrainConfig()`
    /// is the large-set case (3 epochs, SGD), which a set of a few thousand images does not learn
    /// well with (docs/training.md, "Adam on small data sets").
    public static func standard(trainingImages images: Int, parents: Int, seed: UInt64 = 1) -> TrainConfig {
        let d = Recipe.standard
        return TrainConfig(epochs: d.epochs(forTrainingImages: images), batchSize: d.batchSize,
                           optimizer: d.optimizer(parents: parents, trainingImages: images), seed: seed,
                           consistency: d.consistency)
    }
}

/// Mini-batch training of an ACOL model on coarse labels, with per-epoch metrics.
public final class Trainer {
    public let model: ACOLModel
    public let config: TrainConfig
    public let objective: ACOLObjective
    public let optimizer: Optimizer
    private var rng: SeededGenerator
    /// Set to true (from another thread or a callback) to stop after the current batch.
    /// In a data-parallel job the processes agree before each batch: one that asks stops all.
    public var stopRequested = false
    /// The data-parallel job this process is part of (nil: one process trains alone). Every
    /// process takes the same shuffled order and its rows of each global batch; batch statistics
    /// and gradients are summed over the processes, and every process draws the augmentation and
    /// dropout a single process would draw for its rows (skipping the other rows' draws), so the
    /// processes keep the same parameters and take, up to the order of float sums, the step one
    /// process takes on the whole batch. Only the root scores the test split and maps clusters.
    /// The unsupervised and semi-supervised modes train in one process only.
    public let dataParallel: DataParallel?

    public init(model: ACOLModel, config: TrainConfig, dataParallel: DataParallel? = nil) {
        self.model = model; self.config = config; self.dataParallel = dataParallel
        objective = ACOLObjective(head: model.head, gar: model.gar)
        optimizer = Optimizer(config.optimizer)
        rng = SeededGenerator(seed: config.seed &+ 0x5EED)
        model.network.computesInputGradient = false
        // Heads of an earlier training of the same network are replaced (or removed).
        if config.heads > 1 || !model.network.extraHeads.isEmpty {
            // (A count outside 1...maxHeads is refused by `validate` before training.)
            model.network.setExtraHeads(min(max(config.heads, 1), ACOLLimits.maxHeads) - 1, seed: config.seed &+ 0x4EAD5)
        }
    }

    /// `stopRequested`, agreed by every process of a data-parallel job (one reduction: any
    /// process that asks stops them all, at the same batch).
    private func shouldStop() -> Bool {
        guard let dp = dataParallel else { return stopRequested }
        var s = [stopRequested ? 1.0 : 0]
        dp.reduction.sum(&s)
        return s[0] > 0
    }

    /// Checks that `set` fits the model and carries the labels training needs.
    public func validate(_ set: ImageSet, name: String) throws {
        let p = model.preprocessing
        guard set.height == p.height, set.width == p.width, set.channels == p.channels else {
            throw ACOLError.invalidData("\(name): images are \(set.height)x\(set.width)x\(set.channels), the model takes \(p.height)x\(p.width)x\(p.channels)")
        }
        guard set.count > 0 else { throw ACOLError.invalidData("\(name) has no images") }
        if name == "training set" && set.count < 2 {
            throw ACOLError.invalidData("\(name) has \(set.count) image, expected at least 2 (a training step needs a batch of two or more)")
        }
        try config.consistency?.augmentation.validate()
        if let f = set.fineLabels, f.count != set.count {
            throw ACOLError.invalidData("\(name): \(f.count) fine labels for \(set.count) images")
        }
        if let c = set.coarseLabels, c.count != set.count {
            throw ACOLError.invalidData("\(name): \(c.count) coarse labels for \(set.count) images")
        }
        guard (1...ACOLLimits.maxHeads).contains(config.heads) else {
            throw ACOLError.invalidSettings("heads: expected 1 to \(ACOLLimits.maxHeads), found \(config.heads)")
        }
        if config.heads > 1 && config.pseudoParents != nil {
            throw ACOLError.invalidSettings("several heads: the unsupervised mode's clusters come from k-means on F, not from a head; train it with one head")
        }
        if let start = config.kmeansStart {
            try start.validate(parents: model.head.parents)
            if config.pseudoParents != nil || config.semiSupervised != nil {
                throw ACOLError.invalidSettings("k-means start: it starts from the data set's own parents; the unsupervised and semi-supervised modes have their own starts")
            }
        }
        if dataParallel != nil && (config.pseudoParents != nil || config.semiSupervised != nil) {
            throw ACOLError.invalidSettings("data-parallel training takes parents from the data set; the unsupervised and semi-supervised modes train in one process")
        }
        if let pseudo = config.pseudoParents {
            try pseudo.validate(height: set.height, width: set.width)
            guard model.head.parents == pseudo.transforms.count else {
                throw ACOLError.invalidSettings("unsupervised mode: the head has \(model.head.parents) parents, there are \(pseudo.transforms.count) pseudo-parent transforms")
            }
            return   // the parents are made per batch; any labels of the set are ignored
        }
        if let semi = config.semiSupervised {
            guard model.head.parents == 1 else {
                throw ACOLError.invalidSettings("semi-supervised mode: expected a head of one parent, found \(model.head.parents)")
            }
            try semi.validate(nodes: model.head.nodes)
            if name == "training set" && set.fineLabels == nil {
                throw ACOLError.invalidData("\(name) has no fine labels to choose the labelled examples from")
            }
            return
        }
        if model.head.parents > 1 {
            guard let c = set.coarseLabels else {
                throw ACOLError.invalidData("\(name) has no coarse (parent) labels and the model has \(model.head.parents) parents")
            }
            if let bad = c.first(where: { $0 < 0 || Int($0) >= model.head.parents }) {
                throw ACOLError.invalidData("\(name): parent label \(bad) is outside 0..<\(model.head.parents)")
            }
        }
    }

    /// One optimisation step on x [m, H, W, C] with the parent of each row (nil when n_p == 1)
    /// and, in the semi-supervised mode, a target node per row (-1: unlabelled). With two views
    /// the batch is forwarded as [2m, ...]: rows 0..<m and m..<2m are the views of one image.
    /// Returns the objective's result (dZ emptied) and Z [m or 2m, n].
    /// `shard`: this process's rows of the global batch in a data-parallel job (nil: all).
    private func step(_ xIn: Tensor, parents pIn: [Int32]?, targets tIn: [Int32]?, shard: BatchShard? = nil) -> (ACOLObjective.Result, Tensor, rows: BatchShard?) {
        var x = xIn, parents = pIn, targets = tIn
        // The rows the network sees: the images, or both views of them.
        var rows = shard
        if let cons = config.consistency, cons.views != .single {
            let range = model.preprocessing.inputRange
            let second = cons.augmentation.apply(x, rng: &rng, shard: shard, range: range)
            let first = cons.views == .cleanAugmented ? x : cons.augmentation.apply(x, rng: &rng, shard: shard, range: range)
            x = Tensor(shape: [2 * x.shape[0]] + x.shape.dropFirst(), data: first.data + second.data)
            parents = parents.map { $0 + $0 }
            targets = targets.map { $0 + $0 }
            rows = shard?.stackedTwice()
        }
        let (_, z) = model.network.forward(x, training: true, rng: &rng, shard: rows)
        var (r, only) = objectiveWithGradient(z, parents: parents, targets: targets, rows: rows)
        // The extra heads: the same objective on their own Z; the body gets the heads' mean.
        let extraZ = model.network.extraLogits(shard: rows)
        let extraBoth = extraZ.map { objectiveWithGradient($0, parents: parents, targets: targets, rows: rows) }
        let extra = extraBoth.map(\.0)
        // Every head has the k-means term at the same steps, so all or none have a head-only part.
        let extraOnly = extraBoth.compactMap(\.headOnly).map { Tensor(shape: z.shape, data: $0) }
        model.network.backward(dZ: Tensor(shape: z.shape, data: r.dZ),
                               extraDZ: extra.map { Tensor(shape: z.shape, data: $0.dZ) },
                               headOnly: only.map { Tensor(shape: z.shape, data: $0) },
                               extraHeadOnly: extraOnly, shard: rows)
        extraResults = zip(extra, extraZ).map { var e = $0.0; e.dZ = []; return (e, $0.1) }
        dataParallel?.sumGradients(trainableParameters)
        optimizer.update(trainableParameters)
        r.dZ = []
        return (r, z, rows)
    }

    /// The full objective (ACOL's, the two-view terms, the labelled rows' cross-entropy) and dZ
    /// for Z [rows, n] of one head; `headOnly` the k-means start's gradient [rows * n] when it
    /// trains the head alone (nil: none, or it is in dZ).
    private func objectiveWithGradient(_ z: Tensor, parents: [Int32]?, targets: [Int32]?, rows: BatchShard?)
        -> (ACOLObjective.Result, headOnly: [Float]?) {
        var headOnly: [Float]?
        var r = objective.evaluate(z: z, parents: parents, gradient: true, shard: rows)
        if let cons = config.consistency, cons.views != .single, cons.weight != 0 {
            let c = ConsistencyLoss.evaluate(z: z, weight: cons.weight, epsilon: cons.epsilon, gradient: true, shard: rows)
            for i in 0..<r.dZ.count { r.dZ[i] += c.dZ[i] }
            r.loss += c.loss
        }
        if let cons = config.consistency, cons.marginalWeight != 0 {
            let c = ConsistencyLoss.marginal(z: z, weight: cons.marginalWeight, gradient: true, shard: rows)
            for i in 0..<r.dZ.count { r.dZ[i] += c.dZ[i] }
            r.loss += c.loss
        }
        if let targets, kmeansWeight != 0 {
            // The mean over the rows with a target; in a data-parallel job each process's mean is
            // scaled to its share of the global batch's such rows (kmeansShare), so that the summed
            // gradients are the global mean's.
            let c = NodeCrossEntropy.evaluate(z: z, targets: targets, weight: kmeansWeight * kmeansShare, gradient: true)
            if config.kmeansStart?.trainsBody ?? false {
                for i in 0..<r.dZ.count { r.dZ[i] += c.dZ[i] }
            } else {
                headOnly = c.dZ
            }
            // The objective is the global batch's (every process calls this at the same steps).
            var loss = [c.loss]
            rows?.reduction.sum(&loss)
            r.loss += loss[0]
        } else if let targets, let w = config.semiSupervised?.labelledWeight, w != 0 {
            let c = NodeCrossEntropy.evaluate(z: z, targets: targets, weight: w, gradient: true)
            for i in 0..<r.dZ.count { r.dZ[i] += c.dZ[i] }
            r.loss += c.loss
        }
        return (r, headOnly)
    }

    /// The extra heads' results (dZ emptied) and Z [rows, n] at the last step: their objectives
    /// choose the head after the epoch, and the rest gives the chosen head's figures.
    private var extraResults: [(result: ACOLObjective.Result, z: Tensor)] = []

    /// The k-means start's node of every training image (nil: not computed yet, or no start).
    public private(set) var kmeansTargets: [Int32]?
    /// Training steps taken so far (over all epochs), which the k-means start counts.
    public private(set) var stepsTaken = 0
    /// The k-means start's weight at the current step (0: past its steps, or none).
    private var kmeansWeight: Float = 0
    /// This process's share of the global batch's rows with a k-means target (1 in one process).
    private var kmeansShare: Float = 1

    /// Computes the k-means start's targets for `train` (once; `fit` and `trainEpoch` call it).
    public func prepareKMeansStart(_ train: ImageSet) throws {
        guard let start = config.kmeansStart, kmeansTargets?.count != train.count else { return }
        kmeansTargets = try start.targets(for: train, head: model.head, seed: config.seed)
    }

    /// The head chosen after each epoch so far (0: the model's head stayed; h: extra head h - 1
    /// took its place), with several heads.
    public private(set) var chosenHeads: [Int] = []

    /// Each head's mean objective over the last epoch (before the choice: index 0 is the head
    /// that was the model's during the epoch).
    public private(set) var lastEpochHeadLosses: [Double] = []

    private lazy var trainableParameters: [Parameter] = model.network.namedParameters.map(\.parameter).filter(\.trainable)
        + model.network.extraHeads.flatMap(\.parameters)

    /// Whether `pretrain` has run (`fit` runs it first when not).
    public private(set) var pretrained = false

    /// The semi-supervised mode's labelled examples (indices into the training set), chosen on
    /// first use from the set's fine labels.
    public private(set) var labelledIndices: [Int]?

    private func labelled(_ train: ImageSet) throws -> [Int] {
        if let l = labelledIndices { return l }
        guard let semi = config.semiSupervised, let fine = train.fineLabels else { return [] }
        var pick = SeededGenerator(seed: config.seed &+ 0x1ABE1)
        let l = try semi.chooseLabelled(fine: fine, rng: &pick)
        labelledIndices = l
        return l
    }

    /// The target node of each of `indices` (its class's node), for the semi-supervised mode.
    private func targets(of indices: [Int], in set: ImageSet) -> [Int32] {
        guard let semi = config.semiSupervised, let fine = set.fineLabels else { return [] }
        var node = [Int32: Int32]()
        for (j, c) in semi.classes.enumerated() { node[c] = Int32(j) }
        return indices.map { node[fine[$0]] ?? -1 }
    }

    /// The semi-supervised mode's first phase: `pretrainSteps` steps of cross-entropy on the
    /// labelled examples alone (node j = class j), batches drawn in a reshuffled cycle.
    public func pretrain(_ train: ImageSet, onStep: ((Int, Int) -> Void)? = nil) throws {
        guard let semi = config.semiSupervised, !pretrained else { return }
        defer { pretrained = true }
        try validate(train, name: "training set")
        let lab = try labelled(train)
        let bs = min(semi.pretrainBatch, lab.count)
        guard bs >= 2 else { throw ACOLError.invalidSettings("semi-supervised mode: pretraining needs at least 2 labelled examples") }
        var cycle: [Int] = [], pos = 0
        let pretrainConfig = SemiSupervisedConfig(labelled: semi.labelled, classes: semi.classes, labelledWeight: 1)
        for s in 0..<semi.pretrainSteps where !stopRequested {
            var idx: [Int] = []
            while idx.count < bs {
                if pos == cycle.count { cycle = lab.shuffled(using: &rng); pos = 0 }
                idx.append(cycle[pos]); pos += 1
            }
            let batch = train.subset(idx)
            let x = batch.tensor(0..<batch.count, scale: model.preprocessing.scale, offset: model.preprocessing.offset)
            let t = targets(of: idx, in: train)
            // Cross-entropy only: plain classifier training of the labelled examples.
            // With several heads every head learns the labelled examples (the body takes their mean).
            let (_, z) = model.network.forward(x, training: true, rng: &rng)
            let c = NodeCrossEntropy.evaluate(z: z, targets: t, weight: pretrainConfig.labelledWeight, gradient: true)
            let extra = model.network.extraLogits().map {
                Tensor(shape: $0.shape, data: NodeCrossEntropy.evaluate(z: $0, targets: t, weight: pretrainConfig.labelledWeight, gradient: true).dZ)
            }
            model.network.backward(dZ: Tensor(shape: z.shape, data: c.dZ), extraDZ: extra, shard: nil)
            optimizer.update(trainableParameters)
            onStep?(s + 1, semi.pretrainSteps)
        }
    }

    /// One epoch over `train` in a seeded random order. `onBatch(done, total)` reports progress.
    /// Unsupervised mode: each image of a batch gets a random pseudo-parent transform. Semi-
    /// supervised: each batch is batchSize - b_L images in order plus b_L labelled ones.
    public func trainEpoch(_ train: ImageSet, epoch: Int, onBatch: ((Int, Int) -> Void)? = nil) -> EpochRecord {
        let started = Date()
        var order = Array(0..<train.count)
        order.shuffle(using: &rng)
        let head = model.head
        let pseudo = config.pseudoParents, semi = config.semiSupervised
        let lab = semi != nil ? ((try? labelled(train)) ?? []) : []
        let labelledRows = semi.map { min($0.labelledPerBatch, lab.count) } ?? 0
        let bs = max(config.batchSize - labelledRows, 2)
        var labCycle: [Int] = [], labPos = 0
        var lossSum = 0.0, affSum = 0.0, balSum = 0.0, batches = 0, correct = 0, seen = 0
        var headLossSums: [Double] = []
        var assignments = [Int](repeating: 0, count: train.count)
        // Several heads: each extra head's running figures, so that the epoch's record describes
        // the head chosen after it (index h - 1 for head h).
        let extraCount = model.network.extraHeads.count
        var extraAff = [Double](repeating: 0, count: extraCount), extraBal = extraAff
        var extraCorrect = [Int](repeating: 0, count: extraCount)
        var extraAssignments = pseudo == nil ? [[Int]](repeating: assignments, count: extraCount) : []
        /// The node of each own row (the first `own.count` rows of Z: the images, or their first view).
        func record(_ z: Tensor, _ own: [Int], into a: inout [Int]) {
            let n = head.nodes
            z.data.withUnsafeBufferPointer { zp in
                for (o, i) in own.enumerated() {
                    var best = 0
                    for j in 1..<n where zp[o * n + j] > zp[o * n + best] { best = j }
                    a[i] = best
                }
            }
        }
        if let ks = config.kmeansStart, stepsTaken < ks.steps {
            // (fit computes them first and reports failure; a direct caller gets no start on failure)
            try? prepareKMeansStart(train)
        }
        let dp = dataParallel
        // BatchNorm needs at least two examples; in a data-parallel job every process at least one.
        let smallestBatch = max(2, dp?.size ?? 1)
        var start = 0
        while start < train.count && !shouldStop() {
            let end = min(train.count, start + bs)
            if end - start < smallestBatch { break }
            // This process's rows of the global batch (all of them without data parallelism).
            let shard = dp?.shard(ofBatch: end - start)
            let mine = dp?.rows(ofBatch: end - start) ?? 0..<(end - start)
            let own = Array(order[(start + mine.lowerBound)..<(start + mine.upperBound)])
            var idx = own
            for _ in 0..<labelledRows {
                if labPos == labCycle.count { labCycle = lab.shuffled(using: &rng); labPos = 0 }
                idx.append(labCycle[labPos]); labPos += 1
            }
            let batch = train.subset(idx)
            var x = batch.tensor(0..<batch.count, scale: model.preprocessing.scale, offset: model.preprocessing.offset)
            var parents = head.parents > 1 ? batch.coarseLabels : nil
            if let pseudo {
                let t = pseudo.draw(idx.count, rng: &rng)
                x = pseudo.apply(x, labels: t)
                parents = t
            }
            var targets: [Int32]?
            if semi != nil {
                // Only the appended labelled rows carry a target (an unlabelled row that happens to
                // be a labelled example stays unlabelled here).
                targets = [Int32](repeating: -1, count: own.count) + self.targets(of: Array(idx[own.count...]), in: train)
            }
            kmeansWeight = 0
            if let ks = config.kmeansStart, stepsTaken < ks.steps, let kt = kmeansTargets, pseudo == nil, semi == nil {
                targets = own.map { kt[$0] }
                kmeansWeight = ks.weight
                kmeansShare = 1
                if dp != nil {
                    // Every process has the whole order and the targets: the global count is known.
                    let local = targets!.filter { $0 >= 0 }.count
                    let global = order[start..<end].filter { kt[$0] >= 0 }.count
                    kmeansShare = global > 0 ? Float(local) / Float(global) : 0
                }
            }
            stepsTaken += 1
            let (r, z, rows) = step(x, parents: parents, targets: targets, shard: shard)
            // Each head's objective (the model's first).
            let headLosses = [r.loss] + extraResults.map(\.result.loss)
            if headLossSums.isEmpty { headLossSums = [Double](repeating: 0, count: headLosses.count) }
            for (h, l) in headLosses.enumerated() { headLossSums[h] += l }
            lossSum += r.loss; affSum += r.affinity; balSum += r.balance; batches += 1
            correct += r.correctParents; seen += rows?.globalRows ?? z.rows
            for (h, e) in extraResults.enumerated() {
                extraAff[h] += e.result.affinity; extraBal[h] += e.result.balance; extraCorrect[h] += e.result.correctParents
                if pseudo == nil { record(e.z, own, into: &extraAssignments[h]) }
            }
            if pseudo == nil { record(z, own, into: &assignments) }
            start = end
            onBatch?(start, train.count)
        }
        // Several heads: the one with the lowest mean objective over the epoch becomes the model's
        // head (every process sums the same global losses, so all choose the same), and the
        // epoch's figures are its own.
        if headLossSums.count > 1, let best = headLossSums.indices.min(by: { headLossSums[$0] < headLossSums[$1] }) {
            if best > 0 {
                model.network.promoteHead(best - 1)
                affSum = extraAff[best - 1]; balSum = extraBal[best - 1]; correct = extraCorrect[best - 1]
                if pseudo == nil { assignments = extraAssignments[best - 1] }
            }
            chosenHeads.append(best)
            lossSum = headLossSums[best]
        }
        if let dp {
            // Each image's cluster was found by the one process that held it: sum (others hold 0).
            var all = assignments.map(Double.init)
            dp.reduction.sum(&all)
            assignments = all.map { Int($0.rounded()) }
        }
        let chosen = headLossSums.count > 1 ? chosenHeads.last : nil
        lastEpochHeadLosses = headLossSums.map { $0 / Double(max(batches, 1)) }
        var rec = EpochRecord(epoch: epoch, loss: lossSum / Double(max(batches, 1)),
                              parentAccuracy: head.parents > 1 ? Double(correct) / Double(max(seen, 1)) : 1,
                              affinity: affSum / Double(max(batches, 1)), balance: balSum / Double(max(batches, 1)),
                              seconds: 0)
        if pseudo == nil, let fine = train.fineLabels, !fine.isEmpty {
            let t = ClusterMetrics.compactContingency(assignments: assignments, labels: fine, clusters: head.nodes).table
            rec.purity = ClusterMetrics.purity(t)
            rec.nmi = ClusterMetrics.nmi(t)
            rec.hungarianAccuracy = ClusterMetrics.hungarianAccuracy(t)
            rec.clustersUsed = ClusterMetrics.clustersUsed(t)
        }
        rec.head = chosen
        rec.seconds = Date().timeIntervalSince(started)
        return rec
    }

    /// After which epochs `fit` scores the test split: every `scoringStride(epochs:)`-th and the
    /// last, so at most 50 times in a run (every epoch up to 50 epochs).
    public static func scoringStride(epochs: Int) -> Int { max(1, (epochs + 49) / 50) }

    /// k-means on F of `set` (untransformed, inference mode) with the unsupervised settings.
    public func clusterFeatures(of set: ImageSet, restarts: Int? = nil) throws -> KMeans {
        guard let pseudo = config.pseudoParents else {
            throw ACOLError.invalidSettings("k-means on F is the unsupervised mode's step; this training has no pseudo-parents")
        }
        let f = model.features(set)
        return try KMeans.fit(f.data, count: f.rows, dimension: f.columns, k: min(pseudo.clusters, f.rows),
                              options: KMeans.Options(restarts: restarts ?? pseudo.restarts, seed: config.seed,
                                                      projection: pseudo.projection))
    }

    /// Trains for `config.epochs` epochs, scoring `test` after each when given, and records the
    /// history and (when fine labels are known) the cluster mapping in the model.
    @discardableResult
    public func fit(train: ImageSet, test: ImageSet? = nil, fineNames: [String] = [],
                    onBatch: ((Int, Int) -> Void)? = nil,
                    onEpoch: ((EpochRecord) -> Void)? = nil) throws -> [EpochRecord] {
        try validate(train, name: "training set")
        if let test { try validate(test, name: "test set") }
        var records: [EpochRecord] = []
        model.featureClusters = nil
        if config.semiSupervised != nil { try pretrain(train) }
        try prepareKMeansStart(train)
        func score(_ rec: inout EpochRecord, _ test: ImageSet) throws {
            if config.pseudoParents != nil && model.featureClusters == nil {
                // The curve of the unsupervised mode: k-means on the test split's own F; the
                // final model's centroids come from the training split.
                model.featureClusters = try clusterFeatures(of: test)
                defer { model.featureClusters = nil }
                let ev = Evaluator.evaluate(model, on: test, fineNames: fineNames)
                rec.testPurity = ev.purity; rec.testNMI = ev.nmi; rec.testHungarianAccuracy = ev.hungarianAccuracy
                return
            }
            let ev = Evaluator.evaluate(model, on: test, fineNames: fineNames)
            rec.testParentAccuracy = ev.parentAccuracy
            rec.testPurity = ev.purity
            rec.testNMI = ev.nmi
            rec.testHungarianAccuracy = ev.hungarianAccuracy
            if let semi = config.semiSupervised, let fine = test.fineLabels {
                rec.testAccuracy = Evaluator.classAccuracy(assignments: ev.assignments, fine: fine, classes: semi.classes)
            }
        }
        // The test split is scored after at most 50 epochs of a run (every stride-th and the
        // last): a small training set gets many short epochs, and scoring a large test split
        // after each would take most of the time.
        let epochs = max(config.epochs, 1)
        let stride = Self.scoringStride(epochs: epochs)
        for e in 1...epochs {
            if shouldStop() { break }
            let started = Date()
            var rec = trainEpoch(train, epoch: e, onBatch: onBatch)
            // Diverged weights only give NaN from here on: stop, and save nothing.
            if !rec.loss.isFinite { throw ACOLError.diverged(epoch: e, loss: rec.loss) }
            if let test, e % stride == 0 || e == epochs, test.fineLabels != nil || config.pseudoParents == nil,
               dataParallel?.isRoot ?? true { try score(&rec, test) }
            rec.seconds = Date().timeIntervalSince(started)
            records.append(rec)
            model.history.append(rec)
            onEpoch?(rec)
        }
        if config.pseudoParents != nil && !records.isEmpty {
            // The clusters: k-means on F of the untransformed training images; the last epoch's
            // test figures become those of the final model (nearest centroid).
            model.featureClusters = try clusterFeatures(of: train)
            if let test, test.fineLabels != nil {
                var last = records.removeLast()
                try score(&last, test)
                records.append(last)
                model.history[model.history.count - 1] = last
            }
        }
        // The cluster mapping, from the test split when labelled, else the training split.
        let mapSet = (test?.fineLabels != nil) ? test! : train
        if mapSet.fineLabels != nil && dataParallel?.isRoot ?? true {
            model.clusters = Evaluator.evaluate(model, on: mapSet, fineNames: fineNames).clusters
        }
        model.settings = TrainingSettings(optimizer: config.optimizer, batchSize: config.batchSize,
                                          epochs: records.count, seed: config.seed,
                                          datasetFile: config.datasetFile, datasetSHA256: config.datasetSHA256,
                                          consistency: config.consistency, heads: config.heads, kmeansStart: config.kmeansStart,
                                          pseudoParents: config.pseudoParents, semiSupervised: config.semiSupervised)
        return records
    }
}
