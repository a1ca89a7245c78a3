internal import CHDF5
import Foundation

/// Reading files without a valid checksum block first in a child process, so that a damaged file
/// that makes libhdf5 itself crash (segfault, SIGILL, abort) or hang cannot take acol down.
///
/// Why a child process and not a validator: libhdf5 1.10 does not check all of its on-disk
/// structures (object headers, B-trees, heaps, the global heap of variable-length strings), and
/// re-implementing their validation would mean re-implementing much of libhdf5. Instead, for a
/// file whose checksum block does not vouch for it (zeroed after an h5py edit, absent in files
/// written by others), a forked child opens it with libhdf5 and does what the readers and the
/// inspector do: the structure walk along hard links, every attribute read, every dataset opened,
/// its chunk index walked and its first rows read (`acol_probe_run`, Sources/CHDF5/probe.h).
/// A child that dies by a signal or runs past `timeout` (it is killed) becomes a clean
/// `HDF5Error.damaged`; otherwise the parent reads the file itself. libhdf5 is deterministic, so
/// the parent's reads, which the child has already survived, do not crash.
///
/// Files with a verified checksum block (everything acol writes) skip the probe: their bytes are
/// exactly what acol wrote. A successful probe is remembered for the unchanged file (same device,
/// inode, size and modification time), so `inspect` (classify, then list) and repeated loads
/// probe once.
enum SafeOpen {
    /// How long the child may take (ms). A probe of a model or of a data set's metadata and first
    /// rows takes milliseconds; this is generous for slow disks and large foreign files.
    static let timeoutMilliseconds: UInt32 = 30_000
    /// Bytes of dataset and attribute values the child reads at most, in all and per object.
    static let dataBudget = 64 << 20
    static let perObjectBudget = 4 << 20
    /// Address space the child may add to what it inherits (Linux): an absurd allocation requested
    /// by a crafted file fails there (an error or a crash, both reported) instead of swapping, and
    /// the file is refused before acol itself reads it. 256 MiB beside four times the file's size
    /// (a probe reads at most `dataBudget` of values; the rest is libhdf5's own structures, which
    /// are in the file), at most 2 GiB: a 0.7 MB file whose damaged global heap asked for 512 MB
    /// was read by the child, then by acol, at 1.1 GB.
    static func extraMemory(fileSize: UInt64) -> UInt64 {
        min(2 << 30, (256 << 20) + 4 * fileSize)
    }

    /// What the child is made to do: probe the file, or (tests) crash or hang.
    enum Mode: Int32 { case probe = 0, crash = 1, hang = 2 }

    private static let lock = NSLock()
    private static var probed: Set<String> = []

    /// Probes `path` in a child process unless its checksum block verified it (the caller has run
    /// `FileChecksum.verify` already) or it has no HDF5 signature (then libhdf5 only says so).
    static func probeUnlessChecksummed(_ path: String) throws {
        guard !hasChecksumBlock(path), hasHDF5Signature(path) else { return }
        let key = identity(path)
        if let key, lock.withLock({ probed.contains(key) }) { return }
        try probe(path)
        if let key { lock.withLock { _ = probed.insert(key) } }
    }

    /// Runs the child on `path` and turns a crash or a hang into `HDF5Error.damaged`.
    static func probe(_ path: String, mode: Mode = .probe, timeoutMilliseconds: UInt32 = timeoutMilliseconds) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? (1 << 40)
        let extra = extraMemory(fileSize: size)
        let r = H5Session.run {
            path.withCString { acol_probe_run($0, mode.rawValue, timeoutMilliseconds, dataBudget, perObjectBudget, extra) }
        }
        if r == ACOL_PROBE_FORK_FAILED {
            // No child: nothing is known against the file, and refusing every unchecked file when
            // the process limit is reached would be worse. Read it directly.
            return
        }
        if r == ACOL_PROBE_TIMED_OUT {
            throw HDF5Error.damaged(path: path, problem: "libhdf5 did not finish reading this file within \(timeoutMilliseconds / 1000) s (in a separate process, which was stopped): the file is damaged (it has no valid acol checksum block)")
        }
        if r == ACOL_PROBE_OUT_OF_MEMORY {
            throw HDF5Error.damaged(path: path, problem: "libhdf5 asked for more than \(extra >> 20) MiB of memory to read this \(size >> 10) KiB file (in a separate process): the file is damaged (it has no valid acol checksum block)")
        }
        if r >= ACOL_PROBE_SIGNALED {
            let sig = r - ACOL_PROBE_SIGNALED
            throw HDF5Error.damaged(path: path, problem: "libhdf5 failed on this file (signal \(sig)\(signalName(sig).map { ", " + $0 } ?? "")) when it read it in a separate process: the file is damaged (it has no valid acol checksum block)")
        }
    }

    static func signalName(_ sig: Int32) -> String? {
        switch sig {
        case SIGSEGV: return "SIGSEGV"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGFPE: return "SIGFPE"
        case SIGABRT: return "SIGABRT"
        case SIGKILL: return "SIGKILL, probably out of memory"
        case SIGALRM: return "SIGALRM"
        case SIGTRAP: return "SIGTRAP"
        default: return nil
        }
    }

    /// Whether the file starts with acol's checksum block (verified by `FileChecksum.verify`,
    /// which throws on a block that does not match).
    static func hasChecksumBlock(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: FileChecksum.magic.utf8.count)) ?? Data()
        return head == Data(FileChecksum.magic.utf8)
    }

    /// Whether the HDF5 signature is at offset 0, 512, 1024, 2048, ... (where libhdf5 looks).
    static func hasHDF5Signature(_ path: String) -> Bool {
        let signature = Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let size = try? h.seekToEnd() else { return false }
        var offset: UInt64 = 0
        while offset + 8 <= size {
            guard (try? h.seek(toOffset: offset)) != nil, let bytes = try? h.read(upToCount: 8) else { return false }
            if bytes == signature { return true }
            offset = offset == 0 ? 512 : offset * 2
        }
        return false
    }

    /// Device, inode, size and modification time: a file that changes is probed again.
    private static func identity(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        #if canImport(Darwin)
        let mtime = "\(st.st_mtimespec.tv_sec).\(st.st_mtimespec.tv_nsec)"
        #else
        let mtime = "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        #endif
        return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(mtime):\(path)"
    }
}
