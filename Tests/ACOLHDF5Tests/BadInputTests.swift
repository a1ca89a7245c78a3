import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

extension HDF5Tests {
    @Suite struct BadInputTests {
        @Test func missingFile() {
            let dir = TempDir()
            let e = expectHDF5Error { _ = try ModelFile.load(dir.file("nope.h5")) }
            #expect(e == .fileNotFound(path: dir.file("nope.h5")))
            #expect(e?.errorDescription?.contains("nope.h5") == true)
        }

        @Test func randomBytesAndTextAreNotHDF5() throws {
            let dir = TempDir()
            var rng = SeededGenerator(seed: 9)
            let random = dir.file("random.h5")
            try Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(to: URL(fileURLWithPath: random))
            let text = dir.file("notes.txt")
            try "just some text\n".write(toFile: text, atomically: false, encoding: .utf8)
            let empty = dir.file("empty.h5")
            _ = FileManager.default.createFile(atPath: empty, contents: Data())
            for p in [random, text, empty] {
                #expect(expectHDF5Error { _ = try ModelFile.load(p) } == .notHDF5(path: p))
                #expect(expectHDF5Error { _ = try DatasetReader(path: p) } == .notHDF5(path: p))
                #expect(try HDF5Inspector.classify(p) == .notHDF5)
            }
            #expect(dir.openObjects().isEmpty)
        }

        @Test func truncatedFiles() throws {
            let dir = TempDir()
            let model = dir.file("model.h5")
            try ModelFile.save(try makeModel(), to: model)
            let data = dir.file("data.h5")
            let w = try DatasetWriter(path: data)
            try w.begin(sampleDescription)
            try w.beginSplit("train", expectedCount: nil)
            try w.append(makeImages(count: 600))
            try w.finish()
            for (p, isModel) in [(model, true), (data, false)] {
                let full = try Data(contentsOf: URL(fileURLWithPath: p))
                for keep in [full.count - 1, full.count / 2, 2000, 100, 8] {
                    let cut = dir.file("cut.h5")
                    try full.prefix(keep).write(to: URL(fileURLWithPath: cut))
                    let e = expectHDF5Error { if isModel { _ = try ModelFile.load(cut) } else { _ = try DatasetReader(path: cut).read(split: "train") } }
                    #expect(e?.path == cut)
                if keep >= 512 { #expect(e?.errorDescription?.contains("damaged file: truncated") == true) }
                    #expect(e?.errorDescription?.contains("cut.h5") == true)
                    #expect(dir.openObjects().isEmpty, "after truncation to \(keep) bytes")
                }
            }
        }

        @Test func corruptedBytesNeverCrash() throws {
            let dir = TempDir()
            let model = dir.file("model.h5")
            try ModelFile.save(try makeModel(), to: model)
            let full = try Data(contentsOf: URL(fileURLWithPath: model))
            var rng = SeededGenerator(seed: 11)
            var failures = 0
            for trial in 0..<40 {
                var bytes = [UInt8](full)
                // Scribble over a run of bytes after the superblock.
                let at = Int.random(in: 64..<(bytes.count - 64), using: &rng)
                for i in at..<min(bytes.count, at + 1 + trial % 32) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                let p = dir.file("bad.h5")
                try Data(bytes).write(to: URL(fileURLWithPath: p))
                do { _ = try ModelFile.load(p) } catch let e as HDF5Error {
                if case .damaged = e { failures += 1 } else { Issue.record("expected .damaged, got \(e)") }
            } catch { Issue.record("unexpected \(error)") }
            }
            // Flips inside weight values load fine; everything else must be a thrown HDF5Error.
            #expect(failures >= 0)
            #expect(dir.openObjects().isEmpty)
        }

        /// h5py with libver='latest' on HDF5 2.0 writes a layout message version libhdf5 1.10
        /// cannot decode: one line says the file is from a newer HDF5 and how to write one this
        /// reads (was a raw chain of libhdf5 frames ending in "bad version number").
        @Test func aNewerFormatVersionIsNamed() throws {
            let path = Fixture.path("dataset-h5py-libver-latest.h5")
            let e = expectHDF5Error { _ = try DatasetReader(path: path).read(split: "train") }
            let text = e?.errorDescription ?? ""
            #expect(e?.path == path)
            #expect(text.hasPrefix("\(path): written by a newer HDF5 library than acol's (libhdf5 \(HDF5Library.version))"), "\(text)")
            #expect(text.contains("layout message") && text.contains("libver=('earliest', 'v110')") && !text.contains("H5O_"), "\(text)")
            #expect(text.split(whereSeparator: \.isNewline).count == 1)
        }

        /// A descriptive `source` attribute written as h5py.Empty (a null dataspace) reads as no
        /// source; the images read as usual (every command refused the file).
        @Test func anEmptySourceIsNoSource() throws {
            let r = try DatasetReader(path: Fixture.path("dataset-h5py-empty-source.h5"))
            #expect(r.description.source == "")
            #expect(try r.read(split: "train").count == 8)
        }

        /// A file acol wrote and another program changed afterwards (h5py "r+" appends): the
        /// message says so and how to accept the change, for growth and for a changed CRC.
        @Test func anEditedFileSaysHowToAcceptIt() throws {
            let dir = TempDir()
            let model = dir.file("model.h5")
            try ModelFile.save(try makeModel(), to: model)
            let full = try Data(contentsOf: URL(fileURLWithPath: model))
            var grown = full
            grown.append(contentsOf: [UInt8](repeating: 7, count: 100))
            var changed = [UInt8](full)
            changed[changed.count - 3] ^= 0xFF
            for (bytes, what) in [(grown, "it grew after acol wrote it"), (Data(changed), "checksum mismatch")] {
                let p = dir.file("edited.h5")
                try bytes.write(to: URL(fileURLWithPath: p))
                let e = expectHDF5Error { _ = try ModelFile.load(p) }
                guard case .damaged? = e else { Issue.record("expected .damaged, got \(String(describing: e))"); continue }
                let text = e?.errorDescription ?? ""
                #expect(text.contains(what) && text.contains("h5py in 'r+' mode") && text.contains("zero its first 512 bytes"), "\(text)")
            }
        }

        /// A `format` attribute libhdf5 cannot read (its string's global heap collection claims
        /// 2^40 bytes) is an error, not a foreign file with no format (inspect printed "not
        /// written by acol" and succeeded).
        @Test func anUnreadableFormatIsAnError() throws {
            let dir = TempDir()
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixture.path("dataset-h5py.h5"))))
            let sig: [UInt8] = Array("GCOL".utf8)
            guard let at = (0..<(bytes.count - 16)).first(where: { Array(bytes[$0..<$0 + 4]) == sig }) else {
                Issue.record("no global heap in the fixture"); return
            }
            // GCOL, version, 3 reserved bytes, then the collection size (8 bytes, little-endian).
            for i in 0..<8 { bytes[at + 8 + i] = i == 5 ? 1 : 0 }
            let p = dir.file("heap.h5")
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            let e = expectHDF5Error { _ = try HDF5Inspector.classify(p) }
            #expect(e?.path == p)
            #expect(e?.errorDescription?.contains("'format'") == true, "\(String(describing: e))")
            #expect(dir.openObjects().isEmpty)
            // The unmodified file classifies as before.
            #expect(try HDF5Inspector.classify(Fixture.path("dataset-h5py.h5")) == .dataset(version: 1))
        }

        /// h5py's lzf filter is not in libhdf5: the images cannot be read, and the error says
        /// which filter and what to do (was libhdf5's whole plugin-search stack).
        @Test func aFilterThisLibraryLacksIsNamed() throws {
            let path = Fixture.path("dataset-h5py-lzf.h5")
            let e = expectHDF5Error { _ = try DatasetReader(path: path).read(split: "train") }
            guard case .invalidContent(let p, let object, let problem)? = e else {
                Issue.record("expected invalidContent, got \(String(describing: e))"); return
            }
            #expect(p == path && object == "/train/images")
            #expect(problem.contains("'lzf'") && problem.contains("32000") && problem.contains("gzip"))
            let text = e?.errorDescription ?? ""
            #expect(text.contains("H5PL_") == false && text.contains("lzf"))
            // The gzip fixture reads as before.
            #expect(try DatasetReader(path: Fixture.path("dataset-h5py.h5")).read(split: "train").count == 40)
        }

        /// Data that is not in the file: a virtual dataset (mapped from a file that is missing,
        /// which libhdf5 reads as zeros) and external raw storage (/dev/zero) are refused at
        /// once, naming the dataset, before any read (the probe of unchecked files skips them).
        @Test(arguments: [("dataset-h5py-virtual.h5", "virtual dataset"), ("dataset-h5py-external.h5", "external file")])
        func dataOutsideTheFileIsRefused(_ name: String, _ what: String) throws {
            let path = Fixture.path(name)
            let started = Date()
            let e = expectHDF5Error { _ = try DatasetReader(path: path).read(split: "train") }
            guard case .invalidContent(let p, let object, let problem)? = e else {
                Issue.record("expected invalidContent, got \(String(describing: e))"); return
            }
            #expect(p == path && object == "/train/images")
            #expect(problem.contains(what) && problem.contains("stored in the file itself"), "\(problem)")
            let lines = (e?.errorDescription ?? "").split(whereSeparator: \.isNewline)
            #expect(lines.count == 1)
            #expect(Date().timeIntervalSince(started) < 20, "refused at once, not after the probe's timeout")
        }

        /// Strings as h5py writes them with string_dtype('utf-8', n) (fixed length, UTF-8): read,
        /// with `format` as a list of one such string (libhdf5 has no conversion from UTF-8 to
        /// the ASCII memory type: these were refused with a libhdf5 error stack).
        @Test func fixedLengthUTF8StringsAreRead() throws {
            let path = Fixture.path("dataset-h5py-utf8-fixed.h5")
            let r = try DatasetReader(path: path)
            #expect(r.description.labels.fineNames == ["zero", "één"])
            #expect(r.splits.map(\.name) == ["train"])
            #expect(try r.read(split: "train").count == 8)
        }

        /// A split listed twice in `splits` is refused (it was shown twice and the other splits
        /// were never read).
        @Test func aSplitListedTwiceIsRefused() throws {
            let path = Fixture.path("dataset-h5py-splits-twice.h5")
            let e = expectHDF5Error { _ = try DatasetReader(path: path) }
            guard case .invalidContent(let p, let object, let problem)? = e else {
                Issue.record("expected invalidContent, got \(String(describing: e))"); return
            }
            #expect(p == path && object == "/")
            #expect(problem == "attribute 'splits' lists 'train' twice")
        }

        @Test func foreignAndWrongKindFiles() throws {
            let dir = TempDir()
            // The data-set fixture given as a model, and the model fixture as a data set.
            let ds = Fixture.path("dataset-h5py.h5")
            #expect(expectHDF5Error { _ = try ModelFile.load(ds) } == .wrongFormat(path: ds, expected: "acol-model", found: "acol-dataset"))
            let m = Fixture.path("model-h5py.h5")
            #expect(expectHDF5Error { _ = try DatasetReader(path: m) } == .wrongFormat(path: m, expected: "acol-dataset", found: "acol-model"))
            // A foreign HDF5 file (no format attribute): a data-set file's /train group copied out is
            // not possible without h5py, so strip the format attribute by writing a file ourselves.
            let foreign = dir.file("foreign.h5")
            try writeFile(foreign) { root in
                try root.writeDataset("x/y", [Float](repeating: 1, count: 6), shape: [2, 3])
                try root.setAttribute("title", string: "someone else's file")
            }
            let e = expectHDF5Error { _ = try ModelFile.load(foreign) }
            #expect(e == .wrongFormat(path: foreign, expected: "acol-model", found: nil))
            #expect(e?.errorDescription?.contains("foreign.h5") == true)
            #expect(try HDF5Inspector.classify(foreign) == .foreignHDF5(format: nil))
            let tree = try HDF5Inspector.tree(foreign)
            #expect(tree.map(\.path) == ["/", "/x", "/x/y"])
            #expect(tree[0].attributes == [HDF5AttributeInfo(name: "title", dtype: "string", shape: [], value: "\"someone else's file\"")])
            #expect(tree[2].kind == .dataset && tree[2].shape == [2, 3] && tree[2].dtype == "float32")
            #expect(dir.openObjects().isEmpty)
        }

        @Test func wrongVersionAndBrokenContent() throws {
            let dir = TempDir()
            let good = dir.file("good.h5")
            try ModelFile.save(try makeModel(), to: good)

            // Edited in place, the checksum block dropped (as if another program had written the file).
            func variant(_ name: String, _ edit: (H5ID) throws -> Void) throws -> String {
                try craftedModel(dir, name, edit)
            }
            let v2 = try variant("v2.h5") { try $0.setAttribute("format_version", Int64(2)) }
            let e = expectHDF5Error { _ = try ModelFile.load(v2) }
            #expect(e == .unsupportedVersion(path: v2, format: "acol-model", found: 2, supported: [1]))
            #expect(e?.errorDescription?.contains("version 2") == true)

            let shape = try variant("shape.h5") { f in
                try f.deleteLink("weights/head/dense/kernel")
                try f.writeDataset("weights/head/dense/kernel", [Float](repeating: 0, count: 16 * 5), shape: [16, 5])
            }
            let e2 = expectHDF5Error { _ = try ModelFile.load(shape) }
            #expect(e2 == .invalidContent(path: shape, object: "/weights/head/dense/kernel", problem: "expected shape [16, 6] (from the architecture), found [16, 5]"))

            // A NaN or infinity among the weights: every prediction would be meaningless (all
            // in one cluster, confidence NaN), so the file is refused, naming the dataset.
            for (tag, bad) in [("nan", Float.nan), ("inf", -Float.infinity)] {
                let weird = try variant("\(tag).h5") { f in
                    var k = [Float](repeating: 0.1, count: 16 * 6)
                    k[7] = bad
                    try f.deleteLink("weights/head/dense/kernel")
                    try f.writeDataset("weights/head/dense/kernel", k, shape: [16, 6])
                }
                let e3 = expectHDF5Error { _ = try ModelFile.load(weird) }
                #expect(e3 == .invalidContent(path: weird, object: "/weights/head/dense/kernel", problem: "expected finite values, found \(bad) at index 7 (a network with NaN or infinite weights gives meaningless clusters)"))
            }

            let dtype = try variant("dtype.h5") { f in
                try f.deleteLink("weights/head/dense/bias")
                try f.writeDataset("weights/head/dense/bias", [Double](repeating: 0, count: 6))
            }
            #expect(expectHDF5Error { _ = try ModelFile.load(dtype) }?.errorDescription?.contains("expected float32, found float64") == true)

            let missing = try variant("missing.h5") { try $0.deleteLink("weights/layers/00_conv2d/bias") }
            #expect(expectHDF5Error { _ = try ModelFile.load(missing) }?.errorDescription?.contains("/weights/layers/00_conv2d/bias") == true)

            let extra = try variant("extra.h5") { try $0.writeDataset("weights/layers/00_conv2d/extra", [Float](repeating: 0, count: 2)) }
            #expect(expectHDF5Error { _ = try ModelFile.load(extra) }?.errorDescription?.contains("unexpected dataset") == true)

            let json = try variant("json.h5") { try $0.setAttribute("architecture", string: "{\"inputShape\": [8, 8") }
            #expect(expectHDF5Error { _ = try ModelFile.load(json) }?.errorDescription?.contains("architecture") == true)

            let builds = try variant("builds.h5") { f in
                try f.setAttribute("architecture", string: #"{"inputShape":[8,8,1],"layers":[{"type":"conv2d","filters":0}],"head":{"parents":2,"k":3,"batchNormBeforeZ":true}}"#)
            }
            #expect(expectHDF5Error { _ = try ModelFile.load(builds) }?.errorDescription?.contains("does not build") == true)

            for eps in ["0", "-1e-5"] {
                let bad = try variant("eps\(eps).h5") { f in
                    let json = try f.stringAttribute("architecture")
                    try #require(json.contains("\"batchNormBeforeZ\":true"))
                    try f.setAttribute("architecture", string: json.replacingOccurrences(of: "\"batchNormBeforeZ\":true", with: "\"batchNormBeforeZ\":true,\"batchNormEpsilon\":\(eps)"))
                }
                let e = expectHDF5Error { _ = try ModelFile.load(bad) }?.errorDescription ?? ""
                #expect(e.contains("batchNormEpsilon must be a finite number above 0, got"), "\(e)")
            }

            let history = try variant("history.h5") { f in
                try f.deleteLink("history/loss")
                try f.writeDataset("history/loss", [1.0, 2.0, 3.0])
            }
            #expect(expectHDF5Error { _ = try ModelFile.load(history) }?.errorDescription?.contains("expected 2 entries") == true)

            #expect(dir.openObjects().isEmpty)
        }

        @Test func badDatasetContent() throws {
            let dir = TempDir()
            let p = dir.file("d.h5")
            try writeFile(p) { root in
                try root.setAttribute("format", string: "acol-dataset")
                try root.setAttribute("format_version", Int64(1))
                try root.setAttribute("height", Int64(2)); try root.setAttribute("width", Int64(2)); try root.setAttribute("channels", Int64(1))
                try root.writeDataset("train/images", [Float](repeating: 0, count: 12), shape: [3, 2, 2, 1])
            }
            #expect(expectHDF5Error { _ = try DatasetReader(path: p) }?.errorDescription?.contains("expected uint8 pixels, found float32") == true)
            let q = dir.file("e.h5")
            try writeFile(q) { root in
                try root.setAttribute("format", string: "acol-dataset")
                try root.setAttribute("format_version", Int64(1))
                try root.setAttribute("height", Int64(2)); try root.setAttribute("width", Int64(2)); try root.setAttribute("channels", Int64(1))
                try root.setAttribute("fine_names", strings: ["a", "b"])
                try root.writeDataset("train/images", [UInt8](repeating: 0, count: 12), shape: [3, 2, 2, 1])
                try root.writeDataset("train/fine_labels", [Int32(0), 1, 7])
            }
            let r = try DatasetReader(path: q)
            #expect(expectHDF5Error { _ = try r.read(split: "train") }?.errorDescription?.contains("entry 2 is 7") == true)
            #expect(expectHDF5Error { _ = try r.read(split: "train", range: 2..<4) } != nil)
            #expect(expectHDF5Error { _ = try r.read(split: "valid") }?.errorDescription?.contains("no such split") == true)
            r.close()
            #expect(dir.openObjects().isEmpty)
        }
    }
}

/// Writes a plain HDF5 file through the internal layer (not atomically; for tests).
func writeFile(_ path: String, _ body: (H5ID) throws -> Void) throws {
    try H5Session.run {
        let f = try H5ID.createFile(path, reportAs: path)
        defer { f.close() }
        try body(f)
    }
}
