import Testing
@testable import ACOL

/// The whole network: end-to-end gradient check, determinism, state loading, presets.
@Suite struct NetworkTests {
    /// input [6, 6, 2] -> conv 3 (3 x 3 same) -> ReLU -> pool 2 -> flatten -> dense 8 ->
    /// BatchNorm (head) -> Z (2 parents x 3) -> ACOL objective.
    static let smallSpec = NetworkSpec(inputShape: [6, 6, 2],
                                       layers: [.conv2d(3), .relu, .maxPool2d(2), .flatten, .dense(8)],
                                       head: ACOLHeadSpec(parents: 2, k: 3, batchNormBeforeZ: true))

    /// dLoss/dparameter and dLoss/dx of the whole network against central differences of the
    /// objective's loss, h = 1e-3 on weights and inputs of order 0.1-1 (the Float32 noise of the
    /// loss, ~1e-7 relative, stays near 1e-4 in the gradient). With 648 ReLU inputs and 162 pool
    /// windows some entries' steps cross a kink (a ReLU input through 0, a pool winner switching,
    /// a Z through GAR's max(0, .)); `numericWithKinks` finds those from the loss alone (one-sided
    /// differences disagree) and they are left out, at most 5 % overall.
    /// The gradient checks' objective, six inputs [6, 6, 6, 2] and their parents, for a network of
    /// `smallSpec` whose head BatchNorm scale is set away from 1.
    static func gradientCase(_ net: Network) -> (ACOLObjective, Tensor, [Int32]) {
        net.headNorm!.gamma.value = randomValues(8, seed: 3, lo: 0.5, hi: 1.5)
        let objective = ACOLObjective(head: smallSpec.head,
                                      gar: GARConfig(scope: .allNodes, symmetric: false, cA: 1, cB: 1, cF: 1e-3))
        return (objective, Tensor(shape: [6, 6, 6, 2], data: randomValues(6 * 72, seed: 22)), [0, 1, 1, 0, 0, 1])
    }

    @Test func endToEndGradient() throws {
        let net = try Network(spec: Self.smallSpec, seed: 21)
        #expect(net.layers.count == 5 && net.headNorm != nil)
        // Non-trivial biases and BatchNorm scale / shift.
        for (name, p) in net.namedParameters where name.hasSuffix("bias") || name.hasSuffix("beta") {
            p.value = randomValues(p.value.count, seed: UInt64(p.value.count), lo: -0.2, hi: 0.2)
        }
        let (objective, x, parents) = Self.gradientCase(net)
        let m = x.rows

        func loss(_ input: Tensor) -> Double {
            var rng = SeededGenerator(seed: 1)
            let z = net.forward(input, training: true, rng: &rng).z
            return objective.evaluate(z: z, parents: parents, gradient: false).loss
        }
        var rng = SeededGenerator(seed: 1)
        let z = net.forward(x, training: true, rng: &rng).z
        #expect(z.shape == [m, 6])
        let r = objective.evaluate(z: z, parents: parents, gradient: true)
        let dx = net.backward(dZ: Tensor(shape: z.shape, data: r.dZ))
        #expect(dx.shape == x.shape)
        let trainable = net.namedParameters.filter { $0.parameter.trainable }
        let analytic = trainable.map { $0.parameter.grad.map(Double.init) }
        #expect(trainable.map(\.name) == ["layers/00_conv2d/kernel", "layers/00_conv2d/bias",
                                          "layers/04_dense/kernel", "layers/04_dense/bias",
                                          "head/batch_norm/gamma", "head/batch_norm/beta",
                                          "head/dense/kernel", "head/dense/bias"])

        let check = GradientCheck(rtol: 1e-2, atol: 1e-3, normTolerance: 1e-2)
        var skipped = 0, total = 0
        for ((name, p), grad) in zip(trainable, analytic) {
            let numeric = GradientCheck.numericWithKinks(count: p.value.count, get: { p.value[$0] },
                                                         set: { p.value[$0] = $1 }, h: 1e-3) { loss(x) }
            skipped += numeric.smooth.filter { !$0 }.count; total += numeric.smooth.count
            if name == "layers/04_dense/bias" {
                // A bias right before BatchNorm has no effect on its output: the gradient is 0.
                #expect(grad.allSatisfy { abs($0) < 1e-6 }, "\(name): \(grad)")
                #expect(numeric.gradient.allSatisfy { abs($0) < 1e-4 }, "\(name): \(numeric.gradient)")
                continue
            }
            check.compare(analytic: grad, numeric: numeric, maxSkipped: 0.2, "network \(name)")
        }
        var xx = x
        let nx = GradientCheck.numericWithKinks(count: xx.count, get: { xx.data[$0] }, set: { xx.data[$0] = $1 },
                                                h: 1e-3) { loss(xx) }
        skipped += nx.smooth.filter { !$0 }.count; total += nx.smooth.count
        check.compare(analytic: dx.data.map(Double.init), numeric: nx, maxSkipped: 0.2, "network dL/dx")
        #expect(Double(skipped) <= 0.05 * Double(total), "\(skipped) of \(total) entries on kinks")
    }

    @Test func sameSeedSameWeights() throws {
        let spec = NetworkSpec(inputShape: [8, 8, 1],
                               layers: [.conv2d(4), .relu, .maxPool2d(2), .flatten, .dense(16, maxNorm: 2), .relu,
                                        .dropout(0.5), .batchNorm()],
                               head: ACOLHeadSpec(parents: 2, k: 2))
        let a = try Network(spec: spec, seed: 11), b = try Network(spec: spec, seed: 11)
        let c = try Network(spec: spec, seed: 12)
        #expect(a.stateTensors() == b.stateTensors())
        #expect(a.stateTensors() != c.stateTensors())
        #expect(a.stateTensors().map(\.name) == c.stateTensors().map(\.name))
        // Inference is deterministic too.
        let x = Tensor(shape: [3, 8, 8, 1], data: randomValues(192, seed: 1))
        #expect(a.logits(x) == b.logits(x))
        // Glorot-uniform kernels within +- sqrt(6 / (fan_in + fan_out)), zero biases.
        let dense = a.layers[4] as! Dense
        let limit = (6.0 / Float(64 + 16)).squareRoot()
        #expect(dense.kernel.value.allSatisfy { abs($0) <= limit })
        #expect(dense.kernel.value.map(abs).max()! > 0.8 * limit)
        #expect(dense.bias.value.allSatisfy { $0 == 0 })
    }

    /// A tiny labelled set: 20 random 6 x 6 grey images, 2 parents, 4 fine classes.
    static func tinySet() -> ImageSet {
        var g = SeededGenerator(seed: 2024)
        let n = 20
        let pixels = (0..<(n * 36)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        return ImageSet(count: n, height: 6, width: 6, channels: 1, pixels: pixels,
                        fineLabels: (0..<n).map { Int32($0 % 4) }, coarseLabels: (0..<n).map { Int32($0 % 4 / 2) })
    }

    static func train(seed: UInt64, optimizer: OptimizerConfig = .sgdReference) throws -> (Network, [EpochRecord]) {
        let spec = NetworkSpec(inputShape: [6, 6, 1],
                               layers: [.conv2d(2), .relu, .maxPool2d(2), .flatten, .dense(8), .relu, .dropout(0.5)],
                               head: ACOLHeadSpec(parents: 2, k: 2))
        let net = try Network(spec: spec, seed: 5)
        let model = ACOLModel(network: net, gar: .reference, preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        let trainer = Trainer(model: model, config: TrainConfig(epochs: 2, batchSize: 6, optimizer: optimizer, seed: seed))
        let records = try trainer.fit(train: tinySet())
        return (net, records)
    }

    /// Same seeds: bit-identical weights after training (shuffles, dropout masks, updates);
    /// another training seed: different weights.
    @Test func trainingIsDeterministic() throws {
        let initial = try Network(spec: try Self.train(seed: 1).0.spec, seed: 5).stateTensors()
        for optimizer in [OptimizerConfig.sgdReference, .adamDefault] {
            let (a, ra) = try Self.train(seed: 1, optimizer: optimizer)
            let (b, rb) = try Self.train(seed: 1, optimizer: optimizer)
            let (c, _) = try Self.train(seed: 2, optimizer: optimizer)
            #expect(a.stateTensors() == b.stateTensors())
            #expect(a.stateTensors() != c.stateTensors())
            #expect(a.stateTensors() != initial)
            #expect(ra.count == 2)
            #expect(ra.map(\.loss) == rb.map(\.loss))
            #expect(ra.allSatisfy { $0.loss.isFinite && $0.purity != nil })
        }
    }

    /// A learning rate of 1e10 makes the weights overflow in the first epoch: `fit` stops there
    /// with `ACOLError.diverged` (it went on for every epoch, and the model's NaN weights were saved).
    @Test func divergedTrainingStops() throws {
        let spec = NetworkSpec(inputShape: [6, 6, 1], layers: [.flatten, .dense(8), .relu], head: ACOLHeadSpec(parents: 2, k: 2))
        let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                              preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        let trainer = Trainer(model: model, config: TrainConfig(epochs: 50, batchSize: 6,
                                                                optimizer: OptimizerConfig(kind: .sgd, learningRate: 1e10), seed: 1))
        var epochs = 0
        do {
            try trainer.fit(train: Self.tinySet(), onEpoch: { _ in epochs += 1 })
            Issue.record("expected the training to diverge")
        } catch let e as ACOLError {
            guard case .diverged(let epoch, let loss) = e else { Issue.record("\(e)"); return }
            #expect(epoch <= 2 && !loss.isFinite)
            #expect(e.errorDescription?.hasPrefix("training diverged in epoch \(epoch)") == true)
        }
        #expect(epochs < 2)
    }

    /// The test split is scored after every epoch up to 50 epochs, then after every n-th and the
    /// last (a tiny training set with a large test split spent its time scoring).
    @Test func theTestSplitIsScoredAtMost50Times() throws {
        #expect(Trainer.scoringStride(epochs: 1) == 1 && Trainer.scoringStride(epochs: 50) == 1)
        #expect(Trainer.scoringStride(epochs: 51) == 2 && Trainer.scoringStride(epochs: 1000) == 20)
        let spec = NetworkSpec(inputShape: [6, 6, 1], layers: [.flatten, .dense(8), .relu], head: ACOLHeadSpec(parents: 2, k: 2))
        let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                              preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        let records = try Trainer(model: model, config: TrainConfig(epochs: 61, batchSize: 10, seed: 1))
            .fit(train: Self.tinySet(), test: Self.tinySet())
        let scored = records.filter { $0.testPurity != nil }.map(\.epoch)
        #expect(scored == Array(stride(from: 2, through: 60, by: 2)) + [61])
    }

    @Test func loadStateChecks() throws {
        let a = try Network(spec: Self.smallSpec, seed: 1), b = try Network(spec: Self.smallSpec, seed: 2)
        let state = a.stateTensors()
        #expect(state.map(\.name).contains("head/batch_norm/running_var"))
        // Round trip.
        try b.loadState(state)
        #expect(b.stateTensors() == state)
        let x = Tensor(shape: [2, 6, 6, 2], data: randomValues(144, seed: 3))
        #expect(a.logits(x) == b.logits(x))

        let fresh = try Network(spec: Self.smallSpec, seed: 7)
        let before = fresh.stateTensors()
        // Wrong shape (same number of values).
        var wrong = state
        let i = wrong.firstIndex { $0.name == "layers/04_dense/kernel" }!
        #expect(wrong[i].shape == [27, 8])
        wrong[i].shape = [8, 27]
        #expect(throws: ACOLError.shapeMismatch(name: "layers/04_dense/kernel", expected: [27, 8], found: [8, 27])) {
            try fresh.loadState(wrong)
        }
        // Missing.
        let missing = state.filter { $0.name != "head/dense/bias" }
        #expect(throws: ACOLError.missingTensor("head/dense/bias")) { try fresh.loadState(missing) }
        // Unexpected.
        let extra = state + [NamedTensor(name: "layers/09_dense/kernel", shape: [1], values: [0])]
        #expect(throws: ACOLError.unexpectedTensor("layers/09_dense/kernel")) { try fresh.loadState(extra) }
        // A failed load changes nothing.
        #expect(fresh.stateTensors() == before)
    }

    @Test func invalidSpecs() {
        #expect(throws: ACOLError.self) {
            try Network(spec: NetworkSpec(inputShape: [4, 4], layers: [], head: ACOLHeadSpec(parents: 2, k: 2)))
        }
        #expect(throws: ACOLError.self) {
            try Network(spec: NetworkSpec(inputShape: [4, 4, 1], layers: [], head: ACOLHeadSpec(parents: 1, k: 1)))
        }
        #expect(throws: ACOLError.self) {
            try Network(spec: NetworkSpec(inputShape: [2, 2, 1], layers: [.conv2d(2, kernel: 3, padding: .valid)],
                                          head: ACOLHeadSpec(parents: 2, k: 2)))
        }
    }

    @Test func cnn2Preset() throws {
        let spec = try Presets.spec("cnn2", inputShape: [28, 28, 1], parents: 2, k: 5)
        #expect(spec.head.nodes == 10)
        #expect(spec.preset == "cnn2")
        #expect(spec.layers.filter { $0.type == .conv2d }.map(\.filters) == [32, 32, 64, 64])
        #expect(spec.layers.filter { $0.type == .maxPool2d }.count == 2)
        #expect(spec.layers.filter { $0.type == .dropout }.map(\.rate) == [0.2, 0.3, 0.5])
        let net = try Network(spec: spec, seed: 0)
        #expect(net.featureCount == 2048)
        #expect(net.layers.first { $0.spec.type == .flatten }?.outputShape == [7 * 7 * 64])
        let x = Tensor(shape: [2, 28, 28, 1], data: randomValues(2 * 784, seed: 5, lo: 0, hi: 1))
        let z = net.logits(x)
        #expect(z.shape == [2, 10])
        #expect(z.data.allSatisfy { $0.isFinite })
    }

    @Test func otherPresets() throws {
        for name in ["mlp", "cnn1", "cnn3"] {
            let spec = try Presets.spec(name, inputShape: [8, 8, 1], parents: 2, k: 3, filters: 2, hidden: 16)
            let net = try Network(spec: spec, seed: 0)
            #expect(net.logits(Tensor(shape: [1, 8, 8, 1], data: randomValues(64, seed: 1))).shape == [1, 6])
        }
        #expect(throws: ACOLError.unknownPreset("resnet", known: Presets.names)) {
            _ = try Presets.spec("resnet", inputShape: [28, 28, 1], parents: 2, k: 5)
        }
        #expect(throws: ACOLError.self) { try Presets.spec("cnn3", inputShape: [4, 4, 1], parents: 2, k: 2) }
    }
}
