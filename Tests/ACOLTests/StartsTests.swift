import Foundation
import Testing
@testable import ACOL

/// Several starts (issue 11): each start is the training from its own seed, the one with the
/// lowest training objective after the first epochs goes on, and the choice is recorded.
@Suite struct StartsTests {
    /// 240 images 8x8 of four kinds (two per parent), random enough that seeds differ.
    static func data() -> ImageSet {
        var gen = SeededGenerator(seed: 99)
        let n = 240
        var pixels = [UInt8](repeating: 0, count: n * 64)
        var fine = [Int32](), coarse = [Int32]()
        for i in 0..<n {
            let f = Int32(i % 4)
            fine.append(f); coarse.append(f / 2)
            for p in 0..<64 {
                let on = (f == 0 && p < 32) || (f == 1 && p >= 32) || (f == 2 && p % 8 < 4) || (f == 3 && p % 8 >= 4)
                pixels[i * 64 + p] = UInt8(min(255, (on ? 160 : 20) + Int(gen.next() % 80)))
            }
        }
        return ImageSet(count: n, height: 8, width: 8, channels: 1, pixels: pixels, fineLabels: fine, coarseLabels: coarse)
    }

    static func trainer(seed: UInt64, epochs: Int) throws -> Trainer {
        let spec = try Presets.spec("mlp", inputShape: [8, 8, 1], parents: 2, k: 2, hidden: 16)
        let model = ACOLModel(network: try Network(spec: spec, seed: seed), gar: GARConfig(),
                              preprocessing: Preprocessing(height: 8, width: 8, channels: 1),
                              parentNames: ["a", "b"], fineNames: ["0", "1", "2", "3"])
        return Trainer(model: model, config: TrainConfig(epochs: epochs, batchSize: 32, optimizer: .sgdReference, seed: seed))
    }

    static func weights(_ m: ACOLModel) -> [Float] {
        m.network.namedParameters.flatMap { $0.parameter.value }
    }

    @Test func startSeeds() {
        #expect(StartChoice.seed(7, start: 0) == 7)
        let seeds = (0..<5).map { StartChoice.seed(7, start: $0) }
        #expect(Set(seeds).count == 5)
        #expect(StartChoice.seed(UInt64.max, start: 3) != UInt64.max)   // wraps, no trap
        #expect(StartChoice.epochsPerStart(total: 3) == 1)
        #expect(StartChoice.epochsPerStart(total: 2) == 1)
        #expect(StartChoice.epochsPerStart(total: 44) == 14)
    }

    @Test func lowestSkipsNaN() {
        #expect(StartChoice.lowest([0.5, 0.4, 0.6]) == 1)
        #expect(StartChoice.lowest([.nan, 0.7, 0.6]) == 2)
        #expect(StartChoice.lowest([0.3, 0.3]) == 0)
        #expect(StartChoice.lowest([.nan, .nan]) == 0)
    }

    /// The kept start is the one of lowest objective; it goes on to the last epoch; its model
    /// records the choice and the training's seed; and one training from the kept start's seed
    /// gives the same weights.
    @Test func keepsTheLowestObjectiveAndGoesOn() throws {
        let set = Self.data()
        var made: [Trainer] = []
        let (kept, choice) = try StartSelection.choose(starts: 3, epochs: 1, seed: 5, train: set, make: { i in
            let t = try Self.trainer(seed: StartChoice.seed(5, start: i), epochs: 3)
            made.append(t)
            return t
        })
        #expect(made.count == 3)
        #expect(choice.starts == 3 && choice.epochs == 1 && choice.seed == 5 && choice.losses.count == 3)
        // Each loss is the start's own last-epoch objective, and the kept one is the lowest.
        for (i, t) in made.enumerated() {
            #expect(t.epochsDone == 1 && t.model.history.count == 1)
            #expect(t.model.history[0].loss == choice.losses[i])
            #expect(t.model.history[0].start == i)
        }
        #expect(choice.kept == choice.losses.indices.min { choice.losses[$0] < choice.losses[$1] })
        #expect(kept === made[choice.kept])
        #expect(Set(choice.losses).count == 3, "the starts should differ: \(choice.losses)")

        let rest = try kept.fit(train: set, test: set)
        #expect(rest.map(\.epoch) == [2, 3])
        #expect(kept.model.history.map(\.epoch) == [1, 2, 3])
        let settings = try #require(kept.model.settings)
        #expect(settings.starts == choice && settings.seed == 5 && settings.epochs == 3)

        let alone = try Self.trainer(seed: choice.keptSeed, epochs: 3)
        try alone.fit(train: set, test: set)
        #expect(Self.weights(alone.model) == Self.weights(kept.model))
        #expect(alone.model.settings?.starts == nil && alone.model.settings?.seed == choice.keptSeed)
        #expect(alone.model.history.map(\.loss) == kept.model.history.map(\.loss))
    }

    /// A training cut short with `through` goes on where it stopped: the same weights as one
    /// run through.
    @Test func fitThroughThenOnIsOneTraining() throws {
        let set = Self.data()
        let a = try Self.trainer(seed: 3, epochs: 3), b = try Self.trainer(seed: 3, epochs: 3)
        try a.fit(train: set, through: 1)
        #expect(a.epochsDone == 1 && a.model.settings == nil)
        try a.fit(train: set, through: 2)
        try a.fit(train: set)
        try b.fit(train: set)
        #expect(a.epochsDone == 3)
        #expect(Self.weights(a.model) == Self.weights(b.model))
        #expect(a.model.history.map(\.loss) == b.model.history.map(\.loss))
    }

    @Test func refusesStartsAsLongAsTheTraining() throws {
        let set = Self.data()
        #expect(throws: ACOLError.self) {
            _ = try StartSelection.choose(starts: 2, epochs: 3, seed: 1, train: set, make: { _ in try Self.trainer(seed: 1, epochs: 3) })
        }
        #expect(throws: ACOLError.self) {
            _ = try StartSelection.choose(starts: 0, epochs: 1, seed: 1, train: set, make: { _ in try Self.trainer(seed: 1, epochs: 3) })
        }
    }

    /// JSON has no NaN: a diverged start's loss is stored as null and read back as NaN.
    @Test func choiceJSONKeepsNaN() throws {
        let c = StartChoice(seed: 9, starts: 2, epochs: 1, kept: 1, losses: [.nan, 0.25])
        let text = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        #expect(text.contains("null"))
        let back = try JSONDecoder().decode(StartChoice.self, from: Data(text.utf8))
        #expect(back.losses[0].isNaN && back.losses[1] == 0.25 && back.kept == 1 && back.seed == 9)
        #expect(back.isConsistent)
        #expect(!StartChoice(seed: 1, starts: 2, epochs: 1, kept: 2, losses: [1, 2]).isConsistent)
        #expect(!StartChoice(seed: 1, starts: 2, epochs: 1, kept: 0, losses: [1]).isConsistent)
    }
}
