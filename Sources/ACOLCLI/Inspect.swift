import ArgumentParser
import ACOL
import ACOLHDF5
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a model file, a data-set file, or any other HDF5 file.",
        discussion: """
        A model: architecture with output shapes and parameter counts, parents x duplicates, the \
        cluster mapping and the training history. A data set: image shape, splits, counts per class \
        and per parent. Any other HDF5 file: its tree of groups and datasets.

        Examples:
          acol inspect model.h5
          acol inspect mnist.h5 --json
        """)

    @Argument(help: "An HDF5 file.")
    var file: String

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try reportingErrors {
            try requireFile(file)
            switch try HDF5Inspector.classify(file) {
            case .model: try inspectModel()
            case .dataset: try inspectDataset()
            case .foreignHDF5(let format): try inspectForeign(format)
            case .notHDF5: throw CLIError.file(file, "not an HDF5 file (no HDF5 signature)")
            }
        }
    }

    // MARK: Model

    struct LayerRow: Encodable { var name: String; var type: String; var output_shape: [Int]; var parameters: Int; var details: String }

    struct ModelReport: Encodable {
        var kind = "model"
        var file: String
        var format_version: Int
        var creator: String
        var created: String
        var preset: String?
        var input_shape: [Int]
        var parents: Int
        var k: Int
        var nodes: Int
        var parent_names: [String]
        var parameters: Int
        var layers: [LayerRow]
        var gar: GARConfig
        var preprocessing: Preprocessing
        var training: TrainingSettings?
        var clusters: [EvalReport.Cluster]
        /// Unsupervised models: the k-means on F that gives the clusters (centroids not listed).
        var feature_clusters: FeatureClusters?
        var history: [EpochRecord]
    }

    struct FeatureClusters: Encodable {
        var k: Int
        var dimension: Int
        var inertia: Double
    }

    func inspectModel() throws {
        let s = try ModelFile.summary(file)
        var sizes: [String: Int] = [:]
        for t in s.tensors {
            let prefix = t.name.split(separator: "/").dropLast().joined(separator: "/")
            let isStat = t.name.hasSuffix("running_mean") || t.name.hasSuffix("running_var")
            if !isStat { sizes[prefix, default: 0] += t.shape.reduce(1, *) }
        }
        let net = try Network(spec: s.spec, seed: 0)
        var rows: [LayerRow] = []
        for (i, l) in net.layers.enumerated() {
            let name = LayerSpec.groupName(index: i, type: l.spec.type)
            rows.append(LayerRow(name: name, type: l.spec.type.rawValue, output_shape: l.outputShape,
                                 parameters: sizes[name] ?? 0, details: describe(l.spec)))
        }
        if let bn = net.headNorm {
            rows.append(LayerRow(name: "head/batch_norm", type: "batch_norm", output_shape: bn.outputShape,
                                 parameters: sizes["head/batch_norm"] ?? 0,
                                 details: "before Z, epsilon \(String(format: "%g", s.spec.head.normEpsilon))"))
        }
        rows.append(LayerRow(name: "head/dense", type: "acol", output_shape: [s.spec.head.nodes],
                             parameters: sizes["head/dense"] ?? 0,
                             details: "Z: \(headText(s.spec.head)), softmax, sum-pooled"))
        let total = rows.reduce(0) { $0 + $1.parameters }
        let report = ModelReport(
            file: file, format_version: s.formatVersion, creator: s.creator, created: s.created, preset: s.spec.preset,
            input_shape: s.spec.inputShape, parents: s.spec.head.parents, k: s.spec.head.k, nodes: s.spec.head.nodes,
            parent_names: s.parentNames, parameters: total, layers: rows, gar: s.gar, preprocessing: s.preprocessing,
            training: s.settings,
            clusters: s.clusters.map(EvalReport.Cluster.init),
            feature_clusters: s.featureClusters.map { FeatureClusters(k: $0.k, dimension: $0.dimension, inertia: $0.inertia) },
            history: s.history)
        if json { Console.out(try jsonText(report)); return }

        Console.out("\(file): acol model (\(provenance(s.formatVersion, s.creator, s.created)))")
        Console.out("input \(s.spec.inputShape.map(String.init).joined(separator: "x")), preset \(s.spec.preset ?? "custom"), \(total) parameters")
        Console.out("")
        Console.out(table(["layer", "output", "parameters", ""],
                          rows.map { [$0.name, $0.output_shape.map(String.init).joined(separator: "x"), "\($0.parameters)", $0.details] },
                          rightAlign: [2]))
        Console.out("")
        let names = s.parentNames.enumerated().map { "\($0.offset) \(printable($0.element))" }.joined(separator: ", ")
        let order = s.spec.head.duplicates == nil ? "node j: parent j mod \(s.spec.head.parents)" : "duplicate-major node order"
        Console.out("ACOL head: \(headText(s.spec.head)) duplicates = \(s.spec.head.nodes) clusters (\(order)); parents: \(names)")
        let g = s.gar
        Console.out("GAR: \(g.scope.rawValue)\(g.symmetric ? ", symmetric" : ""), c_a \(g.cA), c_b \(g.cB), c_F \(g.cF) (\(g.frobenius.rawValue))")
        let p = s.preprocessing
        Console.out("input: \(p.height)x\(p.width)x\(p.channels) u8, x = pixel * \(p.scale) + \(p.offset)")
        if let t = s.settings {
            let o = t.optimizer
            let opt = o.kind == .sgd ? "sgd lr \(o.learningRate), momentum \(o.momentum)\(o.nesterov ? " nesterov" : ""), decay \(o.decay)"
                                     : "adam lr \(o.learningRate)"
            let views = t.consistency.map { c in
                String(format: ", consistency %g (%@), marginal %g", c.weight, c.views.rawValue, c.marginalWeight)
            } ?? ""
            Console.out("training: \(opt), batch \(t.batchSize), \(t.epochs) epochs, seed \(t.seed)\(views)" + (t.heads > 1 ? ", \(t.heads) heads" : "") + (t.kmeansStart.map { ks in
                            ", k-means start \(ks.steps) steps (weight \(String(format: "%g", ks.weight)); \(ks.trainsBody ? "head and body" : "head only")"
                                + (ks.parents.map { "; parents " + $0.map { p in p < s.parentNames.count ? printable(s.parentNames[p]) : "\(p)" }.joined(separator: ", ") } ?? "") + ")"
                        } ?? "") +
                        (t.datasetFile.map { ", data \($0)" } ?? "") + (t.datasetSHA256.map { " (sha256 \($0.prefix(12))…)" } ?? ""))
            if let c = t.consistency, c.views != .single {
                let a = c.augmentation
                var parts = [String(format: "shift %g px, rotation %g deg, scale %g, shear %g", a.maxShift, a.maxRotation, a.maxScale, a.maxShear)]
                if a.flip { parts.append("mirror") }
                if a.contrast > 0 { parts.append(String(format: "contrast %g", a.contrast)) }
                if a.gamma > 0 { parts.append(String(format: "gamma %g", a.gamma)) }
                Console.out("augmentation: " + parts.joined(separator: ", "))
            }
            if let u = t.pseudoParents {
                Console.out("unsupervised: \(u.transforms.count) pseudo-parents (\(u.transforms.map(\.name).joined(separator: ", "))), k-means \(u.clusters) clusters, \(u.restarts) restarts\(u.projection.map { " in \($0) principal directions" } ?? "")")
            }
            if let semi = t.semiSupervised {
                Console.out("semi-supervised: \(semi.labelled) labelled examples of \(semi.classes.count) classes (node j = class \(semi.classes.prefix(4).map(String.init).joined(separator: ", "))\(semi.classes.count > 4 ? ", ..." : "")), \(semi.pretrainSteps > 0 ? "\(semi.pretrainSteps) pretraining steps" : "no pretraining"), \(semi.labelledPerBatch) labelled per batch, weight \(semi.labelledWeight)")
            }
        }
        if let km = s.featureClusters {
            Console.out("clusters: nearest of \(km.k) k-means centroids on F (\(km.dimension) features), not the argmax of Z" + (km.inertia.isFinite ? String(format: "; training inertia %.4g", km.inertia) : ""))
        }
        if !s.clusters.isEmpty {
            Console.out("")
            Console.out("cluster mapping:")
            Console.out(clusterTable(s.clusters, parentNames: s.featureClusters == nil ? s.parentNames : ["all"]))
        }
        if !s.history.isEmpty {
            Console.out("")
            Console.out("history:")
            // With several heads, the head chosen after each epoch (history/head) gets a column.
            let heads = s.history.contains { $0.head != nil }
            let hr = s.history.map { r in
                [String(r.epoch), fmt(r.loss), fmt(r.parentAccuracy), fmt(r.affinity), fmt(r.balance), fmt(r.purity),
                 fmt(r.testParentAccuracy), fmt(r.testPurity), fmt(r.testNMI), String(format: "%.1f", r.seconds)]
                    + (heads ? [r.head.map(String.init) ?? "-"] : [])
            }
            let names = ["epoch", "loss", "parent", "affinity", "balance", "purity", "test-parent", "test-purity", "test-nmi", "s"]
            Console.out(table(names + (heads ? ["head"] : []), hr, rightAlign: Set(0..<(names.count + 1))))
        }
    }

    func describe(_ l: LayerSpec) -> String {
        switch l.type {
        case .dense: return "\(l.units ?? 0) units" + (l.maxNorm.map { ", max-norm \($0)" } ?? "")
        case .conv2d: return "\(l.filters ?? 0) filters \((l.kernel ?? []).map(String.init).joined(separator: "x")) \(l.padding?.rawValue ?? "same")"
        case .maxPool2d: return "\(l.pool ?? 2)x\(l.pool ?? 2)"
        case .dropout: return "rate \(l.rate ?? 0)"
        case .batchNorm: return "momentum \(l.momentum ?? 0.99)"
        default: return ""
        }
    }

    // MARK: Data set

    struct SplitRow: Encodable {
        var name: String
        var images: Int
        var has_fine_labels: Bool
        var has_coarse_labels: Bool
        var per_class: [Int]
        var per_parent: [Int]
    }

    struct DatasetReport: Encodable {
        var kind = "dataset"
        var file: String
        var format_version: Int
        var creator: String
        var created: String
        var height: Int, width: Int, channels: Int
        var source: String
        var fine_names: [String]
        var parent_names: [String]
        var parent_of_fine: [Int]
        var splits: [SplitRow]
    }

    func inspectDataset() throws {
        let reader = try DatasetReader(path: file)
        defer { reader.close() }
        let d = reader.description
        var rows: [SplitRow] = []
        for sp in reader.splits {
            var perClass: [Int] = [], perParent: [Int] = []
            if sp.hasFineLabels || sp.hasCoarseLabels {
                let set = try reader.read(split: sp.name)
                if let f = set.fineLabels {
                    perClass = [Int](repeating: 0, count: max(d.labels.fineNames.count, Int(f.max() ?? -1) + 1))
                    for l in f where l >= 0 { perClass[Int(l)] += 1 }
                }
                if let c = set.coarseLabels {
                    perParent = [Int](repeating: 0, count: max(d.labels.parentNames.count, Int(c.max() ?? -1) + 1))
                    for l in c where l >= 0 { perParent[Int(l)] += 1 }
                }
            }
            rows.append(SplitRow(name: sp.name, images: sp.count, has_fine_labels: sp.hasFineLabels,
                                 has_coarse_labels: sp.hasCoarseLabels, per_class: perClass, per_parent: perParent))
        }
        let report = DatasetReport(file: file, format_version: reader.formatVersion, creator: reader.creator,
                                   created: reader.created, height: d.height, width: d.width, channels: d.channels,
                                   source: d.source, fine_names: d.labels.fineNames, parent_names: d.labels.parentNames,
                                   parent_of_fine: d.labels.parentOfFine, splits: rows)
        if json { Console.out(try jsonText(report)); return }
        Console.out("\(file): acol data set (\(provenance(reader.formatVersion, reader.creator, reader.created)))")
        Console.out("images \(d.height)x\(d.width)x\(d.channels) u8; \(rows.map { "\($0.name) \($0.images)" }.joined(separator: ", "))")
        if !d.source.isEmpty { Console.out("source: \(printable(d.source))") }
        if let shard = d.shard { Console.out("shard \(shard.index) of \(shard.count) of a sharded conversion ('acol merge' joins shards 1...\(shard.count) in order)") }
        let classCount = max(d.labels.fineNames.count, rows.map(\.per_class.count).max() ?? 0)
        if classCount > 0 {
            Console.out("")
            let header = ["class", "name", "parent"] + rows.map(\.name)
            let body = (0..<classCount).map { i -> [String] in
                let name = i < d.labels.fineNames.count ? d.labels.fineNames[i] : "\(i)"
                let p = i < d.labels.parentOfFine.count ? d.labels.parentOfFine[i] : -1
                let pn = p >= 0 && p < d.labels.parentNames.count ? "\(p) \(d.labels.parentNames[p])" : "-"
                return ["\(i)", name, pn] + rows.map { i < $0.per_class.count ? "\($0.per_class[i])" : "-" }
            }
            Console.out(table(header, body, rightAlign: Set([0] + (3..<header.count))))
        }
        let parentCount = max(d.labels.parentNames.count, rows.map(\.per_parent.count).max() ?? 0)
        if parentCount > 0 {
            Console.out("")
            let header = ["parent", "name"] + rows.map(\.name)
            let body = (0..<parentCount).map { i -> [String] in
                ["\(i)", i < d.labels.parentNames.count ? d.labels.parentNames[i] : "\(i)"] +
                    rows.map { i < $0.per_parent.count ? "\($0.per_parent[i])" : "-" }
            }
            Console.out(table(header, body, rightAlign: Set([0] + (2..<header.count))))
        }
    }

    // MARK: Foreign HDF5

    struct NodeRow: Encodable {
        var path: String
        var kind: String
        var shape: [Int]?
        var dtype: String?
        var attributes: [String: String]
    }

    struct ForeignReport: Encodable {
        var kind = "hdf5"
        var file: String
        var format: String?
        var objects: [NodeRow]
    }

    func inspectForeign(_ format: String?) throws {
        let nodes = try HDF5Inspector.tree(file)
        if json {
            let rows = nodes.map { n in
                NodeRow(path: n.path, kind: n.kind.rawValue, shape: n.shape, dtype: n.dtype,
                        attributes: Dictionary(n.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
            }
            Console.out(try jsonText(ForeignReport(file: file, format: format, objects: rows)))
            return
        }
        Console.out("\(file): HDF5 file, not written by acol" + (format.map { " (format '\($0)')" } ?? ""))
        for n in nodes {
            let depth = n.path == "/" ? 0 : n.path.split(separator: "/").count
            let indent = String(repeating: "  ", count: depth)
            let name = n.path == "/" ? "/" : String(n.path.split(separator: "/").last!)
            var line = indent + name
            if n.kind == .group && n.path != "/" { line += "/" }
            if n.kind == .dataset {
                line += "  \(n.dtype ?? "?") [\((n.shape ?? []).map(String.init).joined(separator: ", "))]"
            }
            if let note = n.note { line += "  (\(note))" }   // a cycle or nesting too deep: not descended
            Console.out(line)
            for a in n.attributes { Console.out(indent + "  @" + a.name + " = " + a.value) }
        }
    }
}

/// "2 parents x 5", or "4 parents x (5, 3, 1, 1)" with one k per parent.
func headText(_ h: ACOLHeadSpec) -> String {
    h.duplicates.map { "\(h.parents) parents x (\($0.map(String.init).joined(separator: ", ")))" } ?? "\(h.parents) parents x \(h.k)"
}

/// "format version 1, acol 0.3, 2026-12-03T..." without the parts a file does not record (files
/// written by h5py or other tools often have no creator or date).
func provenance(_ version: Int, _ creator: String, _ created: String) -> String {
    (["format version \(version)"] + [creator, created].filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        .joined(separator: ", ")
}
