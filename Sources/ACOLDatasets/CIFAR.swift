import Foundation
import ACOLData

/// CIFAR-10 / CIFAR-100 binary files: fixed-size records, no header.
/// CIFAR-10 record: label byte, then 3072 pixel bytes (1024 R, 1024 G, 1024 B, each 32x32 row-major).
/// CIFAR-100 record: coarse label byte, fine label byte, then the same 3072 pixel bytes.
enum CIFAR {
    static let pixelBytes = 3072
    static let recordSize10 = 1 + 3072
    static let recordSize100 = 2 + 3072
    static let shape = Shape(height: 32, width: 32, channels: 3)

    static func recordSize(_ v: DatasetFormat) -> Int { v == .cifar10 ? recordSize10 : recordSize100 }

    /// A folder holding data_batch_1..5 and test_batch (CIFAR-10, optional .bin, batches.meta.txt)
    /// or train.bin and test.bin (CIFAR-100, fine_label_names.txt, coarse_label_names.txt).
    static func folderPlan(_ dir: String, names: [String], variant: DatasetFormat, options: ConvertOptions) throws -> Plan {
        var files: [(String, String)] = []
        func strip(_ n: String) -> String { n.hasSuffix(".bin") ? String(n.dropLast(4)) : n }
        if variant == .cifar10 {
            // Several spellings of one batch (data_batch_1 and data_batch_1.bin, data_batch_01):
            // the .bin one is used, else the first in name order; the others are named in a warning.
            var warnings: [String] = []
            func pick(_ found: [String], _ what: String) -> String {
                let sorted = found.sorted { ($0.hasSuffix(".bin") ? 0 : 1, $0) < ($1.hasSuffix(".bin") ? 0 : 1, $1) }
                if sorted.count > 1 { warnings.append("\(dir): \(sorted.joined(separator: " and ")) are all \(what); using \(sorted[0])") }
                return sorted[0]
            }
            let numbered = Dictionary(grouping: names.filter { strip($0).hasPrefix("data_batch_") && Int(strip($0).dropFirst(11)) != nil },
                                      by: { Int(strip($0).dropFirst(11))! })
            files = numbered.keys.sorted().map { (Detect.join(dir, pick(numbered[$0]!, "training batch \($0)")), "train") }
            let tests = names.filter { strip($0) == "test_batch" }
            if !tests.isEmpty { files.append((Detect.join(dir, pick(tests, "the test batch")), "test")) }
            if files.isEmpty {
                throw DatasetError.unknownLayout(path: dir, expected: "CIFAR-10 files data_batch_1.bin ... data_batch_5.bin, test_batch.bin", found: "none of them")
            }
            let meta = try Detect.readNames(Detect.join(dir, "batches.meta.txt"))
            return try plan(files, variant: .cifar10, names: meta, coarseNames: nil, options: options,
                            namesFile: Detect.join(dir, "batches.meta.txt"), warnings: warnings)
        }
        for (n, split) in [("train.bin", "train"), ("test.bin", "test")] where names.contains(n) {
            files.append((Detect.join(dir, n), split))
        }
        if files.isEmpty { throw DatasetError.unknownLayout(path: dir, expected: "CIFAR-100 files train.bin and test.bin", found: "neither") }
        return try plan(files, variant: .cifar100, names: try Detect.readNames(Detect.join(dir, "fine_label_names.txt")),
                        coarseNames: try Detect.readNames(Detect.join(dir, "coarse_label_names.txt")), options: options,
                        namesFile: Detect.join(dir, "fine_label_names.txt"), coarseNamesFile: Detect.join(dir, "coarse_label_names.txt"))
    }

    static func plan(_ files: [(path: String, split: String)], variant: DatasetFormat, names: [String]?, coarseNames: [String]?,
                     options: ConvertOptions, namesFile: String? = nil, coarseNamesFile: String? = nil,
                     warnings found: [String] = []) throws -> Plan {
        var warnings = found
        var fine = options.classNames ?? names ?? (variant == .cifar10 ? ClassNames.cifar10 : ClassNames.cifar100Fine)
        let standardCount = variant == .cifar10 ? 10 : 100
        if fine.count != standardCount && options.classNames == nil {
            warnings.append("\(names == nil ? "" : "\(namesFile ?? "class names file"): ")expected \(standardCount) class names, found \(fine.count); using the standard names")
            fine = variant == .cifar10 ? ClassNames.cifar10 : ClassNames.cifar100Fine
        }
        var coarse = coarseNames ?? ClassNames.cifar100Coarse
        if variant == .cifar100 && coarse.count != 20 {
            warnings.append("\(coarseNamesFile ?? "coarse_label_names.txt"): expected 20 names, found \(coarse.count); using the standard names")
            coarse = ClassNames.cifar100Coarse
        }
        var parentOfFine = [Int](repeating: -1, count: fine.count)
        var firstSeen = [String](repeating: "", count: fine.count)
        var splits: [(name: String, sources: [ImageSource])] = []
        for (path, split) in files {
            let src = try CIFARSource(path: path, variant: variant, classes: fine.count, coarseClasses: coarse.count)
            if variant == .cifar100, let c = src.coarse {
                for (i, (f, p)) in zip(src.fine, c).enumerated() {
                    let f = Int(f), p = Int(p)
                    if parentOfFine[f] < 0 { parentOfFine[f] = p; firstSeen[f] = "\(path) record \(i)" }
                    else if parentOfFine[f] != p {
                        throw DatasetError.labelMismatch(path: path, expected: "fine class \(f) in superclass \(parentOfFine[f]) (as in \(firstSeen[f]))",
                                                         found: "superclass \(p) in record \(i)")
                    }
                }
            }
            if let i = splits.firstIndex(where: { $0.name == split }) { splits[i].sources.append(src) } else { splits.append((split, [src])) }
        }
        var parents: (names: [String], parentOfFine: [Int])?
        if variant == .cifar100 {
            // Fine classes absent from the files take their standard superclass.
            for f in 0..<parentOfFine.count where parentOfFine[f] < 0 {
                parentOfFine[f] = f < ClassNames.cifar100ParentOfFine.count ? ClassNames.cifar100ParentOfFine[f] : 0
            }
            for (f, p) in parentOfFine.enumerated() where f < 100 && p != ClassNames.cifar100ParentOfFine[f] {
                warnings.append("fine class \(f) is in superclass \(p) in the data, \(ClassNames.cifar100ParentOfFine[f]) in the standard CIFAR-100 hierarchy; using the data")
            }
            parents = (coarse, parentOfFine)
        }
        return Plan(format: variant, shape: shape, fineNames: fine, parents: parents, splits: Detect.ordered(splits),
                    source: "\(variant.rawValue): " + files.map { Detect.baseName($0.path) }.joined(separator: ", "), warnings: warnings)
    }
}

/// One CIFAR binary file. The labels are read (and checked) when the plan is made.
final class CIFARSource: ImageSource {
    let path: String
    let variant: DatasetFormat
    let count: Int
    private(set) var fine: [Int32] = []
    private(set) var coarse: [Int32]?

    var name: String { path }
    var files: [String] { [path] }
    var expectedCount: Int { count }

    init(path: String, variant: DatasetFormat, classes: Int, coarseClasses: Int) throws {
        self.path = path; self.variant = variant
        let rec = CIFAR.recordSize(variant)
        let size = try fileSize(path)
        guard size > 0, size % rec == 0 else {
            if let a = Detect.archiveKind(path) {
                throw DatasetError.unknownLayout(path: path, expected: "CIFAR binary records", found: "\(a.kind): \(a.advice)")
            }
            throw DatasetError.truncated(path: path,
                expected: "whole \(rec)-byte \(variant == .cifar10 ? "CIFAR-10" : "CIFAR-100") records (\(rec - 3072) label byte\(rec == 3073 ? "" : "s") + 3072 pixel bytes)",
                found: "\(size) bytes (\(size / rec) records and \(size % rec) bytes)")
        }
        count = size / rec
        guard count <= Int(Int32.max) else {
            throw DatasetError.badHeader(path: path, expected: "at most \(Int32.max) records", found: "\(count)")
        }
        // Read the label bytes, in chunks of records.
        fine.reserveCapacity(count)
        if variant == .cifar100 { coarse = []; coarse!.reserveCapacity(count) }
        let file = try PlainFile(path)
        defer { file.close() }
        let chunk = 256
        var buf = [UInt8](repeating: 0, count: chunk * rec)
        var i = 0
        while i < count {
            let m = min(chunk, count - i)
            try buf.withUnsafeMutableBytes { try file.readExactly(UnsafeMutableRawBufferPointer(rebasing: $0[0..<(m * rec)]), what: "records \(i)..<\(i + m)") }
            for r in 0..<m {
                let o = r * rec
                if variant == .cifar10 {
                    let l = Int(buf[o])
                    guard l < classes else { throw DatasetError.labelOutOfRange(path: path, index: i + r, value: l, valid: 0...(classes - 1)) }
                    fine.append(Int32(l))
                } else {
                    let c = Int(buf[o]), f = Int(buf[o + 1])
                    guard c < coarseClasses else { throw DatasetError.labelOutOfRange(path: path, index: i + r, value: c, valid: 0...(coarseClasses - 1)) }
                    guard f < classes else { throw DatasetError.labelOutOfRange(path: path, index: i + r, value: f, valid: 0...(classes - 1)) }
                    coarse!.append(Int32(c)); fine.append(Int32(f))
                }
            }
            i += m
        }
    }

    func stream(target: Target, batchSize: Int, body: (ImageSet) throws -> Void) throws {
        let rec = CIFAR.recordSize(variant), skip = rec - CIFAR.pixelBytes
        let file = try PlainFile(path)
        defer { file.close() }
        var start = 0
        var raw = [UInt8](repeating: 0, count: min(batchSize, count) * rec)
        while start < count {
            let m = min(batchSize, count - start)
            try raw.withUnsafeMutableBytes { try file.readExactly(UnsafeMutableRawBufferPointer(rebasing: $0[0..<(m * rec)]), what: "records \(start)..<\(start + m)") }
            var px = [UInt8](repeating: 0, count: m * CIFAR.pixelBytes)
            raw.withUnsafeBufferPointer { s in
                px.withUnsafeMutableBufferPointer { d in
                    for r in 0..<m {
                        let src = s.baseAddress! + r * rec + skip, dst = d.baseAddress! + r * CIFAR.pixelBytes
                        for p in 0..<1024 {
                            dst[3 * p] = src[p]; dst[3 * p + 1] = src[1024 + p]; dst[3 * p + 2] = src[2048 + p]
                        }
                    }
                }
            }
            px = transformBatch(px, count: m, from: CIFAR.shape, to: target.shape, resize: target.resize)
            try body(ImageSet(count: m, height: target.shape.height, width: target.shape.width, channels: target.shape.channels,
                              pixels: px, fineLabels: Array(fine[start..<(start + m)])))
            start += m
        }
    }
}
