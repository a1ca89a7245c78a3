import Foundation
import Testing
@testable import ACOL
import ACOLDatasets

/// The unsupervised mode (pseudo-parents, k-means on F) and the semi-supervised mode (labelled
/// examples, node cross-entropy): the pieces against direct computations, then both modes end to
/// end on the MNIST fixture.
@Suite struct ModesTests {
    /// numpy's rot90 (counter-clockwise) and fliplr on a 2 x 3 x 1 and a 3 x 3 x 2 image.
    @Test func transformsMatchNumpy() {
        // [[1, 2, 3], [4, 5, 6]]: rot180 = [[6, 5, 4], [3, 2, 1]]; fliplr = [[3, 2, 1], [6, 5, 4]].
        let x = Tensor(shape: [1, 2, 3, 1], data: [1, 2, 3, 4, 5, 6])
        func apply(_ t: PseudoTransform, _ x: Tensor) -> [Float] {
            PseudoParentConfig(transforms: [t], clusters: 1).apply(x, labels: [Int32](repeating: 0, count: x.shape[0])).data
        }
        #expect(apply(PseudoTransform(quarterTurns: 2, flip: false), x) == [6, 5, 4, 3, 2, 1])
        #expect(apply(PseudoTransform(quarterTurns: 0, flip: true), x) == [3, 2, 1, 6, 5, 4])
        // np.fliplr(np.rot90(a, 2)) = [[4, 5, 6], [1, 2, 3]]
        #expect(apply(PseudoTransform(quarterTurns: 2, flip: true), x) == [4, 5, 6, 1, 2, 3])
        // Square, two channels: channel c of pixel (i, j) = 10 * (3 i + j) + c.
        let sq = Tensor(shape: [1, 3, 3, 2], data: (0..<9).flatMap { p in [Float(10 * p), Float(10 * p + 1)] })
        // np.rot90([[0,1,2],[3,4,5],[6,7,8]]) = [[2,5,8],[1,4,7],[0,3,6]]
        let r90 = apply(PseudoTransform(quarterTurns: 1, flip: false), sq)
        #expect(stride(from: 0, to: 18, by: 2).map { Int(r90[$0]) / 10 } == [2, 5, 8, 1, 4, 7, 0, 3, 6])
        #expect(stride(from: 1, to: 18, by: 2).map { Int(r90[$0]) % 10 } == [Int](repeating: 1, count: 9))
        // np.rot90(a, 3) = [[6,3,0],[7,4,1],[8,5,2]]
        let r270 = apply(PseudoTransform(quarterTurns: 3, flip: false), sq)
        #expect(stride(from: 0, to: 18, by: 2).map { Int(r270[$0]) / 10 } == [6, 3, 0, 7, 4, 1, 8, 5, 2])
        // np.fliplr(np.rot90(a, 1)) = [[8,5,2],[7,4,1],[6,3,0]]
        let f90 = apply(PseudoTransform(quarterTurns: 1, flip: true), sq)
        #expect(stride(from: 0, to: 18, by: 2).map { Int(f90[$0]) / 10 } == [8, 5, 2, 7, 4, 1, 6, 3, 0])
        // Four quarter turns are the identity.
        var y = sq
        for _ in 0..<4 { y = Tensor(shape: y.shape, data: apply(PseudoTransform(quarterTurns: 1, flip: false), y)) }
        #expect(y == sq)
    }

    /// 8 transforms on square images, 4 (no odd quarter turns) on others; a config with a quarter
    /// turn on non-square images, a repeat or no clusters is refused.
    @Test func standardTransformsAndValidation() throws {
        let sq = PseudoTransform.standard(height: 28, width: 28)
        #expect(sq.count == 8 && Set(sq).count == 8)
        #expect(sq.map(\.name).first == "rot0" && sq.map(\.name).last == "flip-rot270")
        let wide = PseudoTransform.standard(height: 28, width: 32)
        #expect(wide.count == 4 && wide.allSatisfy { $0.quarterTurns % 2 == 0 })
        try PseudoParentConfig(transforms: wide, clusters: 10).validate(height: 28, width: 32)
        #expect(throws: ACOLError.self) { try PseudoParentConfig(transforms: sq, clusters: 10).validate(height: 28, width: 32) }
        #expect(throws: ACOLError.self) { try PseudoParentConfig(transforms: [sq[0], sq[0]], clusters: 10).validate(height: 28, width: 28) }
        #expect(throws: ACOLError.self) { try PseudoParentConfig(transforms: sq, clusters: 0).validate(height: 28, width: 28) }
        // Draws cover every transform and are reproducible.
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let c = PseudoParentConfig(transforms: sq, clusters: 10)
        let a = c.draw(400, rng: &g1)
        #expect(a == c.draw(400, rng: &g2))
        #expect(Set(a) == Set((0..<8).map(Int32.init)))
    }

    /// The node cross-entropy: value against a direct computation, rows without a label ignored,
    /// dZ against finite differences.
    @Test func nodeCrossEntropyValueAndFiniteDifferences() {
        let m = 6, n = 4
        let z = Tensor(shape: [m, n], data: randomValues(m * n, seed: 17, lo: -2, hi: 2))
        let t: [Int32] = [2, -1, 0, 3, -1, 1]
        let r = NodeCrossEntropy.evaluate(z: z, targets: t, weight: 0.8, gradient: true)
        var expected = 0.0
        for i in 0..<m where t[i] >= 0 {
            let row = (0..<n).map { Double(z.data[i * n + $0]) }
            let lse = Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +))
            expected += lse - row[Int(t[i])]
        }
        #expect(r.labelled == 4)
        expectClose(r.loss, 0.8 * expected / 4, "node cross-entropy")
        for i in [1, 4] { #expect(r.dZ[(i * n)..<(i * n + n)].allSatisfy { $0 == 0 }) }
        var zz = z
        let numeric = GradientCheck.numeric(count: zz.count, get: { zz.data[$0] }, set: { zz.data[$0] = $1 }, h: 1e-3) {
            NodeCrossEntropy.evaluate(z: zz, targets: t, weight: 0.8, gradient: false).loss
        }
        GradientCheck(rtol: 1e-3, atol: 1e-4, normTolerance: 1e-3)
            .compare(analytic: r.dZ.map(Double.init), numeric: numeric, "node cross-entropy dZ")
        #expect(NodeCrossEntropy.evaluate(z: z, targets: [Int32](repeating: -1, count: m), weight: 1, gradient: true).loss == 0)
    }

    /// Node = class accuracy: node j counts as class classes[j]; a node outside the classes or
    /// mismatched lengths give nil rather than a wrong figure.
    @Test func classAccuracy() {
        let classes: [Int32] = [3, 7, 9]
        #expect(Evaluator.classAccuracy(assignments: [0, 1, 2, 2], fine: [3, 7, 9, 7], classes: classes) == 0.75)
        #expect(Evaluator.classAccuracy(assignments: [1, 0], fine: [3, 7], classes: classes) == 0)
        #expect(Evaluator.classAccuracy(assignments: [0, 3], fine: [3, 7], classes: classes) == nil)
        #expect(Evaluator.classAccuracy(assignments: [0], fine: [3, 7], classes: classes) == nil)
        #expect(Evaluator.classAccuracy(assignments: [], fine: [], classes: classes) == nil)
    }

    /// The labelled examples: N spread over the classes (one more for the first N mod C), each of
    /// its class, reproducible; too few examples of a class or N < C refused.
    @Test func labelledChoice() throws {
        let fine: [Int32] = (0..<300).map { Int32($0 % 3) }
        let c = SemiSupervisedConfig(labelled: 10, classes: [0, 1, 2])
        var g = SeededGenerator(seed: 3)
        let chosen = try c.chooseLabelled(fine: fine, rng: &g)
        #expect(chosen.count == 10 && Set(chosen).count == 10)
        let per = (0..<3).map { k in chosen.filter { fine[$0] == Int32(k) }.count }
        #expect(per == [4, 3, 3])
        var g2 = SeededGenerator(seed: 3)
        #expect(try c.chooseLabelled(fine: fine, rng: &g2) == chosen)
        #expect(throws: ACOLError.self) {
            var g = SeededGenerator(seed: 1)
            _ = try SemiSupervisedConfig(labelled: 2, classes: [0, 1, 2]).chooseLabelled(fine: fine, rng: &g)
        }
        #expect(throws: ACOLError.self) {
            var g = SeededGenerator(seed: 1)
            _ = try SemiSupervisedConfig(labelled: 9, classes: [0, 1, 2, 7]).chooseLabelled(fine: fine, rng: &g)
        }
    }

    /// Nearest centroid with the runner-up distance: the second is never nearer than the first,
    /// and both match a direct computation.
    @Test func nearestWithRunnerUp() {
        let d = 3, k = 4, m = 50
        let c = randomValues(k * d, seed: 8, lo: -3, hi: 3), x = randomValues(m * d, seed: 9, lo: -3, hi: 3)
        let km = KMeans(centroids: c, k: k, dimension: d)
        let (a, d1, d2) = km.assignWithRunnerUp(x, count: m)
        for i in 0..<m {
            let dist = (0..<k).map { j in (0..<d).map { t in Double(x[i * d + t] - c[j * d + t]) }.map { $0 * $0 }.reduce(0, +) }
            let sorted = dist.sorted()
            #expect(a[i] == dist.firstIndex(of: sorted[0]))
            expectClose(Double(d1[i]), sorted[0], rel: 1e-4, floor: 1e-4, "nearest")
            expectClose(Double(d2[i]), sorted[1], rel: 1e-4, floor: 1e-4, "runner-up")
        }
    }

    static func fixture() throws -> (train: ImageSet, test: ImageSet) { try EndToEndTrainingTests.load() }

    /// Unsupervised end to end on the fixture (MLP, 8 pseudo-parents x 5): the model learns to
    /// tell the transforms apart (pseudo-parent accuracy well above 1/8), the clusters are the
    /// k-means centroids of the training images' F, prediction is by nearest centroid, and the
    /// clusters carry information about the digits (NMI well above 0) though no label was used.
    @Test func unsupervisedEndToEnd() throws {
        let (train, test) = try Self.fixture()
        let transforms = PseudoTransform.standard(height: 28, width: 28)
        let spec = try Presets.spec("mlp", inputShape: [28, 28, 1], parents: transforms.count, k: 5, hidden: 256)
        let model = ACOLModel(network: try Network(spec: spec, seed: 2), gar: Recipe.unsupervised.gar,
                              preprocessing: Preprocessing(height: 28, width: 28, channels: 1),
                              parentNames: transforms.map(\.name))
        // The mode's default two views (each image's pseudo-parent transform, then an augmented copy).
        var config = TrainConfig(epochs: 6, batchSize: 200, optimizer: .adamDefault, seed: 2, consistency: Recipe.unsupervised.consistency)
        config.pseudoParents = PseudoParentConfig(transforms: transforms, clusters: 10, restarts: 2)
        let trainer = Trainer(model: model, config: config)
        let records = try trainer.fit(train: train, test: test)
        // Chance is 1/8; 90 steps of an mlp on two views reach about 0.36.
        #expect(records.last!.parentAccuracy > 0.25, "pseudo-parent accuracy \(records.last!.parentAccuracy)")
        let km = try #require(model.featureClusters)
        #expect(km.k == 10 && km.dimension == 256)
        #expect(model.outputHead.nodes == 10 && model.outputParentNames == ["all"] && !model.predictsParents)
        let preds = model.predict(test)
        let direct = km.assign(model.features(test).data, count: test.count).cluster
        #expect(preds.map(\.cluster) == direct)
        #expect(preds.allSatisfy { $0.parent == 0 && $0.confidence >= 0.5 && $0.confidence <= 1 })
        let ev = Evaluator.evaluate(model, on: test)
        #expect(ev.parentAccuracy == nil)
        #expect(ev.clusters.count == 10)
        #expect((ev.nmi ?? 0) > 0.15, "unsupervised NMI \(ev.nmi ?? 0)")   // random clusters: about 0.01
        // The last epoch's test figures are those of the final model.
        #expect(model.history.last!.testHungarianAccuracy == ev.hungarianAccuracy)
        #expect(model.settings?.pseudoParents == config.pseudoParents)
    }

    /// The semi-supervised tests' network: MLP (256 hidden units), 1 parent x 10 nodes, seed 4.
    static func semiSupervisedModel(gar: GARConfig) throws -> ACOLModel {
        let spec = try Presets.spec("mlp", inputShape: [28, 28, 1], parents: 1, k: 10, hidden: 256)
        return ACOLModel(network: try Network(spec: spec, seed: 4), gar: gar,
                         preprocessing: Preprocessing(height: 28, width: 28, channels: 1))
    }

    /// Semi-supervised end to end on the fixture, the authors' procedure (MLP, 1 parent x 10
    /// nodes, 50 labels, pretraining, then GAR with c_a 3 on one view): node j is digit j (the
    /// node = class accuracy is the Hungarian one), far above chance, and the GAR phase keeps
    /// what the pretraining gave (on 3,000 images it adds little: docs/training.md).
    @Test func semiSupervisedEndToEnd() throws {
        let (train, test) = try Self.fixture()
        func model() throws -> ACOLModel { try Self.semiSupervisedModel(gar: Recipe.semiSupervisedPaper.gar) }
        var config = TrainConfig(epochs: 4, batchSize: 128, optimizer: .sgdReference, seed: 4, consistency: nil)
        config.semiSupervised = SemiSupervisedConfig(labelled: 50, classes: Array(0..<10), pretrainSteps: 300)
        let pre = try model()
        let preTrainer = Trainer(model: pre, config: config)
        try preTrainer.pretrain(train)
        pre.settings = TrainingSettings(optimizer: config.optimizer, batchSize: 128, epochs: 0, seed: 4,
                                        semiSupervised: config.semiSupervised)
        let pretrained = try #require(Evaluator.evaluate(pre, on: test).accuracy)

        let m = try model()
        let trainer = Trainer(model: m, config: config)
        try trainer.fit(train: train, test: test)
        let labelled = try #require(trainer.labelledIndices)
        #expect(labelled.count == 50)
        for d in 0..<10 { #expect(labelled.filter { train.fineLabels![$0] == Int32(d) }.count == 5) }
        let ev = Evaluator.evaluate(m, on: test)
        let acc = try #require(ev.accuracy)
        #expect(acc > 0.5, "semi-supervised accuracy \(acc)")
        #expect(pretrained > 0.5, "pretraining alone \(pretrained)")
        #expect(acc > pretrained - 0.05, "after GAR \(acc), pretraining alone \(pretrained)")
        #expect(abs(acc - (ev.hungarianAccuracy ?? 0)) < 0.02, "node = class \(acc), Hungarian \(ev.hungarianAccuracy ?? 0)")
    }

    /// The default semi-supervised recipe (the default GAR, the two-view terms, the labelled
    /// rows' cross-entropy, no pretraining) on the fixture with 50 labels: node j is digit j,
    /// and the unlabelled images make it better than a classifier of the 50 labelled images
    /// alone trained for as many steps (the same network, seed and labelled draw).
    @Test func semiSupervisedDefaultRecipeUsesTheUnlabelledImages() throws {
        let (train, test) = try Self.fixture()
        func model() throws -> ACOLModel { try Self.semiSupervisedModel(gar: Recipe.semiSupervised.gar) }
        let d = Recipe.semiSupervised
        #expect(d.pretrainSteps == 0 && d.consistency == Recipe.consistency && d.gar == Recipe.gar)
        var config = TrainConfig(epochs: 6, batchSize: d.batchSize, optimizer: d.optimizer, seed: 4, consistency: d.consistency)
        config.semiSupervised = SemiSupervisedConfig(labelled: 50, classes: Array(0..<10))
        #expect(config.semiSupervised?.pretrainSteps == 0)
        let m = try model()
        let trainer = Trainer(model: m, config: config)
        try trainer.fit(train: train, test: test)
        let ev = Evaluator.evaluate(m, on: test)
        let acc = try #require(ev.accuracy)

        // The labelled images alone, as many steps of 16: 6 epochs of 27 batches (3,000 images,
        // 112 unlabelled a batch, the last one short) = 162 steps of pretraining.
        var alone = config
        alone.semiSupervised = SemiSupervisedConfig(labelled: 50, classes: Array(0..<10), pretrainSteps: 6 * ((3000 + 111) / (d.batchSize - 16)))
        let a = try model()
        try Trainer(model: a, config: alone).pretrain(train)
        a.settings = TrainingSettings(optimizer: config.optimizer, batchSize: 128, epochs: 0, seed: 4, semiSupervised: alone.semiSupervised)
        let supervised = try #require(Evaluator.evaluate(a, on: test).accuracy)
        #expect(acc > 0.6, "semi-supervised accuracy \(acc)")   // 0.72 measured; chance 0.1
        // Each epoch's record has the node = class accuracy on the test split; the last one is
        // the final model's.
        #expect(m.history.count == 6 && m.history.allSatisfy { $0.testAccuracy != nil })
        #expect(m.history.last?.testAccuracy == acc)
        #expect(acc > supervised + 0.05, "semi-supervised \(acc), the 50 labelled images alone \(supervised)")
        #expect(abs(acc - (ev.hungarianAccuracy ?? 0)) < 0.02, "node = class \(acc), Hungarian \(ev.hungarianAccuracy ?? 0)")
    }
}
