import Foundation

/// The settings of the semi-supervised mode (GAR, Kilinc & Uysal, arXiv 1705.07219): one parent,
/// one output node per class; a few labelled examples per class may pretrain the network as a
/// plain classifier (node j = class j; the authors' procedure, `pretrainSteps`, 0 by default
/// since 2026-12-07), then batches of unlabelled examples plus a few labelled ones train with
/// GAR (and the recipe's two-view terms) on the whole batch and, unless `labelledWeight` is 0,
/// the cross-entropy of the labelled rows.
public struct SemiSupervisedConfig: Codable, Equatable, Sendable {
    /// Labelled examples in all, spread evenly over the classes (the first classes get one more
    /// when it does not divide).
    public var labelled: Int
    /// The fine label value of each output node: node j is class `classes[j]`.
    public var classes: [Int32]
    /// Steps of the supervised pretraining on the labelled examples (0: none, the default;
    /// the authors: 2,000 in `Recipe.semiSupervisedPaper`).
    public var pretrainSteps: Int
    /// Batch size of the pretraining (the authors': 16).
    public var pretrainBatch: Int
    /// Labelled rows in each batch (after the pretraining, if any; b_L; the authors': 16 of 128).
    public var labelledPerBatch: Int
    /// Weight of the labelled rows' cross-entropy in the batches (0: the unsupervised terms
    /// alone, as the authors' GAR phase).
    public var labelledWeight: Float

    public init(labelled: Int, classes: [Int32], pretrainSteps: Int = Recipe.semiSupervised.pretrainSteps, pretrainBatch: Int = 16,
                labelledPerBatch: Int = 16, labelledWeight: Float = 1) {
        self.labelled = labelled; self.classes = classes; self.pretrainSteps = pretrainSteps
        self.pretrainBatch = pretrainBatch; self.labelledPerBatch = labelledPerBatch; self.labelledWeight = labelledWeight
    }

    /// The labelled examples: `labelled` indices of `fine`, the same number (give or take one) of
    /// every class in `classes`, drawn with `rng`. Throws when a class has too few examples.
    public func chooseLabelled(fine: [Int32], rng: inout SeededGenerator) throws -> [Int] {
        guard !classes.isEmpty else { throw ACOLError.invalidSettings("semi-supervised mode: no classes") }
        guard labelled >= classes.count else {
            throw ACOLError.invalidSettings("semi-supervised mode: --labelled \(labelled) gives fewer than one labelled example to each of the \(classes.count) classes")
        }
        var byClass = [Int32: [Int]]()
        for (i, f) in fine.enumerated() { byClass[f, default: []].append(i) }
        var chosen: [Int] = []
        for (c, value) in classes.enumerated() {
            let want = labelled / classes.count + (c < labelled % classes.count ? 1 : 0)
            var pool = byClass[value] ?? []
            guard pool.count >= want else {
                throw ACOLError.invalidSettings("semi-supervised mode: class \(value) has \(pool.count) training examples, \(want) are to be labelled")
            }
            pool.shuffle(using: &rng)
            chosen += pool.prefix(want)
        }
        return chosen.sorted()
    }

    public func validate(nodes: Int) throws {
        guard classes.count == nodes else {
            throw ACOLError.invalidSettings("semi-supervised mode: expected one output node per class (\(classes.count)), the head has \(nodes)")
        }
        guard pretrainSteps >= 0, pretrainBatch >= 2, labelledPerBatch >= 1, labelledWeight.isFinite, labelledWeight >= 0 else {
            throw ACOLError.invalidSettings("semi-supervised mode: expected pretraining steps >= 0, pretraining batch >= 2, labelled rows per batch >= 1 and a finite weight >= 0")
        }
    }
}

/// Cross-entropy of softmax(Z) against a target node, over the rows that have one.
///
/// Shapes: Z [m, n]; targets [m] (a node index, or -1 for a row without a label).
/// L = weight * mean over labelled rows of -log softmax(Z_i)[t_i];
/// dL/dZ_ij = weight / m_L * (S_ij - [j == t_i]) on labelled rows, 0 elsewhere.
public enum NodeCrossEntropy {
    public static func evaluate(z: Tensor, targets: [Int32], weight: Float, gradient: Bool) -> (loss: Double, correct: Int, labelled: Int, dZ: [Float]) {
        let m = z.rows, n = z.columns
        precondition(targets.count == m, "NodeCrossEntropy: one target per row of Z")
        var dZ = [Float](repeating: 0, count: gradient ? m * n : 0)
        let labelled = targets.filter { $0 >= 0 && Int($0) < n }.count
        guard labelled > 0 else { return (0, 0, 0, dZ) }
        var loss = 0.0, correct = 0
        let w = Double(weight) / Double(labelled)
        z.data.withUnsafeBufferPointer { zp in
            var s = [Double](repeating: 0, count: n)
            for i in 0..<m {
                let t = Int(targets[i])
                guard t >= 0 && t < n else { continue }
                let row = i * n
                var mx = -Float.infinity, best = 0
                for j in 0..<n { if zp[row + j] > mx { mx = zp[row + j]; best = j } }
                var total = 0.0
                for j in 0..<n { s[j] = Foundation.exp(Double(zp[row + j] - mx)); total += s[j] }
                loss += Foundation.log(total) - Double(zp[row + t] - mx)
                if best == t { correct += 1 }
                if gradient {
                    for j in 0..<n { dZ[row + j] = Float(w * (s[j] / total - (j == t ? 1 : 0))) }
                }
            }
        }
        return (loss * w, correct, labelled, dZ)
    }
}
