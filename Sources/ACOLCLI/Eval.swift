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

    @OptionGroup var threadOptions: ThreadOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try reportingErrors {
            threadOptions.apply()
            try requireFile(model)
            let m = try ModelFile.load(model)
            let result = try evaluate(m)
            printEvaluation(result.report, result.evaluation, title: "\(model) on \(data)", parentNames: m.outputParentNames, json: json)
        }
    }

    struct Result { var report: EvalReport; var evaluation: Evaluation }

    func evaluate(_ m: ACOLModel) throws -> Result {
        let loaded = try DatasetLoader.split(split, of: data, forModel: m)
        let set = loaded.images, splitName = loaded.split
        if let note = loaded.note { Console.warn(note) }
        let bar = ProgressBar("evaluating")
        let ev = Evaluator.evaluate(m, on: set, fineNames: loaded.fineNames) { d, t in bar.update(d, t) }
        bar.finish()
        return Result(report: EvalReport(split: splitName, ev: ev), evaluation: ev)
    }
}

/// Scores as text (summary lines, then the cluster table) or as one JSON object.
func printEvaluation(_ r: EvalReport, _ ev: Evaluation, title: String, parentNames: [String], json: Bool) {
    if json {
        Console.out((try? jsonText(r)) ?? "{}")
        return
    }
    Console.out("\(title) [\(r.split), \(r.images) images]")
    Console.out("parent accuracy     \(fmt(r.parent_accuracy))")
    Console.out("purity              \(fmt(r.purity))")
    Console.out("hungarian accuracy  \(fmt(r.hungarian_accuracy))")
    if let a = r.accuracy { Console.out("accuracy (node = class) \(fmt(a))") }
    Console.out("nmi                 \(fmt(r.nmi))")
    Console.out("clusters used       \(r.clusters_used) of \(r.clusters.count)")
    if r.purity == nil {
        Console.out("(the \(r.split) split has no fine labels: purity, Hungarian accuracy and NMI need them)")
    }
    Console.out("")
    Console.out(clusterTable(ev.clusters, parentNames: parentNames))
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
    /// Semi-supervised models: node = class accuracy.
    var accuracy: Double?
    var clusters_used: Int
    var clusters: [Cluster]

    init(split: String, ev: Evaluation) {
        self.split = split; images = ev.count; parent_accuracy = ev.parentAccuracy; purity = ev.purity
        hungarian_accuracy = ev.hungarianAccuracy; nmi = ev.nmi; accuracy = ev.accuracy; clusters_used = ev.clustersUsed
        clusters = ev.clusters.map(Cluster.init)
    }
}
