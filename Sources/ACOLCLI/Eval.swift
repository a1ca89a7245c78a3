import ArgumentParser
import ACOL
import ACOLHDF5
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a model on a data-set file: parent accuracy, purity, Hungarian accuracy, NMI, and a table per cluster.",
        discussion: """
        Uses the test split when there is one (choose another with --split). Parents come from the \
        data set, or from the mapping the model was trained with.

        Examples:
          acol eval model.h5 mnist.h5
          acol eval model.h5 mnist.h5 --split train --json
        """)

    @Argument(help: "The model file.")
    var model: String

    @Argument(help: "The data-set file.")
    var data: String

    @Option(help: "The split to score (default: test when present, else train).")
    var split: String?

    @Option(help: "Threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try reportingErrors {
            Threads.set(threads)
            try requireFile(model)
            let m = try ModelFile.load(model)
            let result = try evaluate(m)
            if json {
                Console.out(try jsonText(result.report))
            } else {
                let r = result.report
                Console.out("\(model) on \(data) [\(r.split), \(r.images) images]")
                Console.out("parent accuracy     \(fmt(r.parent_accuracy))")
                Console.out("purity              \(fmt(r.purity))")
                Console.out("hungarian accuracy  \(fmt(r.hungarian_accuracy))")
                Console.out("nmi                 \(fmt(r.nmi))")
                Console.out("clusters used       \(r.clusters_used) of \(r.clusters.count)")
                Console.out("")
                Console.out(clusterTable(result.evaluation.clusters, parentNames: m.parentNames))
            }
        }
    }

    struct Result { var report: EvalReport; var evaluation: Evaluation }

    func evaluate(_ m: ACOLModel) throws -> Result {
        let (set, splitName) = try loadSplit(for: m, data: data, split: split)
        let bar = ProgressBar("evaluating")
        let ev = Evaluator.evaluate(m, on: set, fineNames: m.fineNames.isEmpty ? [] : m.fineNames) { d, t in bar.update(d, t) }
        bar.finish()
        return Result(report: EvalReport(split: splitName, ev: ev), evaluation: ev)
    }
}

/// The split of `data` to score `model` on, with coarse labels matching the model's parents.
func loadSplit(for model: ACOLModel, data: String, split: String?) throws -> (ImageSet, String) {
    try requireFile(data)
    let reader = try DatasetReader(path: data)
    defer { reader.close() }
    let names = reader.splits.map(\.name)
    let name = split ?? (names.contains("test") ? "test" : names.first ?? "train")
    guard names.contains(name) else {
        throw CLIError.file(data, "has no split '\(name)' (it has: \(names.joined(separator: ", ")))")
    }
    var set = try reader.read(split: name)
    let p = model.preprocessing
    guard set.height == p.height, set.width == p.width, set.channels == p.channels else {
        throw CLIError.file(data, "images are \(set.height)x\(set.width)x\(set.channels), the model takes \(p.height)x\(p.width)x\(p.channels)")
    }
    let np = model.head.parents
    let fileParents = reader.description.labels.parentNames
    let coarseFits = set.coarseLabels != nil && (fileParents.isEmpty || fileParents.count == np)
        && (set.coarseLabels!.allSatisfy { $0 >= 0 && Int($0) < np })
    if np == 1 {
        set.coarseLabels = [Int32](repeating: 0, count: set.count)
    } else if !coarseFits || (!model.parentOfFine.isEmpty && fileParents != model.parentNames) {
        // Derive the model's parents from fine labels when the file's do not match.
        if let fine = set.fineLabels, !model.parentOfFine.isEmpty {
            set.coarseLabels = fine.map { f in
                Int(f) < model.parentOfFine.count ? Int32(model.parentOfFine[Int(f)]) : -1
            }
        } else if !coarseFits {
            set.coarseLabels = nil
        }
    }
    return (set, name)
}

struct EvalReport: Encodable {
    struct Cluster: Encodable {
        var cluster: Int
        var parent: Int
        var duplicate: Int
        var size: Int
        var majority_label: Int?
        var majority_name: String?
        var majority_count: Int
        var share: Double

        init(_ c: ClusterInfo) {
            cluster = c.node; parent = c.parent; duplicate = c.duplicate; size = c.count
            majority_label = c.fineLabel; majority_name = c.fineName; majority_count = c.majorityCount; share = c.share
        }
    }
    var split: String
    var images: Int
    var parent_accuracy: Double?
    var purity: Double?
    var hungarian_accuracy: Double?
    var nmi: Double?
    var clusters_used: Int
    var clusters: [Cluster]

    init(split: String, ev: Evaluation) {
        self.split = split; images = ev.count; parent_accuracy = ev.parentAccuracy; purity = ev.purity
        hungarian_accuracy = ev.hungarianAccuracy; nmi = ev.nmi; clusters_used = ev.clustersUsed
        clusters = ev.clusters.map(Cluster.init)
    }
}
