import Foundation
import ACOL
import ACOLDatasets

/// Helpers shared by the harnesses: the input bytes as a file (the readers take paths), and a
/// sink that only touches what it is given.
public enum Fuzz {
    /// A private folder for this process, made once: in $ACOL_FUZZ_TMPDIR, else /dev/shm
    /// (memory, so that writing each input costs no disk I/O), else the temporary folder.
    public static let dir: String = {
        let env = ProcessInfo.processInfo.environment["ACOL_FUZZ_TMPDIR"]
        let base = env ?? (FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        let d = (base.hasSuffix("/") ? base : base + "/") + "acol-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        removeAtExit = d
        atexit { if let d = Fuzz.removeAtExit { try? FileManager.default.removeItem(atPath: d) } }
        return d
    }()
    nonisolated(unsafe) static var removeAtExit: String?

    /// Writes `bytes` to `name` in the private folder (replacing it) and returns its path.
    @discardableResult
    public static func file(_ name: String, _ bytes: UnsafeRawBufferPointer) -> String {
        let path = dir + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        var off = 0
        while off < bytes.count {
            let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
            precondition(n > 0, "cannot write \(path)")
            off += n
        }
        close(fd)
        return path
    }

    public static func file(_ name: String, _ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { file(name, $0) }
    }

    /// Removes every file of the private folder (between runs whose file names vary).
    public static func clear() {
        for n in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            try? FileManager.default.removeItem(atPath: dir + "/" + n)
        }
    }

    /// Converts `inputs` into a sink that checks each batch's shape and reads every pixel.
    /// Errors are the expected outcome for most inputs; traps and sanitizer reports are the bugs.
    public static func convert(_ inputs: [String], _ options: ConvertOptions) {
        let sink = CheckingSink()
        _ = try? Converter.convert(inputs: inputs, options: options, into: sink)
    }
}

/// A sink that checks what it is handed (pixel count, label ranges) and reads it all.
public final class CheckingSink: ImageSink {
    var description: DatasetDescription?
    var sum: UInt64 = 0
    public init() {}
    public func begin(_ d: DatasetDescription) throws { description = d }
    public func beginSplit(_ name: String, expectedCount: Int?) throws {}
    public func append(_ batch: ImageSet) throws {
        let d = description!
        precondition(batch.pixels.count == batch.count * d.height * d.width * d.channels, "batch of the wrong size")
        if let f = batch.fineLabels {
            precondition(f.count == batch.count && f.allSatisfy { $0 >= 0 && Int($0) < d.labels.fineNames.count }, "bad fine labels")
        }
        sum = batch.pixels.reduce(sum) { $0 &+ UInt64($1) }
    }
    public func endSplit() throws {}
}

/// libFuzzer's driver, for the harnesses' entry points: SwiftPM on Linux renames an executable's
/// `main` to `<module>_main` (and points `main` at it), so each harness defines that function
/// and hands over to libFuzzer from there.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

extension Fuzz {
    /// Runs libFuzzer with the process's arguments and `callback` as the target.
    public static func run(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                           _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
        var c = argc
        var v = argv
        return LLVMFuzzerRunDriver(&c, &v, callback)
    }

    /// Runs libFuzzer with `body` as LLVMFuzzerTestOneInput: it gets each input's bytes (never a
    /// null pointer) and size.
    public static func each(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                            _ body: @escaping (UnsafePointer<UInt8>, Int) -> Void) -> Int32 {
        oneInput = body
        return run(argc, argv, trampoline)
    }

    nonisolated(unsafe) static var oneInput: ((UnsafePointer<UInt8>, Int) -> Void)?
    static let trampoline: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
        oneInput?(data ?? UnsafePointer(bitPattern: 1)!, size)
        return 0
    }
}
