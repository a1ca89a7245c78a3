import Foundation
import Testing
@testable import ACOL

/// Several heads on the same features (`TrainConfig.heads`, `Network.extraHeads`).
@Suite struct ExtraHeadsTests {
    /// The network with one extra head, against central differences of L = objective(Z) +
    /// objective(Z'), Z' the extra head's output: each head's parameters get dL/dθ (its own
    /// objective's gradient), the shared body and head BatchNorm the gradient of the mean, dL/dθ / 2.
    @Test func gradientWithAnExtraHead() throws {
        let net = try Network(spec: NetworkTests.smallSpec, seed: 21)
        net.setExtraHeads(1, seed: 9)
        let (objective, x, parents) = NetworkTests.gradientCase(net)
        let m = x.rows
        func loss() -> Double {
            var rng = SeededGenerator(seed: 1)
            let z = net.forward(x, training: true, rng: &rng).z
            let z2 = net.extraLogits()[0]
            return objective.evaluate(z: z, parents: parents, gradient: false).loss
                + objective.evaluate(z: z2, parents: parents, gradient: false).loss
        }
        var rng = SeededGenerator(seed: 1)
        let z = net.forward(x, training: true, rng: &rng).z
        let z2 = net.extraLogits()
        #expect(z2.count == 1 && z2[0].shape == [m, 6])
        #expect(z2[0].data != z.data)   // another head, other weights
        let r = objective.evaluate(z: z, parents: parents, gradient: true)
        let r2 = objective.evaluate(z: z2[0], parents: parents, gradient: true)
        net.backward(dZ: Tensor(shape: z.shape, data: r.dZ), extraDZ: [Tensor(shape: z.shape, data: r2.dZ)], shard: nil)
        let params = net.namedParameters.filter { $0.parameter.trainable && !$0.name.hasSuffix("04_dense/bias") }
            + net.extraHeads[0].parameters.map { (name: "extra/" + $0.name, parameter: $0) }
        let analytic = params.map { n, p in
            p.grad.map { Double($0) * (n.hasPrefix("head/dense") || n.hasPrefix("extra") ? 1 : 2) }
        }
        let check = GradientCheck(rtol: 1e-2, atol: 1e-3, normTolerance: 1e-2)
        for ((name, p), grad) in zip(params, analytic) {
            let numeric = GradientCheck.numericWithKinks(count: p.value.count, get: { p.value[$0] },
                                                         set: { p.value[$0] = $1 }, h: 1e-3) { loss() }
            check.compare(analytic: grad, numeric: numeric, maxSkipped: 0.2, "two heads: \(name)")
        }
        // Extra heads are not the model's: not in the named (saved) tensors.
        #expect(!net.namedParameters.contains { $0.name.hasPrefix("extra") })
        #expect(net.namedParameters.count == (try Network(spec: NetworkTests.smallSpec, seed: 21)).namedParameters.count)
    }

    @Test func promoteSwapsWeightsAndOptimiserState() throws {
        let net = try Network(spec: NetworkTests.smallSpec, seed: 21)
        net.setExtraHeads(2, seed: 9)
        let own = net.headDense.kernel.value, other = net.extraHeads[1].kernel.value
        net.headDense.kernel.slots = [[1, 2]]
        net.promoteHead(1)
        #expect(net.headDense.kernel.value == other && net.extraHeads[1].kernel.value == own)
        #expect(net.extraHeads[1].kernel.slots == [[1, 2]] && net.headDense.kernel.slots.isEmpty)
    }

    /// With three heads, after each epoch the head with the lowest mean objective is the model's,
    /// the record names it and carries its loss; the settings say 3 heads; one head trains as before.
    @Test func theLowestObjectiveHeadBecomesTheModels() throws {
        func trainer(heads: Int) throws -> Trainer {
            let spec = NetworkSpec(inputShape: [6, 6, 1],
                                   layers: [.conv2d(2), .relu, .maxPool2d(2), .flatten, .dense(8), .relu],
                                   head: ACOLHeadSpec(parents: 2, k: 2))
            let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                                  preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
            var config = TrainConfig(epochs: 3, batchSize: 6, seed: 1)
            config.heads = heads
            return Trainer(model: model, config: config)
        }
        let set = NetworkTests.tinySet()
        let t = try trainer(heads: 3)
        #expect(t.model.network.extraHeads.count == 2)
        // The model's own head starts far off (weights x 40, saturated softmax), so another head
        // must win the first epoch.
        for i in t.model.network.headDense.kernel.value.indices { t.model.network.headDense.kernel.value[i] *= 40 }
        var seen: [[Double]] = []
        var kernels: [[Float]] = []   // every head's kernel after the epoch's last step, by slot
        try t.fit(train: set, onBatch: { done, total in
            if done == total { kernels = [t.model.network.headDense.kernel.value] + t.model.network.extraHeads.map(\.kernel.value) }
        }, onEpoch: { rec in
            seen.append(t.lastEpochHeadLosses)
            // The chosen head's weights are now the model's.
            #expect(t.model.network.headDense.kernel.value == kernels[rec.head!])
        })
        #expect(t.model.settings?.heads == 3)
        #expect(t.model.history.first?.head != 0)
        for (rec, losses) in zip(t.model.history, seen) {
            #expect(losses.count == 3)
            let best = losses.indices.min { losses[$0] < losses[$1] }!
            #expect(rec.head == best)
            #expect(abs(rec.loss - losses[best]) < 1e-12)
            #expect(rec.purity != nil)
        }
        #expect(t.chosenHeads == t.model.history.map { $0.head! })
        // Trained again with one head, the same network loses the extra heads.
        let again1 = Trainer(model: t.model, config: TrainConfig(epochs: 1, batchSize: 6, seed: 1))
        #expect(again1.model.network.extraHeads.isEmpty)
        try again1.fit(train: set)
        #expect(again1.model.history.last?.head == nil)
        let one = try trainer(heads: 1), again = try trainer(heads: 1)
        try one.fit(train: set); try again.fit(train: set)
        #expect(one.model.history.allSatisfy { $0.head == nil })
        #expect(one.model.network.stateTensors() == again.model.network.stateTensors())
        #expect(one.model.network.stateTensors() != t.model.network.stateTensors())
    }

    /// The epoch's training figures are the chosen head's: with learning rate 0 nothing moves,
    /// the model's own head starts far off (weights x 40) so the other head wins, and the record's
    /// training purity and clusters used are those of the chosen head's argmax on the images.
    @Test func theRecordDescribesTheChosenHead() throws {
        let spec = NetworkSpec(inputShape: [6, 6, 1], layers: [.conv2d(2), .relu, .maxPool2d(2), .flatten, .dense(8), .relu],
                               head: ACOLHeadSpec(parents: 2, k: 2, batchNormBeforeZ: false))
        let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                              preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        var config = TrainConfig(epochs: 1, batchSize: 20, optimizer: OptimizerConfig(kind: .sgd, learningRate: 0), seed: 1)
        config.heads = 2
        let t = Trainer(model: model, config: config)
        for i in model.network.headDense.kernel.value.indices { model.network.headDense.kernel.value[i] *= 40 }
        let set = NetworkTests.tinySet()
        let own = model.logits(set)   // the model's head before training
        let records = try t.fit(train: set)
        #expect(records[0].head == 1)
        // The images' clusters under the model's head, which is now the chosen one.
        func figures(_ z: Tensor) -> (purity: Double, used: Int) {
            let a = (0..<z.rows).map { i in (0..<z.columns).max { z.data[i * z.columns + $0] < z.data[i * z.columns + $1] }! }
            let table = ClusterMetrics.compactContingency(assignments: a, labels: set.fineLabels!, clusters: z.columns).table
            return (ClusterMetrics.purity(table), ClusterMetrics.clustersUsed(table))
        }
        let chosen = figures(model.logits(set)), first = figures(own)
        #expect(records[0].purity == chosen.purity && records[0].clustersUsed == chosen.used)
        #expect(chosen != first)   // else the check above could not tell the heads apart
        #expect(records[0].loss == t.lastEpochHeadLosses[1])
    }

    /// Settings the library refuses: no head, more than `ACOLLimits.maxHeads`, several heads in
    /// the unsupervised mode (whose clusters come from k-means on F).
    @Test func headCountsOutsideTheLimitsAreRefused() throws {
        let set = NetworkTests.tinySet()
        for (heads, pseudo) in [(0, false), (ACOLLimits.maxHeads + 1, false), (2, true)] {
            let spec = NetworkSpec(inputShape: [6, 6, 1], layers: [.flatten, .dense(8), .relu],
                                   head: ACOLHeadSpec(parents: pseudo ? 2 : 2, k: 2))
            let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                                  preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
            var config = TrainConfig(epochs: 1, batchSize: 6, seed: 1)
            config.heads = heads
            if pseudo {
                config.pseudoParents = PseudoParentConfig(transforms: [PseudoTransform(quarterTurns: 0, flip: false),
                                                                       PseudoTransform(quarterTurns: 1, flip: false)], clusters: 2)
            }
            let t = Trainer(model: model, config: config)
            #expect(throws: ACOLError.self) { try t.fit(train: set) }
            #expect(model.history.isEmpty)
        }
    }

    /// Semi-supervised pretraining teaches every head the labelled examples, not the model's alone.
    @Test func pretrainingTrainsEveryHead() throws {
        let spec = NetworkSpec(inputShape: [6, 6, 1], layers: [.flatten, .dense(8), .relu], head: ACOLHeadSpec(parents: 1, k: 4))
        let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: Recipe.semiSupervised.gar,
                              preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        var config = TrainConfig(epochs: 1, batchSize: 6, seed: 1)
        config.heads = 3
        config.semiSupervised = SemiSupervisedConfig(labelled: 8, classes: [0, 1, 2, 3], pretrainSteps: 5)
        let t = Trainer(model: model, config: config)
        let before = [model.network.headDense.kernel.value] + model.network.extraHeads.map(\.kernel.value)
        try t.pretrain(NetworkTests.tinySet())
        let after = [model.network.headDense.kernel.value] + model.network.extraHeads.map(\.kernel.value)
        #expect(after.count == 3)
        for (b, a) in zip(before, after) { #expect(a != b) }
    }
}
