import Foundation

/// Scores of a model on a labelled set.
public struct Evaluation: Sendable {
    public var count: Int
    /// argmax of Y against the coarse labels (nil without coarse labels).
    public var parentAccuracy: Double?
    public var purity: Double?
    public var hungarianAccuracy: Double?
    public var nmi: Double?
    /// Non-empty clusters.
    public var clustersUsed: Int
    /// Per-node mapping (majority fine label when fine labels are known).
    public var clusters: [ClusterInfo]
    /// The cluster of each example.
    public var assignments: [Int]
    /// The confidence softmax(Z)[cluster] of each example.
    public var confidences: [Float]
    /// Semi-supervised models: the share of examples whose node is their class (node j is class
    /// j of the model's classes); nil for other models or without fine labels.
    public var accuracy: Double?
}

public enum Evaluator {
    /// Runs the model over `set` and scores it. `fineNames` names the fine labels in the mapping.
    public static func evaluate(_ model: ACOLModel, on set: ImageSet, fineNames: [String] = [],
                                batchSize: Int = 256, progress: ((Int, Int) -> Void)? = nil) -> Evaluation {
        let head = model.outputHead
        let scoresParents = model.predictsParents
        var assignments: [Int] = [], confidences: [Float] = []
        assignments.reserveCapacity(set.count)
        var correct = 0
        var start = 0
        let batch = max(1, batchSize)   // (a batch size below 1: one at a time)
        while start < set.count {
            let end = min(set.count, start + batch)
            let sub = ImageSet(count: end - start, height: set.height, width: set.width, channels: set.channels,
                               pixels: Array(set.pixels[(start * set.imageSize)..<(end * set.imageSize)]))
            let preds = model.predict(sub, batchSize: batch)
            for (o, p) in preds.enumerated() {
                assignments.append(p.cluster); confidences.append(p.confidence)
                if scoresParents, let c = set.coarseLabels, Int(c[start + o]) == p.pooledParent { correct += 1 }
            }
            start = end
            progress?(start, set.count)
        }
        var ev = score(assignments: assignments, confidences: confidences, set: set, head: head,
                       fineNames: fineNames, parentCorrect: set.coarseLabels == nil || !scoresParents ? nil : correct)
        if let classes = model.settings?.semiSupervised?.classes, let fine = set.fineLabels {
            ev.accuracy = classAccuracy(assignments: assignments, fine: fine, classes: classes)
        }
        return ev
    }

    /// The share of examples whose node is their class (node j is class `classes[j]`); nil when
    /// there is no example or a node has no class.
    public static func classAccuracy(assignments: [Int], fine: [Int32], classes: [Int32]) -> Double? {
        guard !fine.isEmpty, fine.count == assignments.count, assignments.allSatisfy({ $0 >= 0 && $0 < classes.count }) else { return nil }
        let hits = zip(assignments, fine).filter { classes[$0.0] == $0.1 }.count
        return Double(hits) / Double(fine.count)
    }


    static func score(assignments: [Int], confidences: [Float], set: ImageSet, head: ACOLHeadSpec,
                      fineNames: [String], parentCorrect: Int?) -> Evaluation {
        var purity: Double?, hung: Double?, nmi: Double?
        var clusters: [ClusterInfo]
        var used: Int
        if let fine = set.fineLabels, !fine.isEmpty {
            let (t, values) = ClusterMetrics.compactContingency(assignments: assignments, labels: fine, clusters: head.nodes)
            purity = ClusterMetrics.purity(t)
            hung = ClusterMetrics.hungarianAccuracy(t)
            nmi = ClusterMetrics.nmi(t)
            used = ClusterMetrics.clustersUsed(t)
            clusters = ClusterMetrics.mapping(t, head: head, fineNames: fineNames, labelValues: values)
        } else {
            var counts = [Int](repeating: 0, count: head.nodes)
            for a in assignments { counts[a] += 1 }
            used = counts.filter { $0 > 0 }.count
            clusters = counts.enumerated().map {
                ClusterInfo(node: $0.offset, parent: head.parent(ofNode: $0.offset), duplicate: head.duplicate(ofNode: $0.offset),
                            count: $0.element, fineLabel: nil, fineName: nil, majorityCount: 0, share: 0)
            }
        }
        return Evaluation(count: set.count,
                          parentAccuracy: parentCorrect.map { set.count > 0 ? Double($0) / Double(set.count) : 0 },
                          purity: purity, hungarianAccuracy: hung, nmi: nmi, clustersUsed: used,
                          clusters: clusters, assignments: assignments, confidences: confidences)
    }
}
