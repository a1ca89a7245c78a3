import Foundation
import ACOLData

/// The header of an IDX file (big-endian): 0, 0, element type, number of dimensions, then the
/// dimensions as u32. Only u8 elements (type 0x08) are read.
struct IDXHeader {
    var dims: [Int]
    var gzip: Bool
    var headerBytes: Int { 4 + 4 * dims.count }
    var itemCount: Int { dims[0] }
    var itemSize: Int { dims.dropFirst().reduce(1, *) }

    /// Largest number of items accepted (labels are stored as Int32).
    static let maxItems = Int(Int32.max)
    /// Largest image side accepted.
    static let maxSide = 16384

    /// Reads and checks the header: the magic number (`expectedDims` 1 for labels, 3 for images,
    /// where images may also have a 4th dimension of 1...4 channels), then the dimensions, then
    /// that the file is as long as they say. Nothing is allocated in proportion to the header.
    static func read(_ path: String, expectedDims: Int) throws -> IDXHeader {
        let gzip = try isGzip(path)
        let stream: ByteStream = gzip ? try GzipFile(path) : try PlainFile(path)
        defer { stream.close() }
        let kind = expectedDims == 1 ? "an IDX label file" : "an IDX image file"
        let magicText = expectedDims == 1 ? "magic 0x00000801 (u8, 1 dimension)" : "magic 0x00000803 (u8, 3 dimensions)"
        var head = [UInt8](repeating: 0, count: 4)
        let n = try head.withUnsafeMutableBytes { try stream.readFully($0) }
        guard n == 4 else {
            throw DatasetError.badMagic(path: path, expected: "\(kind) with \(magicText)", found: n == 0 ? "an empty file" : "only \(n) bytes")
        }
        let magic = be32(head, 0)
        let ndim = Int(head[3])
        let dimsOK = expectedDims == 1 ? ndim == 1 : (ndim == 3 || ndim == 4)
        guard head[0] == 0, head[1] == 0, head[2] == 0x08, dimsOK else {
            if head[0] == 0, head[1] == 0, (0x08...0x0E).contains(head[2]), (1...8).contains(ndim) {
                throw DatasetError.badMagic(path: path, expected: "\(kind) with \(magicText)",
                                            found: "magic \(hex32(magic)) (IDX with element type 0x\(String(head[2], radix: 16)), \(ndim) dimensions)")
            }
            throw DatasetError.badMagic(path: path, expected: "\(kind) with \(magicText)", found: "magic \(hex32(magic))")
        }
        let dimBytes = try stream.readBytes(4 * ndim, what: "the \(ndim) dimensions of the IDX header")
        let dims = (0..<ndim).map { Int(be32(dimBytes, 4 * $0)) }
        if dims[0] > maxItems {
            throw DatasetError.badHeader(path: path, expected: "at most \(maxItems) items", found: "\(dims[0])")
        }
        if ndim >= 3 {
            let (h, w) = (dims[1], dims[2])
            guard (1...maxSide).contains(h), (1...maxSide).contains(w) else {
                throw DatasetError.badHeader(path: path, expected: "image sides of 1...\(maxSide)", found: "\(h)x\(w)")
            }
            if ndim == 4, !(1...4).contains(dims[3]) {
                throw DatasetError.badHeader(path: path, expected: "1...4 channels", found: "\(dims[3])")
            }
        }
        if ndim >= 3 {
            try ImportLimits.checkImage(path: path, height: dims[1], width: dims[2], channels: ndim == 4 ? dims[3] : 1, what: "images")
        }
        let header = IDXHeader(dims: dims, gzip: gzip)
        guard let data = CheckedSize.product(dims) else {
            throw DatasetError.badHeader(path: path, expected: "dimensions whose product fits in 63 bits", found: "\(dims)")
        }
        let total = header.headerBytes + data
        try checkLength(path, expected: total, gzip: gzip,
                        what: dims.count > 1 ? "\(dims[0]) items of \(dims.dropFirst().map(String.init).joined(separator: "x"))" : "\(dims[0]) one-byte items")
        return header
    }
}

/// Reads a whole IDX label file (after its header has been checked) and checks every label.
func readIDXLabels(_ path: String, header: IDXHeader, classes: Int) throws -> [Int32] {
    let stream = try openMaybeGzip(path)
    defer { stream.close() }
    try stream.skip(header.headerBytes, what: "IDX header")
    let bytes = try stream.readBytes(header.itemCount, what: "\(header.itemCount) labels")
    if let i = bytes.firstIndex(where: { Int($0) >= classes }) {
        throw DatasetError.labelOutOfRange(path: path, index: i, value: Int(bytes[i]), valid: 0...(classes - 1))
    }
    if !(try stream.atEnd()) {
        throw DatasetError.truncated(path: path, expected: "the data to end after \(header.itemCount) labels", found: "more bytes")
    }
    return bytes.map { Int32($0) }
}

/// An IDX image file with its (optional) label file.
final class IDXSource: ImageSource {
    let imagesPath: String
    let labelsPath: String?
    let header: IDXHeader
    let labels: [Int32]?
    let shape: Shape

    var name: String { labelsPath.map { "\(imagesPath) + \($0)" } ?? imagesPath }
    var expectedCount: Int { header.itemCount }
    var files: [String] { [imagesPath] + (labelsPath.map { [$0] } ?? []) }

    /// Checks both headers, the counts and every label (labels must be below `classes`).
    init(images: String, labels: String?, classes: Int) throws {
        imagesPath = images; labelsPath = labels
        header = try IDXHeader.read(images, expectedDims: 3)
        shape = Shape(height: header.dims[1], width: header.dims[2], channels: header.dims.count == 4 ? header.dims[3] : 1)
        if let labels {
            let lh = try IDXHeader.read(labels, expectedDims: 1)
            guard lh.itemCount == header.itemCount else {
                throw DatasetError.countMismatch(path: labels, expected: header.itemCount, found: lh.itemCount, reference: images)
            }
            self.labels = try readIDXLabels(labels, header: lh, classes: classes)
        } else {
            self.labels = nil
        }
    }

    func stream(target: Target, batchSize: Int, body: (ImageSet) throws -> Void) throws {
        let stream = try openMaybeGzip(imagesPath)
        defer { stream.close() }
        try stream.skip(header.headerBytes, what: "IDX header")
        let n = header.itemCount, size = shape.size
        var start = 0
        while start < n {
            let m = min(batchSize, n - start)
            var px = [UInt8](repeating: 0, count: m * size)
            try px.withUnsafeMutableBytes {
                try stream.readExactly($0, what: "images \(start)..<\(start + m) of \(n)")
            }
            px = transformBatch(px, count: m, from: shape, to: target.shape, resize: target.resize)
            try body(ImageSet(count: m, height: target.shape.height, width: target.shape.width, channels: target.shape.channels,
                              pixels: px, fineLabels: labels.map { Array($0[start..<(start + m)]) }))
            start += m
        }
        if !(try stream.atEnd()) {
            throw DatasetError.truncated(path: imagesPath, expected: "the data to end after \(n) images", found: "more bytes")
        }
    }
}
