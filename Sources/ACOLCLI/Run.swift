import ArgumentParser
import ACOL
import ACOLDatasets
import ACOLHDF5
import Dispatch
import Foundation

enum RunFormat: String, ExpressibleByArgument, CaseIterable { case csv, jsonl }

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on PNG images: the parent and cluster of each image.",
        discussion: """
        Takes PNG files and folders (searched recursively for *.png). Prints, for each image, its \
        path, parent (index and name), cluster (index, and fine label where the model has a \
        mapping) and confidence, as CSV (default) or JSON lines. Images are converted to the model's \
        channel count; another size is reported per file unless --resize is given. A file that \
        cannot be decoded is reported and the batch goes on. A summary goes to standard error.

        Examples:
          acol run model.h5 digits/
          acol run model.h5 a.png b.png --format jsonl --output results.jsonl
        """)

    @Argument(help: "The model file.")
    var model: String

    @Argument(help: "PNG files and folders.")
    var paths: [String]

    @Option(help: "Output format: csv or jsonl.")
    var format: RunFormat = .csv

    @Option(name: .shortAndLong, help: "Write results to this file instead of standard output.")
    var output: String?

    @Option(help: "Resize images of another size: none (report them), nearest, bilinear.")
    var resize: ResizeMode = .none

    @Option(help: "Images per inference batch.")
    var batchSize: Int = 256

    @OptionGroup var threadOptions: ThreadOptions

    @Flag(help: "No summary on standard error.")
    var quiet = false

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        try reportingErrors { try runModel() }
    }

    /// One decoded batch: the files, and for each either pixels or an error.
    struct Batch {
        var paths: [String]
        var pixels: [UInt8]
        var ok: [Int]            // indices into paths of decoded images, in pixel order
        var errors: [(Int, String)]
    }

    func runModel() throws {
        threadOptions.apply()
        try requireFile(model)
        let m = try ModelFile.load(model)
        let files = try collectFiles()
        let p = m.preprocessing
        let started = Date()

        // Output: standard output, or a temporary file renamed at the end.
        let sink: OutputSink = try output.map { try OutputSink(path: $0) } ?? OutputSink()
        defer { sink.discardIfUnfinished() }
        if format == .csv { sink.write("path,parent,parent_name,cluster,fine_label,fine_name,confidence,error\n") }

        // Decoding runs one batch ahead of inference, on another thread; at most two decoded
        // batches exist at any time, so memory stays bounded whatever the number of files.
        let slots = DispatchSemaphore(value: 2)
        let ready = DispatchSemaphore(value: 0)
        let queue = BatchQueue()
        let bs = batchSize, resize = self.resize
        let decoder = Thread {
            var start = 0
            while start < files.count {
                slots.wait()
                let end = min(files.count, start + bs)
                var b = Batch(paths: Array(files[start..<end]), pixels: [], ok: [], errors: [])
                b.pixels.reserveCapacity((end - start) * p.height * p.width * p.channels)
                for (i, f) in b.paths.enumerated() {
                    do {
                        let img = try PNGDecoder.decode(path: f, channels: p.channels)
                        guard let px = ImageConversion.convert(pixels: img.pixels, height: img.height, width: img.width,
                                                               channels: img.channels, toHeight: p.height, toWidth: p.width,
                                                               toChannels: p.channels, resize: resize) else {
                            b.errors.append((i, "image is \(img.height)x\(img.width), the model takes \(p.height)x\(p.width) (use --resize)"))
                            continue
                        }
                        b.pixels += px
                        b.ok.append(i)
                    } catch {
                        b.errors.append((i, oneLine(error)))
                    }
                }
                queue.push(b)
                ready.signal()
                start = end
            }
        }
        decoder.stackSize = 1 << 22
        decoder.start()

        var done = 0, failed = 0
        let batches = (files.count + bs - 1) / bs
        let bar = ProgressBar("running", enabled: !quiet && Console.stderrIsTerminal && output != nil)
        for _ in 0..<batches {
            ready.wait()
            let b = queue.pop()
            var preds: [ACOLModel.Prediction] = []
            if !b.ok.isEmpty {
                let set = ImageSet(count: b.ok.count, height: p.height, width: p.width, channels: p.channels, pixels: b.pixels)
                preds = m.predict(set, batchSize: bs)
            }
            slots.signal()
            var errs: [Int: String] = [:]
            for (i, e) in b.errors { errs[i] = e }
            var predIndex: [Int: Int] = [:]
            for (o, i) in b.ok.enumerated() { predIndex[i] = o }
            var text = ""
            for (i, path) in b.paths.enumerated() {
                if let e = errs[i] {
                    failed += 1
                    if !quiet { Console.warn(e.contains(path) ? e : "\(path): \(e)") }
                    text += format == .csv ? "\(csv(path)),,,,,,,\(csv(e))\n"
                                           : ((try? jsonText(RunError(path: path, error: e), pretty: false)) ?? "") + "\n"
                } else if let o = predIndex[i] {
                    text += line(path, preds[o], m)
                }
            }
            sink.write(text)
            done += b.paths.count
            bar.update(done, files.count)
        }
        bar.finish()
        try sink.finish()
        let secs = Date().timeIntervalSince(started)
        if !quiet {
            Console.note(String(format: "%d images, %d errors, %.1f s, %.0f images/s", files.count, failed, secs,
                                secs > 0 ? Double(files.count) / secs : 0))
        }
        if failed > 0 && failed == files.count { throw ExitCode.failure }
    }

    func line(_ path: String, _ pr: ACOLModel.Prediction, _ m: ACOLModel) -> String {
        let pn = pr.parent < m.parentNames.count ? m.parentNames[pr.parent] : ""
        let c = pr.cluster < m.clusters.count ? m.clusters[pr.cluster] : nil
        let fl = c?.fineLabel
        let fn = c?.fineName
        switch format {
        case .csv:
            return "\(csv(path)),\(pr.parent),\(csv(pn)),\(pr.cluster),\(fl.map(String.init) ?? ""),\(csv(fn ?? "")),\(String(format: "%.4f", pr.confidence)),\n"
        case .jsonl:
            let r = RunResult(path: path, parent: pr.parent, parent_name: pn, cluster: pr.cluster, fine_label: fl,
                              fine_name: fn, confidence: Double(pr.confidence))
            return ((try? jsonText(r, pretty: false)) ?? "") + "\n"
        }
    }

    func csv(_ s: String) -> String {
        if s.contains(",") || s.contains("\"") || s.contains("\n") {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// Files named on the command line, and *.png under folders, each folder's files sorted.
    func collectFiles() throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { throw CLIError.file(p, "no such file or folder") }
            if !isDir.boolValue { out.append(p); continue }
            guard let e = fm.enumerator(atPath: p) else { throw CLIError.file(p, "cannot read the folder") }
            var found: [String] = []
            while let rel = e.nextObject() as? String {
                if rel.lowercased().hasSuffix(".png") { found.append((p as NSString).appendingPathComponent(rel)) }
            }
            if found.isEmpty { throw CLIError.file(p, "no .png files in the folder") }
            out += found.sorted()
        }
        return out
    }
}

/// Decoded batches handed from the decoding thread to inference.
final class BatchQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Run.Batch] = []
    func push(_ b: Run.Batch) { lock.lock(); items.append(b); lock.unlock() }
    func pop() -> Run.Batch { lock.lock(); defer { lock.unlock() }; return items.removeFirst() }
}

struct RunResult: Encodable {
    var path: String
    var parent: Int
    var parent_name: String
    var cluster: Int
    var fine_label: Int?
    var fine_name: String?
    var confidence: Double
}

struct RunError: Encodable { var path: String; var error: String }

/// Standard output, or a file written under a temporary name and renamed by `finish`.
final class OutputSink {
    let target: String?
    let temp: String?
    let handle: FileHandle
    private var finished = false

    init() { target = nil; temp = nil; handle = FileHandle.standardOutput }

    init(path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let t = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: t, contents: nil), let h = FileHandle(forWritingAtPath: t) else {
            throw CLIError.file(path, "cannot be created")
        }
        target = path; temp = t; handle = h
    }

    func write(_ s: String) { if !s.isEmpty { handle.write(Data(s.utf8)) } }

    func finish() throws {
        finished = true
        guard let target, let temp else { return }
        try? handle.close()
        guard rename(temp, target) == 0 else {
            unlink(temp)
            throw CLIError.file(target, "cannot be written (rename failed)")
        }
    }

    func discardIfUnfinished() {
        guard !finished, let temp else { return }
        try? handle.close()
        unlink(temp)
    }
}
