import Foundation
import Testing
import ACOL
import ACOLDatasets
import ACOLHDF5
@testable import ACOLCLI
import ACOLData

/// Issue 9's classes of defects, end to end through the `acol` binary: nothing an option, an
/// output path or a fault does may destroy an input, crash or hang.
@Suite("reliability")
struct ReliabilityTests {
    /// The bytes of every file in `paths`, to show that a refused command changed nothing.
    func snapshot(_ paths: [String]) -> [Data?] { paths.map { FileManager.default.contents(atPath: $0) } }

    @Test func outputsThatAreInputsAreRefusedAndNothingIsLost() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let data = dir.path("d.h5"), model = dir.path("m.h5")
        try FileManager.default.copyItem(atPath: f.data, toPath: data)
        try FileManager.default.copyItem(atPath: f.model, toPath: model)
        let before = snapshot([data, model])
        let png = CLI.repoRoot.appendingPathComponent("Fixtures/mnist-png").path
        let pngFile = png + "/000-digit7.png"
        let pngBefore = snapshot([pngFile])
        let commands: [[String]] = [
            ["train", data, "-o", data, "--arch", "mlp", "--epochs", "1"],
            ["train", data, "-o", dir.path("new.h5"), "--log", data, "--arch", "mlp", "--epochs", "1"],
            ["train", data, "-o", dir.path("new.h5"), "--log", dir.path("new.h5"), "--arch", "mlp", "--epochs", "1"],
            ["run", model, png, "-o", model],
            ["run", model, png, "-o", pngFile],
            ["montage", model, data, "-o", model],
            ["montage", model, data, "-o", data],
            ["convert", CLI.mnistFixture, "-o", CLI.mnistFixture + "/t10k-labels-idx1-ubyte.gz"],
        ]
        for c in commands {
            let r = try CLI.run(c, in: dir.url)
            #expect(r.status == 1, "\(c): \(r.stderr)")
            #expect(r.stderr.contains("cannot be an output"), "\(c): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(c): one line, got \(r.stderr)")
        }
        #expect(snapshot([data, model]) == before)
        #expect(snapshot([pngFile]) == pngBefore)
        #expect(Set(dir.files) == ["d.h5", "m.h5"])   // no temporaries, no new files
        let gz = CLI.mnistFixture + "/t10k-labels-idx1-ubyte.gz"
        #expect(try Data(contentsOf: URL(fileURLWithPath: gz)).count > 0)
    }

    @Test func specialFilesAreNeverReplaced() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let fifo = dir.path("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        for c in [["run", f.model, CLI.repoRoot.appendingPathComponent("Fixtures/mnist-png").path, "-o", fifo],
                  ["run", f.model, CLI.repoRoot.appendingPathComponent("Fixtures/mnist-png").path, "-o", "/dev/null"],
                  ["montage", f.model, f.data, "-o", fifo]] {
            let r = try CLI.run(c, in: dir.url)
            #expect(r.status == 1, "\(c)")
            #expect(r.stderr.contains("not a regular file"), "\(c): \(r.stderr)")
        }
        var st = stat()
        #expect(stat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func absurdOptionValuesAreUsageErrors() throws {
        let dir = try TempDir()
        let cases: [[String]] = [
            ["train", "d.h5", "-o", "m.h5", "--batch-size", "9223372036854775807"],
            ["train", "d.h5", "-o", "m.h5", "-k", "4611686018427387904"],
            ["train", "d.h5", "-o", "m.h5", "-k", "100000"],
            ["train", "d.h5", "-o", "m.h5", "--hidden", "1000000000000"],
            ["train", "d.h5", "-o", "m.h5", "--filters", "1000000000"],
            ["train", "d.h5", "-o", "m.h5", "--lr", "nan"],
            ["train", "d.h5", "-o", "m.h5", "--ca", "nan"],
            ["train", "d.h5", "-o", "m.h5", "--cb=-1"],
            ["train", "d.h5", "-o", "m.h5", "--threads", "0"],
            ["eval", "m.h5", "d.h5", "--threads", "0"],
            ["montage", "m.h5", "d.h5", "-o", "x.png", "--threads", "100000"],
            ["run", "m.h5", "x", "--batch-size", "0"],
            ["convert", "x", "-o", "d.h5", "--height", "16385"],
        ]
        for c in cases {
            let r = try CLI.run(c, in: dir.url)
            #expect(r.status == 64, "\(c): status \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("must be"), "\(c): \(r.stderr)")
        }
    }

    @Test func aFailedWriteToStandardOutputIsACleanError() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["inspect", f.model]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit)
        #expect(p.terminationStatus == 1)
        #expect(text.contains("standard output: cannot write"))
    }

    /// A file-size limit (as a full disk would): a one-line error, exit code 1, no file and no
    /// temporary left, and no crash at exit (libhdf5's exit handler used to crash here).
    @Test func aFullDiskOrFileSizeLimitIsACleanError() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let png = CLI.repoRoot.appendingPathComponent("Fixtures/mnist-png").path
        for (limit, args) in [(100, ["convert", CLI.mnistFixture, "-o", "x.h5"]),
                              (20, ["train", f.data, "-o", "m.h5", "--arch", "mlp", "--hidden", "64", "--epochs", "1", "--quiet"]),
                              (1, ["run", f.model, png, "-o", "out.csv", "--quiet"])] {
            let quoted = ([CLI.binary] + args).map { "'\($0)'" }.joined(separator: " ")
            let r = try CLI.run(["-c", "ulimit -f \(limit); exec \(quoted)"], in: dir.url, executable: "/bin/bash")
            #expect(r.status == 1, "\(args[0]): status \(r.status), \(r.stderr.prefix(300))")
            #expect(r.stderr.contains("File too large"), "\(args[0]): \(r.stderr.prefix(300))")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args[0]): \(r.stderr.prefix(300))")
            #expect(dir.files.isEmpty, "\(args[0]) left \(dir.files)")
        }
    }

    @Test func runGivesEveryFileARowAndQuotesCarriageReturns() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let src = CLI.repoRoot.appendingPathComponent("Fixtures/mnist-png/000-digit7.png").path
        try FileManager.default.createDirectory(atPath: dir.path("pngs"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: src, toPath: dir.path("pngs/a\rb.png"))
        try FileManager.default.copyItem(atPath: src, toPath: dir.path("pngs/ok.png"))
        #expect(mkfifo(dir.path("pngs/fifo.png"), 0o644) == 0)
        // A name that is not UTF-8.
        let bad = dir.path("pngs") + "/bad-\u{FF}.png"
        _ = bad
        let raw: [UInt8] = Array((dir.path("pngs") + "/bad-").utf8) + [0xFF, 0xFE] + Array(".png".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { b in b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { open($0, O_WRONLY | O_CREAT, 0o644) } }
        #expect(fd >= 0); close(fd)
        let r = try CLI.run(["run", f.model, "pngs", "-o", "out.csv"], in: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOfFile: dir.path("out.csv"), encoding: .utf8)
        #expect(csv.contains("\"pngs/a\rb.png\","))
        let rows = csv.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(rows.count == 1 + 4, "header + one row per file: \(csv)")
        #expect(csv.contains("pngs/fifo.png,,,,,,,"))
        #expect(csv.contains("not valid UTF-8"))
        #expect(r.stderr.contains("4 images, 2 errors"))
    }

    /// A model path that is a loop of symbolic links or a link to nothing says so (was "no such
    /// file" for both), for every command that takes a model or an HDF5 file.
    @Test func linksThatLeadNowhereAreNamed() throws {
        let dir = try TempDir()
        try FileManager.default.createSymbolicLink(atPath: dir.path("loop.h5"), withDestinationPath: "loop.h5")
        try FileManager.default.createSymbolicLink(atPath: dir.path("dangling.h5"), withDestinationPath: "gone.h5")
        for (file, says) in [("loop.h5", "loop.h5: Too many levels of symbolic links"),
                             ("dangling.h5", "dangling.h5: a symbolic link to 'gone.h5', which does not exist"),
                             ("absent.h5", "absent.h5: no such file")] {
            for args in [["inspect", file], ["eval", file, file], ["export", file, "-o", "x.onnx"]] {
                let r = try CLI.run(args, in: dir.url)
                #expect(r.status == 1 && r.stderr.contains(says), "\(args): \(r.stderr)")
            }
        }
        #expect(!dir.files.contains("x.onnx"))
    }

    @Test func degenerateDataIsRefused() throws {
        let dir = try TempDir()
        // One training image: no step can be taken, so no model is saved.
        var set = ImageSet(count: 1, height: 8, width: 8, channels: 1, pixels: [UInt8](repeating: 9, count: 64),
                           fineLabels: [0], coarseLabels: [0])
        let w = try DatasetWriter(path: dir.path("one.h5"))
        try w.begin(DatasetDescription(height: 8, width: 8, channels: 1,
                                       labels: LabelInfo(fineNames: ["a", "b"], parentNames: ["p", "q"], parentOfFine: [0, 1]), source: "test"))
        try w.beginSplit("train", expectedCount: 1)
        try w.append(set)
        try w.endSplit()
        set.count = 0; set.pixels = []; set.fineLabels = []; set.coarseLabels = []
        try w.beginSplit("test", expectedCount: 0)
        try w.endSplit()
        try w.finish()
        let t = try CLI.run(["train", "one.h5", "-o", "m.h5", "--arch", "mlp", "--hidden", "8", "--epochs", "1", "-k", "2"], in: dir.url)
        #expect(t.status == 1)
        #expect(t.stderr.contains("at least 2"), "\(t.stderr)")
        #expect(t.stderr.contains("one.h5"), "the error names the file: \(t.stderr)")
        #expect(!dir.files.contains("m.h5"))
    }

    /// Interrupted, the temporary files go and the files the command would have replaced stay as
    /// they were. SIGQUIT too: the Swift runtime's backtracer used to print a backtrace for it and
    /// let the training go on without its temporary files, then replace the model.
    @Test(arguments: [SIGINT, SIGTERM, SIGQUIT])
    func temporaryFilesGoWhenTheProcessIsInterrupted(_ sig: Int32) throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        try Data("old model".utf8).write(to: URL(fileURLWithPath: dir.path("m.h5")))
        try Data("old log".utf8).write(to: URL(fileURLWithPath: dir.path("log.jsonl")))
        let p = Process()
        // Through a shell to switch core files off (SIGQUIT's default action dumps core) and
        // env to give every signal its default action (a shell's background job, as a test run
        // may be, inherits SIGINT and SIGQUIT ignored); exec keeps the process the one signalled.
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -c 0; exec /usr/bin/env --default-signal \"$0\" \"$@\"", CLI.binary,
                       "train", f.data, "-o", dir.path("m.h5"), "--log", dir.path("log.jsonl"),
                       "--arch", "mlp", "--hidden", "64", "--epochs", "1000", "--quiet", "--threads", "1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // The log's temporary file exists from the start.
        var waited = 0
        while !dir.files.contains(where: { $0.contains(".acol-tmp-") }) && waited < 30_000 { usleep(10_000); waited += 10 }
        #expect(dir.files.contains { $0.contains(".acol-tmp-") })
        kill(p.processIdentifier, sig)
        var left = 20_000
        while p.isRunning && left > 0 { usleep(10_000); left -= 10 }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); Issue.record("still running 20 s after the signal") }
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        #expect(p.terminationStatus == sig)
        #expect(dir.files.sorted() == ["log.jsonl", "m.h5"], "left: \(dir.files)")
        #expect(try String(contentsOfFile: dir.path("m.h5"), encoding: .utf8) == "old model")
        #expect(try String(contentsOfFile: dir.path("log.jsonl"), encoding: .utf8) == "old log")
    }

    @Test func shardsPartitionTheFilesAndTogetherEqualTheWholeRun() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let png = CLI.repoRoot.appendingPathComponent("Fixtures/mnist-png").path
        let whole = try CLI.run(["run", f.model, png, "--quiet"], in: dir.url)
        #expect(whole.status == 0)
        var union: [Substring] = []
        for i in 1...3 {
            let r = try CLI.run(["run", f.model, png, "--quiet", "--shard", "\(i)/3"], in: dir.url)
            #expect(r.status == 0)
            union += r.stdout.split(separator: "\n").dropFirst()
        }
        #expect(union == Array(whole.stdout.split(separator: "\n").dropFirst()))
        #expect(union.count == 60)
        let bad = try CLI.run(["run", f.model, png, "--shard", "4/3"], in: dir.url)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("expected 1 <= I <= N (N at most 1000000), found I = 4, N = 3"), "\(bad.stderr)")
    }
}

@Suite("splits")
struct SplitChoiceTests {
    /// A data set with only a test split trains on it, says so, and does not score the same
    /// images as if they were held out.
    @Test func onlyATestSplitTrainsWithAWarningAndNoHeldOutScore() throws {
        let dir = try TempDir()
        let src = dir.url.appendingPathComponent("t").path
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        for f in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: CLI.mnistFixture + "/" + f, toPath: src + "/" + f)
        }
        let c = try CLI.run(["convert", src, "--parents", "0-4,5-9", "-o", "t.h5"], in: dir.url)
        #expect(c.status == 0, "\(c.stderr)")
        let r = try CLI.run(["train", "t.h5", "-o", "m.h5", "--arch", "mlp", "--hidden", "16", "--epochs", "1",
                             "--threads", "1", "--consistency", "0", "--marginal", "0"], in: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("t.h5 has no 'train' split: training on 'test' (1000 images); no held-out split is scored"))
        #expect(!r.stderr.contains("scoring"), "\(r.stderr)")
    }
}

@Suite("Slurm job arrays")
struct SlurmArrayTests {
    /// The shard is the task's position in the array: ids from SLURM_ARRAY_TASK_MIN in steps of
    /// SLURM_ARRAY_TASK_STEP (an array 1-5:2 has tasks 1, 3, 5 = shards 1, 2, 3 of 3; it ran
    /// shards 1 and 3 and skipped 2 before). Ids that are not numbers, or off the steps, are errors.
    @Test func theShardIsTheTasksPositionInTheArray() throws {
        func shard(_ env: [String: String]) throws -> String? {
            try Shard.fromEnvironment(env).map { "\($0.index)/\($0.count)" }
        }
        #expect(try shard([:]) == nil)
        #expect(try shard(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]) == "2/4")
        #expect(try shard(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"]) == "1/4")
        var seen: [String] = []
        for id in [1, 3, 5] {
            let env = ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2"]
            seen.append(try #require(try shard(env)))
        }
        #expect(seen == ["1/3", "2/3", "3/3"])
        for bad in [["SLURM_ARRAY_TASK_ID": "abc", "SLURM_ARRAY_TASK_COUNT": "4"],
                    ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "x"],
                    ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2"],
                    ["SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2"],
                    ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4"]] {
            #expect(throws: (any Error).self, "\(bad)") { _ = try shard(bad) }
        }
    }
}

@Suite("one k per parent")
struct PerParentKTests {
    @Test func trainSavesAHeadWithOneKPerParentAndEvalScoresIt() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let t = try CLI.run(["train", f.data, "-o", "m.h5", "-k", "0-4=2,5-9=4", "--arch", "mlp", "--hidden", "32",
                             "--epochs", "1", "--limit", "500", "--quiet"], in: dir.url)
        #expect(t.status == 0, "\(t.stderr)")
        let m = try ModelFile.load(dir.path("m.h5"))
        // --quiet prints one line: the model saved and the last epoch's test figures.
        let purity = try #require(m.history.last?.testPurity)
        #expect(t.stdout.split(separator: "\n").count == 1 && t.stdout.hasPrefix("saved m.h5 (")
                && t.stdout.contains(String(format: "  purity %.4f  nmi ", purity)), "\(t.stdout)")
        #expect(m.head.duplicates == [2, 4])
        #expect(m.head.nodes == 6)
        let i = try CLI.run(["inspect", "m.h5"], in: dir.url)
        #expect(i.stdout.contains("2 parents x (2, 4) duplicates = 6 clusters"), "\(i.stdout)")
        let e = try CLI.run(["eval", "m.h5", f.data, "--json"], in: dir.url)
        #expect(e.status == 0, "\(e.stderr)")
        let ev = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        let clusters = try #require(ev["clusters"] as? [[String: Any]])
        #expect(clusters.map { $0["parent"] as? Int } == [0, 1, 0, 1, 1, 1])   // not j mod 2 at node 4
        let b = try CLI.run(["baseline", "kmeans", f.data, "-k", "3,2", "--json"], in: dir.url)
        #expect(b.status == 0, "\(b.stderr)")
        #expect(!b.stderr.contains("warning"), "\(b.stderr)")
        // More clusters than a parent has images to fit: said, and the scores still come.
        let few = try CLI.run(["baseline", "kmeans", f.data, "-k", "2,700", "--fit-split", "test", "--restarts", "1"], in: dir.url)
        #expect(few.status == 0, "\(few.stderr)")
        #expect(few.stderr.contains("parent 1 (5-9)") && few.stderr.contains("fewer than its 700 clusters"), "\(few.stderr)")
        #expect(!few.stderr.contains("parent 0"), "\(few.stderr)")
        // More k-means clusters than training images: said, not silent.
        let many = try CLI.run(["train", f.data, "-o", "u.h5", "--unsupervised", "--limit", "30", "--epochs", "1", "--arch", "mlp",
                                "--hidden", "8", "--clusters", "50", "--kmeans-restarts", "1", "--threads", "1"], in: dir.url)
        #expect(many.status == 0 && many.stderr.contains("acol: warning: 50 clusters asked of 30 training images: the k-means makes 30"), "\(many.stderr)")
        let one = try CLI.run(["baseline", "kmeans", f.data, "--parents", "none", "-k", "1"], in: dir.url)
        #expect(one.status != 0 && one.stderr == "acol: error: a baseline needs at least 2 clusters in all (have 1 parent x 1): give -k 2 or more\n", "\(one.stderr)")
        for bad in ["0-4=3", "nosuch=3,5-9=2", "3,2,1"] {
            let r = try CLI.run(["train", f.data, "-o", "x.h5", "-k", bad, "--arch", "mlp", "--epochs", "1"], in: dir.url)
            #expect(r.status == 1, "\(bad): \(r.stderr)")
            #expect(r.stderr.contains("-k:"), "\(bad): \(r.stderr)")
        }
    }
}

@Suite("sharded conversion")
struct ShardedConversionTests {
    @Test(arguments: ["mnist-small", "png/splits"])
    func shardsMergedInOrderEqualTheWholeConversion(_ fixture: String) throws {
        let dir = try TempDir()
        let input = CLI.repoRoot.appendingPathComponent("Fixtures/" + fixture).path
        var extra: [String] = []
        if fixture == "mnist-small" { extra = ["--parents", "0-4,5-9"] }
        let whole = try CLI.run(["convert", input, "-o", "whole.h5"] + extra, in: dir.url)
        try #require(whole.status == 0, "\(whole.stderr)")
        var parts: [String] = []
        for i in 1...3 {
            let r = try CLI.run(["convert", input, "-o", "part\(i).h5", "--shard", "\(i)/3"] + extra, in: dir.url)
            try #require(r.status == 0, "\(r.stderr)")
            parts.append("part\(i).h5")
        }
        let m = try CLI.run(["merge"] + parts + ["-o", "merged.h5"], in: dir.url)
        try #require(m.status == 0, "\(m.stderr)")
        let a = try DatasetReader(path: dir.path("whole.h5")), b = try DatasetReader(path: dir.path("merged.h5"))
        #expect(a.splits == b.splits)
        #expect(a.description.labels == b.description.labels)
        for s in a.splits { #expect(try a.read(split: s.name) == b.read(split: s.name), "split \(s.name)") }
        #expect(a.description.shard == nil && b.description.shard == nil)
        #expect(try DatasetReader(path: dir.path("part2.h5")).description.shard == Shard(index: 2, count: 3))
        // The merge refuses to write over one of its inputs.
        let bad = try CLI.run(["merge", "part1.h5", "part2.h5", "-o", "part1.h5"], in: dir.url)
        #expect(bad.status == 1 && bad.stderr.contains("cannot be an output"))
        // Shards are joined as 1...N of one N, each once, in order (two copies of shard 1 looked
        // like the whole set); a whole data set does not mix with shards.
        let other = try CLI.run(["convert", input, "-o", "half1.h5", "--shard", "1/2"] + extra, in: dir.url)
        try #require(other.status == 0, "\(other.stderr)")
        for (inputs, says) in [(["part1.h5", "part1.h5", "part3.h5"], "shard 1/3, given twice"),
                               (["part2.h5", "part1.h5", "part3.h5"], "found shard 2/3"),
                               (["part1.h5", "part2.h5"], "shard 3/3 onwards missing"),
                               (["part1.h5", "half1.h5"], "found shard 1/2"),
                               (["part1.h5", "whole.h5"], "records no shard")] {
            let r = try CLI.run(["merge"] + inputs + ["-o", "x.h5"], in: dir.url)
            #expect(r.status == 1 && r.stderr.contains(says), "\(inputs): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.path("x.h5")))
        }
        let i = try CLI.run(["inspect", "part2.h5"], in: dir.url)
        #expect(i.stdout.contains("shard 2 of 3 of a sharded conversion"))
    }
}
