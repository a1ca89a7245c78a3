import Foundation
import ACOLData

/// Finding out what an input is, and building the plan (all headers checked) for it.
enum Detect {
    static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    /// Names in a folder (hidden entries left out), sorted. A name that is not valid UTF-8 is
    /// refused, naming it (Foundation's listing would leave it out without a word: a class
    /// folder, and its images, would silently vanish from a conversion).
    static func list(_ dir: String) throws -> [String] {
        guard let listing = FolderListing(dir) else {
            throw DatasetError.cannotRead(path: dir, reason: "cannot list the folder (\(errnoText()))")
        }
        if let bad = listing.invalid.first {
            throw DatasetError.cannotRead(path: join(dir, bad.shown), reason: "the name is not valid UTF-8; rename it")
        }
        return listing.names.sorted()
    }

    /// What kind of archive a file is, when it is one (the downloads of CIFAR come as
    /// .tar.gz, of other sets as .zip): a tar archive (plain or gzip-compressed), a zip archive, or
    /// a bzip2- or xz-compressed file, or a Python pickle (CIFAR's "python version" batches);
    /// nil otherwise.
    static func archiveKind(_ path: String) -> (kind: String, advice: String)? {
        guard let head = try? readPrefix(path, 512) else { return nil }
        func isTar(_ b: [UInt8]) -> Bool { b.count >= 262 && Array(b[257..<262]) == Array("ustar".utf8) }
        let extract = "extract it first and convert the folder it holds"
        if head.starts(with: [0x50, 0x4b, 0x03, 0x04]) { return ("a zip archive", "\(extract) (unzip)") }
        if head.starts(with: Array("BZh".utf8)) { return ("a bzip2-compressed file", "decompress it first (bunzip2)") }
        if head.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return ("an xz-compressed file", "decompress it first (unxz)") }
        if isTar(head) { return ("a tar archive", "\(extract) (tar xf)") }
        // Protocols 2-5 start with PROTO; Python 2's default protocol 0 with MARK DICT ("(dp"),
        // protocol 1 with EMPTY_DICT BINPUT ("}q"): no CIFAR record starts so (label 40 or 125).
        if head.count >= 2, (head[0] == 0x80 && (2...5).contains(head[1]))
            || head.starts(with: Array("(dp".utf8)) || head.starts(with: Array("}q".utf8)) {
            return ("a Python pickle (CIFAR's python version)", "use the binary version (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz), whose batches acol reads")
        }
        if head.starts(with: [0x1f, 0x8b]), let g = try? GzipFile(path) {
            defer { g.close() }
            var inner = [UInt8](repeating: 0, count: 512)
            if let n = try? inner.withUnsafeMutableBytes({ try g.readFully($0) }), isTar(Array(inner.prefix(n))) {
                return ("a gzip-compressed tar archive", "\(extract) (tar xzf)")
            }
        }
        return nil
    }

    static func join(_ a: String, _ b: String) -> String { a.hasSuffix("/") ? a + b : a + "/" + b }
    static func baseName(_ p: String) -> String { (p as NSString).lastPathComponent }

    /// "train-images.idx3-ubyte.gz" -> "train-images-idx3-ubyte"
    static func normalizedIDXName(_ name: String) -> String {
        var n = name.lowercased()
        if n.hasSuffix(".gz") { n.removeLast(3) }
        return n.replacingOccurrences(of: ".", with: "-")
    }

    /// The split a file belongs to, from its name: t10k*/test* -> test, extra* -> extra, else train.
    static func splitName(of path: String) -> String {
        let n = baseName(path).lowercased()
        if n.hasPrefix("t10k") || n.hasPrefix("test") { return "test" }
        if n.hasPrefix("extra") { return "extra" }
        return "train"
    }

    // MARK: format detection

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The format of one file from its first bytes (and, for headerless CIFAR, its name and size).
    static func fileFormat(_ path: String) throws -> DatasetFormat? {
        let head = try readPrefix(path, 8)
        if head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b {
            let g = try GzipFile(path)
            defer { g.close() }
            var b = [UInt8](repeating: 0, count: 4)
            let n = (try? b.withUnsafeMutableBytes { try g.readFully($0) }) ?? 0
            if n == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 { return .idx }
            return nil
        }
        if head.count >= 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08 && (1...4).contains(head[3]) { return .idx }
        if head.starts(with: Array("MATLAB".utf8)) { return .svhn }
        if head.starts(with: pngSignature) { return .png }
        let name = baseName(path).lowercased()
        if name.hasPrefix("data_batch") || name.hasPrefix("test_batch") { return .cifar10 }
        if name == "train.bin" || name == "test.bin" { return .cifar100 }
        let size = try fileSize(path)
        let c10 = size > 0 && size % CIFAR.recordSize10 == 0, c100 = size > 0 && size % CIFAR.recordSize100 == 0
        if c10 && !c100 { return .cifar10 }
        if c100 && !c10 { return .cifar100 }
        return nil
    }

    /// The format of a file or folder, or nil when nothing is recognised.
    static func format(of path: String) throws -> DatasetFormat? {
        if !isDirectory(path) { return try fileFormat(path) }
        let names = try list(path)
        let lower = Set(names.map { $0.lowercased() })
        if names.contains(where: { normalizedIDXName($0).hasPrefix("train-images-idx3") || normalizedIDXName($0).hasPrefix("t10k-images-idx3") }) {
            return .idx
        }
        if lower.contains("cifar-10-batches-bin") || names.contains(where: { $0.hasPrefix("data_batch_") || $0.hasPrefix("test_batch") }) {
            return .cifar10
        }
        if lower.contains("cifar-100-binary") || lower.contains("train.bin") || lower.contains("test.bin") { return .cifar100 }
        if names.contains(where: { $0.lowercased().hasSuffix(".mat") }) { return .svhn }
        if try PNGFolder.looksLikePNGFolder(path) { return .png }
        return nil
    }

    // MARK: plans

    static func plan(inputs: [String], options: ConvertOptions, warnings: Warnings) throws -> Plan {
        var files: [String] = []
        var plans: [Plan] = []
        for input in inputs {
            guard FileManager.default.fileExists(atPath: input) else {
                throw DatasetError.cannotRead(path: input, reason: "no such file or folder")
            }
            if isDirectory(input) {
                plans.append(try folderPlan(input, options: options, warnings: warnings))
            } else {
                files.append(input)
            }
        }
        if !files.isEmpty { plans.append(try filesPlan(files, options: options, warnings: warnings)) }
        return try merge(plans)
    }

    static func merge(_ plans: [Plan]) throws -> Plan {
        var result = plans[0]
        for p in plans.dropFirst() {
            guard p.format == result.format else {
                throw DatasetError.inconsistentInputs(expected: "\(result.format.rawValue) inputs (as \(result.source))",
                                                      found: "\(p.format.rawValue) (\(p.source))")
            }
            guard p.shape == result.shape else {
                throw DatasetError.inconsistentInputs(expected: "images of \(result.shape) (as \(result.source))",
                                                      found: "\(p.shape) (\(p.source))")
            }
            guard p.fineNames == result.fineNames else {
                throw DatasetError.inconsistentInputs(expected: "the classes of \(result.source)", found: "other classes in \(p.source)")
            }
            for (name, sources) in p.splits {
                if let i = result.splits.firstIndex(where: { $0.name == name }) { result.splits[i].sources += sources }
                else { result.splits.append((name, sources)) }
            }
            result.source += "; " + p.source
            result.warnings += p.warnings
        }
        return result
    }

    /// Orders splits train, test, extra, then the others alphabetically.
    static func ordered(_ splits: [(name: String, sources: [ImageSource])]) -> [(name: String, sources: [ImageSource])] {
        let rank = ["train": 0, "test": 1, "extra": 2]
        return splits.sorted { (rank[$0.name] ?? 3, $0.name) < (rank[$1.name] ?? 3, $1.name) }
    }

    static func folderPlan(_ dir: String, options: ConvertOptions, warnings: Warnings) throws -> Plan {
        let names = try list(dir)
        guard let format = try options.format ?? format(of: dir) else {
            if names.isEmpty { throw DatasetError.emptyFolder(path: dir, expected: "data-set files or class folders of PNG images") }
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", ..." : "")
            throw DatasetError.unknownLayout(path: dir,
                expected: "the four MNIST IDX files, cifar-10-batches-bin, cifar-100-binary, SVHN *_32x32.mat or class folders of PNG images",
                found: "\(names.count) entries (\(shown))")
        }
        switch format {
        case .idx:
            var pairs: [(images: String, labels: String?, split: String)] = []
            for (prefix, split) in [("train", "train"), ("t10k", "test")] {
                // Several spellings of one file (plain and .gz, '-' and '.'): a plain one is
                // used before a .gz one, then the first in name order; the others are named in a
                // warning.
                func pick(_ wanted: String) -> String? {
                    let found = names.filter { normalizedIDXName($0) == wanted }
                        .sorted { ($0.lowercased().hasSuffix(".gz") ? 1 : 0, $0) < ($1.lowercased().hasSuffix(".gz") ? 1 : 0, $1) }
                    if found.count > 1 {
                        warnings.add("\(dir): \(found.joined(separator: " and ")) are all \(wanted); using \(found[0])")
                    }
                    return found.first
                }
                guard let img = pick("\(prefix)-images-idx3-ubyte") else {
                    // A label file without its images: that split is left out; say so.
                    if let lab = names.first(where: { normalizedIDXName($0) == "\(prefix)-labels-idx1-ubyte" }) {
                        warnings.add("\(dir): \(lab) has no \(prefix)-images-idx3-ubyte[.gz] next to it; the \(split) split is left out")
                    }
                    continue
                }
                guard let lab = pick("\(prefix)-labels-idx1-ubyte") else {
                    throw DatasetError.unknownLayout(path: dir, expected: "\(prefix)-labels-idx1-ubyte[.gz] next to \(img)", found: "no such file")
                }
                pairs.append((join(dir, img), join(dir, lab), split))
            }
            if pairs.isEmpty {
                throw DatasetError.unknownLayout(path: dir, expected: "train-images-idx3-ubyte[.gz] or t10k-images-idx3-ubyte[.gz]", found: "neither")
            }
            return try idxPlan(pairs, options: options, hint: dir)
        case .cifar10, .cifar100:
            let sub = format == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary"
            if let s = names.first(where: { $0.lowercased() == sub }), isDirectory(join(dir, s)) {
                return try folderPlan(join(dir, s), options: options, warnings: warnings)
            }
            return try CIFAR.folderPlan(dir, names: names, variant: format, options: options)
        case .svhn:
            let mats = names.filter { $0.lowercased().hasSuffix(".mat") }
            if mats.isEmpty { throw DatasetError.emptyFolder(path: dir, expected: "SVHN .mat files (train_32x32.mat, test_32x32.mat)") }
            return try SVHN.plan(mats.map { (join(dir, $0), splitName(of: $0)) }, options: options)
        case .png:
            return try PNGFolder.plan(root: dir, options: options, warnings: warnings)
        }
    }

    static func filesPlan(_ files: [String], options: ConvertOptions, warnings: Warnings) throws -> Plan {
        var formats: [(String, DatasetFormat)] = []
        for f in files {
            guard let fmt = try options.format ?? fileFormat(f) else {
                let head = try readPrefix(f, 8)
                throw DatasetError.unknownLayout(path: f, expected: "an IDX, CIFAR binary, MATLAB .mat or PNG file",
                                                 found: archiveKind(f).map { "\($0.kind): \($0.advice)" }
                                                     ?? describeBytes(head))
            }
            formats.append((f, fmt))
        }
        let format = formats[0].1
        if let other = formats.first(where: { $0.1 != format }) {
            throw DatasetError.inconsistentInputs(expected: "\(format.rawValue) files (as \(formats[0].0))", found: "\(other.1.rawValue) file \(other.0)")
        }
        switch format {
        case .idx:
            // Pair each image file with the label file whose name matches (images -> labels, idx3 -> idx1);
            // a single image file and a single label file are paired whatever their names.
            var images: [String] = [], labels: [String] = []
            for f in files {
                let h = try readIDXMagicDims(f)
                if h == 1 { labels.append(f) } else { images.append(f) }
            }
            var pairs: [(images: String, labels: String?, split: String)] = []
            for img in images {
                let key = normalizedIDXName(baseName(img)).replacingOccurrences(of: "images", with: "labels")
                    .replacingOccurrences(of: "idx3", with: "idx1")
                var lab = labels.first { normalizedIDXName(baseName($0)) == key }
                if lab == nil && images.count == 1 && labels.count == 1 { lab = labels[0] }
                if lab == nil && !labels.isEmpty {
                    throw DatasetError.inconsistentInputs(expected: "a label file named like \(key) for \(img)", found: labels.joined(separator: ", "))
                }
                pairs.append((img, lab, splitName(of: img)))
            }
            if images.isEmpty { throw DatasetError.inconsistentInputs(expected: "an IDX image file (idx3)", found: "label files only") }
            return try idxPlan(pairs, options: options, hint: files.joined(separator: " "))
        case .cifar10, .cifar100:
            return try CIFAR.plan(files.map { ($0, splitName(of: $0)) }, variant: format, names: nil, coarseNames: nil, options: options)
        case .svhn:
            return try SVHN.plan(files.map { ($0, splitName(of: $0)) }, options: options)
        case .png:
            throw DatasetError.unknownLayout(path: files[0], expected: "a folder of class folders holding PNG images (root/<class>/*.png)",
                                             found: "a single PNG file")
        }
    }

    /// 1 for an IDX label file, 3 or 4 for images (magic byte 4), after optional gzip.
    static func readIDXMagicDims(_ path: String) throws -> Int {
        let s = try openMaybeGzip(path)
        defer { s.close() }
        var b = [UInt8](repeating: 0, count: 4)
        let n = try b.withUnsafeMutableBytes { try s.readFully($0) }
        return n == 4 ? Int(b[3]) : 0
    }

    static func idxPlan(_ pairs: [(images: String, labels: String?, split: String)], options: ConvertOptions, hint: String) throws -> Plan {
        let fashion = hint.lowercased().contains("fashion") || pairs.contains { $0.images.lowercased().contains("fashion") }
        let names = options.classNames ?? (fashion ? ClassNames.fashionMNIST : ClassNames.digits)
        var splits: [(name: String, sources: [ImageSource])] = []
        var shape: Shape?
        var anyLabels = false, anyUnlabelled = false
        for p in pairs {
            let src = try IDXSource(images: p.images, labels: p.labels, classes: names.count)
            if let s = shape, s != src.shape {
                throw DatasetError.inconsistentInputs(expected: "images of \(s)", found: "\(src.shape) in \(p.images)")
            }
            shape = src.shape
            if p.labels == nil { anyUnlabelled = true } else { anyLabels = true }
            if let i = splits.firstIndex(where: { $0.name == p.split }) { splits[i].sources.append(src) } else { splits.append((p.split, [src])) }
        }
        if anyLabels && anyUnlabelled {
            throw DatasetError.inconsistentInputs(expected: "a label file for every image file", found: "some image files without labels")
        }
        let files = pairs.flatMap { [$0.images] + ($0.labels.map { [$0] } ?? []) }.map(baseName)
        return Plan(format: .idx, shape: shape!, fineNames: anyLabels ? names : nil, parents: nil, splits: ordered(splits),
                    source: "idx: " + files.joined(separator: ", "))
    }

    /// Non-empty lines of a small text file of names (nil when the file does not exist).
    static func readNames(_ path: String) throws -> [String]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let size = try fileSize(path)
        guard size < 1 << 20 else {
            throw DatasetError.cannotRead(path: path, reason: "expected a small text file of class names, found \(size) bytes")
        }
        return try textLines(readSmallFile(path, limit: 1 << 20, what: "a text file of class names"))
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension Converter {
    static func makePlan(inputs: [String], options: ConvertOptions, warnings: Warnings) throws -> Plan {
        try Detect.plan(inputs: inputs, options: options, warnings: warnings)
    }
}
