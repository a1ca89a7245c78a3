import ArgumentParser
import ACOL
import ACOLDatasets
import ACOLHDF5
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

    @Option(help: "Run only shard I of N (1 <= I <= N) of the file list, e.g. 3/8, for job arrays; default: SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when set. The shards of one list are disjoint and together give every file once.", transform: Shard.parseOption)
    var shard: Shard?

    func validate() throws {
        try OptionCheck.range("--batch-size", batchSize, 1...65_536)
    }

    func run() throws {
        try reportingErrors { try runModel() }
    }

    func runModel() throws {
        let threads = threadOptions.apply()
        let m = try ModelFile.load(model)
        guard (1...4).contains(m.preprocessing.channels) else {
            throw CLIError.file(model, "the model takes images of \(m.preprocessing.channels) channels; PNG images have 1 to 4 (grey, grey + alpha, RGB, RGBA)")
        }
        var found = try PNGFiles.find(paths)
        if let s = try shard ?? Shard.fromEnvironment() {
            found.files = s.slice(found.files)
            found.problems = s.slice(found.problems)
        }
        let files = found.files
        let p = m.preprocessing
        let started = Date()

        // Output: standard output, or a temporary file renamed at the end (refused when it is
        // the model or one of the images).
        let sink: OutputFile? = try output.map { try OutputFile($0, inputs: [model] + paths + files) }
        func emit(_ text: String) throws {
            if let sink { try sink.write(text) } else { Console.write(text) }
        }
        if format == .csv { try emit("path,parent,parent_name,cluster,fine_label,fine_name,confidence,error\n") }

        let decoder = PNGBatchDecoder(files: files, height: p.height, width: p.width, channels: p.channels,
                                      resize: resize, batchSize: batchSize, threads: threads,
                                      parallel: { parts, body in Threads.run(parts: parts, body) })
        defer { decoder.cancel() }
        var done = 0, failed = 0
        var firstError: String?
        let total = files.count + found.problems.count
        let bar = ProgressBar("running", enabled: !quiet && Console.stderrIsTerminal && output != nil)
        func errorRow(_ path: String, _ e: String) throws {
            failed += 1
            let text = e.contains(path) ? e : "\(path): \(e)"
            if firstError == nil { firstError = text }
            if !quiet { Console.warn(text) }
            try emit(format == .csv ? "\(csv(path)),,,,,,,\(csv(e))\n"
                                    : ((try? jsonText(RunError(path: path, error: e), pretty: false)) ?? "") + "\n")
        }
        while let b = decoder.next() {
            let preds = b.decoded.isEmpty ? [] : m.predict(b.images, batchSize: batchSize)
            var errs: [Int: String] = [:]
            for (i, e) in b.errors { errs[i] = oneLine(e) }
            var predIndex: [Int: Int] = [:]
            for (o, i) in b.decoded.enumerated() { predIndex[i] = o }
            for (i, path) in b.paths.enumerated() {
                if let e = errs[i] {
                    try errorRow(path, e)
                } else if let o = predIndex[i] {
                    try emit(line(path, preds[o], m))
                }
            }
            done += b.paths.count
            bar.update(done, total)
        }
        for (path, problem) in found.problems { try errorRow(path, problem) }
        bar.finish()
        // Nothing could be run: say so in one error line that names the first failure (under
        // --quiet the others are only in the rows); a failed command leaves an existing output as it was.
        let noneRun = failed > 0 && failed == total
        let noneText = "none of the \(total) images could be run (the first: \(firstError ?? ""))"
        if noneRun, let sink {
            sink.abort()
            Console.error("\(noneText); \(sink.path) was not written")
            throw ExitCode.failure
        }
        try sink?.commit()
        let secs = Date().timeIntervalSince(started)
        if !quiet {
            Console.note(String(format: "%d images, %d errors, %.1f s, %.0f images/s", total, failed, secs,
                                secs > 0 ? Double(total) / secs : 0))
        }
        if noneRun {
            Console.error(noneText)
            throw ExitCode.failure
        }
    }

    func line(_ path: String, _ pr: ACOLModel.Prediction, _ m: ACOLModel) -> String {
        let pn = pr.parent < m.outputParentNames.count ? m.outputParentNames[pr.parent] : ""
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
        if s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
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
