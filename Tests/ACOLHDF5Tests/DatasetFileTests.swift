import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

let sampleDescription = DatasetDescription(
    height: 8, width: 8, channels: 1,
    labels: LabelInfo(fineNames: (0..<6).map { "digit \($0)" }, parentNames: ["even", "odd"], parentOfFine: (0..<6).map { $0 % 2 }),
    source: "unit test: naïve ☃")

extension HDF5Tests {
    @Suite struct DatasetFileTests {
        @Test func streamingRoundTripOverManyAppends() throws {
            let dir = TempDir()
            let path = dir.file("data.h5")
            let train = makeImages(count: 700, seed: 1)
            let test = makeImages(count: 37, seed: 2, coarse: false)
            let w = try DatasetWriter(path: path, chunkImages: 64)
            try w.begin(sampleDescription)
            try w.beginSplit("train", expectedCount: nil)
            var start = 0
            for size in [1, 63, 64, 200, 0, 5, 367] {   // uneven batches across chunk boundaries
                try w.append(train.subset(Array(start..<(start + size))))
                start += size
            }
            #expect(start == 700)
            try w.endSplit()
            try w.beginSplit("test", expectedCount: 37)
            try w.append(test)
            try w.endSplit()
            #expect(!FileManager.default.fileExists(atPath: path))   // not there before finish
            try w.finish()
            #expect(dir.contents() == ["data.h5"])
            #expect(dir.openObjects().isEmpty)

            let r = try DatasetReader(path: path)
            #expect(r.description == sampleDescription)
            #expect(r.splits == [SplitInfo(name: "train", count: 700, hasFineLabels: true, hasCoarseLabels: true),
                                 SplitInfo(name: "test", count: 37, hasFineLabels: true, hasCoarseLabels: false)])
            #expect(try r.read(split: "train") == train)
            #expect(try r.read(split: "test") == test)
            #expect(try r.read(split: "train", range: 100..<300) == train.subset(Array(100..<300)))
            #expect(try r.read(split: "train", range: 5..<5).count == 0)
            r.close()
            #expect(dir.openObjects().isEmpty)
            #expect(try HDF5Inspector.classify(path) == .dataset(version: 1))
        }

        /// A file whose coarse label of an image is not its fine class's parent (written by
        /// another tool) is refused at read, naming the entry; training would follow it.
        @Test func coarseLabelsMustAgreeWithTheFineClassesParents() throws {
            let dir = TempDir()
            let path = dir.file("data.h5")
            var set = makeImages(count: 20, seed: 4)
            var coarse = try #require(set.coarseLabels)
            coarse[13] = 1 - coarse[13]
            set.coarseLabels = coarse
            let w = try DatasetWriter(path: path)
            try w.begin(sampleDescription)
            try w.beginSplit("train", expectedCount: nil)
            try w.append(set)
            try w.endSplit()
            try w.finish()
            let e = expectHDF5Error { _ = try DatasetReader(path: path).read(split: "train") }
            guard case .invalidContent(_, let object, let problem)? = e else {
                Issue.record("expected invalidContent, got \(String(describing: e))"); return
            }
            #expect(object == "/train/coarse_labels" && problem.contains("entry 13"), "\(problem)")
            #expect(try DatasetReader(path: path).read(split: "train", range: 0..<13).count == 13, "the rows before it read")
        }

        /// More classes than a data-set file holds (the reader's limit, and what fits an HDF5
        /// attribute) are refused at begin, before any image, and leave no file.
        @Test func tooManyClassesAreRefusedAtBegin() throws {
            let dir = TempDir()
            let path = dir.file("data.h5")
            let n = ACOLLimits.maxClasses + 1
            let w = try DatasetWriter(path: path)
            let e = expectHDF5Error {
                try w.begin(DatasetDescription(height: 2, width: 2, channels: 1,
                                               labels: LabelInfo(fineNames: (0..<n).map { "c\($0)" }, parentNames: [], parentOfFine: []),
                                               source: "test"))
            }
            #expect(e?.errorDescription?.contains("\(n) fine classes: a data-set file holds at most \(ACOLLimits.maxClasses)") == true)
            w.abort()
            #expect(dir.contents().isEmpty)
        }

        /// Split names with '/', or control characters (a newline broke inspect's lines), are
        /// refused.
        @Test func oddSplitNamesAreRefused() throws {
            for bad in ["a/b", "", "x\ny", "tab\there"] {
                let dir = TempDir()
                let w = try DatasetWriter(path: dir.file("d.h5"))
                try w.begin(sampleDescription)
                let e = expectHDF5Error { try w.beginSplit(bad, expectedCount: nil) }
                #expect(e?.errorDescription?.contains("cannot be a split name") == true, "\(bad)")
                #expect(e?.errorDescription?.contains("\n") == false)
                w.abort()
            }
        }

        @Test func unlabelledAndEmptySplits() throws {
            let dir = TempDir()
            let path = dir.file("d.h5")
            let d = DatasetDescription(height: 4, width: 3, channels: 3, labels: LabelInfo(fineNames: [], parentNames: [], parentOfFine: []), source: "")
            let w = try DatasetWriter(path: path)
            try w.begin(d)
            try w.beginSplit("empty", expectedCount: 0)
            try w.endSplit()
            try w.beginSplit("unlabelled", expectedCount: nil)
            let imgs = makeImages(count: 10, height: 4, width: 3, channels: 3, fine: false, coarse: false)
            try w.append(imgs)
            try w.finish()   // ends the open split
            let r = try DatasetReader(path: path)
            #expect(r.description == d)
            #expect(r.splits.map(\.name) == ["empty", "unlabelled"])
            #expect(try r.read(split: "empty").count == 0)
            #expect(try r.read(split: "unlabelled") == imgs)
        }

        @Test func h5pyFixtureReads() throws {
            let ref = Fixture.reference["dataset"] as! [String: Any]
            let r = try DatasetReader(path: Fixture.path("dataset-h5py.h5"))
            #expect(r.description.height == 6 && r.description.width == 5 && r.description.channels == 3)
            #expect(r.description.labels.fineNames == ref["fine_names"] as! [String])
            #expect(r.description.labels.parentNames == ref["parent_names"] as! [String])
            #expect(r.description.labels.parentOfFine == ref["parent_of_fine"] as! [Int])
            #expect(r.description.source == "synthetic")
            #expect(r.splits.map(\.name) == ["train", "test"])
            let splits = ref["splits"] as! [String: [String: Any]]
            for s in r.splits {
                let e = splits[s.name]!
                let set = try r.read(split: s.name)
                #expect(set.count == e["count"] as! Int)
                #expect(set.pixels.reduce(0) { $0 + Int($1) } == e["pixel_sum"] as! Int)
                #expect(Array(set.pixels.prefix(90)).map { Int($0) } == e["first_image"] as! [Int])
                #expect(Array(set.pixels.suffix(90)).map { Int($0) } == e["last_image"] as! [Int])
                #expect(set.fineLabels?.map { Int($0) } == e["fine_labels"] as? [Int])
                #expect(set.coarseLabels?.map { Int($0) } == e["coarse_labels"] as? [Int])
            }
        }

        @Test func misuseThrowsAndAbortsTheFile() throws {
            let dir = TempDir()
            let path = dir.file("d.h5")
            let w = try DatasetWriter(path: path)
            expectHDF5Error { try w.beginSplit("train", expectedCount: nil) }   // before begin
            #expect(dir.contents().isEmpty)
            expectHDF5Error { try w.begin(sampleDescription) }                    // the writer is aborted now

            let w2 = try DatasetWriter(path: path)
            try w2.begin(sampleDescription)
            try w2.beginSplit("train", expectedCount: nil)
            try w2.append(makeImages(count: 3))
            let e = expectHDF5Error { try w2.append(makeImages(count: 3, height: 9)) }
            #expect(e?.errorDescription?.contains("8 x 8 x 1") == true)
            #expect(dir.contents().isEmpty)
            #expect(dir.openObjects().isEmpty)

            let w3 = try DatasetWriter(path: path)
            try w3.begin(sampleDescription)
            try w3.beginSplit("train", expectedCount: nil)
            try w3.append(makeImages(count: 3))
            expectHDF5Error { try w3.append(makeImages(count: 3, fine: false)) }   // labels must stay the same
            #expect(dir.contents().isEmpty)
        }

        @Test func abortAndDroppingTheWriterLeaveNothing() throws {
            let dir = TempDir()
            let path = dir.file("d.h5")
            try "old".write(toFile: path, atomically: false, encoding: .utf8)
            do {
                let w = try DatasetWriter(path: path)
                try w.begin(sampleDescription)
                try w.beginSplit("train", expectedCount: nil)
                try w.append(makeImages(count: 300))
                #expect(dir.contents().count == 2)   // the target and the hidden temporary file
                w.abort()
                w.abort()                            // idempotent
            }
            do {
                let w = try DatasetWriter(path: path)
                try w.begin(sampleDescription)
                try w.beginSplit("train", expectedCount: nil)
                try w.append(makeImages(count: 10))
                // dropped without finish
            }
            #expect(dir.contents() == ["d.h5"])
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
            #expect(dir.openObjects().isEmpty)
        }
    }
}

extension HDF5Tests {
    /// A data set scored by a model whose classes it names otherwise (issue: eval gave the model's
    /// names and parents to the data set's numbers, silently).
    @Suite struct ClassMatchingTests {
        static func write(_ path: String, names: [String], parents: [String] = [], parentOfFine: [Int] = [], _ set: ImageSet) throws {
            let w = try DatasetWriter(path: path)
            try w.begin(DatasetDescription(height: 8, width: 8, channels: 1,
                                           labels: LabelInfo(fineNames: names, parentNames: parents, parentOfFine: parentOfFine),
                                           source: "test"))
            try w.beginSplit("test", expectedCount: nil)
            try w.append(set)
            try w.endSplit()
            try w.finish()
        }

        @Test func classesAreMatchedByName() throws {
            let dir = TempDir()
            let model = try makeModel()   // classes "fine 0 é" ... "fine 5 é"; parent of fine f: f % 2 (low, high)
            model.parentOfFine = (0..<6).map { $0 % 2 }
            let images = makeImages(count: 30, seed: 4, coarse: false)
            // The model's classes in reverse order: renumbered by name, parents from the model's mapping.
            let reversed = dir.file("reversed.h5")
            try Self.write(reversed, names: model.fineNames.reversed(),
                           ImageSet(count: 30, height: 8, width: 8, channels: 1, pixels: images.pixels,
                                    fineLabels: images.fineLabels!.map { 5 - $0 }, coarseLabels: nil))
            let r = try DatasetLoader.split(nil, of: reversed, forModel: model)
            #expect(r.images.fineLabels == images.fineLabels)
            #expect(r.images.coarseLabels == images.fineLabels!.map { $0 % 2 })
            #expect(r.fineNames == model.fineNames)
            #expect(r.note == "\(reversed): its classes are numbered otherwise than the model's; matched by name")
            // Classes the model does not know: their own names and parents, the model's mapping unused.
            let animals = dir.file("animals.h5")
            let names = ["cat", "dog", "cow", "pig", "hen", "ant"]
            try Self.write(animals, names: names, parents: ["low", "high"], parentOfFine: [1, 1, 1, 0, 0, 0],
                           ImageSet(count: 30, height: 8, width: 8, channels: 1, pixels: images.pixels,
                                    fineLabels: images.fineLabels, coarseLabels: images.fineLabels!.map { $0 < 3 ? 1 : 0 }))
            let a = try DatasetLoader.split(nil, of: animals, forModel: model)
            #expect(a.fineNames == names)
            #expect(a.images.fineLabels == images.fineLabels)
            #expect(a.images.coarseLabels == images.fineLabels!.map { $0 < 3 ? 1 : 0 })
            #expect(a.note?.hasPrefix("\(animals): 6 of its 6 classes are not the model's (e.g. 'cat')") == true)
            // The model's own classes in its order: nothing to say.
            let same = dir.file("same.h5")
            try Self.write(same, names: model.fineNames, images)
            let s = try DatasetLoader.split(nil, of: same, forModel: model)
            #expect(s.note == nil && s.images.fineLabels == images.fineLabels)
        }
    }
}

extension HDF5Tests {
    /// Files whose parts of one split carry other labels cannot be merged: the error names the file.
    @Suite struct MergeLabelTests {
        @Test func aPartWithoutCoarseLabelsIsNamed() throws {
            let dir = TempDir()
            let names = (0..<6).map { "digit \($0)" }
            let a = dir.file("a.h5"), b = dir.file("b.h5")
            try ClassMatchingTests.write(a, names: names, parents: ["even", "odd"], parentOfFine: (0..<6).map { $0 % 2 },
                                         makeImages(count: 10, seed: 1))
            try ClassMatchingTests.write(b, names: names, parents: ["even", "odd"], parentOfFine: (0..<6).map { $0 % 2 },
                                         makeImages(count: 10, seed: 2, coarse: false))
            let out = dir.file("m.h5")
            let sink = try DatasetWriter(path: out)
            #expect(throws: DataError.badInput(path: b, expected: "split 'test' with fine labels present, coarse labels present (as in \(a))",
                                               found: "fine labels present, coarse labels absent")) {
                try DatasetMerge.merge([a, b], into: sink)
            }
            sink.abort()
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
