@_exported import ACOLData
import ACOL
import Foundation

/// What a model file holds besides the weights: read by `ModelFile.summary` without touching
/// any weight data (for `acol inspect`).
public struct ModelSummary: Sendable {
    public var formatVersion: Int
    public var creator: String
    /// ISO 8601 time of writing.
    public var created: String
    public var spec: NetworkSpec
    public var gar: GARConfig
    public var preprocessing: Preprocessing
    public var parentNames: [String]
    public var fineNames: [String]
    /// Parent of each fine class, when the model was trained with a fine-to-parent mapping.
    public var parentOfFine: [Int]
    public var clusters: [ClusterInfo]
    public var settings: TrainingSettings?
    public var history: [EpochRecord]
    /// k-means centroids on F (unsupervised models), nil otherwise.
    public var featureClusters: KMeans?
    /// Every weight dataset under /weights: name (without "/weights/") and shape, in the network's order.
    public var tensors: [(name: String, shape: [Int])]
}

/// The model file (root attribute format = "acol-model"); layout in docs/file-format.md.
public enum ModelFile {
    public static let formatName = "acol-model"
    public static let formatVersion = 1
    /// Versions `load` reads.
    public static let supportedVersions = [1]
    /// The default `creator` attribute.
    public static let defaultCreator = "acol 0.1.0"
    /// How output nodes map to parents, as written in the file.
    public static let nodeOrder = "interleaved: node j -> parent j mod n_p, duplicate j div n_p"
    /// The node order with one k per parent (/acol/duplicates): node_parent and node_duplicate say it.
    public static let nodeOrderPerParent = "duplicate-major rounds: round d lists, in parent order, the parents with more than d duplicates (see node_parent, node_duplicate)"

    // MARK: Save

    /// Writes `model` to `path` atomically (temporary file beside it, renamed at the end).
    /// `inputs` (the files the model was made from) and `otherOutputs` are refused as `path`.
    public static func save(_ model: ACOLModel, to path: String, creator: String = defaultCreator,
                            inputs: [String] = [], otherOutputs: [String] = []) throws {
        try H5Session.run {
            let out = try AtomicH5File(target: path, inputs: inputs, otherOutputs: otherOutputs)
            do {
                try write(model, into: out.file!, creator: creator, path: path)
                try out.commit()
            } catch {
                out.abort()
                throw error
            }
        }
    }

    /// The first value of weight tensor `name` that a model file may not hold, and whether it is
    /// finite: a value that is not finite, else (in a BatchNorm's running variance, which divides
    /// as sqrt(var + eps)) one below 0. nil when every value is fine. The reader and the writer
    /// share it.
    static func invalidWeight(_ name: String, _ values: [Float]) -> (index: Int, finite: Bool)? {
        if let i = values.firstIndex(where: { !$0.isFinite }) { return (i, false) }
        if name.hasSuffix("/running_var"), let i = values.firstIndex(where: { $0 < 0 }) { return (i, true) }
        return nil
    }

    private static func write(_ model: ACOLModel, into root: H5ID, creator: String, path: String) throws {
        let spec = model.network.spec
        let head = spec.head
        try root.setAttribute("format", string: formatName)
        try root.setAttribute("format_version", Int64(formatVersion))
        try root.setAttribute("creator", string: creator)
        try root.setAttribute("created", string: iso8601Now())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(spec), as: UTF8.self)
        try root.setAttribute("architecture", string: json)

        // Weights.
        try closing(root.createGroup("weights")) { w in
            for t in model.network.stateTensors() {
                // What the reader refuses is not written (a diverged training, a crafted import).
                if let (i, _) = invalidWeight(t.name, t.values) {
                    throw HDF5Error.invalidContent(path: path, object: "/weights/" + t.name,
                                                   problem: "not written: value \(t.values[i]) at index \(i) (expected finite weights and variances of 0 or more)")
                }
                try w.writeDataset(t.name, t.values, shape: t.shape)
            }
        }

        // ACOL head metadata.
        try closing(root.createGroup("acol")) { g in
            try g.setAttribute("n_p", Int64(head.parents))
            try g.setAttribute("k", Int64(head.k))
            try g.setAttribute("nodes", Int64(head.nodes))
            try g.setAttribute("node_order", string: head.duplicates == nil ? nodeOrder : nodeOrderPerParent)
            if let d = head.duplicates { try g.writeDataset("duplicates", d.map { Int32($0) }) }
            try g.setAttribute("parent_names", strings: model.parentNames)
            try g.setAttribute("fine_names", strings: model.fineNames)
            try g.writeDataset("node_parent", (0..<head.nodes).map { Int32(head.parent(ofNode: $0)) })
            try g.writeDataset("node_duplicate", (0..<head.nodes).map { Int32(head.duplicate(ofNode: $0)) })
            if !model.parentOfFine.isEmpty {
                try g.writeDataset("parent_of_fine", model.parentOfFine.map { Int32($0) })
            }

            let c = model.clusters
            try closing(g.createGroup("clusters")) { cg in
                try cg.writeDataset("node", c.map { Int32($0.node) })
                try cg.writeDataset("parent", c.map { Int32($0.parent) })
                try cg.writeDataset("duplicate", c.map { Int32($0.duplicate) })
                try cg.writeDataset("count", c.map { Int64($0.count) })
                try cg.writeDataset("fine_label", c.map { Int32($0.fineLabel ?? -1) })
                try cg.writeDataset("majority_count", c.map { Int64($0.majorityCount) })
                try cg.writeDataset("share", c.map { $0.share })
                try cg.setAttribute("fine_name", strings: c.map { $0.fineName ?? "" })
            }

            let gar = model.gar
            try closing(g.createGroup("gar")) { gg in
                try gg.setAttribute("scope", string: gar.scope.rawValue)
                try gg.setAttribute("symmetric", Int32(gar.symmetric ? 1 : 0))
                try gg.setAttribute("c_a", gar.cA)
                try gg.setAttribute("c_b", gar.cB)
                try gg.setAttribute("c_F", gar.cF)
                try gg.setAttribute("frobenius", string: gar.frobenius.rawValue)
                try gg.setAttribute("epsilon", gar.epsilon)
            }
        }

        if let km = model.featureClusters {
            try closing(root.createGroup("feature_clusters")) { g in
                try g.setAttribute("k", Int64(km.k))
                try g.setAttribute("dimension", Int64(km.dimension))
                try g.setAttribute("inertia", km.inertia)
                try g.setAttribute("feature", string: "F")
                try g.writeDataset("centroids", km.centroids, shape: [km.k, km.dimension])
            }
        }

        let p = model.preprocessing
        try closing(root.createGroup("preprocessing")) { g in
            try g.setAttribute("height", Int64(p.height))
            try g.setAttribute("width", Int64(p.width))
            try g.setAttribute("channels", Int64(p.channels))
            try g.setAttribute("scale", p.scale)
            try g.setAttribute("offset", p.offset)
        }

        if let s = model.settings {
            try closing(root.createGroup("training")) { g in
                let o = s.optimizer
                try g.setAttribute("optimizer", string: o.kind.rawValue)
                try g.setAttribute("learning_rate", o.learningRate)
                try g.setAttribute("momentum", o.momentum)
                try g.setAttribute("nesterov", Int32(o.nesterov ? 1 : 0))
                try g.setAttribute("decay", o.decay)
                try g.setAttribute("beta1", o.beta1)
                try g.setAttribute("beta2", o.beta2)
                try g.setAttribute("epsilon", o.epsilon)
                try g.setAttribute("batch_size", Int64(s.batchSize))
                try g.setAttribute("epochs", Int64(s.epochs))
                try g.setAttribute("seed", s.seed)
                try g.setAttribute("heads", Int64(s.heads))
                if let f = s.datasetFile { try g.setAttribute("dataset_file", string: f) }
                if let h = s.datasetSHA256 { try g.setAttribute("dataset_sha256", string: h) }
                if let c = s.consistency {
                    try g.setAttribute("consistency", string: String(decoding: try encoder.encode(c), as: UTF8.self))
                }
                if let u = s.pseudoParents {
                    try g.setAttribute("unsupervised", string: String(decoding: try encoder.encode(u), as: UTF8.self))
                }
                if let semi = s.semiSupervised {
                    try g.setAttribute("semi_supervised", string: String(decoding: try encoder.encode(semi), as: UTF8.self))
                }
                if let start = s.kmeansStart {
                    try g.setAttribute("kmeans_start", string: String(decoding: try encoder.encode(start), as: UTF8.self))
                }
            }
        }

        let h = model.history
        try closing(root.createGroup("history")) { g in
            for col in EpochRecord.columns {
                switch col.kind {
                case .integer: try g.writeDataset(col.name, h.map { Int64(col.value($0) ?? -1) })
                case .real: try g.writeDataset(col.name, h.map { col.value($0) ?? .nan })
                }
            }
        }
    }

    // MARK: Load

    /// Reads a model file, validating before trusting: format, version, architecture (decodes
    /// and builds), every weight's dtype and shape, then the sizes of the metadata arrays.
    public static func load(_ path: String) throws -> ACOLModel {
        try H5Session.run {
            let root = try HDF5Files.open(path, expecting: formatName, versions: supportedVersions)
            defer { root.close() }
            let summary = try readSummary(root)
            try closing(root.openGroup("weights")) { try ModelChecks.weights($0, spec: summary.spec, path: path) }   // before allocating
            let network: Network
            do {
                network = try Network(spec: summary.spec)
            } catch {
                throw HDF5Error.invalidContent(path: path, object: "/ attribute 'architecture'",
                                               problem: "the architecture does not build: \(error.localizedDescription)")
            }
            var tensors: [NamedTensor] = []
            try closing(root.openGroup("weights")) { w in
                for t in network.stateTensors() {
                    guard try w.objectType(t.name) == .dataset else {
                        throw HDF5Error.invalidContent(path: path, object: "/weights/" + t.name,
                                                       problem: "expected a float32 dataset of shape \(t.shape) (the architecture has it), found nothing")
                    }
                    let values: [Float] = try closing(w.openDataset(t.name)) { ds in
                        try ds.checkNumericType(Float.self, exactSize: 4)
                        let shape = try ds.shape()
                        guard shape == t.shape else {
                            throw HDF5Error.invalidContent(path: path, object: ds.name,
                                                           problem: "expected shape \(t.shape) (from the architecture), found \(shape)")
                        }
                        let v = try ds.readAll(Float.self, exactSize: 4, limit: ACOLLimits.maxParameters).values
                        if let (i, finite) = invalidWeight(t.name, v) {
                            throw HDF5Error.invalidContent(path: path, object: ds.name, problem: finite
                                ? "expected variances of 0 or more, found \(v[i]) at index \(i)"
                                : "expected finite values, found \(v[i]) at index \(i) (a network with NaN or infinite weights gives meaningless clusters)")
                        }
                        return v
                    }
                    tensors.append(NamedTensor(name: t.name, shape: t.shape, values: values))
                }
                let expected = Set(network.stateTensors().map(\.name))
                for e in try GroupWalk.walk(w, strict: true) where e.kind == .dataset && !expected.contains(e.path) {
                    throw HDF5Error.invalidContent(path: path, object: "/weights/" + e.path,
                                                   problem: "unexpected dataset: the architecture has no tensor of that name")
                }
            }
            do {
                try network.loadState(tensors)
            } catch {
                throw HDF5Error.invalidContent(path: path, object: "/weights", problem: error.localizedDescription)
            }
            let model = ACOLModel(network: network, gar: summary.gar, preprocessing: summary.preprocessing,
                             parentNames: summary.parentNames, fineNames: summary.fineNames,
                             parentOfFine: summary.parentOfFine, clusters: summary.clusters,
                             settings: summary.settings, history: summary.history)
            model.featureClusters = summary.featureClusters
            return model
        }
    }

    /// Everything but the weights' values (their names and shapes are listed).
    public static func summary(_ path: String) throws -> ModelSummary {
        try H5Session.run {
            let root = try HDF5Files.open(path, expecting: formatName, versions: supportedVersions)
            defer { root.close() }
            return try readSummary(root)
        }
    }

    private static func readSummary(_ root: H5ID) throws -> ModelSummary {
        let path = root.path
        func bad(_ object: String, _ problem: String) -> HDF5Error {
            HDF5Error.invalidContent(path: path, object: object, problem: problem)
        }
        let version = try root.intAttribute("format_version")
        let creator = (try? root.stringAttribute("creator")) ?? ""
        let created = (try? root.stringAttribute("created")) ?? ""
        let json = try root.stringAttribute("architecture")
        let spec: NetworkSpec
        do {
            spec = try JSONDecoder().decode(NetworkSpec.self, from: Data(json.utf8))
        } catch {
            throw bad("/ attribute 'architecture'", "expected the network architecture as JSON, found text that does not decode (\(describe(error)))")
        }
        try ModelChecks.architecture(spec, path: path)   // ACOLLimits, before head.nodes or any tensor
        let head = spec.head

        // k-means centroids on F (unsupervised models): [k, F], finite; the clusters then are these.
        var featureClusters: KMeans?
        if try root.objectType("feature_clusters") == .group {
            featureClusters = try closing(root.openGroup("feature_clusters")) { g in
                let k = try g.intAttribute("k"), d = try g.intAttribute("dimension")
                let features = (try? spec.stateShapes())?.first { $0.name == "head/dense/kernel" }?.shape.first ?? -1
                guard (1...ACOLLimits.maxNodes).contains(k), d == features else {
                    throw bad("/feature_clusters", "expected k in 1...\(ACOLLimits.maxNodes) and dimension \(features) (F of the architecture), found k = \(k), dimension = \(d)")
                }
                let values: [Float] = try closing(g.openDataset("centroids")) { ds in
                    try ds.checkNumericType(Float.self, exactSize: 4)
                    let shape = try ds.shape()
                    guard shape == [k, d] else {
                        throw bad("/feature_clusters/centroids", "expected shape [\(k), \(d)] (k, dimension), found \(shape)")
                    }
                    return try ds.readAll(Float.self, exactSize: 4, limit: ACOLLimits.maxParameters).values
                }
                guard values.allSatisfy(\.isFinite) else {
                    throw bad("/feature_clusters/centroids", "expected finite values, found NaN or infinity")
                }
                let inertia = (try? g.scalarAttribute("inertia", Double.self)) ?? .nan
                return KMeans(centroids: values, k: k, dimension: d, inertia: inertia)
            }
        }
        // The head the clusters are over: the network's, or one parent of k centroids.
        let clusterHead = featureClusters.map { ACOLHeadSpec(parents: 1, k: $0.k, batchNormBeforeZ: false) } ?? head

        // ACOL metadata.
        let (parentNames, fineNames, parentOfFine, clusters, gar): ([String], [String], [Int], [ClusterInfo], GARConfig) =
            try closing(root.openGroup("acol")) { g in
                let np = try g.intAttribute("n_p"), k = try g.intAttribute("k")
                guard np == head.parents, k == head.k else {
                    throw bad("/acol", "expected n_p = \(head.parents) and k = \(head.k) (from the architecture), found n_p = \(np), k = \(k)")
                }
                let parentNames = try g.stringArrayAttribute("parent_names")
                guard parentNames.count == np else {
                    throw bad("/acol attribute 'parent_names'", "expected \(np) names (n_p), found \(parentNames.count)")
                }
                let fineNames = try g.hasAttribute("fine_names") ? try g.stringArrayAttribute("fine_names") : []
                try ModelChecks.fineClasses(fineNames.count, object: "/acol attribute 'fine_names'", path: path)
                var parentOfFine: [Int] = []
                if try g.exists("parent_of_fine") {
                    parentOfFine = try g.readVector("parent_of_fine", Int64.self, limit: ACOLLimits.maxClasses).map { Int($0) }
                    if let badP = parentOfFine.first(where: { $0 < 0 || $0 >= np }) {
                        throw bad("/acol/parent_of_fine", "expected parent indices in 0..<\(np), found \(badP)")
                    }
                }
                let nodeParent = try g.readVector("node_parent", Int32.self, limit: ACOLLimits.maxNodes)
                let nodeDup = try g.readVector("node_duplicate", Int32.self, limit: ACOLLimits.maxNodes)
                let n = head.nodes
                let table = head.nodeTable
                guard nodeParent == table.map({ Int32($0.parent) }), nodeDup == table.map({ Int32($0.duplicate) }) else {
                    throw bad("/acol/node_parent", "expected the architecture's node order (\(n) nodes, \(head.duplicates == nil ? "parent j mod \(np)" : "duplicate-major rounds")), found \(nodeParent.count) entries that differ")
                }

                let clusters: [ClusterInfo] = try closing(g.openGroup("clusters")) { cg in
                    let node = try cg.readVector("node", Int64.self, limit: ACOLLimits.maxNodes)
                    let parent = try cg.readVector("parent", Int64.self, limit: ACOLLimits.maxNodes)
                    let dup = try cg.readVector("duplicate", Int64.self, limit: ACOLLimits.maxNodes)
                    let count = try cg.readVector("count", Int64.self, limit: ACOLLimits.maxNodes)
                    let fine = try cg.readVector("fine_label", Int64.self, limit: ACOLLimits.maxNodes)
                    let majority = try cg.readVector("majority_count", Int64.self, limit: ACOLLimits.maxNodes)
                    let share = try cg.readVector("share", Double.self, limit: ACOLLimits.maxNodes)
                    let names = try cg.stringArrayAttribute("fine_name")
                    let m = node.count
                    for (name, c) in [("parent", parent.count), ("duplicate", dup.count), ("count", count.count),
                                      ("fine_label", fine.count), ("majority_count", majority.count),
                                      ("share", share.count), ("fine_name", names.count)] where c != m {
                        throw bad("/acol/clusters/\(name)", "expected \(m) entries (as many as /acol/clusters/node), found \(c)")
                    }
                    try ModelChecks.clusters(node: node, parent: parent, duplicate: dup, count: count, fineLabel: fine,
                                             majority: majority, share: share, head: clusterHead, fineNames: fineNames.count, path: path)
                    return (0..<m).map { i in
                        ClusterInfo(node: Int(node[i]), parent: Int(parent[i]), duplicate: Int(dup[i]), count: Int(count[i]),
                                    fineLabel: fine[i] < 0 ? nil : Int(fine[i]), fineName: names[i].isEmpty ? nil : names[i],
                                    majorityCount: Int(majority[i]), share: share[i])
                    }
                }

                let gar: GARConfig = try closing(g.openGroup("gar")) { gg in
                    let scopeText = try gg.stringAttribute("scope")
                    guard let scope = GARScope(rawValue: scopeText) else {
                        throw bad("/acol/gar attribute 'scope'", "expected 'all_nodes' or 'per_parent', found '\(scopeText)'")
                    }
                    let frobText = try gg.stringAttribute("frobenius")
                    guard let frob = FrobeniusReduction(rawValue: frobText) else {
                        throw bad("/acol/gar attribute 'frobenius'", "expected 'sum' or 'mean', found '\(frobText)'")
                    }
                    return GARConfig(scope: scope, symmetric: try gg.intAttribute("symmetric") != 0,
                                     cA: try gg.scalarAttribute("c_a", Float.self), cB: try gg.scalarAttribute("c_b", Float.self),
                                     cF: try gg.scalarAttribute("c_F", Float.self), frobenius: frob,
                                     epsilon: try gg.scalarAttribute("epsilon", Float.self))
                }
                return (parentNames, fineNames, parentOfFine, clusters, gar)
            }

        let preprocessing: Preprocessing = try closing(root.openGroup("preprocessing")) { g in
            Preprocessing(height: try g.intAttribute("height"), width: try g.intAttribute("width"),
                          channels: try g.intAttribute("channels"), scale: try g.scalarAttribute("scale", Float.self),
                          offset: try g.scalarAttribute("offset", Float.self))
        }
        try ModelChecks.preprocessing(preprocessing, spec: spec, path: path)   // same images as the architecture

        var settings: TrainingSettings?
        if try root.objectType("training") == .group {
            settings = try closing(root.openGroup("training")) { g in
                let kindText = try g.stringAttribute("optimizer")
                guard let kind = OptimizerKind(rawValue: kindText) else {
                    throw bad("/training attribute 'optimizer'", "expected 'sgd' or 'adam', found '\(kindText)'")
                }
                let o = OptimizerConfig(kind: kind, learningRate: try g.scalarAttribute("learning_rate", Float.self),
                                        momentum: try g.scalarAttribute("momentum", Float.self),
                                        nesterov: try g.intAttribute("nesterov") != 0,
                                        decay: try g.scalarAttribute("decay", Float.self),
                                        beta1: try g.scalarAttribute("beta1", Float.self),
                                        beta2: try g.scalarAttribute("beta2", Float.self),
                                        epsilon: try g.scalarAttribute("epsilon", Float.self))
                return TrainingSettings(optimizer: o, batchSize: try g.intAttribute("batch_size"),
                                        epochs: try g.intAttribute("epochs"), seed: try g.scalarAttribute("seed", UInt64.self),
                                        datasetFile: try g.hasAttribute("dataset_file") ? try g.stringAttribute("dataset_file") : nil,
                                        datasetSHA256: try g.hasAttribute("dataset_sha256") ? try g.stringAttribute("dataset_sha256") : nil,
                                        consistency: try g.hasAttribute("consistency") ? try decodeConsistency(try g.stringAttribute("consistency"), bad) : nil,
                                        heads: try g.hasAttribute("heads") ? try g.intAttribute("heads") : 1,
                                        kmeansStart: try g.hasAttribute("kmeans_start") ? try decodeJSON(KMeansStart.self, try g.stringAttribute("kmeans_start"), "kmeans_start", bad) : nil,
                                        pseudoParents: try g.hasAttribute("unsupervised") ? try decodeJSON(PseudoParentConfig.self, try g.stringAttribute("unsupervised"), "unsupervised", bad) : nil,
                                        semiSupervised: try g.hasAttribute("semi_supervised") ? try decodeJSON(SemiSupervisedConfig.self, try g.stringAttribute("semi_supervised"), "semi_supervised", bad) : nil)
            }
        }

        if let h = settings?.heads, !(1...ACOLLimits.maxHeads).contains(h) {
            throw bad("/training attribute 'heads'", "expected 1 to \(ACOLLimits.maxHeads) heads, found \(h)")
        }
        if let u = settings?.pseudoParents {
            guard u.transforms.count == head.parents, u.transforms.allSatisfy({ (0...3).contains($0.quarterTurns) }),
                  (1...ACOLLimits.maxNodes).contains(u.clusters), u.restarts >= 1, (u.projection ?? 1) >= 1 else {
                throw bad("/training attribute 'unsupervised'", "expected \(head.parents) transforms (n_p) of 0-3 quarter turns, 1...\(ACOLLimits.maxNodes) clusters at least one restart and a projection of at least 1 (or none), found \(u.transforms.count) transforms, \(u.clusters) clusters, \(u.restarts) restarts, projection \(u.projection.map(String.init) ?? "none")")
            }
        }
        if let start = settings?.kmeansStart {
            do { try start.validate(parents: head.parents) } catch {
                throw bad("/training attribute 'kmeans_start'", "expected steps >= 1, a finite weight > 0, maxFitImages >= 1 and different parents 0..<\(head.parents) (or none), found \(start.steps) steps, weight \(start.weight), maxFitImages \(start.maxFitImages), parents \(start.parents.map { "\($0)" } ?? "none")")
            }
        }
        if let semi = settings?.semiSupervised, semi.classes.count != head.nodes || head.parents != 1 {
            throw bad("/training attribute 'semi_supervised'", "expected one parent and one class per node (\(head.nodes)), found n_p = \(head.parents) and \(semi.classes.count) classes")
        }

        var history: [EpochRecord] = []
        if try root.objectType("history") == .group {
            history = try closing(root.openGroup("history")) { g in
                let m = try g.readVector("epoch", Int64.self, limit: ACOLLimits.maxEpochs).count
                var records = [EpochRecord](repeating: .empty, count: m)
                for col in EpochRecord.columns {
                    guard try g.exists(col.name) else {
                        if col.optional { continue }
                        throw bad("/history/\(col.name)", "expected a dataset of \(m) entries, found none")
                    }
                    let values: [Double?]
                    switch col.kind {
                    case .integer:
                        let raw = try g.readVector(col.name, Int64.self, limit: ACOLLimits.maxEpochs)
                        // Epoch numbers, cluster counts and head indices: far below 2^53, where a
                        // Double still holds every integer (a crafted 2^63 - 1 would not convert back).
                        if let v = raw.first(where: { abs($0) > 1 << 53 }) {
                            throw bad("/history/\(col.name)", "expected integers of magnitude at most 2^53, found \(v)")
                        }
                        values = raw.map { $0 < 0 && col.optional ? nil : Double($0) }
                    case .real: values = try g.readVector(col.name, Double.self, limit: ACOLLimits.maxEpochs).map { $0.isNaN && col.optional ? nil : $0 }
                    }
                    guard values.count == m else {
                        throw bad("/history/\(col.name)", "expected \(m) entries (as many as /history/epoch), found \(values.count)")
                    }
                    for r in 0..<m { col.assign(values[r], to: &records[r]) }
                }
                return records
            }
        }

        var tensors: [(name: String, shape: [Int])] = []
        try closing(root.openGroup("weights")) { w in
            for e in try GroupWalk.walk(w, strict: true) where e.kind == .dataset {
                tensors.append((e.path, try closing(w.openDataset(e.path)) { try $0.shape() }))
            }
        }
        // In the network's order when it builds; stored order (by name) otherwise.
        if let shapes = try? spec.stateShapes() {   // the names without building (allocating) the network
            let order = Dictionary(uniqueKeysWithValues: shapes.enumerated().map { ($1.name, $0) })
            tensors.sort { (order[$0.name] ?? Int.max, $0.name) < (order[$1.name] ?? Int.max, $1.name) }
        }
        return ModelSummary(formatVersion: version, creator: creator, created: created, spec: spec, gar: gar,
                            preprocessing: preprocessing, parentNames: parentNames, fineNames: fineNames,
                            parentOfFine: parentOfFine, clusters: clusters, settings: settings, history: history,
                            featureClusters: featureClusters, tensors: tensors)
    }

    private static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error { return c.debugDescription }
        if case DecodingError.keyNotFound(let k, _) = error { return "key '\(k.stringValue)' is missing" }
        if case DecodingError.typeMismatch(_, let c) = error { return c.debugDescription }
        if case DecodingError.valueNotFound(_, let c) = error { return c.debugDescription }
        return error.localizedDescription
    }
}

func iso8601Now() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}

/// /training@consistency: the two-view terms as JSON (`ConsistencyConfig`).
private func decodeConsistency(_ text: String, _ bad: (String, String) -> HDF5Error) throws -> ConsistencyConfig {
    do { return try JSONDecoder().decode(ConsistencyConfig.self, from: Data(text.utf8)) } catch {
        throw bad("/training attribute 'consistency'", "expected the JSON of the consistency settings, found text that does not decode")
    }
}

/// A /training attribute holding settings as JSON.
private func decodeJSON<T: Decodable>(_: T.Type, _ text: String, _ name: String, _ bad: (String, String) -> HDF5Error) throws -> T {
    do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
        throw bad("/training attribute '\(name)'", "expected the JSON of the \(name.replacingOccurrences(of: "_", with: "-")) settings, found text that does not decode")
    }
}
