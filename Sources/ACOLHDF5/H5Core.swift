internal import CHDF5
import Foundation

// The one place where libhdf5 is called into and its results checked.
//
// - Every public operation of this module runs inside `H5Session.run`, which holds one
//   process-wide recursive lock (libhdf5 may be built without thread safety, e.g. Homebrew's)
//   and switches HDF5's automatic error printing off for the calling thread (the setting is
//   per thread in thread-safe builds, so it is done on every entry; it costs nanoseconds).
// - Every C call that can fail goes through `check`, which turns a negative return into
//   `HDF5Error.library` carrying HDF5's error stack, walked with H5Ewalk2 right after the call.
// - Every id lives in an `H5ID`, which closes it exactly once (explicitly or in deinit);
//   closing never throws.

/// The process-wide libhdf5 session: one lock around every libhdf5 call, its printing off, and its
/// error stack read back as text. (`HDF5Library` is the public view: open-object counts, version.)
enum H5Session {
    private static let lock = NSRecursiveLock()

    /// libhdf5's own exit handler closes the files still open; after a failed write (a full
    /// disk, a file-size limit) it crashed there, after acol had reported the error. acol closes
    /// every file it opens itself, so the handler is switched off before the first HDF5 call.
    private static let noCleanupAtExit: Void = { _ = H5dont_atexit() }()

    /// Runs `body` with HDF5 to ourselves and its printing switched off.
    static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = noCleanupAtExit
        _ = H5Eset_auto2(acol_h5e_default(), nil, nil)
        return try body()
    }

    /// HDF5's current error stack as one line: outermost call first, innermost cause last.
    static func errorStack() -> String {
        var lines: [String] = []
        withUnsafeMutablePointer(to: &lines) { box in
            _ = H5Ewalk2(acol_h5e_default(), H5E_WALK_DOWNWARD, { _, desc, data in
                guard let desc, let data else { return 0 }
                let out = data.assumingMemoryBound(to: [String].self)
                let e = desc.pointee
                let function = e.func_name.map { String(cString: $0) } ?? "?"
                let text = e.desc.map { String(cString: $0) } ?? ""
                var minor = ""
                var buf = [CChar](repeating: 0, count: 160)
                let n = buf.withUnsafeMutableBufferPointer { H5Eget_msg(e.min_num, nil, $0.baseAddress, 160) }
                if n > 0 { minor = decodeCString(buf) }
                var line = "\(function)(): \(text)"
                if !minor.isEmpty && minor != text { line += " (\(minor))" }
                out.pointee.append(line)
                return 0
            }, box)
        }
        _ = H5Eclear2(acol_h5e_default())
        return lines.joined(separator: "; ")
    }
}

/// Decodes a NUL-terminated byte buffer as UTF-8 (invalid bytes become U+FFFD).
func decodeCString(_ buf: [CChar]) -> String {
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// The choke point: a negative result becomes `HDF5Error.library` with HDF5's error stack.
@discardableResult @inline(__always)
func check<T: BinaryInteger>(_ result: T, _ path: String, _ operation: @autoclosure () -> String) throws -> T {
    if result < 0 {
        throw HDF5Error.library(path: path, operation: operation(), details: H5Session.errorStack())
    }
    return result
}

/// An HDF5 identifier that is closed exactly once, by `close()` or at deinit. Closing never throws.
final class H5ID {
    enum Kind { case file, group, dataset, dataspace, datatype, attribute, propertyList }

    private(set) var raw: hid_t
    let kind: Kind
    /// The file path, for error messages.
    let path: String
    /// The object's HDF5 path ("/weights/head/dense/kernel") or a description, for error messages.
    let name: String

    init(_ raw: hid_t, _ kind: Kind, path: String, name: String) {
        self.raw = raw; self.kind = kind; self.path = path; self.name = name
    }

    /// Checks `raw` (from an H5*create/open call) and wraps it.
    static func make(_ raw: hid_t, _ kind: Kind, path: String, name: String, _ operation: @autoclosure () -> String) throws -> H5ID {
        try check(raw, path, operation())
        return H5ID(raw, kind, path: path, name: name)
    }

    func close() {
        guard raw >= 0 else { return }
        let id = raw
        raw = -1
        H5Session.run {
            switch kind {
            case .file: _ = H5Fclose(id)
            case .group: _ = H5Gclose(id)
            case .dataset: _ = H5Dclose(id)
            case .dataspace: _ = H5Sclose(id)
            case .datatype: _ = H5Tclose(id)
            case .attribute: _ = H5Aclose(id)
            case .propertyList: _ = H5Pclose(id)
            }
            // A failed close leaves an error stack behind; it must not leak into the next error.
            _ = H5Eclear2(acol_h5e_default())
        }
    }

    deinit { close() }

    /// The child's HDF5 path for messages.
    func child(_ n: String) -> String { name == "/" ? "/" + n : name + "/" + n }
}

/// Runs `body` with `id`, then closes it; the body's error wins.
@inline(__always)
func closing<T>(_ id: H5ID, _ body: (H5ID) throws -> T) rethrows -> T {
    defer { id.close() }
    return try body(id)
}

let h5pDefault = hid_t(H5P_DEFAULT)

// MARK: - Element types

/// A Swift type with an HDF5 memory type and the little-endian type files store it as.
protocol H5Element {
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
    static var zero: Self { get }
    /// H5T_INTEGER or H5T_FLOAT: the class a stored type must have to be read into this one.
    static var isFloat: Bool { get }
}
extension Float: H5Element {
    static var memoryType: hid_t { acol_h5t_native_float() }
    static var fileType: hid_t { acol_h5t_ieee_f32le() }
    static var zero: Float { 0 }
    static var isFloat: Bool { true }
}
extension Double: H5Element {
    static var memoryType: hid_t { acol_h5t_native_double() }
    static var fileType: hid_t { acol_h5t_ieee_f64le() }
    static var zero: Double { 0 }
    static var isFloat: Bool { true }
}
extension Int32: H5Element {
    static var memoryType: hid_t { acol_h5t_native_int32() }
    static var fileType: hid_t { acol_h5t_std_i32le() }
    static var zero: Int32 { 0 }
    static var isFloat: Bool { false }
}
extension Int64: H5Element {
    static var memoryType: hid_t { acol_h5t_native_int64() }
    static var fileType: hid_t { acol_h5t_std_i64le() }
    static var zero: Int64 { 0 }
    static var isFloat: Bool { false }
}
extension UInt64: H5Element {
    static var memoryType: hid_t { acol_h5t_native_uint64() }
    static var fileType: hid_t { acol_h5t_std_u64le() }
    static var zero: UInt64 { 0 }
    static var isFloat: Bool { false }
}
extension UInt8: H5Element {
    static var memoryType: hid_t { acol_h5t_native_uint8() }
    static var fileType: hid_t { acol_h5t_std_u8le() }
    static var zero: UInt8 { 0 }
    static var isFloat: Bool { false }
}

// MARK: - Types and spaces

enum H5 {
    /// A variable-length UTF-8 string type (h5py reads it back as str).
    static func stringType(path: String) throws -> H5ID {
        let t = try H5ID.make(H5Tcopy(acol_h5t_c_s1()), .datatype, path: path, name: "string type", "H5Tcopy")
        try check(H5Tset_size(t.raw, acol_h5t_variable()), path, "H5Tset_size")
        try check(H5Tset_cset(t.raw, H5T_CSET_UTF8), path, "H5Tset_cset")
        return t
    }

    static func scalarSpace(path: String) throws -> H5ID {
        try H5ID.make(H5Screate(H5S_SCALAR), .dataspace, path: path, name: "scalar space", "H5Screate")
    }

    static func simpleSpace(_ dims: [Int], maxDims: [hsize_t]? = nil, path: String) throws -> H5ID {
        let d = dims.map { hsize_t($0) }
        let raw: hid_t = d.withUnsafeBufferPointer { dp in
            if let maxDims {
                return maxDims.withUnsafeBufferPointer { H5Screate_simple(Int32(d.count), dp.baseAddress, $0.baseAddress) }
            }
            return H5Screate_simple(Int32(d.count), dp.baseAddress, nil)
        }
        return try H5ID.make(raw, .dataspace, path: path, name: "space \(dims)", "H5Screate_simple(\(dims))")
    }

    /// Dimensions of a dataspace ([] for a scalar; nil for a null space).
    static func dims(of space: H5ID) throws -> [Int] {
        let cls = H5Sget_simple_extent_type(space.raw)
        if cls == H5S_SCALAR { return [] }
        if cls == H5S_NULL { return [0] }
        let rank = Int(try check(H5Sget_simple_extent_ndims(space.raw), space.path, "H5Sget_simple_extent_ndims"))
        var d = [hsize_t](repeating: 0, count: max(rank, 1))
        try check(H5Sget_simple_extent_dims(space.raw, &d, nil), space.path, "H5Sget_simple_extent_dims")
        return try d.prefix(rank).map { try ReadLimits.int($0, space) }
    }

    /// A numpy-style name of a stored type: "float32", "uint8", "string", "string[12]", "compound", ...
    static func describe(type t: hid_t) -> String {
        let cls = H5Tget_class(t)
        let size = H5Tget_size(t)
        switch cls {
        case H5T_INTEGER:
            let signed = H5Tget_sign(t) != H5T_SGN_NONE
            return (signed ? "int" : "uint") + String(size * 8)
        case H5T_FLOAT: return "float" + String(size * 8)
        case H5T_STRING: return H5Tis_variable_str(t) > 0 ? "string" : "string[\(size)]"
        case H5T_COMPOUND: return "compound"
        case H5T_ENUM: return "enum"
        case H5T_OPAQUE: return "opaque"
        case H5T_ARRAY: return "array"
        case H5T_VLEN: return "vlen"
        case H5T_REFERENCE: return "reference"
        case H5T_BITFIELD: return "bitfield"
        case H5T_TIME: return "time"
        default: return "unknown"
        }
    }
}

// MARK: - Files


extension H5ID {
    static func openFile(_ path: String) throws -> H5ID {
        try H5ID.make(H5Fopen(path, acol_h5f_acc_rdonly(), h5pDefault), .file, path: path, name: "/", "H5Fopen (read-only)")
    }

    /// Creates a new file (failing if it exists), with a user block of `userBlock` bytes (0 or a
    /// power of two >= 512) in front of the HDF5 data.
    static func createFile(_ path: String, reportAs: String, userBlock: Int = 0) throws -> H5ID {
        let fcpl = try H5ID.make(H5Pcreate(acol_h5p_file_create()), .propertyList, path: reportAs, name: "fcpl", "H5Pcreate")
        defer { fcpl.close() }
        if userBlock > 0 { try check(H5Pset_userblock(fcpl.raw, hsize_t(userBlock)), reportAs, "H5Pset_userblock") }
        return try H5ID.make(H5Fcreate(path, acol_h5f_acc_trunc(), fcpl.raw, h5pDefault), .file, path: reportAs, name: "/",
                             "H5Fcreate")
    }

    /// Opens an existing file for reading and writing (tests edit files in place with it).
    static func openFileForWriting(_ path: String) throws -> H5ID {
        try H5ID.make(H5Fopen(path, acol_h5f_acc_rdwr(), h5pDefault), .file, path: path, name: "/", "H5Fopen (read-write)")
    }

    func flush() throws {
        try check(H5Fflush(raw, H5F_SCOPE_LOCAL), path, "H5Fflush")
    }
}

// MARK: - Links, groups, datasets

extension H5ID {
    /// Whether `name` (a relative path, possibly with several components) exists below this object.
    func exists(_ name: String) throws -> Bool {
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(part) : "/" + part
            let r = try check(H5Lexists(raw, prefix, h5pDefault), path, "H5Lexists \(child(prefix))")
            if r == 0 { return false }
            try requireHardLink(prefix)   // Links.swift: no soft or external links
        }
        return true
    }

    enum ObjectKind { case group, dataset, namedType, other }

    /// The kind of the object at `name`, or nil when there is none.
    func objectType(_ name: String) throws -> ObjectKind? {
        guard try exists(name) else { return nil }
        var info = H5O_info_t()
        try check(H5Oget_info_by_name2(raw, name, &info, UInt32(H5O_INFO_BASIC), h5pDefault), path, "H5Oget_info_by_name2 \(child(name))")
        switch info.type {
        case H5O_TYPE_GROUP: return .group
        case H5O_TYPE_DATASET: return .dataset
        case H5O_TYPE_NAMED_DATATYPE: return .namedType
        default: return .other
        }
    }

    func deleteLink(_ name: String) throws {
        try check(H5Ldelete(raw, name, h5pDefault), path, "H5Ldelete \(child(name))")
    }

    func createGroup(_ name: String) throws -> H5ID {
        let lcpl = try H5ID.make(H5Pcreate(acol_h5p_link_create()), .propertyList, path: path, name: "lcpl", "H5Pcreate")
        defer { lcpl.close() }
        try check(H5Pset_create_intermediate_group(lcpl.raw, 1), path, "H5Pset_create_intermediate_group")
        return try H5ID.make(H5Gcreate2(raw, name, lcpl.raw, h5pDefault, h5pDefault), .group, path: path,
                             name: child(name), "H5Gcreate2 \(child(name))")
    }

    func openGroup(_ name: String) throws -> H5ID {
        guard try objectType(name) == .group else {
            throw HDF5Error.invalidContent(path: path, object: child(name), problem: "expected a group, found " +
                                           ((try? exists(name)) == true ? "another kind of object" : "nothing"))
        }
        return try H5ID.make(H5Gopen2(raw, name, h5pDefault), .group, path: path, name: child(name), "H5Gopen2 \(child(name))")
    }

    func openDataset(_ name: String) throws -> H5ID {
        guard try objectType(name) == .dataset else {
            throw HDF5Error.invalidContent(path: path, object: child(name), problem: "expected a dataset, found " +
                                           ((try? exists(name)) == true ? "another kind of object" : "nothing"))
        }
        let ds = try H5ID.make(H5Dopen2(raw, name, h5pDefault), .dataset, path: path, name: child(name), "H5Dopen2 \(child(name))")
        do { try ds.checkStorageReadable() } catch { ds.close(); throw error }
        return ds
    }

    /// A dataset stored through a filter this libhdf5 lacks (h5py's `compression='lzf'`, a
    /// plugin filter such as blosc or bitshuffle) cannot be read: say so, naming the filter,
    /// instead of libhdf5's error stack at the first read.
    ///
    /// A dataset whose data is not in the file (a virtual dataset mapping other files, external
    /// raw storage naming other files or devices) is refused too: acol reads only what the file
    /// holds (libhdf5 reads a missing source as zeros, and a source can be a device or a FIFO).
    func checkStorageReadable() throws {
        let plist = try H5ID.make(H5Dget_create_plist(raw), .propertyList, path: path, name: name, "H5Dget_create_plist \(name)")
        defer { plist.close() }
        if H5Pget_layout(plist.raw) == H5D_VIRTUAL {
            throw HDF5Error.invalidContent(path: path, object: name,
                problem: "a virtual dataset (its data is mapped from other files); acol reads only data stored in the file itself (h5py: copy it into a plain dataset)")
        }
        let external = H5Pget_external_count(plist.raw)
        if external != 0 {
            throw HDF5Error.invalidContent(path: path, object: name,
                problem: "stored in \(external < 0 ? "external" : "\(external) external") file(s) outside this one; acol reads only data stored in the file itself (h5py: create it without external=)")
        }
        let count = H5Pget_nfilters(plist.raw)
        guard count > 0 else { return }
        for i in 0..<UInt32(count) {
            var flags: UInt32 = 0, elements = 0, config: UInt32 = 0
            var values = [UInt32](repeating: 0, count: 16)
            var label = [CChar](repeating: 0, count: 128)
            elements = values.count
            let id = H5Pget_filter2(plist.raw, i, &flags, &elements, &values, label.count, &label, &config)
            guard id >= 0 else { continue }
            if H5Zfilter_avail(id) <= 0 {
                let n = decodeCString(label)
                let known = [32000: "lzf", 32001: "blosc", 32004: "lz4", 32008: "bitshuffle", 32015: "zstd"][Int(id)]
                let what = n.isEmpty ? (known ?? "unnamed") : n
                throw HDF5Error.invalidContent(path: path, object: name,
                    problem: "stored with the HDF5 filter '\(what)' (filter id \(id)), which this HDF5 library does not have; save it with gzip or no compression (h5py: compression='gzip')")
            }
        }
    }

    /// Names of the links directly in this group, in name order.
    func linkNames() throws -> [String] {
        var names: [String] = []
        var idx: hsize_t = 0
        try withUnsafeMutablePointer(to: &names) { box in
            _ = try check(H5Literate(raw, H5_INDEX_NAME, H5_ITER_INC, &idx, { _, name, _, data in
                guard let name, let data else { return 0 }
                data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                return 0
            }, box), path, "H5Literate \(name)")
        }
        return names
    }

    /// Whether the link `name` is a hard link (soft and external links are not followed by `inspect`).
    func isHardLink(_ name: String) throws -> Bool {
        var info = H5L_info_t()
        try check(H5Lget_info(raw, name, &info, h5pDefault), path, "H5Lget_info \(child(name))")
        return info.type == H5L_TYPE_HARD
    }

    // Dataset properties.

    func space() throws -> H5ID {
        switch kind {
        case .attribute: return try H5ID.make(H5Aget_space(raw), .dataspace, path: path, name: name, "H5Aget_space \(name)")
        default: return try H5ID.make(H5Dget_space(raw), .dataspace, path: path, name: name, "H5Dget_space \(name)")
        }
    }

    func type() throws -> H5ID {
        switch kind {
        case .attribute: return try H5ID.make(H5Aget_type(raw), .datatype, path: path, name: name, "H5Aget_type \(name)")
        default: return try H5ID.make(H5Dget_type(raw), .datatype, path: path, name: name, "H5Dget_type \(name)")
        }
    }

    /// Shape of a dataset or attribute ([] for a scalar).
    func shape() throws -> [Int] { try closing(space()) { try H5.dims(of: $0) } }

    /// Stored type, numpy-style ("float32").
    func dtype() throws -> String { try closing(type()) { H5.describe(type: $0.raw) } }

    /// Creates a dataset of `T` with the given shape; `chunk` (with unlimited first dimension when
    /// `extendible`) and `gzip` level when given.
    func createDataset<T: H5Element>(_ name: String, of: T.Type, shape: [Int], chunk: [Int]? = nil, gzip: Int? = nil,
                                     extendible: Bool = false) throws -> H5ID {
        let maxDims: [hsize_t]? = extendible ? [acol_h5s_unlimited()] + shape.dropFirst().map { hsize_t($0) } : nil
        let sp = try H5.simpleSpace(shape, maxDims: maxDims, path: path)
        defer { sp.close() }
        let dcpl = try H5ID.make(H5Pcreate(acol_h5p_dataset_create()), .propertyList, path: path, name: "dcpl", "H5Pcreate")
        defer { dcpl.close() }
        if let chunk {
            let c = chunk.map { hsize_t($0) }
            try check(H5Pset_chunk(dcpl.raw, Int32(c.count), c), path, "H5Pset_chunk \(chunk)")
            if let gzip { try check(H5Pset_deflate(dcpl.raw, UInt32(gzip)), path, "H5Pset_deflate") }
        }
        let lcpl = try H5ID.make(H5Pcreate(acol_h5p_link_create()), .propertyList, path: path, name: "lcpl", "H5Pcreate")
        defer { lcpl.close() }
        try check(H5Pset_create_intermediate_group(lcpl.raw, 1), path, "H5Pset_create_intermediate_group")
        return try H5ID.make(H5Dcreate2(raw, name, T.fileType, sp.raw, lcpl.raw, dcpl.raw, h5pDefault), .dataset,
                             path: path, name: child(name), "H5Dcreate2 \(child(name))")
    }

    /// Writes a whole (contiguous) dataset.
    func writeDataset<T: H5Element>(_ name: String, _ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        precondition(shape.reduce(1, *) == values.count, "writeDataset \(name): \(values.count) values for shape \(shape)")
        try closing(createDataset(name, of: T.self, shape: shape)) { ds in
            if values.isEmpty { return }
            try values.withUnsafeBytes { buf in
                _ = try check(H5Dwrite(ds.raw, T.memoryType, acol_h5s_all(), acol_h5s_all(), h5pDefault, buf.baseAddress),
                          path, "H5Dwrite \(ds.name)")
            }
        }
    }

    /// Checks a stored numeric type against `T`: same class (integer / float), and for floats,
    /// when `exactFloat32` is set, exactly 4 bytes.
    func checkNumericType<T: H5Element>(_: T.Type, exactSize: Int? = nil) throws {
        try closing(type()) { t in
            let cls = H5Tget_class(t.raw)
            let wanted = T.isFloat ? H5T_FLOAT : H5T_INTEGER
            let found = H5.describe(type: t.raw)
            let expected = exactSize.map { (T.isFloat ? "float" : "int") + String($0 * 8) } ?? (T.isFloat ? "a float type" : "an integer type")
            if cls != wanted || (exactSize != nil && H5Tget_size(t.raw) != exactSize!) {
                throw HDF5Error.invalidContent(path: path, object: name, problem: "expected \(expected), found \(found)")
            }
        }
    }

    /// Reads all of a numeric dataset or attribute (HDF5 converts the stored type to `T`,
    /// after `checkNumericType`).
    func readAll<T: H5Element>(_: T.Type, exactSize: Int? = nil, limit: Int = ReadLimits.defaultMaxElements) throws -> (values: [T], shape: [Int]) {
        try checkNumericType(T.self, exactSize: exactSize)
        let shape = try self.shape()
        let n = try ReadLimits.elementCount(shape, of: self, limit: limit)
        var out = [T](repeating: T.zero, count: n)
        if n == 0 { return (out, shape) }
        try out.withUnsafeMutableBytes { buf in
            if kind == .attribute {
                try check(H5Aread(raw, T.memoryType, buf.baseAddress), path, "H5Aread \(name)")
            } else {
                _ = try check(H5Dread(raw, T.memoryType, acol_h5s_all(), acol_h5s_all(), h5pDefault, buf.baseAddress),
                          path, "H5Dread \(name)")
            }
        }
        return (out, shape)
    }

    /// Reads a 1-D numeric dataset `name` below this group.
    func readVector<T: H5Element>(_ name: String, _: T.Type, limit: Int = ReadLimits.defaultMaxElements) throws -> [T] {
        try closing(openDataset(name)) { ds in
            let r = try ds.readAll(T.self, limit: limit)
            guard r.shape.count == 1 else {
                throw HDF5Error.invalidContent(path: path, object: ds.name, problem: "expected a 1-D array, found shape \(r.shape)")
            }
            return r.values
        }
    }

    /// Rows [start, start + count) of an n-D dataset along its first dimension, into `buffer`.
    func readRows<T: H5Element>(_ start: Int, _ count: Int, rowShape: [Int], into buffer: UnsafeMutableBufferPointer<T>) throws {
        if count == 0 { return }
        let fs = try space()
        defer { fs.close() }
        let offs = [hsize_t(start)] + rowShape.map { _ in 0 }
        let cnt = [hsize_t(count)] + rowShape.map { hsize_t($0) }
        try check(H5Sselect_hyperslab(fs.raw, H5S_SELECT_SET, offs, nil, cnt, nil), path, "H5Sselect_hyperslab \(name)")
        let ms = try H5.simpleSpace([count] + rowShape, path: path)
        defer { ms.close() }
        try check(H5Dread(raw, T.memoryType, ms.raw, fs.raw, h5pDefault, buffer.baseAddress), path, "H5Dread \(name) rows \(start)..<\(start + count)")
    }

    /// Appends rows to an extendible dataset whose current first dimension is `current`.
    func appendRows<T: H5Element>(_ values: UnsafeBufferPointer<T>, count: Int, at current: Int, rowShape: [Int]) throws {
        if count == 0 { return }
        let newDims = [hsize_t(current + count)] + rowShape.map { hsize_t($0) }
        try check(H5Dset_extent(raw, newDims), path, "H5Dset_extent \(name)")
        let fs = try space()
        defer { fs.close() }
        let offs = [hsize_t(current)] + rowShape.map { _ in 0 }
        let cnt = [hsize_t(count)] + rowShape.map { hsize_t($0) }
        try check(H5Sselect_hyperslab(fs.raw, H5S_SELECT_SET, offs, nil, cnt, nil), path, "H5Sselect_hyperslab \(name)")
        let ms = try H5.simpleSpace([count] + rowShape, path: path)
        defer { ms.close() }
        try check(H5Dwrite(raw, T.memoryType, ms.raw, fs.raw, h5pDefault, values.baseAddress), path, "H5Dwrite \(name)")
    }
}

// MARK: - Attributes

extension H5ID {
    func hasAttribute(_ name: String) throws -> Bool {
        try check(H5Aexists(raw, name), path, "H5Aexists \(self.name)@\(name)") > 0
    }

    func openAttribute(_ attr: String) throws -> H5ID {
        guard try hasAttribute(attr) else {
            throw HDF5Error.invalidContent(path: path, object: self.name, problem: "attribute '\(attr)' is missing")
        }
        return try H5ID.make(H5Aopen(raw, attr, h5pDefault), .attribute, path: path, name: "\(self.name) attribute '\(attr)'",
                             "H5Aopen \(self.name)@\(attr)")
    }

    /// Attribute names, in name order.
    func attributeNames() throws -> [String] {
        var names: [String] = []
        var idx: hsize_t = 0
        try withUnsafeMutablePointer(to: &names) { box in
            _ = try check(H5Aiterate2(raw, H5_INDEX_NAME, H5_ITER_INC, &idx, { _, name, _, data in
                guard let name, let data else { return 0 }
                data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                return 0
            }, box), path, "H5Aiterate2 \(name)")
        }
        return names
    }

    private func writeAttribute(_ attr: String, type: hid_t, space: H5ID, _ write: (hid_t) throws -> Void) throws {
        if try hasAttribute(attr) { try check(H5Adelete(raw, attr), path, "H5Adelete \(name)@\(attr)") }
        let a = try H5ID.make(H5Acreate2(raw, attr, type, space.raw, h5pDefault, h5pDefault), .attribute, path: path,
                              name: "\(name)@\(attr)", "H5Acreate2 \(name)@\(attr)")
        defer { a.close() }
        try write(a.raw)
    }

    func setAttribute(_ attr: String, string: String) throws {
        try setAttribute(attr, strings: [string], scalar: true)
    }

    func setAttribute(_ attr: String, strings: [String], scalar: Bool = false) throws {
        let t = try H5.stringType(path: path)
        defer { t.close() }
        let sp = scalar ? try H5.scalarSpace(path: path) : try H5.simpleSpace([strings.count], path: path)
        defer { sp.close() }
        try writeAttribute(attr, type: t.raw, space: sp) { a in
            // strdup'd C strings, freed after the write.
            var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
            defer { ptrs.forEach { free($0) } }
            if strings.isEmpty { return }
            try check(H5Awrite(a, t.raw, &ptrs), path, "H5Awrite \(name)@\(attr)")
        }
    }

    func setAttribute<T: H5Element>(_ attr: String, _ value: T) throws {
        let sp = try H5.scalarSpace(path: path)
        defer { sp.close() }
        try writeAttribute(attr, type: T.fileType, space: sp) { a in
            try withUnsafeBytes(of: value) { _ = try check(H5Awrite(a, T.memoryType, $0.baseAddress), path, "H5Awrite \(name)@\(attr)") }
        }
    }

    func setAttribute<T: H5Element>(_ attr: String, array: [T]) throws {
        let sp = try H5.simpleSpace([array.count], path: path)
        defer { sp.close() }
        try writeAttribute(attr, type: T.fileType, space: sp) { a in
            if array.isEmpty { return }
            try array.withUnsafeBytes { _ = try check(H5Awrite(a, T.memoryType, $0.baseAddress), path, "H5Awrite \(name)@\(attr)") }
        }
    }

    /// Strings of a string attribute or dataset (variable or fixed length, scalar or 1-D).
    func readStrings() throws -> (values: [String], scalar: Bool) {
        let ft = try type()
        defer { ft.close() }
        guard H5Tget_class(ft.raw) == H5T_STRING else {
            throw HDF5Error.invalidContent(path: path, object: name, problem: "expected a string, found \(H5.describe(type: ft.raw))")
        }
        let shape = try self.shape()
        guard shape.count <= 1 else {
            throw HDF5Error.invalidContent(path: path, object: name, problem: "expected a string or a list of strings, found shape \(shape)")
        }
        let n = try ReadLimits.elementCount(shape, of: self, limit: ReadLimits.maxStrings)
        if n == 0 { return ([], false) }
        let read: (hid_t, UnsafeMutableRawPointer) throws -> Void = { mt, buf in
            if self.kind == .attribute {
                try check(H5Aread(self.raw, mt, buf), self.path, "H5Aread \(self.name)")
            } else {
                try check(H5Dread(self.raw, mt, acol_h5s_all(), acol_h5s_all(), h5pDefault, buf), self.path, "H5Dread \(self.name)")
            }
        }
        var out: [String] = []
        if H5Tis_variable_str(ft.raw) > 0 {
            let mt = try H5.stringType(path: path)
            defer { mt.close() }
            // The file's character set: libhdf5 has no conversion between ASCII and UTF-8 strings
            // (tf.keras 2.15 writes ASCII attributes).
            try check(H5Tset_cset(mt.raw, H5Tget_cset(ft.raw)), path, "H5Tset_cset")
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            try ptrs.withUnsafeMutableBytes { try read(mt.raw, $0.baseAddress!) }
            for p in ptrs {
                out.append(p.map { String(cString: $0) } ?? "")
                if let p { H5free_memory(p) }
            }
        } else {
            // Fixed length: read with a NUL-terminated memory type one byte longer (h5py writes NULLPAD).
            let size = H5Tget_size(ft.raw)
            let mt = try H5ID.make(H5Tcopy(acol_h5t_c_s1()), .datatype, path: path, name: "string type", "H5Tcopy")
            defer { mt.close() }
            try check(H5Tset_size(mt.raw, size + 1), path, "H5Tset_size")
            try check(H5Tset_strpad(mt.raw, H5T_STR_NULLTERM), path, "H5Tset_strpad")
            // The file's character set, as above (h5py's string_dtype('utf-8', n) is UTF-8).
            try check(H5Tset_cset(mt.raw, H5Tget_cset(ft.raw)), path, "H5Tset_cset")
            var buf = [CChar](repeating: 0, count: try ReadLimits.stringBytes(count: n, size: size, of: self))
            try buf.withUnsafeMutableBytes { try read(mt.raw, $0.baseAddress!) }
            for i in 0..<n { out.append(decodeCString(Array(buf[(i * (size + 1))..<((i + 1) * (size + 1))]))) }
        }
        return (out, shape.isEmpty)
    }

    func stringAttribute(_ attr: String) throws -> String {
        try closing(openAttribute(attr)) { a in try Self.oneString(try a.readStrings().values, of: a) }
    }

    /// A scalar string, or a list of one (numpy's np.array(["x"]) as h5py writes it).
    private static func oneString(_ values: [String], of a: H5ID) throws -> String {
        guard values.count == 1, let s = values.first else {
            throw HDF5Error.invalidContent(path: a.path, object: a.name, problem: "expected one string, found \(values.count)")
        }
        return s
    }

    /// A descriptive string attribute: nil when it is absent or empty (h5py's `h5py.Empty`, a
    /// null dataspace); one string otherwise, as `stringAttribute`.
    func optionalStringAttribute(_ attr: String) throws -> String? {
        guard try hasAttribute(attr) else { return nil }
        return try closing(openAttribute(attr)) { a in
            let r = try a.readStrings()
            if r.values.isEmpty && !r.scalar { return nil }
            return try Self.oneString(r.values, of: a)
        }
    }

    func stringArrayAttribute(_ attr: String) throws -> [String] {
        try closing(openAttribute(attr)) { try $0.readStrings().values }
    }

    func scalarAttribute<T: H5Element>(_ attr: String, _: T.Type) throws -> T {
        try closing(openAttribute(attr)) { a in
            let r = try a.readAll(T.self)
            guard r.values.count == 1, r.shape.count <= 1 else {
                throw HDF5Error.invalidContent(path: path, object: a.name, problem: "expected one number, found shape \(r.shape)")
            }
            return r.values[0]
        }
    }

    func arrayAttribute<T: H5Element>(_ attr: String, _: T.Type) throws -> [T] {
        try closing(openAttribute(attr)) { a in
            let r = try a.readAll(T.self)
            guard r.shape.count <= 1 else {
                throw HDF5Error.invalidContent(path: path, object: a.name, problem: "expected a 1-D array, found shape \(r.shape)")
            }
            return r.values
        }
    }

    func intAttribute(_ attr: String) throws -> Int { Int(try scalarAttribute(attr, Int64.self)) }
}

// MARK: - Open objects

/// Counting open HDF5 objects, to check that nothing leaks.
public enum HDF5Library {
    /// All open HDF5 objects (files, groups, datasets, datatypes, attributes) in the process.
    public static func openObjectCount() -> Int {
        H5Session.run { Int(H5Fget_obj_count(hid_t(acol_h5f_obj_all()), acol_h5f_obj_all())) }
    }

    /// The open objects that belong to files whose path starts with `prefix` (e.g. a test's
    /// temporary folder), as "file: kind" strings. Not disturbed by other threads' files.
    public static func openObjects(inFilesUnder prefix: String) -> [String] {
        H5Session.run {
            let n = Int(H5Fget_obj_count(hid_t(acol_h5f_obj_all()), acol_h5f_obj_all()))
            if n <= 0 { return [] }
            var ids = [hid_t](repeating: 0, count: n)
            let got = Int(H5Fget_obj_ids(hid_t(acol_h5f_obj_all()), acol_h5f_obj_all(), n, &ids))
            var out: [String] = []
            for id in ids.prefix(max(got, 0)) {
                var buf = [CChar](repeating: 0, count: 4096)
                guard H5Fget_name(id, &buf, 4096) > 0 else { continue }
                let file = decodeCString(buf)
                guard file.hasPrefix(prefix) else { continue }
                let kind: String
                switch H5Iget_type(id) {
                case H5I_FILE: kind = "file"
                case H5I_GROUP: kind = "group"
                case H5I_DATASET: kind = "dataset"
                case H5I_DATATYPE: kind = "datatype"
                case H5I_ATTR: kind = "attribute"
                default: kind = "object"
                }
                out.append("\(file): \(kind)")
            }
            _ = H5Eclear2(acol_h5e_default())
            return out
        }
    }

    /// The libhdf5 version this module runs against ("1.10.8").
    public static var version: String {
        H5Session.run {
            var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0
            _ = H5get_libversion(&a, &b, &c)
            return "\(a).\(b).\(c)"
        }
    }
}
