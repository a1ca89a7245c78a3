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
    /// The data set's file name and SHA-256, recorded in the model's settings (nil: unknown).
    public var datasetFile: String?
    public var datasetSHA256: String?

    public init(epochs: Int = Recipe.epochs, batchSize: Int = Recipe.batchSize, optimizer: OptimizerConfig = Recipe.optimizer,
                seed: UInt64 = 1, consistency: ConsistencyConfig? = Recipe.consistency) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer; self.seed = seed
        self.consistency = consistency
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
    public let dataParallel: DataParallel?

    public init(model: ACOLModel, config: TrainConfig, dataParallel: DataParallel? = nil) {
        self.model = model; self.config = config; self.dataParallel = dataParallel
        objective = ACOLObjective(head: model.head, gar: model.gar)
        optimizer = Optimizer(config.optimizer)
        rng = SeededGenerator(seed: config.seed &+ 0x5EED)
        model.network.computesInputGradient = false
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
        if model.head.parents > 1 {
            guard let c = set.coarseLabels else {
                throw ACOLError.invalidData("\(name) has no coarse (parent) labels and the model has \(model.head.parents) parents")
            }
            if let bad = c.first(where: { $0 < 0 || Int($0) >= model.head.parents }) {
                throw ACOLError.invalidData("\(name): parent label \(bad) is outside 0..<\(model.head.parents)")
            }
        }
    }

    /// One epoch over `train` in a seeded random order. `onBatch(done, total)` reports progress.
    public func trainEpoch(_ train: ImageSet, epoch: Int, onBatch: ((Int, Int) -> Void)? = nil) -> EpochRecord {
        let started = Date()
        var order = Array(0..<train.count)
        order.shuffle(using: &rng)
        let bs = config.batchSize
        let head = model.head
        var lossSum = 0.0, affSum = 0.0, balSum = 0.0, batches = 0, correct = 0, seen = 0
        var assignments = [Int](repeating: 0, count: train.count)
        let params = model.network.namedParameters.map(\.parameter).filter(\.trainable)
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
            let idx = Array(order[(start + mine.lowerBound)..<(start + mine.upperBound)])
            let batch = train.subset(idx)
            var x = batch.tensor(0..<batch.count, scale: model.preprocessing.scale, offset: model.preprocessing.offset)
            var parents = head.parents > 1 ? batch.coarseLabels : nil
            // The rows the network sees: the images, or both views of them.
            var rows = shard
            if let cons = config.consistency, cons.views != .single {
                // Two views of each image in one batch: rows 0..<m and m..<2m.
                let second = cons.augmentation.apply(x, rng: &rng, shard: shard)
                let first = cons.views == .cleanAugmented ? x : cons.augmentation.apply(x, rng: &rng, shard: shard)
                x = Tensor(shape: [2 * x.shape[0]] + x.shape.dropFirst(), data: first.data + second.data)
                parents = parents.map { $0 + $0 }
                rows = shard?.stackedTwice()
            }
            let (_, z) = model.network.forward(x, training: true, rng: &rng, shard: rows)
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
            model.network.backward(dZ: Tensor(shape: z.shape, data: r.dZ), shard: rows)
            dp?.sumGradients(params)
            optimizer.update(params)
            lossSum += r.loss; affSum += r.affinity; balSum += r.balance; batches += 1
            correct += r.correctParents; seen += rows?.globalRows ?? z.rows
            let n = head.nodes
            z.data.withUnsafeBufferPointer { zp in
                for (o, i) in idx.enumerated() {
                    var best = 0
                    for j in 1..<n where zp[o * n + j] > zp[o * n + best] { best = j }
                    assignments[i] = best
                }
            }
            start = end
            onBatch?(start, train.count)
        }
        if let dp {
            // Each image's cluster was found by the one process that held it: sum (others hold 0).
            var all = assignments.map(Double.init)
            dp.reduction.sum(&all)
            assignments = all.map { Int($0.rounded()) }
        }
        var rec = EpochRecord(epoch: epoch, loss: lossSum / Double(max(batches, 1)),
                              parentAccuracy: head.parents > 1 ? Double(correct) / Double(max(seen, 1)) : 1,
                              affinity: affSum / Double(max(batches, 1)), balance: balSum / Double(max(batches, 1)),
                              seconds: 0)
        if let fine = train.fineLabels, !fine.isEmpty {
            let t = ClusterMetrics.compactContingency(assignments: assignments, labels: fine, clusters: head.nodes).table
            rec.purity = ClusterMetrics.purity(t)
            rec.nmi = ClusterMetrics.nmi(t)
            rec.hungarianAccuracy = ClusterMetrics.hungarianAccuracy(t)
            rec.clustersUsed = ClusterMetrics.clustersUsed(t)
        }
        rec.seconds = Date().timeIntervalSince(started)
        return rec
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
        for e in 1...max(config.epochs, 1) {
            if shouldStop() { break }
            let started = Date()
            var rec = trainEpoch(train, epoch: e, onBatch: onBatch)
            if let test, dataParallel?.isRoot ?? true {
                let ev = Evaluator.evaluate(model, on: test, fineNames: fineNames)
                rec.testParentAccuracy = ev.parentAccuracy
                rec.testPurity = ev.purity
                rec.testNMI = ev.nmi
                rec.testHungarianAccuracy = ev.hungarianAccuracy
            }
            rec.seconds = Date().timeIntervalSince(started)
            records.append(rec)
            model.history.append(rec)
            onEpoch?(rec)
        }
        // The cluster mapping, from the test split when labelled, else the training split.
        let mapSet = (test?.fineLabels != nil) ? test! : train
        if mapSet.fineLabels != nil && dataParallel?.isRoot ?? true {
            model.clusters = Evaluator.evaluate(model, on: mapSet, fineNames: fineNames).clusters
        }
        model.settings = TrainingSettings(optimizer: config.optimizer, batchSize: config.batchSize,
                                          epochs: records.count, seed: config.seed,
                                          datasetFile: config.datasetFile, datasetSHA256: config.datasetSHA256,
                                          consistency: config.consistency)
        return records
    }
}
