internal import CHDF5
import Foundation

// Link policy of acol's readers: every object they read is reached through hard links only.
//
// An external link would make libhdf5 open another file (outside the checksum, possibly a FIFO
// that blocks the open forever); a soft link's target path may itself run through an external
// link. acol never writes either, so `H5ID.exists` (the gate of every open by path in the
// readers) refuses them, component by component, before libhdf5 traverses them.
// The inspector lists hard links only (`GroupWalk`).

extension H5ID {
    /// Throws `HDF5Error.invalidContent` unless the link `name` (relative to this object; its
    /// leading components already checked) is a hard link. Called by `exists` for each component.
    func requireHardLink(_ name: String) throws {
        var info = H5L_info_t()
        try check(H5Lget_info(raw, name, &info, h5pDefault), path, "H5Lget_info \(child(name))")
        switch info.type {
        case H5L_TYPE_HARD:
            return
        case H5L_TYPE_SOFT:
            let target = linkValue(name, size: Int(info.u.val_size)).map { decodeCString($0) } ?? "?"
            throw HDF5Error.invalidContent(path: path, object: child(name),
                                           problem: "expected a group or dataset stored under this name, found a soft link to '\(target)' (acol reads hard links only)")
        case H5L_TYPE_EXTERNAL:
            var target = "another file"
            if let value = linkValue(name, size: Int(info.u.val_size)) {
                // The pointers H5Lunpack_elink_val returns point into `value`: read them while
                // its storage is pinned (value ends in a 0 that linkValue adds).
                value.withUnsafeBufferPointer { buf in
                    var flags: UInt32 = 0
                    var file: UnsafePointer<CChar>?
                    var object: UnsafePointer<CChar>?
                    if H5Lunpack_elink_val(buf.baseAddress, buf.count - 1, &flags, &file, &object) >= 0 {
                        target = "'\(file.map { String(cString: $0) } ?? "?")' object '\(object.map { String(cString: $0) } ?? "?")'"
                    }
                }
            }
            _ = H5Eclear2(acol_h5e_default())
            throw HDF5Error.invalidContent(path: path, object: child(name),
                                           problem: "expected data stored in this file, found an external link to \(target): acol does not read data from other files (they are outside this file's checksum); copy the data into the file")
        default:
            throw HDF5Error.invalidContent(path: path, object: child(name),
                                           problem: "expected a group or dataset stored under this name, found a user-defined link (acol reads hard links only)")
        }
    }

    /// The raw value of a soft or external link (at most 64 KiB).
    private func linkValue(_ name: String, size: Int) -> [CChar]? {
        guard size > 0, size <= 1 << 16 else { return nil }
        var buf = [CChar](repeating: 0, count: size + 1)
        guard H5Lget_val(raw, name, &buf, size, h5pDefault) >= 0 else {
            _ = H5Eclear2(acol_h5e_default())
            return nil
        }
        return buf
    }

    // Crafting files with links (the tests use these to build hostile files).

    /// A second hard link `name` to the object at `target` (absolute or relative to this object).
    func createHardLink(_ name: String, to target: String) throws {
        try check(H5Lcreate_hard(raw, target, raw, name, h5pDefault, h5pDefault), path, "H5Lcreate_hard \(child(name))")
    }

    /// A soft link `name` whose value is the path `target`.
    func createSoftLink(_ name: String, to target: String) throws {
        try check(H5Lcreate_soft(target, raw, name, h5pDefault, h5pDefault), path, "H5Lcreate_soft \(child(name))")
    }

    /// An external link `name` to `object` in the file `file`.
    func createExternalLink(_ name: String, file: String, object: String) throws {
        try check(H5Lcreate_external(file, object, raw, name, h5pDefault, h5pDefault), path, "H5Lcreate_external \(child(name))")
    }
}
