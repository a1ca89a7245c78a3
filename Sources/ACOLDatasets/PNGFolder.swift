import Foundation
import ACOLData

/// Folders of PNG images:
///   root/<class>/*.png                     one level: classes from folder names, sorted
///   root/<parent>/<class>/*.png            two levels: parents and their classes, sorted
///   root/train/..., root/test/...          either layout per split
enum PNGFolder {
    static func isPNGName(_ n: String) -> Bool { n.lowercased().hasSuffix(".png") }

    /// True when `dir` has class folders with PNG files (one or two levels down, or under train/ test/).
    static func looksLikePNGFolder(_ dir: String) throws -> Bool {
        // A folder that cannot be listed (a name that is not UTF-8, no permission) is an error
        // naming it, not "unknown layout": the other layouts were ruled out before this one.
        func hasPNGs(_ d: String, depth: Int) throws -> Bool {
            let names = try Detect.list(d)
            if names.contains(where: isPNGName) { return true }
            if depth == 0 { return false }
            return try names.contains { try Detect.isDirectory(Detect.join(d, $0)) && hasPNGs(Detect.join(d, $0), depth: depth - 1) }
        }
        let names = try Detect.list(dir)
        return try names.contains { try Detect.isDirectory(Detect.join(dir, $0)) && hasPNGs(Detect.join(dir, $0), depth: 2) }
    }

    /// A class: its parent folder (two-level layouts) and name.
    struct ClassKey: Hashable, Comparable {
        var parent: String?
        var name: String
        static func < (a: ClassKey, b: ClassKey) -> Bool { (a.parent ?? "", a.name) < (b.parent ?? "", b.name) }
    }

    /// The PNG files of one split folder, by class.
    static func scanSplit(_ dir: String, warnings: inout [String]) throws -> (twoLevel: Bool, files: [ClassKey: [String]]) {
        let names = try Detect.list(dir)
        let loose = names.filter { isPNGName($0) && !Detect.isDirectory(Detect.join(dir, $0)) }
        if !loose.isEmpty {
            throw DatasetError.unknownLayout(path: dir, expected: "class folders (\(dir)/<class>/*.png)",
                                             found: "\(loose.count) PNG files directly in the folder (e.g. \(loose[0]))")
        }
        var files: [ClassKey: [String]] = [:]
        var ignored: [String] = []
        var levels = Set<Int>()
        for c in names where Detect.isDirectory(Detect.join(dir, c)) {
            let cdir = Detect.join(dir, c)
            let entries = try Detect.list(cdir)
            let pngs = entries.filter { isPNGName($0) && !Detect.isDirectory(Detect.join(cdir, $0)) }
            let subdirs = entries.filter { Detect.isDirectory(Detect.join(cdir, $0)) }
            if !pngs.isEmpty {
                levels.insert(1)
                files[ClassKey(parent: nil, name: c)] = pngs.map { Detect.join(cdir, $0) }
                ignored += entries.filter { !isPNGName($0) && !Detect.isDirectory(Detect.join(cdir, $0)) }.map { Detect.join(cdir, $0) }
                if !subdirs.isEmpty { ignored += subdirs.map { Detect.join(cdir, $0) + "/" } }
            } else if !subdirs.isEmpty {
                levels.insert(2)
                for s in subdirs {
                    let sdir = Detect.join(cdir, s)
                    let e2 = try Detect.list(sdir)
                    let p2 = e2.filter { isPNGName($0) && !Detect.isDirectory(Detect.join(sdir, $0)) }
                    if p2.isEmpty { warnings.append("\(sdir): no PNG files, class left out"); continue }
                    files[ClassKey(parent: c, name: s)] = p2.map { Detect.join(sdir, $0) }
                    ignored += e2.filter { !isPNGName($0) }.map { Detect.join(sdir, $0) }
                }
                ignored += entries.filter { !Detect.isDirectory(Detect.join(cdir, $0)) }.map { Detect.join(cdir, $0) }
            } else {
                warnings.append("\(cdir): no PNG files, class left out")
            }
        }
        if levels.count > 1 {
            throw DatasetError.unknownLayout(path: dir, expected: "either <class>/*.png or <parent>/<class>/*.png for every folder",
                                             found: "both layouts")
        }
        if files.isEmpty { throw DatasetError.emptyFolder(path: dir, expected: "class folders holding PNG images (<class>/*.png)") }
        if !ignored.isEmpty {
            warnings.append("\(dir): ignored \(ignored.count) entries not named *.png (e.g. \(ignored[0]))")
        }
        return (levels.contains(2), files)
    }

    static func plan(root: String, options: ConvertOptions, warnings outWarnings: Warnings) throws -> Plan {
        var warnings: [String] = []
        let names = try Detect.list(root)
        if names.isEmpty { throw DatasetError.emptyFolder(path: root, expected: "class folders holding PNG images") }
        let splitDirs = names.filter { ["train", "test"].contains($0.lowercased()) && Detect.isDirectory(Detect.join(root, $0)) }
        var scans: [(split: String, twoLevel: Bool, files: [ClassKey: [String]])] = []
        if !splitDirs.isEmpty {
            for s in splitDirs {
                let r = try scanSplit(Detect.join(root, s), warnings: &warnings)
                scans.append((s.lowercased(), r.twoLevel, r.files))
            }
            let others = names.filter { !splitDirs.contains($0) }
            if !others.isEmpty { warnings.append("\(root): ignored \(others.count) entries next to the split folders (e.g. \(others[0]))") }
        } else {
            let r = try scanSplit(root, warnings: &warnings)
            scans.append(("train", r.twoLevel, r.files))
        }
        let twoLevel = scans[0].twoLevel
        if scans.contains(where: { $0.twoLevel != twoLevel }) {
            throw DatasetError.unknownLayout(path: root, expected: "the same layout in train/ and test/", found: "one and two levels")
        }
        // Classes: the union over the splits, sorted by parent then name.
        let keys = Array(Set(scans.flatMap { $0.files.keys })).sorted()
        let classIndex = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        let duplicated = Set(Dictionary(grouping: keys, by: \.name).filter { $0.value.count > 1 }.keys)
        let fineNames = keys.map { k in duplicated.contains(k.name) ? "\(k.parent!)/\(k.name)" : k.name }
        var parents: (names: [String], parentOfFine: [Int])?
        if twoLevel {
            let pn = Array(Set(keys.compactMap(\.parent))).sorted()
            parents = (pn, keys.map { pn.firstIndex(of: $0.parent!)! })
        }

        // Headers of every file (signature, IHDR): sizes must agree unless a resize mode is given.
        var first: (path: String, shape: Shape)?
        var splits: [(name: String, sources: [ImageSource])] = []
        // Files whose colour or alpha the first image's channel count drops (without --channels).
        var colourDropped: [String] = [], alphaDropped: [String] = []
        for scan in scans {
            var items: [(path: String, label: Int32)] = []
            for key in scan.files.keys.sorted() {
                for f in scan.files[key]! {
                    let h: PNGHeader
                    do { h = try PNGHeader.read(f) } catch let e as DatasetError {
                        if options.skipBadFiles { warnings.append("skipped \(e.localizedDescription)"); continue }
                        throw e
                    }
                    if let fs = first {
                        if (h.height != fs.shape.height || h.width != fs.shape.width) && options.resize == .none {
                            throw DatasetError.imageSizeMismatch(path: f, expected: "\(fs.shape.width)x\(fs.shape.height) (width x height, as \(fs.path))",
                                                                 found: "\(h.width)x\(h.height)")
                        }
                        if options.channels == nil {
                            // PNGHeader.channels: 1 grey, 2 grey + alpha, 3 colour, 4 colour + alpha.
                            if fs.shape.channels <= 2 && h.channels >= 3 { colourDropped.append(f) }
                            if fs.shape.channels % 2 == 1 && h.channels % 2 == 0 { alphaDropped.append(f) }
                        }
                    } else {
                        do {
                            // Decoded whole: the first image sets the size and channels, so it
                            // must be one that is kept (a damaged palette passes the header).
                            let info = try PNGDecoder.decode(path: f, channels: nil, headerChecked: true)
                            first = (f, Shape(height: info.height, width: info.width, channels: info.channels))
                        } catch let e as DatasetError {
                            if options.skipBadFiles { warnings.append("skipped \(e.localizedDescription)"); continue }
                            throw e
                        }
                    }
                    items.append((f, Int32(classIndex[key]!)))
                }
            }
            if !items.isEmpty { splits.append((scan.split, [PNGListSource(items: items, name: Detect.join(root, scan.split))])) }
        }
        guard let first else { throw DatasetError.emptyFolder(path: root, expected: "at least one readable PNG image") }
        // The channels come from the first image: say so when that loses what others have. Said
        // at the end, counting only the images converted (a file skipped when decoded is not).
        outWarnings.items += warnings
        let firstPath = first.path, firstChannels = first.shape.channels
        outWarnings.atEnd.append { skipped in
            let c = colourDropped.filter { !skipped.contains($0) }
            guard let e = c.first else { return nil }
            return "\(c.count) images are in colour (e.g. \(e)) but the first, \(firstPath), is grey: "
                + "all are converted to grey (--channels 3 keeps the colour)"
        }
        outWarnings.atEnd.append { skipped in
            let a = alphaDropped.filter { !skipped.contains($0) }
            guard let e = a.first else { return nil }
            return "\(a.count) images have an alpha channel (e.g. \(e)) but the first, \(firstPath), has none: "
                + "it is dropped (--channels \(firstChannels + 1) keeps it)"
        }
        return Plan(format: .png, shape: first.shape, fineNames: fineNames, parents: parents, splits: Detect.ordered(splits),
                    source: "png: \(root) (\(twoLevel ? "parent/class" : "class") folders)")
    }
}

/// A list of PNG files with their class labels, decoded one by one.
final class PNGListSource: ImageSource {
    let items: [(path: String, label: Int32)]
    let name: String
    var expectedCount: Int { items.count }
    var files: [String] { items.map(\.path) }

    init(items: [(path: String, label: Int32)], name: String) { self.items = items; self.name = name }

    /// Decodes through `PNGBatchDecoder` (the one PNG-file source; headers were checked by the
    /// plan). A file that cannot be decoded is skipped with a warning under `skipBadFiles`; an
    /// image of another size without a resize mode is always an error.
    func stream(target: Target, batchSize: Int, body: (ImageSet) throws -> Void) throws {
        let t = target.shape
        let decoder = PNGBatchDecoder(files: items.map(\.path), labels: items.map(\.label), height: t.height, width: t.width,
                                      channels: t.channels, resize: target.resize, batchSize: batchSize, headersChecked: true)
        defer { decoder.cancel() }
        while let b = decoder.next() {
            for (i, e) in b.errors {
                guard let e = e as? DatasetError else { throw e }
                if case .imageSizeMismatch = e { throw e }
                if !target.skipBadFiles { throw e }
                target.warnings.add("skipped \(e.localizedDescription)")
                if b.paths.indices.contains(i) { target.warnings.skippedFiles.insert(b.paths[i]) }
            }
            if b.images.count > 0 { try body(b.images) }
        }
    }
}
