import Foundation

// MATLAB v5 .mat files: the element tags, small elements, compressed variables and numeric
// matrices that SVHN's files use (parsed here, read by SVHN.swift).

enum MAT {
    static let miINT8: UInt32 = 1, miUINT8: UInt32 = 2, miINT16: UInt32 = 3, miUINT16: UInt32 = 4
    static let miINT32: UInt32 = 5, miUINT32: UInt32 = 6, miSINGLE: UInt32 = 7, miDOUBLE: UInt32 = 9
    static let miINT64: UInt32 = 12, miUINT64: UInt32 = 13, miMATRIX: UInt32 = 14, miCOMPRESSED: UInt32 = 15
    static let mxUINT8_CLASS: UInt32 = 9

    static func elementSize(_ t: UInt32) -> Int? {
        switch t {
        case miINT8, miUINT8: return 1
        case miINT16, miUINT16: return 2
        case miINT32, miUINT32, miSINGLE: return 4
        case miDOUBLE, miINT64, miUINT64: return 8
        default: return nil
        }
    }
    static let classNames: [UInt32: String] = [1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double",
        7: "single", 8: "int8", 9: "uint8", 10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64"]
}

/// One variable of a MAT-file: its header, and how to get a stream positioned at its data.
struct MATVariable {
    var name: String
    var classID: UInt32
    var dims: [Int]
    var dataType: UInt32
    var dataBytes: Int
    var compressed: Bool
    /// A stream positioned at the first byte of the real part.
    var open: () throws -> ByteStream
    var count: Int { dims.reduce(1, *) }
    var className: String { MAT.classNames[classID] ?? "class \(classID)" }
}

/// Reads the header and the variable headers of a MAT-file (no variable data).
struct MATFile {
    let path: String
    let bigEndian: Bool
    var variables: [MATVariable] = []
    /// Variables that are not numeric real arrays (char, cell, struct, complex, empty), with
    /// what they are ("char", "complex double", "empty double"): skipped, named in errors.
    var others: [(name: String, kind: String)] = []

    /// The kind of a variable `name` that is in `others`, nil when it is not.
    func otherKind(_ name: String) -> String? { others.first { $0.name == name }?.kind }
    /// Every variable's name, numeric or not, in file order within each list.
    var allNames: [String] { variables.map(\.name) + others.map(\.name) }

    init(_ path: String) throws {
        self.path = path
        let size = try fileSize(path)
        let head = try readPrefix(path, 128)
        let text = String(decoding: head.prefix(116), as: UTF8.self)
        guard head.count >= 6, text.hasPrefix("MATLAB") else {
            throw DatasetError.badMagic(path: path, expected: "a MATLAB .mat file (header text 'MATLAB 5.0 MAT-file')", found: describeBytes(head))
        }
        if text.hasPrefix("MATLAB 7.3") || (head.count == 128 && head[126] == 0 && head[127] == 0 && text.contains("HDF5")) {
            throw DatasetError.unsupported(path: path, expected: "a MATLAB v5 .mat file (save -v7, or scipy.io.savemat)",
                                           found: "a MATLAB 7.3 file, which is HDF5 (re-save it with save(..., '-v7') or convert it with h5py)")
        }
        guard head.count == 128 else {
            throw DatasetError.truncated(path: path, expected: "a 128-byte MAT-file header", found: "\(head.count) bytes")
        }
        if head[126] == UInt8(ascii: "I") && head[127] == UInt8(ascii: "M") { bigEndian = false }
        else if head[126] == UInt8(ascii: "M") && head[127] == UInt8(ascii: "I") { bigEndian = true }
        else {
            throw DatasetError.badHeader(path: path, expected: "endian indicator 'IM' or 'MI' at bytes 126-127",
                                         found: describeBytes(Array(head[126...127])))
        }
        let file = try PlainFile(path)
        defer { file.close() }
        var offset = 128
        while offset < size {
            guard size - offset >= 8 else {
                throw DatasetError.truncated(path: path, expected: "an 8-byte element tag at byte \(offset)", found: "\(size - offset) bytes")
            }
            try file.seek(to: offset)
            let tag = try file.readBytes(8, what: "element tag")
            let type = u32(tag, 0), n = Int(u32(tag, 4))
            if type >> 16 != 0 {   // a small element (at most 4 bytes of data in the tag): never a variable
                _ = try smallElementSize(type)
                offset += 8
                continue
            }
            let dataStart = offset + 8
            guard n <= size - dataStart else {
                throw DatasetError.wrongLength(path: path, expectedBytes: dataStart + n, foundBytes: size)
            }
            if type == MAT.miMATRIX {
                let sub = try PlainFile(path)
                defer { sub.close() }
                try sub.seek(to: dataStart)
                var consumed = 0
                if n > 0, var v = try readMatrixHeader(sub, consumed: &consumed, limit: n, compressed: false) {
                    let dataOffset = dataStart + consumed
                    let p = path
                    v.open = { let f = try PlainFile(p); try f.seek(to: dataOffset); return f }
                    guard v.dataBytes <= n - consumed else {
                        throw DatasetError.truncated(path: path, expected: "\(v.dataBytes) data bytes for variable '\(v.name)'", found: "\(n - consumed) in its element")
                    }
                    variables.append(v)
                }
                offset = dataStart + ((n + 7) & ~7)
            } else if type == MAT.miCOMPRESSED {
                let p = path
                let z = try InflateStream(path: path, offset: dataStart, length: n)
                defer { z.close() }
                let inner = try z.readBytes(8, what: "the tag inside a compressed element")
                if u32(inner, 0) == MAT.miMATRIX {
                    var consumed = 0
                    let innerSize = Int(u32(inner, 4))
                    if innerSize > 0, var v = try readMatrixHeader(z, consumed: &consumed, limit: innerSize, compressed: true) {
                        guard v.dataBytes <= innerSize - consumed else {
                            throw DatasetError.truncated(path: path, expected: "\(v.dataBytes) data bytes for variable '\(v.name)'", found: "\(innerSize - consumed) in its element")
                        }
                        // A deflate stream cannot expand more than about 1032:1.
                        guard v.dataBytes / maxDeflateRatio <= n else {
                            throw DatasetError.badHeader(path: path, expected: "at least \(v.dataBytes / maxDeflateRatio) compressed bytes for variable '\(v.name)' of \(v.dims)",
                                                         found: "\(n)")
                        }
                        let skip = consumed
                        v.open = {
                            let s = try InflateStream(path: p, offset: dataStart, length: n)
                            try s.skip(8 + skip, what: "variable header")
                            return s
                        }
                        variables.append(v)
                    }
                }
                offset = dataStart + n   // compressed elements are not padded
            } else {
                offset = dataStart + ((n + 7) & ~7)
            }
        }
    }

    /// The data size of a small element's tag (upper 16 bits), which must be at most 4.
    func smallElementSize(_ first: UInt32) throws -> Int {
        let n = Int(first >> 16)
        guard n <= 4 else {
            throw DatasetError.badHeader(path: path, expected: "a small data element of at most 4 bytes",
                                         found: "one of \(n) bytes (data type \(first & 0xFFFF))")
        }
        return n
    }

    /// Throws unless `needed` more bytes fit in a matrix element of `limit` bytes.
    func checkRoom(consumed: Int, needed: Int, limit: Int, what: String) throws {
        guard needed <= limit - consumed else {
            throw DatasetError.truncated(path: path, expected: "\(needed) bytes for \(what) inside a \(limit)-byte matrix element",
                                         found: "\(max(0, limit - consumed))")
        }
    }

    func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        bigEndian ? be32(b, i) : UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    /// Reads a sub-element tag: (type, size, inline data for small elements).
    private func readTag(_ s: ByteStream, consumed: inout Int) throws -> (UInt32, Int, [UInt8]?) {
        let t = try s.readBytes(8, what: "a sub-element tag")
        consumed += 8
        let first = u32(t, 0)
        if first >> 16 != 0 {
            return (first & 0xFFFF, try smallElementSize(first), Array(t[4..<8]))
        }
        return (first, Int(u32(t, 4)), nil)
    }

    /// Array flags, dimensions, name and the real part's tag of a miMATRIX element
    /// (nil for arrays without a numeric real part: cells, structs, empty arrays).
    private mutating func readMatrixHeader(_ s: ByteStream, consumed: inout Int, limit: Int, compressed: Bool) throws -> MATVariable? {
        func padded(_ n: Int) -> Int { (n + 7) & ~7 }
        func need(_ k: Int, _ what: String) throws { try checkRoom(consumed: consumed, needed: k, limit: limit, what: what) }
        // array flags
        try need(8, "the array flags tag")
        let (ft, fn, _) = try readTag(s, consumed: &consumed)
        guard ft == MAT.miUINT32, fn == 8 else {
            throw DatasetError.badHeader(path: path, expected: "array flags (miUINT32, 8 bytes) in a matrix element", found: "type \(ft), \(fn) bytes")
        }
        try need(8, "the array flags")
        let flags = try s.readBytes(8, what: "array flags"); consumed += 8
        let classID = u32(flags, 0) & 0xFF
        let complex = u32(flags, 0) & 0x0800 != 0
        // dimensions
        try need(8, "the dimensions tag")
        let (dt, dn, dsmall) = try readTag(s, consumed: &consumed)
        guard dt == MAT.miINT32, dn % 4 == 0, (8...128).contains(dn) else {
            throw DatasetError.badHeader(path: path, expected: "2 to 32 dimensions (miINT32)", found: "type \(dt), \(dn) bytes")
        }
        if dsmall == nil { try need(padded(dn), "the dimensions") }
        let dimBytes = try dsmall ?? s.readBytes(padded(dn), what: "dimensions")
        if dsmall == nil { consumed += padded(dn) }
        let dims = (0..<(dn / 4)).map { Int(Int32(bitPattern: u32(dimBytes, 4 * $0))) }
        guard dims.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else {
            throw DatasetError.badHeader(path: path, expected: "dimensions of 0...\(Int32.max)", found: "\(dims)")
        }
        // name
        try need(8, "the array name tag")
        let (nt, nn, nsmall) = try readTag(s, consumed: &consumed)
        guard nt == MAT.miINT8 || nt == MAT.miUINT8, nn <= 4096 else {
            throw DatasetError.badHeader(path: path, expected: "an array name (miINT8)", found: "type \(nt), \(nn) bytes")
        }
        if nsmall == nil { try need(padded(nn), "the array name") }
        let nameBytes = try nsmall.map { Array($0.prefix(nn)) } ?? Array(s.readBytes(padded(nn), what: "array name").prefix(nn))
        if nsmall == nil { consumed += padded(nn) }
        let name = String(decoding: nameBytes, as: UTF8.self)
        let className = MAT.classNames[classID] ?? "class \(classID)"
        guard (6...15).contains(classID), !complex else {
            others.append((name, complex ? "complex \(className)" : className)); return nil
        }
        if dims.contains(0) { others.append((name, "empty \(className)")); return nil }
        // real part
        guard consumed + 8 <= limit else { return nil }
        let (rt, rn, rsmall) = try readTag(s, consumed: &consumed)
        guard let es = MAT.elementSize(rt) else {
            throw DatasetError.badHeader(path: path, expected: "a numeric real part for variable '\(name)'", found: "data type \(rt)")
        }
        var count = 1
        for d in dims {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 40 else { throw DatasetError.badHeader(path: path, expected: "a variable of at most 2^40 elements", found: "dimensions \(dims) for '\(name)'") }
            count = p
        }
        guard rn == count * es else {
            throw DatasetError.badHeader(path: path, expected: "\(count * es) data bytes for '\(name)' of \(dims.map(String.init).joined(separator: "x"))", found: "\(rn)")
        }
        _ = rsmall   // a small element holds at most 4 bytes; such variables are never images
        if rsmall != nil { consumed -= 4 }   // its data are the 4 bytes after the tag's first word
        return MATVariable(name: name, classID: classID, dims: dims, dataType: rt, dataBytes: rn, compressed: compressed,
                           open: { throw DatasetError.cannotRead(path: "", reason: "") })
    }
}
