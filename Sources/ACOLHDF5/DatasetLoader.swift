import ACOL
import ACOLData
import Foundation

/// Where the parents (coarse labels) of a loaded data set come from.
public enum ParentSource: Equatable, Sendable {
    /// The data set's own coarse labels, or its fine-to-parent mapping when the splits carry
    /// fine labels only.
    case file
    /// One parent for everything: clustering without coarse labels.
    case none
    /// Parents computed from fine labels by a specification (replaces the file's own).
    case spec(ParentSpec)
}

/// A data-set file's splits with the coarse labels training needs.
public struct LoadedDataset: Sendable {
    public var path: String
    public var description: DatasetDescription
    /// Split name -> images with fine and coarse labels as resolved.
    public var splits: [String: ImageSet]
    /// The splits in file order.
    public var splitOrder: [String]
    public var parentNames: [String]
    /// The parent of each fine class (empty when the parents are the file's coarse labels only).
    public var parentOfFine: [Int]
    /// Fine-class names, extended with "N" for labels the file does not name.
    public var fineNames: [String]

    /// The name of the training split: "train", else the first (nil: no splits).
    public var trainingSplitName: String? { splits["train"] != nil ? "train" : splitOrder.first }
    /// The training split: "train", else the first.
    public var trainingSplit: ImageSet? { trainingSplitName.flatMap { splits[$0] } }
}

/// Reading data-set files for training and scoring, with the parents resolved.
public enum DatasetLoader {
    /// Reads the named splits (all when nil) of `path` and resolves the parents.
    public static func load(_ path: String, splits wanted: [String]? = nil, parents: ParentSource = .file,
                            progress: ((String) -> Void)? = nil) throws -> LoadedDataset {
        let reader = try DatasetReader(path: path)
        defer { reader.close() }
        let desc = reader.description
        var names = reader.splits.map(\.name)
        if let wanted { names = names.filter { wanted.contains($0) } }
        var out: [String: ImageSet] = [:]
        for n in names {
            progress?(n)
            out[n] = try reader.read(split: n)
        }
        var fineNames = desc.labels.fineNames
        let maxFine = out.values.compactMap { $0.fineLabels?.max() }.max().map { Int($0) } ?? -1
        if fineNames.count <= maxFine { fineNames += (fineNames.count...maxFine).map { "\($0)" } }
        var parentNames = desc.labels.parentNames
        var parentOfFine = desc.labels.parentOfFine

        func relabel(_ mapping: ParentMapping) throws {
            for (n, var s) in out {
                if s.count == 0 { s.coarseLabels = []; out[n] = s; continue }
                out[n] = try s.withParents(mapping, source: "\(path) [\(n)]")
            }
        }

        switch parents {
        case .none:
            parentNames = ["all"]
            parentOfFine = fineNames.map { _ in 0 }
            for (n, var s) in out { s.coarseLabels = [Int32](repeating: 0, count: s.count); out[n] = s }
        case .spec(let spec):
            let r = try spec.resolve(fineNames: fineNames)
            parentNames = r.parentNames
            parentOfFine = r.parentOfFine
            try relabel(ParentMapping(parentNames: parentNames, parentOfFine: parentOfFine))
        case .file:
            if out.values.contains(where: { $0.coarseLabels == nil && $0.count > 0 }) {
                guard !parentOfFine.isEmpty else {
                    throw DataError.badInput(path: path, expected: "parent labels (give --parents, e.g. --parents 0-4,5-9, or --parents none to cluster without them)",
                                             found: "none in the data set")
                }
                try relabel(ParentMapping(parentNames: parentNames, parentOfFine: parentOfFine))
            }
        }
        if parentNames.isEmpty {
            let maxP = out.values.compactMap { $0.coarseLabels?.max() }.max().map { Int($0) } ?? 0
            parentNames = (0...max(0, maxP)).map { "parent \($0)" }
        }
        return LoadedDataset(path: path, description: desc, splits: out, splitOrder: names,
                             parentNames: parentNames, parentOfFine: parentOfFine, fineNames: fineNames)
    }

    /// A split prepared for a model by `split(_:of:forModel:)`.
    public struct ModelSplit {
        public var images: ImageSet
        public var split: String
        /// The names of `images.fineLabels`' classes: the model's, or the data set's own when its
        /// classes are not the model's.
        public var fineNames: [String]
        /// What was done about a data set whose classes are not numbered or named as the
        /// model's (one line, for a warning), or nil.
        public var note: String?
    }

    /// The split of `path` to score `model` on (default: test when present, else the first),
    /// with coarse labels matching the model's parents: the file's own when they fit, else
    /// derived from fine labels through the model's mapping, else none.
    public static func split(_ name: String?, of path: String, for model: ACOLModel) throws -> (images: ImageSet, split: String) {
        let r = try split(name, of: path, forModel: model)
        return (r.images, r.split)
    }

    /// As `split(_:of:for:)`, with the classes matched by name: when the data set names its fine
    /// classes and the model does too, a data set whose classes are the model's (or some of them)
    /// in another order has its labels renumbered to the model's; one with classes the model does
    /// not know keeps its labels and names, and its own parents (the model's mapping of fine
    /// classes to parents does not apply to them).
    public static func split(_ name: String?, of path: String, forModel model: ACOLModel) throws -> ModelSplit {
        let reader = try DatasetReader(path: path)
        defer { reader.close() }
        let names = reader.splits.map(\.name)
        let chosen = name ?? (names.contains("test") ? "test" : names.first ?? "train")
        guard names.contains(chosen) else {
            throw DataError.badInput(path: path, expected: "a split '\(chosen)'", found: "splits \(names.joined(separator: ", "))")
        }
        var set = try reader.read(split: chosen)
        guard set.count > 0 else {
            throw DataError.badInput(path: path, expected: "images in the split '\(chosen)'", found: "none")
        }
        let p = model.preprocessing
        guard set.height == p.height, set.width == p.width, set.channels == p.channels else {
            throw DataError.badInput(path: path, expected: "images of \(p.height)x\(p.width)x\(p.channels) (as the model takes)",
                                     found: "\(set.height)x\(set.width)x\(set.channels)")
        }
        // The fine classes, matched by name with the model's.
        let fileNames = reader.description.labels.fineNames, modelNames = model.fineNames
        var fineNames = modelNames.isEmpty ? fileNames : modelNames
        var note: String?
        var modelMapping = !model.parentOfFine.isEmpty
        if !fileNames.isEmpty, !modelNames.isEmpty, fileNames != modelNames {
            let index = Dictionary(modelNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let unknown = fileNames.filter { index[$0] == nil }
            if unknown.isEmpty && Set(fileNames).count == fileNames.count {
                if let fine = set.fineLabels {
                    set.fineLabels = fine.map { f in f >= 0 && Int(f) < fileNames.count ? Int32(index[fileNames[Int(f)]]!) : f }
                }
                note = "\(path): its classes are numbered otherwise than the model's; matched by name"
            } else {
                fineNames = fileNames
                modelMapping = false
                note = "\(path): \(unknown.count) of its \(fileNames.count) classes are not the model's (e.g. '\(unknown.first ?? fileNames[0])'); clusters are named by the data set's classes and its own parents are used"
            }
        }
        let np = model.predictsParents ? model.head.parents : 1   // pseudo-parents are not the file's
        let fileParents = reader.description.labels.parentNames
        let coarseFits = set.coarseLabels.map { c in
            (fileParents.isEmpty || fileParents.count == np) && c.allSatisfy { $0 >= 0 && Int($0) < np }
        } ?? false
        if np == 1 {
            set.coarseLabels = [Int32](repeating: 0, count: set.count)
        } else if !coarseFits || (modelMapping && fileParents != model.parentNames) {
            // Derive the model's parents from fine labels when the file's do not match; a fine
            // label the model's mapping does not know counts as a wrong parent (-1).
            if let fine = set.fineLabels, modelMapping {
                set.coarseLabels = fine.map { f in
                    f >= 0 && Int(f) < model.parentOfFine.count ? Int32(model.parentOfFine[Int(f)]) : -1
                }
            } else if !coarseFits {
                set.coarseLabels = nil
            }
        }
        return ModelSplit(images: set, split: chosen, fineNames: fineNames, note: note)
    }
}
