import Foundation

/// Inputs must be regular files: opening a FIFO blocks until a writer comes (a hang), and a
/// device or socket is no HDF5 file. Checked with stat(2) (following symbolic links) before
/// anything opens the file.
enum InputFile {
    /// Throws `HDF5Error.io` unless `path` is a regular file (`HDF5Error.fileNotFound` when there
    /// is nothing at `path`).
    static func requireRegular(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw HDF5Error.fileNotFound(path: path) }
            throw HDF5Error.io(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        let type = st.st_mode & S_IFMT
        guard type != S_IFREG else { return }
        throw HDF5Error.io(path: path, operation: "open", reason: "it is \(describe(type)), not a regular file")
    }

    static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }
}
