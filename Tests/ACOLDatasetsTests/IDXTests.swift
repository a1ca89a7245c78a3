import Foundation
import Testing
import ACOL
import ACOLDatasets

@Suite struct IDXTests {
    @Test func mnistFixtureFolder() throws {
        let (sink, summary) = try convert([fixture("mnist-small")])
        let train = try #require(sink.split("train")), test = try #require(sink.split("test"))
        #expect(sink.splits.map(\.name) == ["train", "test"])
        #expect(train.count == 3000 && test.count == 1000)
        #expect(train.height == 28 && train.width == 28 && train.channels == 1)
        #expect(train.fineLabels!.prefix(10).map { Int($0) } == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        #expect(test.fineLabels!.prefix(10).map { Int($0) } == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        #expect(train.coarseLabels == nil)
        #expect(sink.description?.labels.fineNames == (0..<10).map(String.init))
        #expect(summary.format == .idx)
        #expect(summary.split("train")?.count == 3000)
        #expect(summary.split("train")?.perClass.reduce(0, +) == 3000)
        #expect(summary.split("test")?.perClass.count == 10)
        // MNIST's first training image (a 5): row 14 has ink, the corners are blank.
        #expect(train.pixels[0] == 0 && train.pixels[783] == 0)
        #expect(train.pixels[(14 * 28)..<(15 * 28)].contains { $0 > 200 })
    }

    @Test func plainCopyGivesIdenticalPixels() throws {
        let (gz, _) = try convert([fixture("mnist-small")])
        try withTempDir { dir in
            // Plain files with the '.' spelling of the names.
            for (src, dst) in [("train-images-idx3-ubyte.gz", "train-images.idx3-ubyte"), ("train-labels-idx1-ubyte.gz", "train-labels.idx1-ubyte"),
                               ("t10k-images-idx3-ubyte.gz", "t10k-images.idx3-ubyte"), ("t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte")] {
                try write(try GzipFiles.readAll(path: fixture("mnist-small/" + src)), dir + "/" + dst)
            }
            let (plain, summary) = try convert([dir])
            #expect(plain.split("train") == gz.split("train"))
            #expect(plain.split("test") == gz.split("test"))
            #expect(summary.warnings.isEmpty)
            // A .gz copy of one file beside the plain one: the plain one is used, and said.
            try FileManager.default.copyItem(atPath: fixture("mnist-small/train-images-idx3-ubyte.gz"),
                                             toPath: dir + "/train-images-idx3-ubyte.gz")
            let (both, s2) = try convert([dir])
            #expect(both.split("train") == gz.split("train"))
            #expect(s2.warnings.count == 1)
            #expect(s2.warnings.first?.contains("train-images.idx3-ubyte and train-images-idx3-ubyte.gz") == true,
                    "\(s2.warnings)")
            #expect(s2.warnings.first?.contains("using train-images.idx3-ubyte") == true)
        }
    }

    /// A label file whose image file is missing leaves its split out, and a warning says so.
    @Test func anOrphanLabelFileIsNamed() throws {
        try withTempDir { dir in
            for f in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
                try FileManager.default.copyItem(atPath: fixture("mnist-small/" + f), toPath: dir + "/" + f)
            }
            let (sink, summary) = try convert([dir])
            #expect(sink.split("train") == nil && sink.split("test")?.count == 1000)
            #expect(summary.warnings.count == 1)
            #expect(summary.warnings.first?.contains("train-labels-idx1-ubyte.gz has no train-images-idx3-ubyte[.gz] next to it; the train split is left out") == true,
                    "\(summary.warnings)")
        }
    }

    @Test func explicitFilesAndBoundedBatches() throws {
        let sink = CountingSink()
        var calls = 0
        let s = try Converter.convert(inputs: [fixture("mnist-small/t10k-images-idx3-ubyte.gz"), fixture("mnist-small/t10k-labels-idx1-ubyte.gz")],
                                      options: ConvertOptions(batchSize: 300), into: sink) { done, total in
            calls += 1; #expect(total == 1000); #expect(done <= 1000)
        }
        #expect(sink.counts == ["test": 1000])
        #expect(sink.largestBatch == 300)
        #expect(calls == 4)
        #expect(s.splits.map(\.name) == ["test"])
    }

    @Test func parentsByDivisionAndByRanges() throws {
        let (sink, s) = try convert([fixture("mnist-small")], ConvertOptions(parents: .byDivision(2)))
        let train = try #require(sink.split("train"))
        #expect(train.coarseLabels! == train.fineLabels!.map { $0 / 5 })
        #expect(sink.description?.labels.parentNames == ["0-4", "5-9"])
        #expect(s.split("train")!.perParent.reduce(0, +) == 3000)
        let (sink2, _) = try convert([fixture("mnist-small")], ConvertOptions(parents: try ParentSpec.parse("0-4:small, 5-9:large")))
        #expect(sink2.split("test")!.coarseLabels == sink.split("test")!.coarseLabels)
        #expect(sink2.description?.labels.parentNames == ["small", "large"])
        #expect(sink2.description?.labels.parentOfFine == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    }

    @Test func channelsAndResizeOptions() throws {
        let (sink, _) = try convert([fixture("mnist-small/t10k-images-idx3-ubyte.gz"), fixture("mnist-small/t10k-labels-idx1-ubyte.gz")],
                                    ConvertOptions(channels: 3, height: 14, width: 14, resize: .nearest))
        let (orig, _) = try convert([fixture("mnist-small/t10k-images-idx3-ubyte.gz"), fixture("mnist-small/t10k-labels-idx1-ubyte.gz")])
        let t = try #require(sink.split("test")), o = try #require(orig.split("test"))
        #expect(t.height == 14 && t.channels == 3 && t.count == 1000)
        // nearest: target (y, x) <- source (2y + 1, 2x + 1); grey repeated in R, G, B
        for (y, x) in [(7, 7), (3, 10), (13, 0)] {
            let v = o.pixels[(2 * y + 1) * 28 + 2 * x + 1]
            #expect(t.pixels[(y * 14 + x) * 3] == v && t.pixels[(y * 14 + x) * 3 + 2] == v)
        }
        #expect(conversionError([fixture("mnist-small")], ConvertOptions(height: 14, width: 14)) != nil)
    }

    // MARK: bad input

    @Test func wrongMagicIsRefused() throws {
        try withTempDir { dir in
            try write(be32(0x0000_0801) + be32(1) + [3], dir + "/train-images-idx3-ubyte")
            try write(idxLabels([3]), dir + "/train-labels-idx1-ubyte")
            let e = try #require(conversionError([dir]))
            guard case .badMagic(let p, _, let found) = e else { Issue.record("\(e)"); return }
            #expect(p.hasSuffix("train-images-idx3-ubyte") && found.contains("0x00000801"))
            #expect(e.localizedDescription.contains("expected an IDX image file"))
        }
    }

    @Test func absurdHeadersAreRefusedBeforeAllocation() throws {
        try withTempDir { dir in
            // 2^31 images, 16-byte file
            try write(be32(0x803) + be32(1 << 31) + be32(28) + be32(28), dir + "/a/train-images-idx3-ubyte")
            try write(idxLabels([1]), dir + "/a/train-labels-idx1-ubyte")
            guard case .badHeader(_, let exp, let found)? = conversionError([dir + "/a"]) else { Issue.record("no badHeader"); return }
            #expect(exp.contains("2147483647") && found == "2147483648")
            // 2^31 - 1 images: passes the count check, refused by the length check
            try write(be32(0x803) + be32(UInt32(Int32.max)) + be32(28) + be32(28), dir + "/b/train-images-idx3-ubyte")
            try write(idxLabels([1]), dir + "/b/train-labels-idx1-ubyte")
            guard case .wrongLength(_, let e, let f)? = conversionError([dir + "/b"]) else { Issue.record("no wrongLength"); return }
            #expect(e == 16 + Int(Int32.max) * 784 && f == 16)
            // absurd sides
            try write(be32(0x803) + be32(1) + be32(100_000) + be32(0), dir + "/c/train-images-idx3-ubyte")
            try write(idxLabels([1]), dir + "/c/train-labels-idx1-ubyte")
            guard case .badHeader(_, _, let f2)? = conversionError([dir + "/c"]) else { Issue.record("no badHeader"); return }
            #expect(f2 == "100000x0")
            // gzip file that claims 2^30 images: refused by the compression-ratio bound
            try writeGz(be32(0x803) + be32(1 << 30) + be32(28) + be32(28), dir + "/d/train-images-idx3-ubyte.gz")
            try write(idxLabels([1]), dir + "/d/train-labels-idx1-ubyte")
            guard case .badHeader(let p, _, _)? = conversionError([dir + "/d"]) else { Issue.record("no badHeader for gz"); return }
            #expect(p.hasSuffix(".gz"))
        }
    }

    @Test func truncatedFilesAreRefused() throws {
        try withTempDir { dir in
            var img = idxImages(n: 3); img.removeLast(10)
            try write(img, dir + "/a/train-images-idx3-ubyte")
            try write(idxLabels([1, 2, 3]), dir + "/a/train-labels-idx1-ubyte")
            #expect(conversionError([dir + "/a"]) == .wrongLength(path: dir + "/a/train-images-idx3-ubyte", expectedBytes: 16 + 3 * 784, foundBytes: 16 + 3 * 784 - 10))
            // a gzip file cut short
            try writeGz(idxImages(n: 50, pixels: (0..<(50 * 784)).map { UInt8(truncatingIfNeeded: $0 * 7919 >> 3) }), dir + "/b/train-images-idx3-ubyte.gz")
            var gz = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/b/train-images-idx3-ubyte.gz")))
            gz.removeLast(gz.count / 3)
            try write(gz, dir + "/b/train-images-idx3-ubyte.gz")
            try write(idxLabels([UInt8](repeating: 1, count: 50)), dir + "/b/train-labels-idx1-ubyte")
            let e = try #require(conversionError([dir + "/b"]))
            guard case .truncated(let p, _, _) = e else { Issue.record("\(e)"); return }
            #expect(p.hasSuffix("train-images-idx3-ubyte.gz"))
            // the stream itself ends early (seen by zlib while reading, not from the trailer)
            do { _ = try GzipFiles.readAll(path: dir + "/b/train-images-idx3-ubyte.gz"); Issue.record("no error") } catch {
                guard case .truncated(_, _, let found)? = error as? DatasetError else { Issue.record("\(error)"); return }
                #expect(found.contains("ends early"))
            }
            // an empty file
            try write([], dir + "/c/train-images-idx3-ubyte")
            try write(idxLabels([1]), dir + "/c/train-labels-idx1-ubyte")
            guard case .badMagic(_, _, let found)? = conversionError([dir + "/c"]) else { Issue.record("no badMagic"); return }
            #expect(found == "an empty file")
        }
    }

    /// A gzip file of several members (concatenated .gz files; gzip and Python read them as one
    /// stream) converts as the one-member file does (its trailer states only the last member's
    /// size; it was refused as "cut short"); one cut inside a member is still refused.
    @Test func severalGzipMembersReadAsOne() throws {
        try withTempDir { dir in
            let pixels = (0..<(20 * 784)).map { UInt8(truncatingIfNeeded: $0 * 7919 >> 3) }
            let images = idxImages(n: 20, pixels: pixels), labels = idxLabels((0..<20).map { UInt8($0 % 10) })
            try writeGz(images, dir + "/one/train-images-idx3-ubyte.gz")
            try write(labels, dir + "/one/train-labels-idx1-ubyte")
            try writeGz(Array(images[..<5000]), dir + "/m1.gz")
            try writeGz(Array(images[5000...]), dir + "/m2.gz")
            let joined = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/m1.gz"))) + [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/m2.gz")))
            try write(joined, dir + "/two/train-images-idx3-ubyte.gz")
            try write(labels, dir + "/two/train-labels-idx1-ubyte")
            let (a, _) = try convert([dir + "/one"]), (b, _) = try convert([dir + "/two"])
            #expect(b.split("train")?.pixels == a.split("train")?.pixels)
            #expect(b.split("train")?.pixels == pixels)
            // The second member cut short: refused, naming the file.
            try write(Array(joined.dropLast(40)), dir + "/cut/train-images-idx3-ubyte.gz")
            try write(labels, dir + "/cut/train-labels-idx1-ubyte")
            guard case .truncated(let p, _, _)? = conversionError([dir + "/cut"]) else { Issue.record("cut member not refused"); return }
            #expect(p == dir + "/cut/train-images-idx3-ubyte.gz")
        }
    }

    @Test func countMismatchAndLabelRange() throws {
        try withTempDir { dir in
            try write(idxImages(n: 3), dir + "/a/train-images-idx3-ubyte")
            try write(idxLabels([1, 2]), dir + "/a/train-labels-idx1-ubyte")
            #expect(conversionError([dir + "/a"]) == .countMismatch(path: dir + "/a/train-labels-idx1-ubyte", expected: 3, found: 2,
                                                                   reference: dir + "/a/train-images-idx3-ubyte"))
            try write(idxImages(n: 3), dir + "/b/train-images-idx3-ubyte")
            try write(idxLabels([1, 10, 2]), dir + "/b/train-labels-idx1-ubyte")
            let e = conversionError([dir + "/b"])
            #expect(e == .labelOutOfRange(path: dir + "/b/train-labels-idx1-ubyte", index: 1, value: 10, valid: 0...9))
            #expect(e?.localizedDescription == "\(dir)/b/train-labels-idx1-ubyte: label of item 1 is 10, expected 0...9")
            // the same file is fine with 11 class names
            let (sink, _) = try convert([dir + "/b"], ConvertOptions(classNames: (0..<11).map { "c\($0)" }))
            #expect(sink.split("train")?.fineLabels == [1, 10, 2])
        }
    }

    @Test func folderErrors() throws {
        try withTempDir { dir in
            try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
            guard case .emptyFolder? = conversionError([dir + "/empty"]) else { Issue.record("empty"); return }
            try write([1, 2, 3], dir + "/odd/notes.txt")
            let e = try #require(conversionError([dir + "/odd"]))
            guard case .unknownLayout = e else { Issue.record("\(e)"); return }
            #expect(e.localizedDescription.contains("notes.txt"))
            #expect(conversionError([dir + "/missing"]) == .cannotRead(path: dir + "/missing", reason: "no such file or folder"))
            try write(idxImages(n: 1), dir + "/nolabels/train-images-idx3-ubyte")
            guard case .unknownLayout? = conversionError([dir + "/nolabels"]) else { Issue.record("no labels"); return }
        }
    }
}

@Suite struct GzipDamageTests {
    /// A gzip member whose data is damaged (its header and trailer intact): the error names the
    /// file and zlib's reason, without zlib's name for the stream ("<fd:5>").
    @Test func damagedGzipDataIsNamedByTheFile() throws {
        try withTempDir { dir in
            var g = SeededGenerator(seed: 3)
            let px = (0..<(200 * 784)).map { _ in UInt8(truncatingIfNeeded: g.next() % 7) }
            let images = dir + "/train-images-idx3-ubyte.gz", labels = dir + "/train-labels-idx1-ubyte.gz"
            try writeGz(idxImages(n: 200, pixels: px), images)
            try writeGz(idxLabels((0..<200).map { UInt8($0 % 10) }), labels)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: images)))
            for i in (bytes.count / 2)..<(bytes.count / 2 + 40) { bytes[i] ^= 0x5a }
            try write(bytes, images)
            let e = conversionError([dir])
            let text = e?.errorDescription ?? ""
            #expect(text.hasPrefix(images + ": "))
            #expect(!text.contains("<fd:"))
        }
    }
}
