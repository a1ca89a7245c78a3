internal import CHDF5
import ACOLData
import Foundation

/// Opening files and walking groups, shared by the two formats and the inspector.
enum HDF5Files {
    /// Opens an existing HDF5 file read-only after checking that it exists and has the HDF5 signature.
    static func openHDF5(_ path: String) throws -> H5ID {
        try requireRegular(path)
        try FileChecksum.verify(path)
        try SafeOpen.probeUnlessChecksummed(path)     // SafeOpen.swift: libhdf5 first in a child
        let r = H5Fis_hdf5(path)
        if r == 0 { throw HDF5Error.notHDF5(path: path) }
        if r < 0 {
            let details = H5Session.errorStack()
            // An unreadable file (permissions) is reported by the OS; anything else is not HDF5.
            if access(path, R_OK) != 0 {
                throw HDF5Error.io(path: path, operation: "open", reason: String(cString: strerror(errno)))
            }
            throw HDF5Error.library(path: path, operation: "H5Fis_hdf5", details: details)
        }
        return try H5ID.openFile(path)
    }

    /// Opens an acol file and checks its root `format` and `format_version`.
    static func open(_ path: String, expecting format: String, versions: [Int]) throws -> H5ID {
        let root = try openHDF5(path)
        do {
            guard try root.hasAttribute("format") else {
                throw HDF5Error.wrongFormat(path: path, expected: format, found: nil)
            }
            let found: String
            do { found = try root.stringAttribute("format") } catch HDF5Error.invalidContent(_, _, let problem) {
                throw HDF5Error.invalidContent(path: path, object: "/", problem: "attribute 'format' should be the string '\(format)': \(problem)")
            }
            guard found == format else { throw HDF5Error.wrongFormat(path: path, expected: format, found: found) }
            guard try root.hasAttribute("format_version") else {
                throw HDF5Error.invalidContent(path: path, object: "/", problem: "attribute 'format_version' is missing")
            }
            let version = try root.intAttribute("format_version")
            guard versions.contains(version) else {
                throw HDF5Error.unsupportedVersion(path: path, format: format, found: version, supported: versions)
            }
            return root
        } catch {
            root.close()
            throw error
        }
    }

    /// Inputs must be regular files: opening a FIFO blocks until a writer comes (a hang), and a
    /// device or socket is no HDF5 file. `InputFile`'s check, as this module's error.
    static func requireRegular(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw HDF5Error.fileNotFound(path: path) }
            throw HDF5Error.io(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        let kind = st.st_mode & S_IFMT
        guard kind != S_IFREG else { return }
        let what = kind == S_IFIFO ? "a FIFO (named pipe)" : FileKind.describe(kind)
        throw HDF5Error.io(path: path, operation: "open", reason: "it is \(what), not a regular file")
    }
}
