import Foundation
import Testing
@testable import ACOL

/// The k-means start (`KMeansStart`, `TrainConfig.kmeansStart`): k-means inside each parent gives
/// each training image a node, and the first steps pull the network towards it.
@Suite struct KMeansStartTests {
    /// 2 parents; inside each, four patterns (a bright quadrant for parent 0; a bright band of two
    /// rows or columns along one edge for parent 1), with noise. Image i shows pattern i % 8 (parent (i % 8) / 4).
    static func patterns(count: Int, seed: UInt64 = 3) -> ImageSet {
        var rng = SeededGenerator(seed: seed)
        let h = 8, w = 8
        var pixels = [UInt8](repeating: 0, count: count * h * w)
        var coarse = [Int32](), fine = [Int32]()
        for i in 0..<count {
            let kind = i % 8, p = kind / 4
            coarse.append(Int32(p)); fine.append(Int32(kind))
            for r in 0..<h {
                for c in 0..<w {
                    let lit: Bool
                    let top = r < h / 2, left = c < w / 2
                    switch kind {
                    case 0: lit = top && left
                    case 1: lit = top && !left
                    case 2: lit = !top && left
                    case 3: lit = !top && !left
                    case 4: lit = r < 2
                    case 5: lit = r >= h - 2
                    case 6: lit = c < 2
                    default: lit = c >= w - 2
                    }
                    let noise = Int(rng.next() % 60)
                    pixels[i * h * w + r * w + c] = UInt8(lit ? 195 + noise : noise)
                }
            }
        }
        return ImageSet(count: count, height: h, width: w, channels: 1, pixels: pixels, fineLabels: fine, coarseLabels: coarse)
    }

    @Test func targetsAreKMeansClustersInsideEachParent() throws {
        let set = Self.patterns(count: 800)
        let head = ACOLHeadSpec(parents: 2, k: 4)
        for maxFit in [20_000, 30] {   // all images fitted, or an evenly spaced sample of 30 per parent
            let t = try KMeansStart(steps: 10, maxFitImages: maxFit).targets(for: set, head: head, seed: 1)
            #expect(t.count == set.count)
            // Every target is a node of the image's own parent.
            for i in 0..<set.count {
                #expect(head.nodes(ofParent: Int(set.coarseLabels![i])).contains(Int(t[i])), "image \(i): node \(t[i])")
            }
            // Each pattern gets one node, the four patterns of a parent four different ones.
            for kind in 0..<8 {
                let nodes = Set((0..<set.count).filter { $0 % 8 == kind }.map { t[$0] })
                #expect(nodes.count == 1, "pattern \(kind): nodes \(nodes)")
            }
            #expect(Set(t.prefix(8)).count == 8)
            // Only the listed parents get targets.
            let only = try KMeansStart(steps: 10, maxFitImages: maxFit, parents: [1]).targets(for: set, head: head, seed: 1)
            for i in 0..<set.count { #expect(only[i] == (set.coarseLabels![i] == 1 ? t[i] : -1)) }
            // Deterministic for a seed.
            #expect(try KMeansStart(steps: 10, maxFitImages: maxFit).targets(for: set, head: head, seed: 1) == t)
        }
    }

    @Test func refusesBadSettingsAndMissingParents() throws {
        let set = Self.patterns(count: 80)
        for bad in [KMeansStart(steps: 0), KMeansStart(steps: 5, weight: 0), KMeansStart(steps: 5, weight: .nan),
                    KMeansStart(steps: 5, maxFitImages: 0), KMeansStart(steps: 5, parents: []), KMeansStart(steps: 5, parents: [1, 1])] {
            #expect(throws: ACOLError.self) { try bad.validate() }
        }
        var noParents = set
        noParents.coarseLabels = nil
        #expect(throws: ACOLError.self) { try KMeansStart(steps: 5).targets(for: noParents, head: ACOLHeadSpec(parents: 2, k: 2), seed: 1) }
        #expect(throws: ACOLError.self) { try KMeansStart(steps: 5, parents: [2]).targets(for: set, head: ACOLHeadSpec(parents: 2, k: 2), seed: 1) }
        // One parent needs no labels.
        let one = try KMeansStart(steps: 5).targets(for: noParents, head: ACOLHeadSpec(parents: 1, k: 8), seed: 1)
        #expect(Set(one).count == 8)
        // The unsupervised and semi-supervised modes refuse it.
        let model = try Self.model(parents: 1, k: 4)
        var config = TrainConfig(epochs: 1, batchSize: 16, optimizer: .adamDefault, seed: 1, consistency: nil)
        config.kmeansStart = KMeansStart(steps: 5)
        config.semiSupervised = SemiSupervisedConfig(labelled: 8, classes: [0, 1, 2, 3])
        #expect(throws: ACOLError.self) { try Trainer(model: model, config: config).validate(set, name: "training set") }
    }

    static func model(parents: Int, k: Int) throws -> ACOLModel {
        let spec = try Presets.spec("mlp", inputShape: [8, 8, 1], parents: parents, k: k, hidden: 32)
        return ACOLModel(network: try Network(spec: spec, seed: 5), gar: GARConfig(scope: .allNodes),
                         preprocessing: Preprocessing(height: 8, width: 8, channels: 1))
    }

    /// Share of the images whose node (the argmax of Z) is their k-means target.
    static func agreement(_ model: ACOLModel, _ set: ImageSet, _ targets: [Int32]) -> Double {
        let a = Evaluator.evaluate(model, on: set).assignments
        return Double(zip(a, targets).filter { Int32($0) == $1 }.count) / Double(set.count)
    }

    /// With the start, the network's clusters are k-means's (node for node); the same training
    /// without it lands on some other numbering or partition. The start is recorded in the settings.
    /// The same whether the term trains the head alone (the default) or the body too.
    @Test(arguments: [false, true]) func theStartPullsTheNetworkToTheKMeansNodes(trainsBody: Bool) throws {
        let set = Self.patterns(count: 512)
        let targets = try KMeansStart(steps: 1).targets(for: set, head: ACOLHeadSpec(parents: 2, k: 4), seed: 7)
        var agreements: [Double] = []
        for start in [KMeansStart(steps: 80, weight: 2, trainsBody: trainsBody), nil] {
            let model = try Self.model(parents: 2, k: 4)
            // SGD (the default of large sets): Adam's lr 1e-3 moves the head alone too little in 80 steps.
            var config = TrainConfig(epochs: 10, batchSize: 32, optimizer: .sgdReference, seed: 7, consistency: nil)
            config.kmeansStart = start
            let trainer = Trainer(model: model, config: config)
            try trainer.fit(train: set)
            #expect(trainer.stepsTaken == 10 * 16)
            #expect(model.settings?.kmeansStart == start)
            if start != nil { #expect(trainer.kmeansTargets == targets) } else { #expect(trainer.kmeansTargets == nil) }
            agreements.append(Self.agreement(model, set, targets))
        }
        #expect(agreements[0] > 0.95, "with the start: \(agreements)")
        // Without it the nodes are numbered some other way (4! numberings per parent).
        #expect(agreements[1] < 0.9, "without: \(agreements)")
    }

    /// `Network.backward(..., headOnly:)`: the head's dense layer gets the gradient of dZ +
    /// headOnly, everything below it (the head BatchNorm, the body) that of dZ alone, exactly as
    /// two plain backward passes give them. Shapes: x [6, 8, 8, 1], Z [6, 8].
    @Test func headOnlyGradientStopsAtTheHeadsInput() throws {
        let spec = try Presets.spec("mlp", inputShape: [8, 8, 1], parents: 2, k: 4, hidden: 16)
        let set = Self.patterns(count: 6)
        let x = set.tensor(0..<6)
        var g = SeededGenerator(seed: 9)
        let a = Tensor(shape: [6, 8], data: (0..<48).map { _ in Float.random(in: -1...1, using: &g) })
        let b = Tensor(shape: [6, 8], data: (0..<48).map { _ in Float.random(in: -1...1, using: &g) })
        let sum = Tensor(shape: [6, 8], data: zip(a.data, b.data).map { $0 + $1 })
        func gradients(_ backward: (Network) -> Void) throws -> [String: [Float]] {
            let net = try Network(spec: spec, seed: 4)
            var rng = SeededGenerator(seed: 1)
            _ = net.forward(x, training: true, rng: &rng)
            backward(net)
            return Dictionary(uniqueKeysWithValues: net.namedParameters.map { ($0.name, $0.parameter.grad) })
        }
        let split = try gradients { $0.backward(dZ: a, extraDZ: [], headOnly: b, shard: nil) }
        let plain = try gradients { $0.backward(dZ: a) }
        let both = try gradients { $0.backward(dZ: sum) }
        #expect(split.keys.contains("head/dense/kernel") && split.count > 3)
        for (name, grad) in split {
            let expected = name.hasPrefix("head/dense/") ? both[name]! : plain[name]!
            let err = zip(grad, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(err < 1e-5, "\(name): \(err)")
        }
        // And the body's gradient differs from that of dZ + headOnly (b does matter below the head).
        let body = split.keys.first { !$0.hasPrefix("head/") }!
        #expect(zip(split[body]!, both[body]!).map { abs($0 - $1) }.max()! > 1e-4)
    }
}
