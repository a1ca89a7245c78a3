import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way acol writes an output file. The file is written beside its target under a
/// temporary name (`.NAME.acol-tmp-PID-RANDOM`) and renamed over the target only by `commit()`,
/// so a target is never half-written and an existing target is untouched until then.
///
/// Refused before anything is written:
/// - a target that is the same file as an input (same device and inode, or the same path);
/// - a target that exists and is not a regular file (a device such as /dev/null, a FIFO, a
///   socket, a folder): write to standard output to discard;
/// - a target whose folder does not exist.
///
/// The temporary file is removed on `abort()`, on deinit without `commit()`, on SIGINT, SIGTERM,
/// SIGHUP and on crashes (see `TemporaryFiles`). A temporary file left by a killed process
/// (SIGKILL) keeps the recognisable name and is removed by the next output to the same target
/// once its process is gone (or its process id belongs to a program that is not acol's).
///
/// Also refused: a target another acol process is writing now (a temporary file of that
/// target whose process, not this one, is alive): two runs with the same output would each
/// spend their work and the last to finish would silently win.
public final class OutputFile {
    /// The target as given (for messages).
    public let path: String
    /// Where the bytes go until `commit()`.
    public let temporaryPath: String
    /// The file the rename replaces: `path`, or what a symbolic link at `path` points to.
    private let finalPath: String
    private var fd: Int32 = -1
    private var slot: Int?
    private var finished = false

    /// Checks that `path` can be an output (see above), then creates the temporary file.
    /// `inputs` are the files (or folders) the command reads; `otherOutputs` the other files it
    /// writes. With `keepOpen: false` the temporary file is created empty and closed, for
    /// libraries that open it themselves (libhdf5, libpng).
    public init(_ path: String, inputs: [String] = [], otherOutputs: [String] = [], keepOpen: Bool = true) throws {
        self.path = path
        finalPath = try OutputFile.check(path, inputs: inputs, otherOutputs: otherOutputs)
        let dir = (finalPath as NSString).deletingLastPathComponent
        let base = (finalPath as NSString).lastPathComponent
        if let other = OutputFile.removeStale(dir: dir.isEmpty ? "." : dir, base: base) {
            throw DataError.badOutput(path: path, reason: "another acol process (PID \(other.pid)) is writing it now (its temporary file: \(other.file)); wait for it to finish or stop it, or choose another output")
        }
        let name = ".\(base)\(OutputFile.temporaryMarker)\(getpid())-\(String(format: "%08x", UInt32.random(in: 0...UInt32.max)))"
        temporaryPath = dir.isEmpty ? name : dir + "/" + name
        slot = TemporaryFiles.register(temporaryPath)
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            let reason = errnoText()
            if let slot { TemporaryFiles.unregister(slot) }
            slot = nil
            finished = true
            throw DataError.cannotWrite(path: path, reason: reason)
        }
        if !keepOpen { close(fd); fd = -1 }
    }

    /// The marker in temporary names: `.model.h5.acol-tmp-1234-89abcdef`.
    public static let temporaryMarker = ".acol-tmp-"

    /// Bytes written but not yet passed to the kernel: small writes (one CSV line each) are
    /// gathered up to `bufferLimit` bytes, so a 10,000-line output is a few dozen write calls.
    private var pending: [UInt8] = []
    private static let bufferLimit = 1 << 16

    /// Appends bytes. A failed write (full disk, file-size limit) throws, here or at `commit()`
    /// for the bytes still gathered; the caller then aborts.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0, !finished else { throw DataError.usage("\(path): write after the output was finished or closed") }
        if pending.count + bytes.count <= OutputFile.bufferLimit {
            if pending.capacity < OutputFile.bufferLimit { pending.reserveCapacity(OutputFile.bufferLimit) }
            pending.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count < OutputFile.bufferLimit {
            pending.append(contentsOf: bytes)
        } else {
            try writeAll(bytes)
        }
    }

    /// Passes the gathered bytes to the kernel.
    private func flush() throws {
        guard !pending.isEmpty else { return }
        try pending.withUnsafeBytes { try writeAll($0) }
        pending.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.cannotWrite(path: path, reason: errnoText())
            }
            off += n
        }
    }

    public func write(_ text: String) throws {
        var t = text
        try t.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Syncs, closes and renames the temporary file over the target. On failure the temporary
    /// file is removed and the target left as it was.
    public func commit() throws {
        guard !finished else { throw DataError.usage("\(path): the output was already finished") }
        do {
            try flush()
            if fd < 0 {
                fd = open(temporaryPath, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw DataError.cannotWrite(path: path, reason: errnoText()) }
            }
            guard fsync(fd) == 0 else { throw DataError.cannotWrite(path: path, reason: errnoText()) }
            let closed = close(fd)
            fd = -1
            guard closed == 0 else { throw DataError.cannotWrite(path: path, reason: errnoText()) }
            guard rename(temporaryPath, finalPath) == 0 else {
                throw DataError.cannotWrite(path: path, reason: "rename from \(temporaryPath): \(errnoText())")
            }
            finished = true
            if let slot { TemporaryFiles.unregister(slot) }
            slot = nil
        } catch {
            abort()
            throw error
        }
    }

    /// Closes and removes the temporary file. Idempotent; never throws.
    public func abort() {
        pending = []
        if fd >= 0 { close(fd); fd = -1 }
        if !finished { unlink(temporaryPath) }
        finished = true
        if let slot { TemporaryFiles.unregister(slot) }
        slot = nil
    }

    deinit { abort() }

    /// Checks that `path` can be an output; returns the path the final rename must replace.
    @discardableResult
    public static func check(_ path: String, inputs: [String] = [], otherOutputs: [String] = []) throws -> String {
        guard !path.isEmpty else { throw DataError.badOutput(path: path, reason: "the path is empty") }
        var target = path
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
            // Replace the file the link points to, not the link (and check that file).
            if let r = realpath(path, nil) { target = String(cString: r); free(r) }
        }
        if stat(target, &st) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind != S_IFREG {
                throw DataError.badOutput(path: path, reason: "it is \(FileKind.describe(kind)), not a regular file (to discard the output, write to standard output and redirect that)")
            }
        } else if errno != ENOENT {
            throw DataError.badOutput(path: path, reason: errnoText())
        }
        let dir = (target as NSString).deletingLastPathComponent
        var dst = stat()
        guard stat(dir.isEmpty ? "." : dir, &dst) == 0, (dst.st_mode & S_IFMT) == S_IFDIR else {
            throw DataError.badOutput(path: path, reason: "the folder \(dir.isEmpty ? "." : dir) does not exist")
        }
        let probe = FileIdentity.Probe(target)
        for input in inputs where probe.isSame(input) {
            throw DataError.badOutput(path: path, reason: input == path ? "it is also an input" : "it is the same file as the input \(input)")
        }
        for other in otherOutputs where probe.isSame(other) {
            throw DataError.badOutput(path: path, reason: "it is also the output \(other)")
        }
        return target
    }

    /// Removes `.BASE.acol-tmp-PID-*` files in `dir` whose process no longer exists (or is not
    /// an acol program: its id was reused). Returns one whose process is another live acol
    /// program, which is writing the same target now (nil: none).
    @discardableResult
    static func removeStale(dir: String, base: String) -> (pid: Int32, file: String)? {
        let prefix = "." + base + temporaryMarker
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
        var live: (pid: Int32, file: String)?
        for n in names.sorted() where n.hasPrefix(prefix) {
            let rest = n.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            let file = dir == "." ? n : dir + "/" + n
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(file)
            } else if pid != getpid() {
                if isAcolProcess(pid) { live = live ?? (pid, file) } else { unlink(file) }
            }
        }
        return live
    }

    /// Whether process `pid` runs an acol program (its command's name contains "acol", as acol,
    /// acol-bench, acol-mpi and the test runner do). Unknown (no /proc): assumed so.
    static func isAcolProcess(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
            return !FileManager.default.fileExists(atPath: "/proc/self/cmdline")
        }
        let first = data.prefix { $0 != 0 }
        let name = ((String(decoding: first, as: UTF8.self)) as NSString).lastPathComponent.lowercased()
        return name.contains("acol")
    }
}

/// Whether two paths name the same file: the same device and inode when both exist, else the
/// same absolute path (after resolving the folder's symbolic links).
public enum FileIdentity {
    /// Whether two paths name one file: the same device and inode when both exist, the same
    /// resolved name when neither does.
    public static func same(_ a: String, _ b: String) -> Bool {
        Probe(b).isSame(a)
    }

    /// `same(_, target)` for many paths against one target, with the target looked at once
    /// (`acol run` checks its output against every image file: one stat each, where `same`
    /// resolved each folder when the output did not exist yet).
    public struct Probe {
        let target: String
        let id: (dev: UInt64, ino: UInt64)?
        public init(_ target: String) {
            self.target = target
            var st = stat()
            id = stat(target, &st) == 0 ? (UInt64(st.st_dev), UInt64(st.st_ino)) : nil
        }
        public func isSame(_ path: String) -> Bool {
            var st = stat()
            let exists = stat(path, &st) == 0
            if let id, exists { return UInt64(st.st_dev) == id.dev && UInt64(st.st_ino) == id.ino }
            // An existing file is not a missing one; two missing paths are the same when their
            // resolved names are.
            if exists != (id != nil) { return false }
            return canonical(path) == canonical(target)
        }
    }

    /// The absolute path with the folder's links resolved (the last component kept as it is).
    static func canonical(_ p: String) -> String {
        let dir = (p as NSString).deletingLastPathComponent
        let base = (p as NSString).lastPathComponent
        let d = dir.isEmpty ? "." : dir
        guard let r = realpath(d, nil) else { return (d as NSString).standardizingPath + "/" + base }
        defer { free(r) }
        return String(cString: r) + "/" + base
    }
}
