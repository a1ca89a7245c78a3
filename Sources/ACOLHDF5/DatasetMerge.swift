import ACOLData
import Foundation

/// Joining data-set files that hold parts of one data set (the shards of `acol convert --shard`):
/// every file must have the same image shape and labels; each split of the result is the
/// concatenation of that split in the files, in the order given. Copied in chunks, so memory
/// stays bounded whatever the sizes.
public enum DatasetMerge {
    /// Checks the inputs, then streams them into `sink`. Returns the images per split.
    @discardableResult
    public static func merge(_ inputs: [String], into sink: ImageSink, chunk: Int = 4096,
                             progress: ((Int, Int) -> Void)? = nil) throws -> [(split: String, count: Int)] {
        guard let first = inputs.first else { throw DataError.usage("merge: expected at least one data-set file") }
        try sink.refuseInputs(inputs)
        let readers = try inputs.map { try DatasetReader(path: $0) }
        defer { readers.forEach { $0.close() } }
        let d = readers[0].description
        for (r, path) in zip(readers, inputs).dropFirst() {
            let e = r.description
            guard e.height == d.height, e.width == d.width, e.channels == d.channels else {
                throw DataError.badInput(path: path, expected: "images of \(d.height)x\(d.width)x\(d.channels) (as in \(first))",
                                         found: "\(e.height)x\(e.width)x\(e.channels)")
            }
            guard e.labels == d.labels else {
                throw DataError.badInput(path: path, expected: "the class and parent names of \(first)", found: "other labels")
            }
        }
        try checkShards(readers.map(\.description.shard), inputs)
        // Split names in first-seen order.
        var names: [String] = []
        for r in readers { for s in r.splits.map(\.name) where !names.contains(s) { names.append(s) } }
        // Every file's part of a split carries the same labels as the first file's (a shard
        // without coarse labels was found only while writing, and named the output).
        for name in names {
            // (A part without images has no label datasets to compare.)
            let parts = zip(readers, inputs).compactMap { r, p in r.split(named: name).map { (p, $0) } }.filter { $0.1.count > 0 }
            guard let (firstPath, a) = parts.first else { continue }
            for (path, b) in parts.dropFirst() where b.hasFineLabels != a.hasFineLabels || b.hasCoarseLabels != a.hasCoarseLabels {
                func text(_ s: SplitInfo) -> String { "fine labels \(s.hasFineLabels ? "present" : "absent"), coarse labels \(s.hasCoarseLabels ? "present" : "absent")" }
                throw DataError.badInput(path: path, expected: "split '\(name)' with \(text(a)) (as in \(firstPath))", found: text(b))
            }
        }
        let total = readers.reduce(0) { $0 + $1.splits.reduce(0) { $0 + $1.count } }
        var done = 0
        try sink.begin(DatasetDescription(height: d.height, width: d.width, channels: d.channels, labels: d.labels,
                                          source: "merge: " + inputs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))
        var out: [(String, Int)] = []
        for name in names {
            let parts = readers.compactMap { r in r.split(named: name).map { (r, $0) } }
            let count = parts.reduce(0) { $0 + $1.1.count }
            try sink.beginSplit(name, expectedCount: count)
            for (r, info) in parts {
                var start = 0
                while start < info.count {
                    let end = min(info.count, start + max(1, chunk))
                    try sink.append(try r.read(split: name, range: start..<end))
                    done += end - start
                    progress?(done, total)
                    start = end
                }
            }
            try sink.endSplit()
            out.append((name, count))
        }
        return out
    }

    /// Files from `acol convert --shard` record their shard: such files are joined only as
    /// shards 1...N of one N, each once, in order (two copies of shard 1 looked like the whole
    /// set). Files without the record (whole data sets, files written elsewhere) join freely,
    /// but not mixed with shards.
    static func checkShards(_ shards: [Shard?], _ inputs: [String]) throws {
        let recorded = shards.compactMap { $0 }
        guard !recorded.isEmpty else { return }
        if let i = shards.firstIndex(where: { $0 == nil }) {
            throw DataError.badInput(path: inputs[i], expected: "a shard of a sharded conversion, as the other inputs are",
                                     found: "a file that records no shard (a whole data set?)")
        }
        let n = recorded[0].count
        for (i, s) in recorded.enumerated() {
            guard s.count == n else {
                throw DataError.badInput(path: inputs[i], expected: "a shard of \(n) (as \(inputs[0]))", found: "shard \(s.index)/\(s.count)")
            }
            guard s.index == i + 1 else {
                let seen = recorded.prefix(i).contains { $0.index == s.index }
                throw DataError.badInput(path: inputs[i], expected: "shard \(i + 1)/\(n) in position \(i + 1) (shards 1...\(n) in order, each once)",
                                         found: "shard \(s.index)/\(n)" + (seen ? ", given twice" : ""))
            }
        }
        guard recorded.count == n else {
            throw DataError.badInput(path: inputs[inputs.count - 1], expected: "all \(n) shards (1...\(n))",
                                     found: "\(recorded.count) of them: shard \(recorded.count + 1)/\(n) onwards missing")
        }
    }
}
