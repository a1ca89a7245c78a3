import Foundation

/// Several starts of one training, the best by the training objective kept (issue 11).
///
/// Each start is the same training from its own seed (initial weights, batch order,
/// augmentation and dropout draws). Every start trains `epochs` epochs; the one whose training
/// objective (the loss it minimises: cross-entropy on the parents, GAR, the two-view terms),
/// averaged over its last epoch, is lowest goes on to the end and the others are dropped. No
/// fine label and no test image takes part in the choice. Start 0 has the training's own seed,
/// so one start is the training as it was before starts existed.
///
/// Why: the seed decides whether two fine classes end up sharing a cluster, and a start that
/// has fallen into such a split keeps a higher objective from its first epoch on (the two-view
/// term costs more when one class is split across two clusters): docs/training.md, "Several
/// starts".
public struct StartChoice: Codable, Equatable, Sendable {
    /// The training's seed (start i's is `seed(seed, start: i)`).
    public var seed: UInt64
    /// Starts trained before the choice (1: no choice).
    public var starts: Int
    /// Epochs each start trained before the choice.
    public var epochs: Int
    /// The start kept (0-based).
    public var kept: Int
    /// Each start's mean training objective over its last epoch before the choice.
    public var losses: [Double]

    public init(seed: UInt64, starts: Int, epochs: Int, kept: Int, losses: [Double]) {
        self.seed = seed; self.starts = starts; self.epochs = epochs; self.kept = kept; self.losses = losses
    }

    /// The kept start's seed: a training with this seed and one start gives the same model
    /// (on the same thread count).
    public var keptSeed: UInt64 { Self.seed(seed, start: kept) }

    /// The seed of start `i` of a training with seed `seed` (start 0: the seed itself).
    public static func seed(_ seed: UInt64, start i: Int) -> UInt64 {
        i == 0 ? seed : seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Epochs each start trains before the choice, for a training of `total` epochs: a third of
    /// it, at least one (the default 3 epochs: 1; a small set's 44: 14).
    public static func epochsPerStart(total: Int) -> Int { max(1, total / 3) }

    /// Whether the record holds together: at least one start of at least one epoch, the kept
    /// one among them, a loss for each.
    public var isConsistent: Bool {
        starts >= 1 && epochs >= 1 && (0..<starts).contains(kept) && losses.count == starts
    }

    /// The index of the lowest loss (the first of equal ones; NaN never wins).
    static func lowest(_ losses: [Double]) -> Int {
        var best = 0
        for (i, l) in losses.enumerated() where !l.isNaN && (losses[best].isNaN || l < losses[best]) { best = i }
        return best
    }
}

extension StartChoice {
    private enum Keys: String, CodingKey { case seed, starts, epochs, kept, losses }

    /// JSON has no NaN: a loss that is not finite (a start that diverged) is stored as null.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(seed, forKey: .seed); try c.encode(starts, forKey: .starts)
        try c.encode(epochs, forKey: .epochs); try c.encode(kept, forKey: .kept)
        try c.encode(losses.map { $0.isFinite ? $0 : nil }, forKey: .losses)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(seed: try c.decode(UInt64.self, forKey: .seed), starts: try c.decode(Int.self, forKey: .starts),
                  epochs: try c.decode(Int.self, forKey: .epochs), kept: try c.decode(Int.self, forKey: .kept),
                  losses: try c.decode([Double?].self, forKey: .losses).map { $0 ?? .nan })
    }
}

public enum StartSelection {
    /// Trains `starts` starts of `epochs` epochs each on `train` and returns the kept one, ready
    /// to go on with `fit` (its `epochsDone` is `epochs`; the choice is recorded in its model's
    /// settings). `make(i)` builds start i's trainer: its own model and a config whose seed is
    /// `StartChoice.seed(seed, start: i)`; trainers not
    /// kept are released as soon as a better one is found. `onEpoch` sees every start's epochs
    /// (`EpochRecord.start` says whose). In a data-parallel job every process runs the same
    /// starts and the losses are averaged over the processes first, so all keep the same start.
    /// A start that is stopped (`stopRequested`) ends the choice: it is returned as it is.
    public static func choose(starts: Int, epochs: Int, seed: UInt64, train: ImageSet, make: (Int) throws -> Trainer,
                              onBatch: ((Int, Int) -> Void)? = nil,
                              onEpoch: ((EpochRecord) -> Void)? = nil) throws -> (trainer: Trainer, choice: StartChoice) {
        guard starts >= 1, epochs >= 1 else {
            throw ACOLError.invalidSettings("starts: expected at least one start of at least one epoch, found \(starts) of \(epochs)")
        }
        var best: Trainer?
        var losses: [Double] = []
        for i in 0..<starts {
            let t = try make(i)
            guard epochs < t.config.epochs else {
                throw ACOLError.invalidSettings("starts: each start trains \(epochs) epochs before the choice, the training has \(t.config.epochs); expected fewer")
            }
            t.start = i
            let records = try t.fit(train: train, through: epochs, onBatch: onBatch, onEpoch: onEpoch)
            var loss = [records.last?.loss ?? .nan]
            if let dp = t.dataParallel {
                dp.reduction.sum(&loss)
                loss[0] /= Double(dp.size)
            }
            losses.append(loss[0])
            if t.epochsDone < epochs || t.stopRequested {
                let choice = StartChoice(seed: seed, starts: i + 1, epochs: epochs, kept: i, losses: losses)
                t.startChoice = choice
                return (t, choice)
            }
            if StartChoice.lowest(losses) == i { best = t }
        }
        let choice = StartChoice(seed: seed, starts: starts, epochs: epochs, kept: StartChoice.lowest(losses), losses: losses)
        best!.startChoice = choice
        return (best!, choice)
    }
}
