import Foundation
import ACOLData

// MATLAB level 5 MAT-files (as SVHN's train_32x32.mat / test_32x32.mat, or scipy.io.savemat):
// a 128-byte header (116 bytes of text, 8 bytes subsystem offset, version 0x0100, endian
// indicator "IM" for little-endian files), then data elements: an 8-byte tag (type u32, size
// u32; or a "small" tag with the size in the upper 16 bits and 4 bytes of data) and the data,
// padded to 8 bytes. A variable is a miMATRIX element (array flags, dimensions, name, real
// part), possibly wrapped in a miCOMPRESSED element (a zlib stream of the miMATRIX element).
// MATLAB 7.3 files are HDF5 and are refused with a message.

enum SVHN {
    /// Checks every file's header and variables (X: HxWxCxN uint8, y: N labels) and reads the labels.
    static func plan(_ files: [(path: String, split: String)], options: ConvertOptions) throws -> Plan {
        var splits: [(name: String, sources: [ImageSource])] = []
        var shape: Shape?
        for (path, split) in files {
            let src = try SVHNSource(path: path)
            if let s = shape, s != src.shape {
                throw DatasetError.inconsistentInputs(expected: "images of \(s)", found: "\(src.shape) in \(path)")
            }
            shape = src.shape
            if let i = splits.firstIndex(where: { $0.name == split }) { splits[i].sources.append(src) } else { splits.append((split, [src])) }
        }
        return Plan(format: .svhn, shape: shape!, fineNames: options.classNames ?? ClassNames.digits, parents: nil,
                    splits: Detect.ordered(splits), source: "svhn: " + files.map { Detect.baseName($0.path) }.joined(separator: ", "))
    }
}

/// An SVHN .mat file: X (H x W x C x N, uint8, column-major) and y (N labels, 10 meaning 0).
final class SVHNSource: ImageSource {
    let path: String
    let x: MATVariable
    let labels: [Int32]
    let shape: Shape
    let count: Int

    var name: String { path }
    var files: [String] { [path] }
    var expectedCount: Int { count }

    init(path: String) throws {
        self.path = path
        let mat = try MATFile(path)
        let names = mat.allNames
        if let kind = mat.otherKind("X") {
            throw DatasetError.badHeader(path: path, expected: "X of class uint8", found: "X of class \(kind)")
        }
        if let kind = mat.otherKind("y") {
            throw DatasetError.badHeader(path: path, expected: "y of numeric labels 0...10 (N x 1)", found: "y of class \(kind)")
        }
        guard let x = mat.variables.first(where: { $0.name == "X" }) else {
            throw DatasetError.unknownLayout(path: path, expected: "an SVHN file with variables X and y", found: "variables \(names)")
        }
        guard let y = mat.variables.first(where: { $0.name == "y" }) else {
            throw DatasetError.unknownLayout(path: path, expected: "an SVHN file with variables X and y", found: "variables \(names)")
        }
        guard x.classID == MAT.mxUINT8_CLASS, x.dataType == MAT.miUINT8 else {
            throw DatasetError.badHeader(path: path, expected: "X of class uint8", found: "class \(x.className)")
        }
        var d = x.dims
        if d.count == 3 { d.append(1) }
        guard d.count == 4, (1...16384).contains(d[0]), (1...16384).contains(d[1]), (1...4).contains(d[2]) else {
            throw DatasetError.badHeader(path: path, expected: "X of dimensions H x W x C x N (C of 1...4)", found: x.dims.map(String.init).joined(separator: " x "))
        }
        try ImportLimits.checkImage(path: path, height: d[0], width: d[1], channels: d[2], what: "X images")
        guard d[3] <= ImportLimits.maxItems else {
            throw DatasetError.badHeader(path: path, expected: "at most \(ImportLimits.maxItems) images in X", found: "\(d[3])")
        }
        self.x = x
        shape = Shape(height: d[0], width: d[1], channels: d[2])
        count = d[3]
        guard y.dims.count == 2, y.dims.contains(1) || y.count == count else {
            throw DatasetError.badHeader(path: path, expected: "y of dimensions N x 1", found: y.dims.map(String.init).joined(separator: " x "))
        }
        guard y.count == count else {
            throw DatasetError.countMismatch(path: path, expected: count, found: y.count, reference: "X in the same file")
        }
        // Read y (its size is bounded by the file checks above).
        let s = try y.open()
        defer { s.close() }
        let es = MAT.elementSize(y.dataType)!
        let raw = try s.readBytes(y.dataBytes, what: "the \(count) labels of y")
        var out = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            var bits: UInt64 = 0
            for k in 0..<es { bits |= UInt64(raw[i * es + k]) << (8 * (mat.bigEndian ? es - 1 - k : k)) }
            let v: Double
            switch y.dataType {
            case MAT.miDOUBLE: v = Double(bitPattern: bits)
            case MAT.miSINGLE: v = Double(Float(bitPattern: UInt32(bits)))
            case MAT.miINT8: v = Double(Int8(truncatingIfNeeded: bits))
            case MAT.miINT16: v = Double(Int16(truncatingIfNeeded: bits))
            case MAT.miINT32: v = Double(Int32(truncatingIfNeeded: bits))
            case MAT.miINT64: v = Double(Int64(bitPattern: bits))
            default: v = Double(bits)
            }
            guard v.isFinite, v == v.rounded() else {
                throw DatasetError.badHeader(path: path, expected: "whole-number labels 0...10 in y", found: "\(v) for item \(i)")
            }
            guard v >= 0, v <= 10 else {
                throw DatasetError.labelOutOfRange(path: path, index: i, value: abs(v) < 1e15 ? Int(v) : -1, valid: 0...10)
            }
            out[i] = Int32(v) % 10   // 10 means the digit 0
        }
        labels = out
    }

    func stream(target: Target, batchSize: Int, body: (ImageSet) throws -> Void) throws {
        let s = try x.open()
        defer { s.close() }
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        let size = shape.size
        var start = 0
        var raw = [UInt8](repeating: 0, count: min(batchSize, count) * size)
        while start < count {
            let m = min(batchSize, count - start)
            try raw.withUnsafeMutableBytes { try s.readExactly(UnsafeMutableRawBufferPointer(rebasing: $0[0..<(m * size)]), what: "images \(start)..<\(start + m) of X") }
            var px = [UInt8](repeating: 0, count: m * size)
            raw.withUnsafeBufferPointer { src in
                px.withUnsafeMutableBufferPointer { dst in
                    // column-major (row r, column q, channel k) at r + H q + H W k -> row-major HWC
                    for i in 0..<m {
                        let sp = src.baseAddress! + i * size, dp = dst.baseAddress! + i * size
                        for k in 0..<c {
                            for q in 0..<w {
                                let col = sp + h * q + h * w * k
                                for r in 0..<h { dp[(r * w + q) * c + k] = col[r] }
                            }
                        }
                    }
                }
            }
            px = transformBatch(px, count: m, from: shape, to: target.shape, resize: target.resize)
            try body(ImageSet(count: m, height: target.shape.height, width: target.shape.width, channels: target.shape.channels,
                              pixels: px, fineLabels: Array(labels[start..<(start + m)])))
            start += m
        }
    }
}
