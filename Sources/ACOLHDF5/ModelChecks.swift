import ACOL
import Foundation

/// Cross-checks of a model file's parts against each other and against `ACOLLimits`, made by
/// `ModelFile.load` and `ModelFile.summary` before anything is built from them: a model that
/// passes can be evaluated, run and shown without a trap or an absurd allocation.
enum ModelChecks {
    /// The architecture is within the limits (`NetworkSpec.validate`, no tensor allocated).
    static func architecture(_ spec: NetworkSpec, path: String) throws {
        do {
            try spec.validate()
        } catch {
            throw HDF5Error.invalidContent(path: path, object: "/ attribute 'architecture'",
                                           problem: "the architecture does not build: \(error.localizedDescription)")
        }
    }

    /// /preprocessing describes the images the architecture takes, with finite scale and offset.
    static func preprocessing(_ p: Preprocessing, spec: NetworkSpec, path: String) throws {
        let found = [p.height, p.width, p.channels]
        guard found == spec.inputShape else {
            throw HDF5Error.invalidContent(path: path, object: "/preprocessing",
                                           problem: "expected height, width, channels \(spec.inputShape) (the architecture's input shape), found \(found)")
        }
        guard p.scale.isFinite, p.offset.isFinite else {
            throw HDF5Error.invalidContent(path: path, object: "/preprocessing",
                                           problem: "expected a finite scale and offset, found scale \(p.scale), offset \(p.offset)")
        }
    }

    /// /acol/fine_names and /acol/parent_of_fine have at most `ACOLLimits.maxClasses` entries.
    static func fineClasses(_ count: Int, object: String, path: String) throws {
        guard count <= ACOLLimits.maxClasses else {
            throw HDF5Error.invalidContent(path: path, object: object,
                                           problem: "expected at most \(ACOLLimits.maxClasses) fine classes, found \(count)")
        }
    }

    /// Each cluster row names a node of the head, with its parent and duplicate, sane counts and
    /// a fine label that indexes the fine names (or is below `ACOLLimits.maxClasses` when there are none).
    static func clusters(node: [Int64], parent: [Int64], duplicate: [Int64], count: [Int64], fineLabel: [Int64],
                         majority: [Int64], share: [Double], head: ACOLHeadSpec, fineNames: Int, path: String) throws {
        let n = head.nodes   // validated
        let classes = fineNames > 0 ? fineNames : ACOLLimits.maxClasses
        let table = head.nodeTable
        for i in 0..<node.count {
            func bad(_ column: String, _ expected: String, _ found: String) -> HDF5Error {
                HDF5Error.invalidContent(path: path, object: "/acol/clusters/\(column)",
                                         problem: "entry \(i): expected \(expected), found \(found)")
            }
            let j = node[i]
            guard j >= 0, j < Int64(n) else { throw bad("node", "a node in 0..<\(n)", "\(j)") }
            let (p, d) = table[Int(j)]
            guard parent[i] == Int64(p) else { throw bad("parent", "\(p) (the parent of node \(j))", "\(parent[i])") }
            guard duplicate[i] == Int64(d) else { throw bad("duplicate", "\(d) (the duplicate number of node \(j))", "\(duplicate[i])") }
            guard count[i] >= 0 else { throw bad("count", "a count >= 0", "\(count[i])") }
            guard majority[i] >= 0, majority[i] <= count[i] else { throw bad("majority_count", "0...\(count[i]) (the count)", "\(majority[i])") }
            guard fineLabel[i] >= -1, fineLabel[i] < Int64(classes) else {
                throw bad("fine_label", "-1 (none) or a fine class in 0..<\(classes)", "\(fineLabel[i])")
            }
            guard share[i].isFinite, share[i] >= 0, share[i] <= 1 else { throw bad("share", "a share in 0...1", "\(share[i])") }
        }
    }

    /// Every tensor the architecture needs is a float32 dataset of exactly its shape under
    /// /weights, and the file is big enough to hold them: checked from the spec's shapes before
    /// `Network(spec:)` allocates (and randomly initialises) up to `ACOLLimits.maxParameters` values.
    static func weights(_ w: H5ID, spec: NetworkSpec, path: String) throws {
        let shapes: [(name: String, shape: [Int])]
        do { shapes = try spec.stateShapes() } catch {
            throw HDF5Error.invalidContent(path: path, object: "/ attribute 'architecture'",
                                           problem: "the architecture does not build: \(error.localizedDescription)")
        }
        for t in shapes {
            guard try w.objectType(t.name) == .dataset else {
                throw HDF5Error.invalidContent(path: path, object: "/weights/" + t.name,
                                               problem: "expected a float32 dataset of shape \(t.shape) (the architecture has it), found nothing")
            }
            try closing(w.openDataset(t.name)) { ds in
                try ds.checkNumericType(Float.self, exactSize: 4)
                let shape = try ds.shape()
                guard shape == t.shape else {
                    throw HDF5Error.invalidContent(path: path, object: ds.name,
                                                   problem: "expected shape \(t.shape) (from the architecture), found \(shape)")
                }
            }
        }
        let values = CheckedSize.sum(shapes.map { CheckedSize.product($0.shape) ?? Int.max }) ?? Int.max
        try ReadLimits.requirePlausible(count: values, rowBytes: 4, what: "weight values", fileSize: ReadLimits.fileSize(path),
                                        object: "/weights", path: path)
    }
}
