import ACOL
import Foundation

/// The data-set file (root attribute format = "acol-dataset"); layout in docs/file-format.md.
public enum DatasetFile {
    public static let formatName = "acol-dataset"
    public static let formatVersion = 1
    public static let supportedVersions = [1]
    /// Images per chunk of /<split>/images (fewer when one chunk would exceed `maxChunkBytes`).
    public static let defaultChunkImages = 256
    /// HDF5's default chunk cache is 1 MiB: a chunk must fit in it, or partial writes and reads
    /// decompress the same chunk again and again.
    public static let maxChunkBytes = 1 << 20
    /// gzip level of images and labels (see Benchmarks/hdf5 for the measurements behind it).
    public static let defaultGzipLevel = 4
    /// Elements per chunk of the label datasets.
    public static let labelChunk = 4096

    /// Images per chunk for images of `imageSize` bytes.
    public static func chunkImages(imageSize: Int, preferred: Int = defaultChunkImages) -> Int {
        max(1, min(preferred, maxChunkBytes / max(imageSize, 1)))
    }
}

/// One split of a data-set file.
public struct SplitInfo: Equatable, Sendable {
    public var name: String
    public var count: Int
    public var hasFineLabels: Bool
    public var hasCoarseLabels: Bool

    public init(name: String, count: Int, hasFineLabels: Bool, hasCoarseLabels: Bool) {
        self.name = name; self.count = count; self.hasFineLabels = hasFineLabels; self.hasCoarseLabels = hasCoarseLabels
    }
}

/// Streams images into a data-set file: extendible, chunked, gzip-compressed datasets, so an
/// importer never holds more than one chunk of images (plus the batch it appends) in memory.
///
/// The file is written under a temporary name beside `path` and renamed there by `finish()`.
/// Any error, `abort()`, or dropping the writer without `finish()` removes the temporary file.
public final class DatasetWriter: ImageSink {
    public let path: String
    public let gzipLevel: Int
    public let preferredChunkImages: Int
    public let creator: String

    private var out: AtomicH5File?
    private var description: DatasetDescription?
    private var splitNames: [String] = []
    private var split: SplitState?
    private var finished = false

    private final class SplitState {
        let name: String
        let group: H5ID
        let images: H5ID
        var fine: H5ID?
        var coarse: H5ID?
        /// Known after the first non-empty batch.
        var hasFine: Bool?
        var hasCoarse: Bool?
        let chunkRows: Int
        var written = 0
        var pixels: [UInt8] = []
        var fineBuffer: [Int32] = []
        var coarseBuffer: [Int32] = []
        var buffered = 0
        init(name: String, group: H5ID, images: H5ID, chunkRows: Int) {
            self.name = name; self.group = group; self.images = images; self.chunkRows = chunkRows
        }
        func close() { fine?.close(); coarse?.close(); images.close(); group.close() }
    }

    /// Creates the temporary file at once, so a folder that does not exist, a target that is
    /// one of `inputs` or a special file fails here.
    public init(path: String, gzipLevel: Int = DatasetFile.defaultGzipLevel,
                chunkImages: Int = DatasetFile.defaultChunkImages, creator: String = ModelFile.defaultCreator,
                inputs: [String] = []) throws {
        guard (0...9).contains(gzipLevel), chunkImages > 0 else {
            throw HDF5Error.usage(path: path, problem: "expected a gzip level in 0...9 and chunks of 1 or more images, found level \(gzipLevel) and \(chunkImages) images")
        }
        self.path = path; self.gzipLevel = gzipLevel; self.preferredChunkImages = chunkImages; self.creator = creator
        out = try H5Session.run { try AtomicH5File(target: path, inputs: inputs) }
    }

    deinit { abort() }

    /// Throws (and aborts the file) when the data set's own path is one of `files`.
    public func refuseInputs(_ files: [String]) throws {
        do {
            try OutputFile.check(path, inputs: files)
        } catch {
            abort()
            throw error
        }
    }

    /// Runs `body`; any error aborts the whole file.
    private func guarded(_ body: () throws -> Void) throws {
        try H5Session.run {
            do {
                guard out != nil, !finished else {
                    throw HDF5Error.usage(path: path, problem: "the data-set writer was already finished or aborted")
                }
                try body()
            } catch {
                abortLocked()
                throw error
            }
        }
    }

    public func begin(_ description: DatasetDescription) throws {
        try guarded {
            guard self.description == nil else { throw HDF5Error.usage(path: path, problem: "begin called twice") }
            // The reader's limit (ACOLLimits): the writer never makes a file its reader refuses.
            if let problem = ACOLLimits.imageShapeProblem(height: description.height, width: description.width, channels: description.channels) {
                throw HDF5Error.usage(path: path, problem: "image shape: \(problem)")
            }
            let l = description.labels
            if let (what, n) = DatasetChecks.tooManyNames(fine: l.fineNames.count, parents: l.parentNames.count) {
                let kind = what == "fine_names" ? "fine classes" : "parents"
                throw HDF5Error.usage(path: path, problem: "\(n) \(kind): a data-set file holds at most \(ACOLLimits.maxClasses)")
            }
            if !l.parentOfFine.isEmpty && l.parentOfFine.count != l.fineNames.count {
                throw HDF5Error.usage(path: path, problem: "parentOfFine has \(l.parentOfFine.count) entries for \(l.fineNames.count) fine classes")
            }
            self.description = description
            let root = out!.file!
            try root.setAttribute("format", string: DatasetFile.formatName)
            try root.setAttribute("format_version", Int64(DatasetFile.formatVersion))
            try root.setAttribute("creator", string: creator)
            try root.setAttribute("created", string: iso8601Now())
            try root.setAttribute("source", string: description.source)
            if let shard = description.shard { try root.setAttribute("shard", string: "\(shard.index)/\(shard.count)") }
            try root.setAttribute("height", Int64(description.height))
            try root.setAttribute("width", Int64(description.width))
            try root.setAttribute("channels", Int64(description.channels))
            try root.setAttribute("fine_names", strings: l.fineNames)
            try root.setAttribute("parent_names", strings: l.parentNames)
            try root.setAttribute("parent_of_fine", array: l.parentOfFine.map { Int32($0) })
            try root.setAttribute("splits", strings: [])
        }
    }

    public func beginSplit(_ name: String, expectedCount: Int?) throws {
        try guarded {
            guard let d = description else { throw HDF5Error.usage(path: path, problem: "beginSplit('\(name)') before begin") }
            guard split == nil else { throw HDF5Error.usage(path: path, problem: "beginSplit('\(name)') while split '\(split!.name)' is open") }
            guard !name.isEmpty, !name.contains("/"), name != ".", !name.hasPrefix(" "),
                  !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw HDF5Error.usage(path: path, problem: "'\(name.debugDescription.dropFirst().dropLast())' cannot be a split name (non-empty, no '/', no control characters)")
            }
            guard !splitNames.contains(name) else { throw HDF5Error.usage(path: path, problem: "split '\(name)' written twice") }
            let root = out!.file!
            let group = try root.createGroup(name)
            let rowShape = [d.height, d.width, d.channels]
            let chunkRows = DatasetFile.chunkImages(imageSize: rowShape.reduce(1, *), preferred: preferredChunkImages)
            let images: H5ID
            do {
                images = try group.createDataset("images", of: UInt8.self, shape: [0] + rowShape, chunk: [chunkRows] + rowShape,
                                                 gzip: gzipLevel, extendible: true)
            } catch { group.close(); throw error }
            let s = SplitState(name: name, group: group, images: images, chunkRows: chunkRows)
            s.pixels.reserveCapacity(chunkRows * rowShape.reduce(1, *))
            split = s
            splitNames.append(name)
            try root.setAttribute("splits", strings: splitNames)
        }
    }

    public func append(_ batch: ImageSet) throws {
        try guarded {
            guard let d = description, let s = split else { throw HDF5Error.usage(path: path, problem: "append outside a split") }
            guard batch.height == d.height, batch.width == d.width, batch.channels == d.channels else {
                throw HDF5Error.usage(path: path, problem: "split '\(s.name)': expected images of \(d.height) x \(d.width) x \(d.channels), found \(batch.height) x \(batch.width) x \(batch.channels)")
            }
            if batch.count == 0 { return }
            let hasFine = batch.fineLabels != nil, hasCoarse = batch.coarseLabels != nil
            if let f = batch.fineLabels, f.count != batch.count {
                throw HDF5Error.usage(path: path, problem: "split '\(s.name)': \(f.count) fine labels for \(batch.count) images")
            }
            if let c = batch.coarseLabels, c.count != batch.count {
                throw HDF5Error.usage(path: path, problem: "split '\(s.name)': \(c.count) coarse labels for \(batch.count) images")
            }
            if s.hasFine == nil {
                s.hasFine = hasFine; s.hasCoarse = hasCoarse
                let chunk = [DatasetFile.labelChunk]
                if hasFine {
                    s.fine = try s.group.createDataset("fine_labels", of: Int32.self, shape: [0], chunk: chunk, gzip: gzipLevel, extendible: true)
                }
                if hasCoarse {
                    s.coarse = try s.group.createDataset("coarse_labels", of: Int32.self, shape: [0], chunk: chunk, gzip: gzipLevel, extendible: true)
                }
            } else if s.hasFine != hasFine || s.hasCoarse != hasCoarse {
                throw HDF5Error.usage(path: path, problem: "split '\(s.name)': every batch must have the same labels as the first (fine: \(s.hasFine!), coarse: \(s.hasCoarse!)), found fine: \(hasFine), coarse: \(hasCoarse)")
            }
            s.pixels += batch.pixels
            if let f = batch.fineLabels { s.fineBuffer += f }
            if let c = batch.coarseLabels { s.coarseBuffer += c }
            s.buffered += batch.count
            if s.buffered >= s.chunkRows { try flush(s, d, all: false) }
        }
    }

    /// Writes whole chunks (or, with `all`, everything) from the buffer.
    private func flush(_ s: SplitState, _ d: DatasetDescription, all: Bool) throws {
        let rows = all ? s.buffered : (s.buffered / s.chunkRows) * s.chunkRows
        if rows == 0 { return }
        let rowShape = [d.height, d.width, d.channels]
        let imageSize = rowShape.reduce(1, *)
        try s.pixels.withUnsafeBufferPointer { try s.images.appendRows($0, count: rows, at: s.written, rowShape: rowShape) }
        if let f = s.fine { try s.fineBuffer.withUnsafeBufferPointer { try f.appendRows($0, count: rows, at: s.written, rowShape: []) } }
        if let c = s.coarse { try s.coarseBuffer.withUnsafeBufferPointer { try c.appendRows($0, count: rows, at: s.written, rowShape: []) } }
        s.written += rows
        s.buffered -= rows
        s.pixels.removeFirst(rows * imageSize)
        if s.fine != nil { s.fineBuffer.removeFirst(rows) }
        if s.coarse != nil { s.coarseBuffer.removeFirst(rows) }
    }

    public func endSplit() throws {
        try guarded {
            guard let d = description, let s = split else { throw HDF5Error.usage(path: path, problem: "endSplit outside a split") }
            try flush(s, d, all: true)
            try s.group.setAttribute("count", Int64(s.written))
            s.close()
            split = nil
        }
    }

    /// Ends an open split, writes everything and renames the file to `path`.
    public func finish() throws {
        if split != nil { try endSplit() }
        try guarded {
            guard description != nil else { throw HDF5Error.usage(path: path, problem: "finish before begin") }
            try out!.commit()
            out = nil
            finished = true
        }
    }

    /// Drops everything written so far and removes the temporary file. Never throws.
    public func abort() {
        H5Session.run { abortLocked() }
    }

    private func abortLocked() {
        split?.close()
        split = nil
        out?.abort()
        out = nil
    }
}

/// Reads a data-set file, whole splits or ranges of them.
public final class DatasetReader {
    public let path: String
    public let description: DatasetDescription
    public let splits: [SplitInfo]
    public let formatVersion: Int
    public let creator: String
    public let created: String
    private var root: H5ID?

    public init(path: String) throws {
        self.path = path
        let r = try H5Session.run { try HDF5Files.open(path, expecting: DatasetFile.formatName, versions: DatasetFile.supportedVersions) }
        do {
            (description, splits, formatVersion, creator, created) = try H5Session.run { try Self.readHeader(r) }
        } catch {
            r.close()
            throw error
        }
        root = r
    }

    deinit { close() }

    /// Closes the file; later reads throw. Idempotent.
    public func close() {
        root?.close()
        root = nil
    }

    public func split(named name: String) -> SplitInfo? { splits.first { $0.name == name } }

    private static func readHeader(_ root: H5ID) throws -> (DatasetDescription, [SplitInfo], Int, String, String) {
        let path = root.path
        func bad(_ object: String, _ problem: String) -> HDF5Error { HDF5Error.invalidContent(path: path, object: object, problem: problem) }
        let version = try root.intAttribute("format_version")
        let h = try root.intAttribute("height"), w = try root.intAttribute("width"), c = try root.intAttribute("channels")
        if let problem = ACOLLimits.imageShapeProblem(height: h, width: w, channels: c) {
            throw bad("/", "image shape: \(problem) (attributes height, width, channels)")
        }
        let fine = try root.hasAttribute("fine_names") ? try root.stringArrayAttribute("fine_names") : []
        let parents = try root.hasAttribute("parent_names") ? try root.stringArrayAttribute("parent_names") : []
        try DatasetChecks.names(fine: fine.count, parents: parents.count, path: path)
        let pof = try root.hasAttribute("parent_of_fine") ? try root.arrayAttribute("parent_of_fine", Int64.self).map { Int($0) } : []
        if !pof.isEmpty {
            guard pof.count == fine.count else {
                throw bad("/ attribute 'parent_of_fine'", "expected \(fine.count) entries (one per fine name), found \(pof.count)")
            }
            if let badIndex = pof.firstIndex(where: { $0 < 0 || $0 >= parents.count }) {
                throw bad("/ attribute 'parent_of_fine'", "entry \(badIndex) is \(pof[badIndex]), expected a parent index in 0..<\(parents.count)")
            }
        }
        let source = try root.optionalStringAttribute("source") ?? ""
        var shard: Shard?
        if try root.hasAttribute("shard") {
            let text = try root.stringAttribute("shard")
            guard let s = Shard(text: text) else {
                throw bad("/ attribute 'shard'", "expected 'I/N' with 1 <= I <= N, found '\(text.prefix(40))'")
            }
            shard = s
        }
        let creator = (try? root.stringAttribute("creator")) ?? ""
        let created = (try? root.stringAttribute("created")) ?? ""
        let names: [String]
        if try root.hasAttribute("splits") {
            names = try root.stringArrayAttribute("splits")
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted {
                throw bad("/", "attribute 'splits' lists '\(name)' twice")
            }
        } else {
            names = try root.linkNames().filter { try root.objectType($0) == .group && root.exists($0 + "/images") }
        }
        try DatasetChecks.splitCount(names.count, path: path)
        let fileSize = ReadLimits.fileSize(path)
        var splits: [SplitInfo] = []
        for name in names {
            guard try root.objectType(name) == .group else { throw bad("/" + name, "listed in 'splits' but there is no such group") }
            let info: SplitInfo = try closing(root.openGroup(name)) { g in
                let n: Int = try closing(g.openDataset("images")) { ds in
                    let dtype = try ds.dtype()
                    guard dtype == "uint8" else { throw bad(ds.name, "expected uint8 pixels, found \(dtype)") }
                    let shape = try ds.shape()
                    guard shape.count == 4, Array(shape.dropFirst()) == [h, w, c] else {
                        throw bad(ds.name, "expected shape [N, \(h), \(w), \(c)], found \(shape)")
                    }
                    try ReadLimits.requirePlausible(count: shape[0], rowBytes: h * w * c, what: "images of \(h) x \(w) x \(c)",
                                                    fileSize: fileSize, object: ds.name, path: path)
                    return shape[0]
                }
                func labels(_ label: String) throws -> Bool {
                    guard try g.exists(label) else { return false }
                    try closing(g.openDataset(label)) { ds in
                        try ds.checkNumericType(Int32.self)
                        let shape = try ds.shape()
                        guard shape == [n] else { throw bad(ds.name, "expected shape [\(n)] (one per image), found \(shape)") }
                        try ReadLimits.requirePlausible(count: n, rowBytes: 4, what: "labels", fileSize: fileSize, object: ds.name, path: path)
                    }
                    return true
                }
                return SplitInfo(name: name, count: n, hasFineLabels: try labels("fine_labels"), hasCoarseLabels: try labels("coarse_labels"))
            }
            splits.append(info)
        }
        let d = DatasetDescription(height: h, width: w, channels: c,
                                   labels: LabelInfo(fineNames: fine, parentNames: parents, parentOfFine: pof), source: source,
                                   shard: shard)
        return (d, splits, version, creator, created)
    }

    /// The whole split.
    public func read(split name: String) throws -> ImageSet {
        guard let s = split(named: name) else {
            throw HDF5Error.invalidContent(path: path, object: "/" + name,
                                           problem: "no such split (the file has \(splits.map(\.name).joined(separator: ", ")))")
        }
        return try read(split: name, range: 0..<s.count)
    }

    /// Images `range` of the split (bounded memory: only those rows are read and decompressed).
    public func read(split name: String, range: Range<Int>) throws -> ImageSet {
        guard let s = split(named: name) else {
            throw HDF5Error.invalidContent(path: path, object: "/" + name,
                                           problem: "no such split (the file has \(splits.map(\.name).joined(separator: ", ")))")
        }
        guard range.lowerBound >= 0, range.upperBound <= s.count else {
            throw HDF5Error.usage(path: path, problem: "range \(range) is outside split '\(name)' of \(s.count) images")
        }
        guard let root else { throw HDF5Error.usage(path: path, problem: "the reader is closed") }
        let d = description
        let rowShape = [d.height, d.width, d.channels]
        return try H5Session.run {
            try closing(root.openGroup(name)) { g in
                var pixels = [UInt8](repeating: 0, count: range.count * rowShape.reduce(1, *))
                try closing(g.openDataset("images")) { ds in
                    try pixels.withUnsafeMutableBufferPointer { try ds.readRows(range.lowerBound, range.count, rowShape: rowShape, into: $0) }
                }
                func labels(_ label: String, limit: Int) throws -> [Int32] {
                    // Read at 64 bits, so a value beyond Int32 is reported as it is, not clamped.
                    var v = [Int64](repeating: 0, count: range.count)
                    try closing(g.openDataset(label)) { ds in
                        try v.withUnsafeMutableBufferPointer { try ds.readRows(range.lowerBound, range.count, rowShape: [], into: $0) }
                    }
                    // Without names, labels are bounded by ACOLLimits.maxClasses (class tables are that big).
                    let bound = limit > 0 ? limit : ACOLLimits.maxClasses
                    if let i = v.firstIndex(where: { $0 < 0 || Int($0) >= bound }) {
                        throw HDF5Error.invalidContent(path: path, object: "/\(name)/\(label)",
                                                       problem: "entry \(range.lowerBound + i) is \(v[i]), expected 0..<\(bound)" + (limit > 0 ? "" : " (the file has no names for them; at most \(ACOLLimits.maxClasses) classes)"))
                    }
                    return v.map { Int32($0) }
                }
                let fine = s.hasFineLabels ? try labels("fine_labels", limit: d.labels.fineNames.count) : nil
                let coarse = s.hasCoarseLabels ? try labels("coarse_labels", limit: d.labels.parentNames.count) : nil
                // Both kinds of label: each image's parent must be its fine class's parent
                // (a file written elsewhere could say otherwise, and training would follow it).
                let parentOf = d.labels.parentOfFine
                if let fine, let coarse, !parentOf.isEmpty,
                   let i = (0..<fine.count).first(where: { Int(fine[$0]) < parentOf.count && Int(coarse[$0]) != parentOf[Int(fine[$0])] }) {
                    throw HDF5Error.invalidContent(path: path, object: "/\(name)/coarse_labels",
                        problem: "entry \(range.lowerBound + i) is \(coarse[i]), but its fine label \(fine[i]) belongs to parent \(parentOf[Int(fine[i])]) (/@parent_of_fine); expected the two to agree")
                }
                return ImageSet(count: range.count, height: d.height, width: d.width, channels: d.channels, pixels: pixels,
                                fineLabels: fine, coarseLabels: coarse)
            }
        }
    }
}
