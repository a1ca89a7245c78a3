import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What kind of file a path is, for checks and messages.
public enum FileKind {
    /// "a FIFO", "a character device", ... for an `st_mode & S_IFMT` value.
    public static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "a special file"
        }
    }
}

/// Checks on input paths, done before anything is opened: a FIFO or device given where a file is
/// expected would block or never end, so inputs must be regular files (or folders where folders
/// are expected).
public enum InputFile {
    /// Throws unless `path` (after following links) is a regular file.
    public static func requireRegular(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw DataError.cannotRead(path: path, reason: unreachableReason(path, errno, missing: "no such file"))
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG else {
            throw DataError.badInput(path: path, expected: "a regular file", found: FileKind.describe(kind))
        }
    }

    /// Why stat failed on `path` with `code`: `missing` (ENOENT, ENOTDIR), or what a link that
    /// leads nowhere is ("a symbolic link to 'x', which does not exist"), or the system's text
    /// (ELOOP: "Too many levels of symbolic links"; EACCES).
    public static func unreachableReason(_ path: String, _ code: Int32, missing: String) -> String {
        var lst = stat()
        if code == ENOENT, lstat(path, &lst) == 0, lst.st_mode & S_IFMT == S_IFLNK,
           let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
            return "a symbolic link to '\(target)', which does not exist"
        }
        if code == ENOENT || code == ENOTDIR { return missing }
        return errnoText(code)
    }

    /// Throws unless `path` is a regular file or a folder; returns true for a folder.
    @discardableResult
    public static func requireFileOrFolder(_ path: String) throws -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw DataError.cannotRead(path: path, reason: unreachableReason(path, errno, missing: "no such file or folder"))
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else {
            throw DataError.badInput(path: path, expected: "a regular file or a folder", found: FileKind.describe(kind))
        }
        return kind == S_IFDIR
    }

    /// True when `path` is a regular file (following links); false for anything else or nothing.
    public static func isRegular(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// True when `path` is a folder (following links).
    public static func isFolder(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
