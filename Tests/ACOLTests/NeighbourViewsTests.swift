import Foundation
import Testing
@testable import ACOL

/// The consistency term's second views drawn from neighbours (`ConsistencyConfig.neighbours`).
@Suite struct NeighbourViewsTests {
    static func trainer(neighbours: Int, seed: UInt64 = 1) throws -> Trainer {
        let spec = NetworkSpec(inputShape: [6, 6, 1],
                               layers: [.conv2d(2), .relu, .maxPool2d(2), .flatten, .dense(8), .relu],
                               head: ACOLHeadSpec(parents: 2, k: 2))
        let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                              preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        var cons = Recipe.consistency!
        cons.neighbours = neighbours
        return Trainer(model: model, config: TrainConfig(epochs: 2, batchSize: 6, seed: seed, consistency: cons))
    }

    @Test func neighboursChangeTrainingDeterministicallyAndAreRecorded() throws {
        let set = NetworkTests.tinySet()
        let a = try Self.trainer(neighbours: 3), b = try Self.trainer(neighbours: 3), off = try Self.trainer(neighbours: 0)
        try a.fit(train: set); try b.fit(train: set); try off.fit(train: set)
        #expect(a.model.network.stateTensors() == b.model.network.stateTensors())
        #expect(a.model.network.stateTensors() != off.model.network.stateTensors())
        #expect(a.model.settings?.consistency?.neighbours == 3)
        #expect(off.neighbours == nil)
        // Every image's neighbours are others of its parent.
        let nn = try #require(a.neighbours)
        #expect(nn.count == set.count && nn.k == 3)
        for i in 0..<set.count {
            for j in nn.of(i) { #expect(j != Int32(i) && set.coarseLabels![Int(j)] == set.coarseLabels![i]) }
        }
    }

    /// Each row's second view is the image itself or one of its K neighbours, each about 1 / (K + 1)
    /// of the time; the draw depends on the batch's place, not on the rows a process holds.
    @Test func secondViewsAreTheImageOrANeighbourUniformly() throws {
        let set = NetworkTests.tinySet()
        let t = try Self.trainer(neighbours: 3)
        let nn = try #require(try t.findNeighbours(set))
        let own = Array(0..<set.count)
        var counts = [Int](repeating: 0, count: 4)
        for start in 0..<500 {
            let src = t.secondViewImages(own, of: nn, epoch: 1, start: start, batchRows: own.count, mine: 0..<own.count)
            for (i, s) in zip(own, src) {
                if s == i { counts[0] += 1 } else {
                    let slot = try #require(nn.of(i).firstIndex(of: Int32(s)))
                    counts[slot - i * nn.k + 1] += 1
                }
            }
            // A process holding rows 5..<12 draws what the whole batch draws for them.
            let part = t.secondViewImages(Array(own[5..<12]), of: nn, epoch: 1, start: start, batchRows: own.count, mine: 5..<12)
            #expect(part == Array(src[5..<12]))
        }
        let total = Double(counts.reduce(0, +))
        #expect(counts.allSatisfy { abs(Double($0) / total - 0.25) < 0.02 }, "\(counts)")
    }

    @Test func neighboursAreRefusedWithPseudoParentsAndWhenNegative() throws {
        let set = NetworkTests.tinySet()
        let t = try Self.trainer(neighbours: 2)
        var config = t.config
        config.pseudoParents = PseudoParentConfig(transforms: PseudoTransform.standard(height: 6, width: 6), clusters: 2)
        let pseudo = Trainer(model: t.model, config: config)
        #expect(throws: ACOLError.self) { try pseudo.fit(train: set) }
        let negative = try Self.trainer(neighbours: -1)
        #expect(throws: ACOLError.self) { try negative.fit(train: set) }
    }
}
