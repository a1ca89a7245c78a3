import Foundation
import Testing
@testable import ACOLCLI
import ACOL
import ACOLDatasets
import ACOLHDF5

@Suite("acol binary", .serialized)
struct BinaryTests {
    @Test func helpListsEverySubcommand() throws {
        let dir = try TempDir()
        let r = try CLI.run(["--help"], in: dir.url)
        #expect(r.status == 0)
        for sub in ["convert", "train", "eval", "inspect", "run", "montage"] {
            #expect(r.stdout.contains("  \(sub) "), "help lists \(sub)")
        }
        #expect(r.stdout.contains("USAGE: acol <subcommand>"))
    }

    @Test func versionPrintsTheVersion() throws {
        let dir = try TempDir()
        let r = try CLI.run(["--version"], in: dir.url)
        #expect(r.status == 0)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ACOLCommand.version)
    }

    @Test(arguments: ["convert", "train", "eval", "inspect", "run", "montage"])
    func everySubcommandHelpHasAnExample(_ sub: String) throws {
        let dir = try TempDir()
        let r = try CLI.run([sub, "--help"], in: dir.url)
        #expect(r.status == 0)
        #expect(r.stdout.contains("acol \(sub) "), "\(sub) --help shows a real example")
    }

    @Test func convertWritesADataSetAndASummary() throws {
        let dir = try TempDir()
        let r = try CLI.run(["convert", CLI.mnistFixture, "--parents", "0-4:low,5-9:high", "-o", "d.h5"], in: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote d.h5: 4000 images, 28x28x1"))
        #expect(r.stdout.contains("split train: 3000 images"))
        #expect(!r.stderr.contains("["), "no progress bar when standard error is not a terminal")
        let reader = try DatasetReader(path: dir.path("d.h5"))
        #expect(reader.description.labels.parentNames == ["low", "high"])
        #expect(reader.splits.map(\.count) == [3000, 1000])
    }

    @Test func convertJSONSummary() throws {
        let dir = try TempDir()
        let r = try CLI.run(["convert", CLI.mnistFixture, "--parents", "div:2", "-o", "d.h5", "--json"], in: dir.url)
        #expect(r.status == 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(obj["images"] as? Int == 4000)
        let splits = try #require(obj["splits"] as? [[String: Any]])
        #expect(splits.map { $0["name"] as? String } == ["train", "test"])
    }

    @Test func convertOfATruncatedFileFailsAndLeavesNothing() throws {
        let dir = try TempDir()
        let src = try Data(contentsOf: URL(fileURLWithPath: CLI.mnistFixture + "/t10k-images-idx3-ubyte.gz"))
        let images = dir.path("t10k-images-idx3-ubyte.gz")
        try src.prefix(src.count / 2).write(to: URL(fileURLWithPath: images))
        try FileManager.default.copyItem(atPath: CLI.mnistFixture + "/t10k-labels-idx1-ubyte.gz",
                                         toPath: dir.path("t10k-labels-idx1-ubyte.gz"))
        let r = try CLI.run(["convert", images, dir.path("t10k-labels-idx1-ubyte.gz"), "-o", "out.h5"], in: dir.url)
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(r.stderr)")
        #expect(r.stderr.hasPrefix("acol: error: "))
        #expect(r.stderr.contains("t10k-images-idx3-ubyte.gz"))
        #expect(!dir.files.contains { $0.contains("out.h5") }, "no output or temporary file left: \(dir.files)")
    }

    @Test func missingInputIsAOneLineError() throws {
        let dir = try TempDir()
        let r = try CLI.run(["eval", "nope.h5", "also-nope.h5"], in: dir.url)
        #expect(r.status == 1)
        #expect(r.stderr == "acol: error: nope.h5: no such file\n")
    }

    @Test func usageErrorsAreReportedByTheParser() throws {
        let dir = try TempDir()
        let r = try CLI.run(["train", "x.h5", "-o", "m.h5", "--epochs", "0"], in: dir.url)
        #expect(r.status == 64)
        #expect(r.stderr.contains("--epochs must be 1...1048576, found 0"))
    }

    /// Files written by other tools often lack the creator and the date: no empty fields.
    @Test func provenanceLeavesOutWhatIsMissing() {
        #expect(provenance(1, "", "") == "format version 1")
        #expect(provenance(1, "acol 0.3", "") == "format version 1, acol 0.3")
        #expect(provenance(2, "h5py", "2026-01-01") == "format version 2, h5py, 2026-01-01")
    }

    /// Names with control characters keep a table's rows one per line.
    @Test func tablesEscapeControlCharacters() {
        #expect(printable("tops") == "tops")
        #expect(printable("a\nb\tc\u{1b}") == "a\\nb\\tc\\u{1b}")
        let t = table(["parent", "n"], [["line\nbreak", "1"], ["ok", "2"]])
        #expect(t.split(separator: "\n").count == 3)
        #expect(t.contains("line\\nbreak"))
    }

    @Test func inspectOfANonHDF5File() throws {
        let dir = try TempDir()
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir.path("x.h5")))
        let r = try CLI.run(["inspect", "x.h5"], in: dir.url)
        #expect(r.status == 1)
        #expect(r.stderr.contains("x.h5"))
        #expect(r.stderr.contains("not an HDF5 file"))
    }

    /// --kmeans-start N: the training says so, and the model file keeps it (inspect, --json).
    @Test func kmeansStartIsReportedAndKept() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = f.dir
        let t = try CLI.run(["train", f.data, "-o", "kstart.h5", "--arch", "mlp", "--hidden", "32", "--epochs", "1",
                             "--limit", "600", "--kmeans-start", "3", "--kmeans-start-parents", "5-9"], in: dir.url)
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stderr.contains("; k-means start, 3 steps (5-9)"))
        #expect(t.stderr.contains("k-means start: k-means inside each parent on the training pixels"))
        let i = try CLI.run(["inspect", "kstart.h5"], in: dir.url)
        #expect(i.stdout.contains(", k-means start 3 steps (weight 1; head only; parents 5-9)"), "\(i.stdout)")
        let ij = try CLI.run(["inspect", "kstart.h5", "--json"], in: dir.url)
        let model = try #require(try JSONSerialization.jsonObject(with: Data(ij.stdout.utf8)) as? [String: Any])
        let training = try #require(model["training"] as? [String: Any])
        #expect((training["kmeansStart"] as? [String: Any])?["steps"] as? Int == 3)
        #expect((training["kmeansStart"] as? [String: Any])?["parents"] as? [Int] == [1])
        #expect((training["kmeansStart"] as? [String: Any])?["trainsBody"] as? Bool == false)
        // A parent the data set does not have: one line naming the parents, no model written.
        let bad = try CLI.run(["train", f.data, "-o", "kbad.h5", "--arch", "mlp", "--epochs", "1", "--limit", "100",
                               "--kmeans-start", "3", "--kmeans-start-parents", "shoes"], in: dir.url)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--kmeans-start-parents: unknown parent 'shoes' (the parents are: 0 0-4, 1 5-9)"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("kbad.h5").path))
        // Without the option the file has none.
        let plain = try CLI.run(["inspect", f.model], in: dir.url)
        #expect(!plain.stdout.contains("k-means start"))
    }

    @Test func trainedModelInspectsEvaluatesAndRuns() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = f.dir

        // inspect (text and JSON)
        let i = try CLI.run(["inspect", f.model], in: dir.url)
        #expect(i.status == 0)
        #expect(i.stdout.contains("acol model"))
        #expect(i.stdout.contains("2 parents x 5 duplicates = 10 clusters"))
        #expect(i.stdout.contains("cluster mapping:"))
        #expect(i.stdout.contains("augmentation: shift 2 px, rotation 10 deg, scale 0.1, shear 0.2, contrast 0.5, gamma 1"),
                "the default recipe's second view, as stored in the model file")
        let ij = try CLI.run(["inspect", f.model, "--json"], in: dir.url)
        let model = try #require(try JSONSerialization.jsonObject(with: Data(ij.stdout.utf8)) as? [String: Any])
        #expect(model["kind"] as? String == "model")
        #expect(model["nodes"] as? Int == 10)
        #expect((model["history"] as? [Any])?.count == 1)

        // inspect of the data set
        let id = try CLI.run(["inspect", f.data, "--json"], in: dir.url)
        let data = try #require(try JSONSerialization.jsonObject(with: Data(id.stdout.utf8)) as? [String: Any])
        #expect(data["kind"] as? String == "dataset")

        // eval --json has the documented keys and agrees with the library
        let e = try CLI.run(["eval", f.model, f.data, "--json"], in: dir.url)
        #expect(e.status == 0, "\(e.stderr)")
        let ev = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        for key in ["parent_accuracy", "purity", "hungarian_accuracy", "nmi", "clusters_used", "clusters"] {
            #expect(ev[key] != nil, "eval --json has \(key)")
        }
        #expect(ev["split"] as? String == "test")
        let purity = try #require(ev["purity"] as? Double)
        let loaded = try ModelFile.load(f.model)
        let test = try DatasetReader(path: f.data).read(split: "test")
        let lib = Evaluator.evaluate(loaded, on: test)
        #expect(abs(purity - lib.purity!) < 1e-12)
        #expect((ev["clusters"] as? [Any])?.count == 10)
    }

    @Test func runOnAFolderOfPNGs() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let test = try DatasetReader(path: f.data).read(split: "test")
        try FileManager.default.createDirectory(atPath: dir.path("pngs/sub"), withIntermediateDirectories: true)
        for i in 0..<12 {
            let px = Array(test.pixels[(i * 784)..<((i + 1) * 784)])
            try PNGEncoder.write(path: dir.path(i < 6 ? "pngs/\(i).png" : "pngs/sub/\(i).png"), width: 28, height: 28,
                                 channels: 1, pixels: px)
        }
        // An RGB image of the same size is converted; a 30x30 one is reported; a non-PNG is reported.
        try PNGEncoder.write(path: dir.path("pngs/rgb.png"), width: 28, height: 28, channels: 3,
                             pixels: [UInt8](repeating: 128, count: 28 * 28 * 3))
        try PNGEncoder.write(path: dir.path("pngs/big.png"), width: 30, height: 30, channels: 1,
                             pixels: [UInt8](repeating: 0, count: 900))
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: dir.path("pngs/bad.png")))

        let r = try CLI.run(["run", f.model, "pngs"], in: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "path,parent,parent_name,cluster,fine_label,fine_name,confidence,error")
        #expect(lines.count == 1 + 15)
        let bad = try #require(lines.first { $0.hasPrefix("pngs/bad.png,") })
        #expect(bad.contains("expected a PNG"))
        let big = try #require(lines.first { $0.hasPrefix("pngs/big.png,") })
        #expect(big.contains("30x30"))
        #expect(r.stderr.contains("15 images, 2 errors"))

        // The CLI's answers are the library's.
        let model = try ModelFile.load(f.model)
        let preds = model.predict(test.subset(Array(0..<12)))
        for i in 0..<6 {
            let row = try #require(lines.first { $0.hasPrefix("pngs/\(i).png,") }).split(separator: ",", omittingEmptySubsequences: false)
            #expect(Int(row[3]) == preds[i].cluster)
            #expect(Int(row[1]) == preds[i].parent)
        }

        // JSON lines to a file, written atomically.
        let j = try CLI.run(["run", f.model, "pngs/sub", "--format", "jsonl", "--output", "out.jsonl"], in: dir.url)
        #expect(j.status == 0)
        let text = try String(contentsOfFile: dir.path("out.jsonl"), encoding: .utf8)
        let objs = text.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objs.count == 6)
        #expect(objs.allSatisfy { $0?["cluster"] is Int && $0?["confidence"] is Double })
        #expect(!dir.files.contains { $0.hasPrefix(".out.jsonl.tmp") })

        // Resize makes the odd-sized image usable.
        let rs = try CLI.run(["run", f.model, "pngs/big.png", "--resize", "bilinear"], in: dir.url)
        #expect(rs.status == 0)
        #expect(rs.stdout.split(separator: "\n").count == 2)

        // Only bad files: exit 1, with an error line that names the first failure.
        let allBad = try CLI.run(["run", f.model, "pngs/bad.png"], in: dir.url)
        #expect(allBad.status == 1)
        #expect(allBad.stderr.contains("error: none of the 1 images could be run (the first: pngs/bad.png: "), "\(allBad.stderr)")
        // ... and an existing output is left as it was; under --quiet (no per-file lines) the
        // error line still names the file.
        try "earlier results\n".write(to: dir.url.appendingPathComponent("kept.csv"), atomically: true, encoding: .utf8)
        let keep = try CLI.run(["run", f.model, "pngs/bad.png", "-o", "kept.csv", "--quiet"], in: dir.url)
        #expect(keep.status == 1 && keep.stderr.contains("kept.csv was not written"), "\(keep.stderr)")
        #expect(keep.stderr.contains("(the first: pngs/bad.png: ") && keep.stderr.split(separator: "\n").count == 1, "\(keep.stderr)")
        #expect(try String(contentsOf: dir.url.appendingPathComponent("kept.csv"), encoding: .utf8) == "earlier results\n")
        #expect(!dir.files.contains { $0.contains(".tmp") }, "\(dir.files)")
    }

    @Test func montageWritesAPicture() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let r = try CLI.run(["montage", f.model, f.data, "-o", "m.png", "--per-cluster", "4"], in: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        let img = try PNGDecoder.decode(path: dir.path("m.png"))
        #expect(img.channels == 1)
        // 10 rows of 28 * 2 pixels plus gaps.
        #expect(img.height == 10 * (56 + 4) + 4)
        #expect(img.width > 4 * 56)
    }

    /// A picture that would not fit (512 x 512 RGB images, 100 a row, scale 8: 50 GB; or a
    /// product that overflows) is refused in one line naming the options, before any allocation.
    @Test func montageRefusesAPictureTooBig() throws {
        let m = try Montage.parse(["m.h5", "d.h5", "-o", "big.png", "--scale", "8", "--per-cluster", "100"])
        let big = ImageSet(count: 1, height: 512, width: 512, channels: 3, pixels: [UInt8](repeating: 0, count: 512 * 512 * 3))
        do {
            _ = try m.layout(set: big, clusters: 10, textWidth: 0)
            Issue.record("expected an error")
        } catch {
            #expect((error as? LocalizedError)?.errorDescription?.hasPrefix("big.png: a montage of 10 clusters x 100 images of 512x512 at --scale 8 would be 411248 x 41136 pixels, 48400 MiB, more than the 256 MiB a montage may take; lower --scale or --per-cluster") == true, "\(error)")
        }
        #expect(throws: CLIError.self) { _ = try m.layout(set: big, clusters: Int.max / 2, textWidth: 0) }
        // The fixture's size passes: 10 rows of 28 x 28 at scale 2.
        let small = try Montage.parse(["m.h5", "d.h5", "-o", "m.png", "--per-cluster", "4"])
        let digits = ImageSet(count: 1, height: 28, width: 28, channels: 1, pixels: [UInt8](repeating: 0, count: 784))
        #expect(try small.layout(set: digits, clusters: 10, textWidth: 0).height == 10 * (56 + 4) + 4)
    }
}

@Suite("argument parsing")
struct ParseTests {
    /// The default k counts the classes a parent has, or with the training labels at hand those
    /// that occur: labels 0, 300, ..., 2700 without names are 10 classes, not 2,701.
    @Test func defaultKCountsTheClassesThatOccur() {
        #expect(Train.defaultK(parents: 2, parentOfFine: [0, 0, 0, 1, 1]) == 3)
        #expect(Train.defaultK(parents: 1, parentOfFine: [Int](repeating: 0, count: 2701),
                               present: Set((0..<10).map { Int32($0 * 300) })) == 10)
        #expect(Train.defaultK(parents: 2, parentOfFine: [0, 0, 0, 1, 1], present: [0, 3, 4]) == 2)
        #expect(Train.defaultK(parents: 2, parentOfFine: [], present: []) == Recipe.k)
    }

    /// The augmentation's geometry is range-checked (an infinite --aug-shift or an --aug-scale of 1
    /// trapped in the sampling).
    @Test func augmentationOptionsAreRangeChecked() throws {
        for (option, value) in [("--aug-shift", "inf"), ("--aug-shift", "2000"), ("--aug-rotate", "nan"), ("--aug-scale", "1"), ("--aug-shear", "-1")] {
            #expect(throws: (any Error).self, "\(option) \(value)") { _ = try Train.parse(["d.h5", "-o", "m.h5", option, value]) }
        }
        _ = try Train.parse(["d.h5", "-o", "m.h5", "--aug-shift", "4", "--aug-scale", "0.25", "--aug-rotate", "180"])
    }

    @Test func trainDefaultsAreTheRecipe() throws {
        let t = try Train.parse(["d.h5", "-o", "m.h5"])
        #expect(t.arch == Recipe.preset)
        #expect(t.batchNorm == nil && t.defaults.batchNormBeforeZ == Recipe.batchNormBeforeZ)
        // The library's defaults are the command's: what `acol train` builds equals GARConfig()
        // and TrainConfig().
        #expect(t.garConfig == GARConfig())
        #expect(t.garConfig == Recipe.gar)
        #expect(t.optimizerConfig == TrainConfig().optimizer)
        #expect(t.consistencyConfig == TrainConfig().consistency)
        #expect(t.consistencyConfig == Recipe.consistency)
        #expect(t.epochs == nil)   // chosen from the training set's size
        #expect(Recipe.epochs(forTrainingImages: 60_000) == TrainConfig().epochs)
        #expect(Recipe.epochs(forTrainingImages: 3_000) == 44)       // 23 full batches of 128
        #expect(Recipe.epochs(forTrainingImages: 60_000 * 4) == 3)
        #expect(Recipe.epochs(forTrainingImages: 10) == Recipe.maximumDefaultEpochs)
        #expect(t.batchSize == nil && t.defaults.batchSize == TrainConfig().batchSize)
        #expect(t.k == nil)
        // One parent: Adam, unless an optimiser is given; the other modes keep theirs.
        #expect(t.optimizerConfig(parents: 1) == Recipe.oneParentOptimizer && Recipe.oneParentOptimizer.kind == .adam)
        #expect(t.optimizerConfig(parents: 3) == Recipe.optimizer)
        // A small data set (its default training runs more than 3 epochs): Adam; a large one SGD.
        #expect(Recipe.smallDataOptimizer.kind == .adam)
        for (images, kind) in [(3_000, OptimizerKind.adam), (42_000, .adam), (43_000, .sgd), (60_000, .sgd)] {
            #expect(t.optimizerConfig(parents: 2, trainingImages: images).kind == kind, "\(images)")
        }
        #expect(try Train.parse(["d.h5", "-o", "m.h5", "--optimizer", "sgd"]).optimizerConfig(parents: 2, trainingImages: 3_000) == .sgdReference)
        // TrainConfig.standard gives a library user the command's choice for a set of that size.
        for (images, parents) in [(3_000, 2), (42_000, 2), (60_000, 2), (60_000, 1), (300, 4)] {
            let c = TrainConfig.standard(trainingImages: images, parents: parents, seed: 7)
            #expect(c.optimizer == t.optimizerConfig(parents: parents, trainingImages: images), "\(images) \(parents)")
            #expect(c.epochs == t.defaults.epochs(forTrainingImages: images), "\(images)")
            #expect(c.batchSize == Recipe.batchSize && c.seed == 7 && c.consistency == Recipe.consistency)
        }
        #expect(TrainConfig.standard(trainingImages: 3_000, parents: 2).epochs == 44)
        #expect(TrainConfig.standard(trainingImages: 3_000, parents: 2).optimizer.kind == .adam)
        #expect(TrainConfig.standard(trainingImages: 60_000, parents: 2).optimizer == TrainConfig().optimizer)
        for mode in [["--recipe", "paper"], ["--labelled", "10"]] {
            #expect(try Train.parse(["d.h5", "-o", "m.h5"] + mode).optimizerConfig(parents: 2, trainingImages: 3_000).kind == .sgd, "\(mode)")
        }
        #expect(try Train.parse(["d.h5", "-o", "m.h5", "--optimizer", "sgd"]).optimizerConfig(parents: 1) == .sgdReference)
        #expect(try Train.parse(["d.h5", "-o", "m.h5", "--lr", "0.002"]).optimizerConfig(parents: 1).learningRate == 0.002)
        #expect(try Train.parse(["d.h5", "-o", "m.h5", "--recipe", "paper"]).optimizerConfig(parents: 1) == .sgdReference)
        #expect(try Train.parse(["d.h5", "-o", "m.h5", "--labelled", "10"]).optimizerConfig(parents: 1) == Recipe.semiSupervised.optimizer)
    }

    /// --recipe paper, --unsupervised and --labelled start from their own defaults; an option
    /// given wins over them.
    @Test func modeDefaults() throws {
        let p = try Train.parse(["d.h5", "-o", "m.h5", "--recipe", "paper"])
        #expect(p.consistencyConfig == nil && !p.defaults.batchNormBeforeZ && p.defaults.epochs == 50)
        #expect(p.garConfig == GARConfig(scope: .allNodes, symmetric: false, cA: 1, cB: 1, cF: 1e-6, frobenius: .sum))
        #expect(p.optimizerConfig == .sgdReference)
        let u = try Train.parse(["d.h5", "-o", "m.h5", "--unsupervised"])
        #expect(u.garConfig.scope == .perParent && u.garConfig.cA == 0.1)
        #expect(u.optimizerConfig.kind == .adam && u.defaults.batchSize == 400 && u.defaults.k == 20)
        #expect(u.consistencyConfig == ConsistencyConfig(weight: 1, marginalWeight: 0, views: .cleanAugmented) && u.defaults.epochs == 10)
        // --labelled: the default recipe without pretraining; with --recipe paper the authors'.
        let s = try Train.parse(["d.h5", "-o", "m.h5", "--labelled", "100"])
        #expect(s.garConfig == Recipe.gar && s.optimizerConfig == .sgdReference && s.consistencyConfig == Recipe.consistency)
        #expect(s.defaults.pretrainSteps == 0 && s.pretrainSteps == nil && s.resolvedPretrainSteps == 0)
        #expect(try Train.parse(["d.h5", "-o", "m.h5", "--labelled", "100", "--pretrain-steps", "5"]).resolvedPretrainSteps == 5)
        #expect(try Train.parse(["d.h5", "-o", "m.h5", "--labelled", "100", "--recipe", "paper", "--pretrain-steps", "0"]).resolvedPretrainSteps == 0)
        let sp = try Train.parse(["d.h5", "-o", "m.h5", "--labelled", "100", "--recipe", "paper"])
        #expect(sp.garConfig.cA == 3 && sp.optimizerConfig == .sgdReference && sp.consistencyConfig == nil)
        #expect(sp.defaults.pretrainSteps == 2000 && sp.resolvedPretrainSteps == 2000 && sp.defaults.batchNormBeforeZ && sp.defaults.epochs == 3)
        let o = try Train.parse(["d.h5", "-o", "m.h5", "--unsupervised", "--ca", "0.5", "--optimizer", "sgd", "--consistency", "1"])
        #expect(o.garConfig.cA == 0.5 && o.garConfig.scope == .perParent && o.optimizerConfig.kind == .sgd)
        #expect(o.consistencyConfig?.weight == 1)
        let km = try Train.parse(["d.h5", "-o", "m.h5", "--unsupervised", "--kmeans-projection", "0", "--kmeans-restarts", "7"])
        #expect(km.kmeansProjection == 0 && km.kmeansRestarts == 7)
        for bad in [["--unsupervised", "--labelled", "10"], ["--labelled", "10", "-k", "5"], ["--clusters", "10"],
                    ["--unsupervised", "--parents", "0-4,5-9"], ["--unsupervised", "--recipe", "paper"],
                    ["--unsupervised", "--clusters", "0"], ["--labelled", "0"], ["--labelled-weight", "-1"],
                    ["--kmeans-restarts", "5"], ["--kmeans-projection", "20"], ["--unsupervised", "--kmeans-projection", "-1"],
                    ["--unsupervised", "--kmeans-restarts", "0"], ["--pretrain-steps", "5"],
                    ["--unsupervised", "--kmeans-start", "10"], ["--labelled", "10", "--kmeans-start", "5"], ["--kmeans-start", "-1"],
                    ["--kmeans-start-parents", "0"], ["--kmeans-start", "0", "--kmeans-start-parents", "0"]] {
            #expect(throws: (any Error).self, "\(bad)") { try Train.parse(["d.h5", "-o", "m.h5"] + bad) }
        }
    }

    @Test func trainOptions() throws {
        let t = try Train.parse(["d.h5", "-o", "m.h5", "-k", "10", "--gar-scope", "parent", "--symmetric",
                                 "--no-batch-norm", "--optimizer", "adam", "--lr", "0.002", "--frobenius", "mean"])
        #expect(t.k?.uniform == 10)
        #expect(t.garScope == .parent)
        #expect(t.symmetric == true)
        #expect(t.batchNorm == false)
        #expect(t.optimizer == .adam)
        #expect(t.lr == 0.002)
        #expect(t.frobenius == .mean)
    }

    /// The photometric augmentation: the default recipe's second view has it, --unsupervised's
    /// not, the options override either, and out-of-range values are usage errors.
    @Test func photometricAugmentationOptions() throws {
        let d = try #require(try Train.parse(["d.h5", "-o", "m.h5"]).consistencyConfig)
        #expect(d.augmentation.contrast == 0.5 && d.augmentation.gamma == 1)
        #expect(d.augmentation == Recipe.augmentation)
        let u = try #require(try Train.parse(["d.h5", "-o", "m.h5", "--unsupervised"]).consistencyConfig)
        #expect(u.augmentation.contrast == 0 && u.augmentation.gamma == 0)
        let o = try #require(try Train.parse(["d.h5", "-o", "m.h5", "--aug-contrast", "0", "--aug-gamma", "0.25"]).consistencyConfig)
        #expect(o.augmentation.contrast == 0 && o.augmentation.gamma == 0.25)
        let ou = try #require(try Train.parse(["d.h5", "-o", "m.h5", "--unsupervised", "--aug-contrast", "0.3"]).consistencyConfig)
        #expect(ou.augmentation.contrast == 0.3 && ou.augmentation.gamma == 0)
        for bad in [["--aug-contrast", "-0.1"], ["--aug-gamma", "11"], ["--aug-gamma", "nan"], ["--aug-contrast", "inf"]] {
            #expect(throws: (any Error).self, "\(bad)") { try Train.parse(["d.h5", "-o", "m.h5"] + bad) }
        }
    }

    /// -k per parent: by name, by position, by number; a name two parents share (possible in a
    /// data set written elsewhere) is refused rather than given to the first of them.
    @Test func clusterCountsPerParent() throws {
        let named = try #require(ClusterCounts(argument: "footwear=3,tops=5"))
        #expect(try named.resolve(parentNames: ["tops", "footwear"]) == [5, 3])
        #expect(try #require(ClusterCounts(argument: "5,3")).resolve(parentNames: ["tops", "footwear"]) == [5, 3])
        let dup = ["a", "b", "a"]
        #expect(try #require(ClusterCounts(argument: "0=2,1=3,2=4")).resolve(parentNames: dup) == [2, 3, 4])
        do {
            _ = try #require(ClusterCounts(argument: "a=2,b=3")).resolve(parentNames: dup)
            Issue.record("a shared parent name was accepted")
        } catch let e as CLIError {
            #expect(e.localizedDescription.contains("parents 0 and 2 are both named 'a'"), "\(e.localizedDescription)")
        }
        #expect(throws: CLIError.self) { try #require(ClusterCounts(argument: "c=2")).resolve(parentNames: dup) }
    }

    @Test func invalidValuesAreRejected() {
        #expect(throws: (any Error).self) { try Train.parse(["d.h5", "-o", "m.h5", "--arch", "resnet"]) }
        #expect(throws: (any Error).self) { try Train.parse(["d.h5", "-o", "m.h5", "-k", "0"]) }
        #expect(throws: (any Error).self) { try Train.parse(["d.h5", "-o", "m.h5", "--gar-scope", "some"]) }
        #expect(throws: (any Error).self) { try Run.parse(["m.h5", "x", "--format", "xml"]) }
        #expect(throws: (any Error).self) { try Convert.parse(["x", "-o", "y.h5", "--channels", "7"]) }
        #expect(throws: (any Error).self) { try Montage.parse(["m.h5", "d.h5", "-o", "x.png", "--per-cluster", "0"]) }
    }

    @Test func runDefaults() throws {
        let r = try Run.parse(["m.h5", "a", "b"])
        #expect(r.paths == ["a", "b"])
        #expect(r.format == .csv)
        #expect(r.output == nil)
    }
}

/// Help texts against committed snapshots (Tests/ACOLCLITests/Snapshots). After a deliberate
/// change of options or wording, regenerate them with `acol --help > ...` and review the diff.
@Suite struct HelpSnapshotTests {
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    @Test(arguments: [(["--help"], "acol-help.txt"), (["train", "--help"], "acol-train-help.txt")])
    func helpMatchesSnapshot(_ args: [String], _ file: String) throws {
        let dir = try TempDir()
        let r = try CLI.run(args, in: dir.url)
        #expect(r.status == 0)
        let expected = try String(contentsOf: Self.snapshots.appendingPathComponent(file), encoding: .utf8)
        #expect(r.stdout == expected)
    }
}

@Suite struct TableAndMessageTests {
    /// A cell of 60,000 characters (a class name may be as long as an attribute's 64 KiB) is cut
    /// to `maxCellWidth`; no line ends in spaces (the trimming was a regex, quadratic on them).
    @Test func longCellsAreCutAndLinesTrimmed() {
        let t = table(["name", "n"], [[String(repeating: "x", count: 60_000), "1"], ["y", "2"]], rightAlign: [1])
        let lines = t.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1] == String(repeating: "x", count: maxCellWidth - 3) + "...  1")
        #expect(lines[2] == "y" + String(repeating: " ", count: maxCellWidth - 1) + "  2")
        #expect(lines[0] == "name" + String(repeating: " ", count: maxCellWidth - 4) + "  n")
        #expect(table(["a", "b"], [["1", ""]]) == "a  b\n1")
    }

    /// A model of 16-channel inputs cannot take PNG images: one error up front, not one per file.
    @Test func runRefusesAModelPNGsCannotFeed() throws {
        let dir = try TempDir()
        let spec = NetworkSpec(inputShape: [4, 4, 16], layers: [.flatten, .dense(4), .relu], head: ACOLHeadSpec(parents: 2, k: 2))
        let m = ACOLModel(network: try Network(spec: spec, seed: 1), gar: .reference,
                          preprocessing: Preprocessing(height: 4, width: 4, channels: 16))
        try ModelFile.save(m, to: dir.path("m16.h5"))
        let png = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/mnist-png/000-digit7.png").path
        let r = try CLI.run(["run", "m16.h5", png], in: dir.url)
        #expect(r.status == 1)
        #expect(r.stderr == "acol: error: m16.h5: the model takes images of 16 channels; PNG images have 1 to 4 (grey, grey + alpha, RGB, RGBA)\n")
        #expect(r.stdout.isEmpty)
    }

    /// A full disk, as a file-size limit (`ulimit -f`: write(2) fails with EFBIG, SIGXFSZ ignored):
    /// one line naming the output, exit 1, no output and no temporary file left.
    @Test func aFileSizeLimitIsACleanError() throws {
        let dir = try TempDir()
        let r = try CLI.run(["-c", "ulimit -f 8; exec \"$0\" convert \"$1\" --parents 0-4,5-9 -o out.h5", CLI.binary, CLI.mnistFixture],
                            in: dir.url, executable: "/bin/bash")
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("acol: error: out.h5: cannot write: File too large") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(dir.files.isEmpty, "\(dir.files)")
    }

    /// A file name with a newline still gives a one-line error.
    @Test func errorsStayOnOneLine() throws {
        let dir = try TempDir()
        let r = try CLI.run(["inspect", "a\nb.h5"], in: dir.url)
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.hasPrefix("acol: error: a") && r.stderr.contains("b.h5: no such file"))
    }
}

@Suite("coarse-only data")
struct CoarseOnlyDataTests {
    /// A data set with coarse labels and no fine ones: the scores that need fine labels print
    /// as '-' with a line that says why, in `baseline` and in `eval`.
    @Test func scoresWithoutFineLabelsSayWhy() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        var set = try DatasetReader(path: f.data).read(split: "test", range: 0..<200)
        set.fineLabels = nil
        let path = dir.path("coarse.h5")
        let w = try DatasetWriter(path: path)
        try w.begin(DatasetDescription(height: set.height, width: set.width, channels: set.channels,
                                       labels: LabelInfo(fineNames: [], parentNames: ["0-4", "5-9"], parentOfFine: []),
                                       source: "test"))
        try w.beginSplit("test", expectedCount: nil)
        try w.append(set)
        try w.endSplit()
        try w.finish()
        for args in [["baseline", "kmeans", path, "-k", "2", "--fit-split", "test", "--restarts", "1"], ["eval", f.model, path]] {
            let r = try CLI.run(args, in: dir.url)
            #expect(r.status == 0, "\(args[0]): \(r.stderr)")
            #expect(r.stdout.contains("purity              -"), "\(args[0]): \(r.stdout)")
            #expect(r.stdout.contains("(the test split has no fine labels: purity, Hungarian accuracy and NMI need them)"), "\(args[0]): \(r.stdout)")
        }
        // With fine labels the line is not there.
        let r = try CLI.run(["eval", f.model, f.data], in: dir.url)
        #expect(r.status == 0 && !r.stdout.contains("has no fine labels"), "\(r.stdout)")
    }
}

@Suite("BatchNorm epsilon")
struct HeadNormEpsilonTests {
    /// The head's BatchNorm epsilon (default 1e-3) is in the model file and shown by inspect;
    /// `--bn-epsilon` sets it and refuses what is not a positive number.
    @Test func defaultAndOptionReachTheModelFile() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let shared = try ModelFile.load(f.model)
        #expect(shared.head.batchNormEpsilon == 1e-3 && Recipe.headNormEpsilon == 1e-3)
        let i = try CLI.run(["inspect", f.model], in: dir.url)
        #expect(i.status == 0 && i.stdout.contains("before Z, epsilon 0.001"), "\(i.stdout)")
        let t = try CLI.run(["train", f.data, "-o", "e.h5", "--arch", "mlp", "--hidden", "16", "--epochs", "1",
                             "--limit", "300", "--bn-epsilon", "2e-4", "--quiet", "--threads", "1"], in: dir.url)
        #expect(t.status == 0, "\(t.stderr)")
        #expect(try ModelFile.load(dir.path("e.h5")).network.headNorm?.spec.epsilon == 2e-4)
        for bad in ["0", "-1", "nan", "inf"] {
            let r = try CLI.run(["train", f.data, "-o", "x.h5", "--bn-epsilon=\(bad)"], in: dir.url)
            #expect(r.status != 0 && r.stderr.contains("--bn-epsilon must be a finite number above 0"), "\(bad): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("x.h5")))
    }
}

@Suite("small data sets")
struct SmallDataDefaultsTests {
    /// A small data set (its default training runs more than 3 epochs) trains with Adam: the
    /// training line says so and the model file records it; --optimizer sgd keeps SGD.
    @Test func smallSetTrainsWithAdam() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let base = ["train", f.data, "--arch", "mlp", "--hidden", "16", "--epochs", "1", "--limit", "300", "--threads", "1"]
        let a = try CLI.run(base + ["-o", "a.h5"], in: dir.url)
        #expect(a.status == 0 && a.stderr.contains("; Adam (a small data set); "), "\(a.stderr)")
        #expect(try ModelFile.load(dir.path("a.h5")).settings?.optimizer == Recipe.smallDataOptimizer)
        let s = try CLI.run(base + ["-o", "s.h5", "--optimizer", "sgd"], in: dir.url)
        #expect(s.status == 0 && !s.stderr.contains("Adam"), "\(s.stderr)")
        #expect(try ModelFile.load(dir.path("s.h5")).settings?.optimizer == .sgdReference)
    }
}
