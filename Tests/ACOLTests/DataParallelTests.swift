import Foundation
import Testing
@testable import ACOL

// The exact-reduction logic of data-parallel training without MPI: a batch split over two
// "processes" (threads in one address space summing through `InProcessReduction`) must give what
// one process computes on the whole batch: BatchNorm's statistics and gradients, GAR and the
// cross-entropy, the two-view terms, the dropout masks and augmentation draws, and whole training
// steps.

/// Runs body(rank, reduction) on `size` threads at once (the reduction blocks until every rank
/// has contributed, so they must run concurrently) and returns the results in rank order.
func runRanks<T>(_ size: Int, _ body: @escaping (Int, BatchReduction) -> T) -> [T] {
    let group = InProcessReduction(size: size)
    let results = RankResults<T>(size)
    let done = DispatchSemaphore(value: 0)
    for r in 0..<size {
        let t = Thread {
            results.set(r, body(r, group.member(r)))
            done.signal()
        }
        t.stackSize = 8 << 20
        t.start()
    }
    for _ in 0..<size { done.wait() }
    return results.all()
}

/// The ranks' results, written under a lock by the rank threads.
private final class RankResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T?]
    init(_ size: Int) { values = [T?](repeating: nil, count: size) }
    func set(_ r: Int, _ v: T) { lock.lock(); values[r] = v; lock.unlock() }
    func all() -> [T] { lock.lock(); defer { lock.unlock() }; return values.map { $0! } }
}

/// Rows [lo, hi) of a tensor [m, ...].
func rowsOf(_ t: Tensor, _ r: Range<Int>) -> Tensor {
    let per = t.count / max(t.rows, 1)
    return Tensor(shape: [r.count] + t.shape.dropFirst(), data: Array(t.data[(r.lowerBound * per)..<(r.upperBound * per)]))
}

/// Rows of both views of images `r` of a [2M, ...] tensor: [r] then [M + r].
func twoViewRows(_ t: Tensor, _ r: Range<Int>) -> Tensor {
    let m = t.rows / 2
    let a = rowsOf(t, r), b = rowsOf(t, (m + r.lowerBound)..<(m + r.upperBound))
    return Tensor(shape: [a.rows + b.rows] + t.shape.dropFirst(), data: a.data + b.data)
}

func shardOf(_ reduction: BatchReduction, rank: Int, size: Int, rows m: Int) -> BatchShard {
    BatchShard(reduction: reduction, globalRows: m, segments: [(rank * m / size)..<((rank + 1) * m / size)])
}

@Suite struct DataParallelTests {
    /// The in-process reduction sums, and repeated exchanges do not mix.
    @Test func inProcessReductionSums() {
        let out = runRanks(3) { rank, red -> ([Double], [Float]) in
            var d = [Double(rank), 1, 10 * Double(rank)]
            red.sum(&d)
            var f: [Float] = [Float(rank + 1)]
            red.sum(&f)
            var again = [Double(rank)]
            red.sum(&again)
            return (d + again, f)
        }
        for (d, f) in out {
            #expect(d == [3, 3, 30, 3])
            #expect(f == [6])
        }
    }

    @Test func rowsOfEachRankTileTheBatch() throws {
        let red = InProcessReduction(size: 1).member(0)
        for size in 1...5 {
            for m in [size, 7, 128, 129] where m >= size {
                var covered: [Int] = []
                for r in 0..<size { covered += Array(try DataParallel(reduction: red, rank: r, size: size).rows(ofBatch: m)) }
                #expect(covered == Array(0..<m))
            }
        }
        #expect(throws: ACOLError.self) { try DataParallel(reduction: red, rank: 2, size: 2) }
    }

    /// BatchNorm on two halves of a batch, statistics reduced: the whole batch's output, input
    /// gradient and (summed) gamma / beta gradients; without a shard nothing changes.
    @Test func batchNormHalvesEqualWholeBatch() {
        let m = 7, h = 3, w = 2, c = 4
        let x = Tensor(shape: [m, h, w, c], data: randomValues(m * h * w * c, seed: 11, lo: -2, hi: 3))
        let dy = Tensor(shape: x.shape, data: randomValues(x.count, seed: 12))
        let whole = BatchNorm(inputShape: [h, w, c], momentum: 0.9)
        var rng = SeededGenerator(seed: 1)
        let y = whole.forward(x, training: true, rng: &rng)
        let dx = whole.backward(dy)
        let parts = runRanks(2) { rank, red -> ([Float], [Float], [Float], [Float], [Float]) in
            let bn = BatchNorm(inputShape: [h, w, c], momentum: 0.9)
            let shard = shardOf(red, rank: rank, size: 2, rows: m)
            let r = shard.segments[0]
            var g = SeededGenerator(seed: 1)
            let yy = bn.forward(rowsOf(x, r), training: true, rng: &g, shard: shard)
            let dd = bn.backward(rowsOf(dy, r), shard: shard)
            return (yy.data, dd.data, bn.gamma.grad, bn.beta.grad, bn.runningVar.value)
        }
        expectClose(parts[0].0 + parts[1].0, y.data.map(Double.init), floor: 1e-6, "y")
        expectClose(parts[0].1 + parts[1].1, dx.data.map(Double.init), floor: 1e-6, "dx")
        expectClose(zip(parts[0].2, parts[1].2).map { Double($0 + $1) }, whole.gamma.grad.map(Double.init), floor: 1e-6, "dgamma")
        expectClose(zip(parts[0].3, parts[1].3).map { Double($0 + $1) }, whole.beta.grad.map(Double.init), floor: 1e-6, "dbeta")
        for p in parts { expectClose(p.4, whole.runningVar.value.map(Double.init), floor: 1e-6, "running variance") }
    }

    /// The objective on two parts (uneven: 5 and 6 rows) with every GAR variant: the whole batch's
    /// loss, affinity, balance, correct count, and dZ row for row.
    @Test(arguments: [GARConfig(scope: .allNodes, symmetric: false, cF: 1e-3, frobenius: .sum),
                      GARConfig(scope: .perParent, symmetric: true, cF: 1e-3, frobenius: .mean)])
    func objectiveHalvesEqualWholeBatch(gar: GARConfig) {
        let head = ACOLHeadSpec(parents: 3, k: 2, batchNormBeforeZ: false)
        let m = 11, n = head.nodes
        let z = Tensor(shape: [m, n], data: randomValues(m * n, seed: 21, lo: -2, hi: 3))
        let parents = (0..<m).map { Int32($0 % 3) }
        let obj = ACOLObjective(head: head, gar: gar)
        let whole = obj.evaluate(z: z, parents: parents, gradient: true)
        let parts = runRanks(2) { rank, red -> ACOLObjective.Result in
            let shard = shardOf(red, rank: rank, size: 2, rows: m)
            let r = shard.segments[0]
            return obj.evaluate(z: rowsOf(z, r), parents: Array(parents[r]), gradient: true, shard: shard)
        }
        for p in parts {
            expectClose(p.loss, whole.loss, rel: 1e-12, floor: 1e-12, "loss")
            expectClose(p.affinity, whole.affinity, rel: 1e-12, floor: 1e-12, "affinity")
            expectClose(p.balance, whole.balance, rel: 1e-12, floor: 1e-12, "balance")
            expectClose(p.frobenius, whole.frobenius, rel: 1e-12, floor: 1e-12, "frobenius")
            #expect(p.correctParents == whole.correctParents)
        }
        expectClose(parts[0].dZ + parts[1].dZ, whole.dZ.map(Double.init), rel: 1e-6, floor: 1e-7, "dZ")
        // The shard is what makes the difference: a part alone is a different objective.
        let alone = obj.evaluate(z: rowsOf(z, 0..<5), parents: Array(parents[0..<5]), gradient: true)
        #expect(abs(alone.loss - whole.loss) > 1e-3)
    }

    /// Consistency and marginal terms over two views, each process holding both views of its images.
    @Test func twoViewTermsHalvesEqualWholeBatch() {
        let m = 9, n = 6
        let z = Tensor(shape: [2 * m, n], data: randomValues(2 * m * n, seed: 31, lo: -2, hi: 2))
        let c = ConsistencyLoss.evaluate(z: z, weight: 0.7, gradient: true)
        let q = ConsistencyLoss.marginal(z: z, weight: 0.6, gradient: true)
        let parts = runRanks(2) { rank, red -> (ConsistencyLoss.Result, (loss: Double, entropy: Double, dZ: [Float])) in
            let shard = shardOf(red, rank: rank, size: 2, rows: m).stackedTwice()
            let local = twoViewRows(z, shardOf(red, rank: rank, size: 2, rows: m).segments[0])
            return (ConsistencyLoss.evaluate(z: local, weight: 0.7, gradient: true, shard: shard),
                    ConsistencyLoss.marginal(z: local, weight: 0.6, gradient: true, shard: shard))
        }
        for p in parts {
            expectClose(p.0.loss, c.loss, rel: 1e-12, floor: 1e-12, "consistency")
            expectClose(p.0.agreement, c.agreement, rel: 1e-12, floor: 1e-12, "agreement")
            expectClose(p.1.loss, q.loss, rel: 1e-12, floor: 1e-12, "marginal")
        }
        // Reassemble the whole batch's row order: first views of both, then second views.
        func whole(_ a: [Float], _ b: [Float], ma: Int) -> [Double] {
            let mb = m - ma
            return (Array(a[0..<(ma * n)]) + Array(b[0..<(mb * n)]) + Array(a[(ma * n)...]) + Array(b[(mb * n)...])).map(Double.init)
        }
        expectClose(whole(parts[0].0.dZ, parts[1].0.dZ, ma: 4), c.dZ.map(Double.init), rel: 1e-6, floor: 1e-7, "consistency dZ")
        expectClose(whole(parts[0].1.dZ, parts[1].1.dZ, ma: 4), q.dZ.map(Double.init), rel: 1e-6, floor: 1e-7, "marginal dZ")
    }

    /// Dropout and augmentation: each process's rows get exactly the whole batch's draws, and
    /// the generator ends in the same state on every process (odd element counts per row too).
    @Test func randomDrawsFollowTheGlobalRow() {
        let m = 7, per = 5
        let x = Tensor(shape: [2 * m, per], data: randomValues(2 * m * per, seed: 41, lo: 0.5, hi: 1))
        let drop = Dropout(inputShape: [per], rate: 0.5)
        var g = SeededGenerator(seed: 3)
        let y = drop.forward(x, training: true, rng: &g)
        let after = g.next()
        let imgs = Tensor(shape: [m, 6, 5, 1], data: randomValues(m * 30, seed: 42, lo: 0, hi: 1))
        let aug = AffineAugmentation()
        var ga = SeededGenerator(seed: 4)
        let augmented = aug.apply(imgs, rng: &ga)
        let augAfter = ga.next()
        let red = InProcessReduction(size: 1).member(0)   // not called: masks need no reduction
        for size in [2, 3] {
            for rank in 0..<size {
                let shard = shardOf(red, rank: rank, size: size, rows: m)
                let r = shard.segments[0]
                let d = Dropout(inputShape: [per], rate: 0.5)
                var gg = SeededGenerator(seed: 3)
                let yy = d.forward(twoViewRows(x, r), training: true, rng: &gg, shard: shard.stackedTwice())
                #expect(yy.data == twoViewRows(y, r).data, "dropout rows of rank \(rank) of \(size)")
                #expect(gg.next() == after)
                var g2 = SeededGenerator(seed: 4)
                let a = aug.apply(rowsOf(imgs, r), rng: &g2, shard: shard)
                #expect(a.data == rowsOf(augmented, r).data, "augmented images of rank \(rank) of \(size)")
                #expect(g2.next() == augAfter)
            }
        }
    }

    /// Whole training steps: two processes of a data-parallel job (the default recipe's terms:
    /// two views with augmentation, dropout, BatchNorm in the body and before Z, the marginal
    /// term) end with the weights one process reaches on the whole batches; also with a k-means
    /// start on every parent, and on one parent (rows without a target in the batches).
    @Test(arguments: [nil, KMeansStart(steps: 100, weight: 2), KMeansStart(steps: 6, weight: 2, parents: [1])] as [KMeansStart?])
    func twoProcessesTrainLikeOne(start: KMeansStart?) throws {
        func model() throws -> ACOLModel {
            var spec = try Presets.spec("mlp", inputShape: [6, 6, 1], parents: 2, k: 2, batchNormBeforeZ: true,
                                        hidden: 16, blockNorm: true)
            spec.initializer = .glorotUniform
            return ACOLModel(network: try Network(spec: spec, seed: 4), gar: .reference,
                             preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        }
        var g = SeededGenerator(seed: 2)
        let set = ImageSet(count: 45, height: 6, width: 6, channels: 1,
                           pixels: (0..<(45 * 36)).map { _ in UInt8(truncatingIfNeeded: g.next()) },
                           fineLabels: (0..<45).map { Int32($0 % 4) }, coarseLabels: (0..<45).map { Int32($0 % 2) })
        // 45 images at batch 10: 4 full batches and one of 5 per epoch, two epochs.
        var config = TrainConfig(epochs: 2, batchSize: 10, seed: 3,
                                 consistency: ConsistencyConfig(weight: 1, marginalWeight: 2, views: .cleanAugmented))
        config.kmeansStart = start
        let one = try model()
        let trainer = Trainer(model: one, config: config)
        try trainer.fit(train: set)
        let reference = one.network.namedParameters.map(\.parameter.value)
        let results = runRanks(2) { rank, red -> ([[Float]], [EpochRecord]) in
            let m = try! model()
            let t = Trainer(model: m, config: config, dataParallel: try! DataParallel(reduction: red, rank: rank, size: 2))
            try! t.fit(train: set)
            return (m.network.namedParameters.map(\.parameter.value), m.history)
        }
        for (rank, (values, history)) in results.enumerated() {
            for (i, (a, b)) in zip(values, reference).enumerated() {
                let scale = b.map { abs(Double($0)) }.max() ?? 0
                let diff = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
                #expect(diff <= 1e-4 * max(scale, 1e-6), "rank \(rank), tensor \(i): max difference \(diff), scale \(scale)")
            }
            #expect(history.count == 2)
            for (h, r) in zip(history, one.history) {
                expectClose(h.loss, r.loss, rel: 1e-4, "rank \(rank) epoch loss")
                #expect(h.parentAccuracy == r.parentAccuracy)
                #expect(h.purity == r.purity)
            }
        }
        // The step really moved the weights (a test that trained nothing would pass the above).
        let initial = try model().network.namedParameters.map(\.parameter.value)
        #expect(initial != reference)
    }
}
