import ArgumentParser
import ACOL
import ACOLHDF5
import Foundation

enum BaselineMethod: String, ExpressibleByArgument, CaseIterable { case kmeans }

struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a baseline on a data set with the metrics of 'acol eval': what a network has to beat.",
        discussion: """
        kmeans: k-means (k-means++ seeding, the restart of lowest inertia kept) inside each parent \
        on the raw pixels scaled to [0, 1], fitted on the training split and scored on the test \
        split; cluster c of parent p is reported as cluster c * n_p + p, as an ACOL head numbers \
        its nodes. k and the parents follow the rules of 'acol train', so the two compare directly.

        Examples:
          acol baseline kmeans mnist.h5
          acol baseline kmeans fashion.h5 -k 5 --json
        """)

    @Argument(help: "The baseline: kmeans.")
    var method: BaselineMethod

    @Argument(help: "The data-set file.")
    var data: String

    @Option(name: .customShort("k"), help: "Clusters per parent, one number or one per parent as for 'acol train' (default: as 'acol train' chooses).")
    var k: ClusterCounts?

    @Option(help: "Parents when the data set has none, or to replace its own (as for 'acol train').")
    var parents: String?

    @Option(help: "The split to fit on.")
    var fitSplit: String = "train"

    @Option(help: "The split to score (default: test when present, else the fitting split).")
    var split: String?

    @Option(help: "k-means restarts per parent (the one of lowest inertia is kept).")
    var restarts: Int = 4

    @Option(help: "Random seed of the k-means++ seeding.")
    var seed: UInt64 = 1

    @OptionGroup var threadOptions: ThreadOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        try k?.validate("-k")
        try OptionCheck.range("--restarts", restarts, 1...100)
    }

    func run() throws {
        try reportingErrors {
            threadOptions.apply()
            let d = try DatasetLoader.load(data, parents: try parentSource(parents))
            guard let fit = d.splits[fitSplit] else {
                throw CLIError.file(data, "has no split '\(fitSplit)' (it has: \(d.splitOrder.joined(separator: ", ")))")
            }
            let scoreName = split ?? (d.splits["test"] != nil ? "test" : fitSplit)
            guard let score = d.splits[scoreName] else {
                throw CLIError.file(data, "has no split '\(scoreName)' (it has: \(d.splitOrder.joined(separator: ", ")))")
            }
            guard fit.count > 0, score.count > 0 else { throw CLIError.file(data, "the splits to fit and score must have images") }
            let np = d.parentNames.count
            let counts = try Train.clusterCounts(k, parentNames: d.parentNames, parentOfFine: d.parentOfFine)
            if counts.reduce(0, +) < 2 {
                throw CLIError.option("a baseline needs at least 2 clusters in all (have \(counts.count) parent\(counts.count == 1 ? "" : "s") x \(counts.max() ?? 0)): give -k 2 or more")
            }
            let head = ACOLHeadSpec(duplicates: counts)
            let kk = Set(counts).count == 1 ? "\(counts[0])" : "(\(counts.map(String.init).joined(separator: ", ")))"
            // A parent with fewer fitting images than clusters gets one cluster per image (and
            // none without images): its remaining nodes stay empty, which the scores reflect.
            var perParent = [Int](repeating: 0, count: np)
            if np == 1 { perParent[0] = fit.count } else {
                for c in fit.coarseLabels ?? [] where c >= 0 && Int(c) < np { perParent[Int(c)] += 1 }
            }
            for p in 0..<np where perParent[p] < counts[p] {
                let name = p < d.parentNames.count ? d.parentNames[p] : "\(p)"
                Console.warn("parent \(p) (\(printable(name))) has \(perParent[p]) images in \(fitSplit), fewer than its \(counts[p]) clusters: \(perParent[p] == 0 ? "none is fitted" : "only \(perParent[p]) can be used")")
            }
            let ev = try KMeansBaseline.evaluate(fit: fit, score: score, head: head, fineNames: d.fineNames,
                                                 options: KMeans.Options(restarts: restarts, seed: seed))
            printEvaluation(EvalReport(split: scoreName, ev: ev), ev,
                            title: "k-means inside each parent (\(np) \(np == 1 ? "parent" : "parents") x \(kk), raw pixels) fitted on \(fitSplit) of \(data)",
                            parentNames: d.parentNames, json: json)
        }
    }
}
