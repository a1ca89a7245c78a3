import Dispatch
import Foundation

/// Finding PNG files: the one folder walker for lists of PNG files (`acol run`).
public enum PNGFiles {
    /// What a search found: the files, and entries that could not be taken (a name that is not
    /// UTF-8, a path too long to open), each with the reason, so that every file gets a result.
    public struct Found: Sendable {
        public var files: [String]
        public var problems: [(path: String, problem: String)]
    }

    /// Files named in `paths` (taken as they are, whatever their name), and the *.png files
    /// under folders in `paths`, searched recursively, each folder's files sorted by path.
    /// Hidden entries (".name", acol's temporary files among them) are skipped in folders.
    /// Throws for a path that is neither a regular file nor a folder, or a folder without PNGs.
    public static func find(_ paths: [String]) throws -> Found {
        var out = Found(files: [], problems: [])
        for p in paths {
            if try !InputFile.requireFileOrFolder(p) { out.files.append(p); continue }
            var found: [String] = []
            let before = out.problems.count
            var ancestors: [(dev: UInt64, ino: UInt64)] = []
            try walk(p, depth: 0, ancestors: &ancestors, into: &found, problems: &out.problems)
            if found.isEmpty && out.problems.count == before {
                throw DatasetError.emptyFolder(path: p, expected: "PNG files (*.png) in the folder or below")
            }
            out.files += found.sorted()
        }
        return out
    }

    /// Folders nest at most this deep below a root (links cannot loop for ever).
    public static let maximumDepth = 64

    /// `ancestors`: device and inode of each folder from the root down to `dir`'s parent. A
    /// folder that is one of them (a link back up: a loop) or deeper than `maximumDepth` is
    /// reported as a problem and not entered; the rest of the walk goes on.
    private static func walk(_ dir: String, depth: Int, ancestors: inout [(dev: UInt64, ino: UInt64)],
                             into found: inout [String], problems: inout [(path: String, problem: String)]) throws {
        var st = stat()
        if stat(dir, &st) == 0 {
            let id = (dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
            if let i = ancestors.firstIndex(where: { $0 == id }) {
                problems.append((dir, "a link back to a folder above it (\(ancestors.count - i) level\(ancestors.count - i == 1 ? "" : "s") up): a loop, not followed"))
                return
            }
            ancestors.append(id)
        } else {
            ancestors.append((dev: 0, ino: 0))
        }
        defer { ancestors.removeLast() }
        guard depth <= maximumDepth else {
            problems.append((dir, "folders nested more than \(maximumDepth) deep: not followed"))
            return
        }
        guard let listing = FolderListing(dir) else {
            if depth == 0 { throw DatasetError.cannotRead(path: dir, reason: errnoText()) }
            problems.append((dir, "cannot read the folder: \(errnoText())"))
            return
        }
        for bad in listing.invalid where bad.shown.lowercased().hasSuffix(".png") || bad.isFolder {
            problems.append((Detect.join(dir, bad.shown), "the file name is not valid UTF-8; rename the file"))
        }
        for name in listing.names.sorted() {
            let path = Detect.join(dir, name)
            if InputFile.isFolder(path) {
                try walk(path, depth: depth + 1, ancestors: &ancestors, into: &found, problems: &problems)
            } else if name.lowercased().hasSuffix(".png") {
                found.append(path)   // special files and unopenable paths are reported per file by the decoder
            }
        }
    }
}

/// PNG files decoded in batches, converted to one shape: the one PNG-file source, streamed by
/// `Converter` (PNG folders) and by `acol run`. Decoding runs one batch ahead of the consumer on
/// a background thread and is spread over `threads` workers within a batch; at most two decoded
/// batches exist at any time, so memory stays bounded whatever the number of files.
public final class PNGBatchDecoder {
    /// One batch: its files, the images that decoded (in file order), and an error for each
    /// file that did not.
    public struct Batch {
        public var paths: [String]
        /// The labels given for these files (nil when none were given).
        public var labels: [Int32]?
        /// The decoded images, `decoded.count` of them, with their labels when given.
        public var images: ImageSet
        /// Indices into `paths` of the decoded images, in pixel order.
        public var decoded: [Int]
        /// Indices into `paths` of files that could not be used, with the reason.
        public var errors: [(index: Int, error: Error)]
    }

    public let files: [String]
    public let labels: [Int32]?
    public let height: Int, width: Int, channels: Int
    public let resize: ResizeMode
    public let batchSize: Int
    public let threads: Int
    /// The caller has already read every file's PNG header (`PNGHeader.read`).
    let headersChecked: Bool

    private let slots = DispatchSemaphore(value: 2)
    private let ready = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var queue: [Batch] = []
    private var started = false
    private var delivered = 0
    private var cancelled = false
    private let batchCount: Int

    /// Runs body(part) for part in 0..<parts on the caller's own worker threads, returning when
    /// all have run (e.g. ACOL's `Threads.run(parts:_:)`, on the threads inference uses).
    public typealias PartsRunner = (_ parts: Int, _ body: (Int) -> Void) -> Void
    /// With a runner, each batch is decoded in `next()` on the runner's threads, between the
    /// caller's own uses of them; without one, one batch ahead on a background thread with
    /// Dispatch's workers.
    let runner: PartsRunner?

    /// `labels`, when given, has one label per file. `parallel`: see `PartsRunner`. On a machine
    /// whose cores the caller's compute threads already fill (OpenMP workers that spin between
    /// parallel regions), decoding on those same threads avoids the two sets of threads taking
    /// turns on the cores: `acol run`, 2 cores, docs/benchmarks.md.
    public convenience init(files: [String], labels: [Int32]? = nil, height: Int, width: Int, channels: Int,
                resize: ResizeMode = .none, batchSize: Int = 256,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, parallel: PartsRunner? = nil) {
        self.init(files: files, labels: labels, height: height, width: width, channels: channels, resize: resize,
                  batchSize: batchSize, threads: threads, headersChecked: false, parallel: parallel)
    }

    init(files: [String], labels: [Int32]?, height: Int, width: Int, channels: Int, resize: ResizeMode,
         batchSize: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount, headersChecked: Bool,
         parallel: PartsRunner? = nil) {
        self.headersChecked = headersChecked
        self.runner = parallel
        precondition(labels == nil || labels!.count == files.count, "PNGBatchDecoder: one label per file")
        self.files = files; self.labels = labels
        self.height = height; self.width = width; self.channels = channels
        self.resize = resize; self.batchSize = max(1, batchSize); self.threads = max(1, threads)
        batchCount = (files.count + self.batchSize - 1) / self.batchSize
    }

    deinit { cancel() }

    /// Stops the background decoding after the batch in progress.
    public func cancel() {
        lock.lock(); cancelled = true; lock.unlock()
        slots.signal(); slots.signal()
    }

    /// The next batch in file order, nil after the last.
    public func next() -> Batch? {
        if delivered >= batchCount { return nil }
        if runner != nil {
            delivered += 1
            return decode(delivered - 1)
        }
        if !started { start() }
        ready.wait()
        lock.lock()
        let b = queue.removeFirst()
        lock.unlock()
        delivered += 1
        slots.signal()
        return b
    }

    private func start() {
        started = true
        let t = Thread { [self] in
            for b in 0..<batchCount {
                slots.wait()
                lock.lock(); let stop = cancelled; lock.unlock()
                if stop { return }
                let batch = decode(b)
                lock.lock(); queue.append(batch); lock.unlock()
                ready.signal()
            }
        }
        t.stackSize = 1 << 22
        t.start()
    }

    /// Decodes batch `b`, files spread over the workers.
    private func decode(_ b: Int) -> Batch {
        let lo = b * batchSize, hi = min(files.count, lo + batchSize)
        let n = hi - lo
        let size = height * width * channels
        var results = [Result<[UInt8], Error>?](repeating: nil, count: n)
        results.withUnsafeMutableBufferPointer { r in
            let out = r
            let workers = min(threads, n)
            let part: (Int) -> Void = { w in
                for i in stride(from: w, to: n, by: workers) {
                    out[i] = Result { try self.decodeOne(self.files[lo + i]) }
                }
            }
            if let runner { runner(workers, part) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: part) }
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(n * size)
        var decoded: [Int] = [], errors: [(Int, Error)] = [], kept: [Int32] = []
        for i in 0..<n {
            switch results[i]! {
            case .success(let px):
                pixels += px
                decoded.append(i)
                if let labels { kept.append(labels[lo + i]) }
            case .failure(let e):
                errors.append((i, e))
            }
        }
        let images = ImageSet(count: decoded.count, height: height, width: width, channels: channels, pixels: pixels,
                              fineLabels: labels == nil ? nil : kept)
        return Batch(paths: Array(files[lo..<hi]), labels: labels.map { Array($0[lo..<hi]) },
                     images: images, decoded: decoded, errors: errors)
    }

    private func decodeOne(_ path: String) throws -> [UInt8] {
        let img = try PNGDecoder.decode(path: path, channels: channels, headerChecked: headersChecked)
        guard let px = ImageConversion.convert(pixels: img.pixels, height: img.height, width: img.width, channels: img.channels,
                                               toHeight: height, toWidth: width, toChannels: channels, resize: resize) else {
            throw DatasetError.imageSizeMismatch(path: path, expected: "\(width)x\(height) (width x height)", found: "\(img.width)x\(img.height)")
        }
        return px
    }
}
