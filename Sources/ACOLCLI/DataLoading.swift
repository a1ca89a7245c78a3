import ACOL
import ACOLDatasets
import ACOLHDF5
import Foundation

/// A data-set file's splits with the coarse labels training needs.
struct PreparedData {
    var path: String
    var description: DatasetDescription
    /// Split name -> images with fine and coarse labels as resolved.
    var splits: [String: ImageSet]
    var splitOrder: [String]
    var parentNames: [String]
    var parentOfFine: [Int]
    var fineNames: [String]
}

enum DataLoading {
    /// Reads the named splits (those present) of `path` and resolves parents:
    /// `--parents none` -> one parent; a spec -> computed from fine labels; else the file's own.
    static func load(_ path: String, splits wanted: [String]?, parents: String?,
                     progress: ((String) -> Void)? = nil) throws -> PreparedData {
        try requireFile(path)
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

        func recompute(_ map: [Int]) throws {
            for (n, var s) in out {
                guard let fine = s.fineLabels else {
                    throw CLIError.file(path, "split '\(n)' has no fine labels to derive parents from")
                }
                s.coarseLabels = try fine.map { f -> Int32 in
                    guard f >= 0, Int(f) < map.count else {
                        throw CLIError.file(path, "fine label \(f) has no parent in the mapping")
                    }
                    return Int32(map[Int(f)])
                }
                out[n] = s
            }
        }

        if let p = parents {
            if p.lowercased() == "none" {
                parentNames = ["all"]
                parentOfFine = fineNames.map { _ in 0 }
                for (n, var s) in out { s.coarseLabels = [Int32](repeating: 0, count: s.count); out[n] = s }
            } else {
                let spec = fileExists(p) ? try ParentSpec.load(mappingFile: p) : try ParentSpec.parse(p)
                let r = try spec.resolve(fineNames: fineNames)
                parentNames = r.parentNames
                parentOfFine = r.parentOfFine
                try recompute(parentOfFine)
            }
        } else if out.values.contains(where: { $0.coarseLabels == nil }) {
            guard !parentOfFine.isEmpty else {
                throw CLIError.file(path, "the data set has no parent labels: give --parents (e.g. --parents 0-4,5-9), or --parents none to cluster without them")
            }
            try recompute(parentOfFine)
        }
        if parentNames.isEmpty {
            let maxP = out.values.compactMap { $0.coarseLabels?.max() }.max().map { Int($0) } ?? 0
            parentNames = (0...maxP).map { "parent \($0)" }
        }
        return PreparedData(path: path, description: desc, splits: out, splitOrder: names,
                            parentNames: parentNames, parentOfFine: parentOfFine, fineNames: fineNames)
    }
}
