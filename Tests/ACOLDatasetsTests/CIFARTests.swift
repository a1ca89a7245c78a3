import Foundation
import Testing
import ACOL
import ACOLDatasets

/// The fixture formula (Scripts/make_dataset_fixtures.py): record g, pixel (y, x, c).
func cifarPixel(_ g: Int, _ y: Int, _ x: Int, _ c: Int) -> UInt8 { UInt8((g * 31 + y * 8 + x * 5 + c * 70) % 256) }

func expectCIFARPixels(_ set: ImageSet, records: [Int]) {
    #expect(set.height == 32 && set.width == 32 && set.channels == 3)
    for (i, g) in records.enumerated() {
        for (y, x) in [(0, 0), (0, 31), (5, 17), (31, 0), (31, 31)] {
            for c in 0..<3 {
                #expect(set.pixels[i * 3072 + (y * 32 + x) * 3 + c] == cifarPixel(g, y, x, c), "record \(g) (\(y), \(x), \(c))")
            }
        }
    }
}

@Suite struct CIFARTests {
    @Test func cifar10Folder() throws {
        // the parent folder holding cifar-10-batches-bin/ is found too
        for input in [fixture("cifar/cifar-10-batches-bin"), fixture("cifar")] {
            let (sink, summary) = try convert([input], ConvertOptions(format: input.hasSuffix("cifar") ? .cifar10 : nil, batchSize: 2))
            let train = try #require(sink.split("train")), test = try #require(sink.split("test"))
            #expect(train.count == 5 && test.count == 2)
            #expect(train.fineLabels == [0, 3, 6, 9, 2])
            #expect(test.fineLabels == [9, 8])
            expectCIFARPixels(train, records: [0, 1, 2, 3, 4])
            expectCIFARPixels(test, records: [100, 101])
            #expect(summary.labels.fineNames == ClassNames.cifar10)
            #expect(summary.format == .cifar10)
            #expect(summary.split("train")?.perClass == [1, 0, 1, 1, 0, 0, 1, 0, 0, 1])
        }
    }

    @Test func cifar100FolderBringsItsParents() throws {
        let (sink, summary) = try convert([fixture("cifar/cifar-100-binary")])
        let train = try #require(sink.split("train")), test = try #require(sink.split("test"))
        #expect(train.fineLabels == [0, 4, 99, 0] && train.coarseLabels == [4, 0, 13, 4])
        #expect(test.fineLabels == [98, 4] && test.coarseLabels == [14, 0])
        expectCIFARPixels(train, records: [200, 201, 202, 203])
        expectCIFARPixels(test, records: [300, 301])
        let l = summary.labels
        #expect(l.fineNames.count == 100 && l.parentNames.count == 20)
        #expect(l.fineNames[0] == "apple" && l.fineNames[99] == "worm" && l.parentNames[13] == "non-insect_invertebrates")
        #expect(l.parentOfFine == ClassNames.cifar100ParentOfFine)
        #expect(Set(ClassNames.cifar100Fine).count == 100)
        #expect((0..<20).allSatisfy { p in l.parentOfFine.filter { $0 == p }.count == 5 })
        #expect(summary.split("train")?.perParent[4] == 2)
        #expect(summary.warnings.isEmpty)
    }

    @Test func explicitFilesGoToSplitsByName() throws {
        let d = fixture("cifar/cifar-10-batches-bin/")
        let (sink, _) = try convert([d + "test_batch.bin", d + "data_batch_2.bin"])
        #expect(sink.splits.map(\.name) == ["train", "test"])
        #expect(sink.split("train")?.fineLabels == [9, 2])
        let (one, _) = try convert([d + "data_batch_1.bin", d + "test_batch.bin"], ConvertOptions(split: "all"))
        #expect(one.splits.map(\.name) == ["all"] && one.split("all")?.count == 5)
    }

    @Test func badCIFARFiles() throws {
        try withTempDir { dir in
            var rec = [UInt8](repeating: 7, count: 3073); rec[0] = 3
            try write(rec + rec.dropLast(100), dir + "/a/data_batch_1.bin")
            guard case .truncated(_, let e, let f)? = conversionError([dir + "/a"]) else { Issue.record("no truncated"); return }
            #expect(e.contains("3073-byte") && f.contains("1 records and 2973 bytes"))
            rec[0] = 10
            try write(rec + rec, dir + "/b/data_batch_1.bin")
            #expect(conversionError([dir + "/b"]) == .labelOutOfRange(path: dir + "/b/data_batch_1.bin", index: 0, value: 10, valid: 0...9))
            // CIFAR-100: coarse 20 is out of range; a fine class under two superclasses is refused
            var r100 = [UInt8](repeating: 1, count: 3074); r100[0] = 20; r100[1] = 5
            try write(r100, dir + "/c/train.bin")
            #expect(conversionError([dir + "/c"]) == .labelOutOfRange(path: dir + "/c/train.bin", index: 0, value: 20, valid: 0...19))
            var r1 = r100; r1[0] = 6; var r2 = r100; r2[0] = 7
            try write(r1 + r2, dir + "/d/train.bin")
            guard case .labelMismatch(_, let exp, let found)? = conversionError([dir + "/d"]) else { Issue.record("no mismatch"); return }
            #expect(exp.contains("fine class 5 in superclass 6") && found == "superclass 7 in record 1")
            try write([], dir + "/e/test_batch.bin")
            guard case .truncated? = conversionError([dir + "/e"]) else { Issue.record("empty batch"); return }
        }
    }
}

@Suite struct CIFARSpellingTests {
    /// data_batch_1 and data_batch_1.bin in one folder are one batch: the .bin one is read once,
    /// the other named in a warning (it was read as well, duplicating its images).
    @Test func twoSpellingsOfOneBatchAreReadOnce() throws {
        try withTempDir { dir in
            let src = fixture("cifar/cifar-10-batches-bin")
            for n in ["batches.meta.txt", "data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"] {
                try FileManager.default.copyItem(atPath: src + "/" + n, toPath: dir + "/" + n)
            }
            try FileManager.default.copyItem(atPath: src + "/data_batch_1.bin", toPath: dir + "/data_batch_1")
            try FileManager.default.copyItem(atPath: src + "/test_batch.bin", toPath: dir + "/test_batch")
            let (sink, summary) = try convert([dir])
            #expect(sink.split("train")?.count == 5 && sink.split("test")?.count == 2)
            #expect(sink.split("train")?.fineLabels == [0, 3, 6, 9, 2])
            #expect(summary.warnings.contains { $0.contains("data_batch_1.bin and data_batch_1 are all training batch 1; using data_batch_1.bin") })
            #expect(summary.warnings.contains { $0.contains("test_batch.bin and test_batch are all the test batch") })
        }
    }
}

@Suite struct ArchiveInputTests {
    /// The CIFAR download itself (a .tar.gz), a tar or a zip given to convert: the error says what
    /// the file is and to extract it, instead of showing its first bytes.
    @Test func archivesAreNamedWithAdvice() throws {
        try withTempDir { dir in
            let batch = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture("cifar/cifar-10-batches-bin/test_batch.bin"))))
            // A one-member ustar archive: a 512-byte header (name, mode, sizes in octal, "ustar" at 257).
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int) { for (i, b) in text.utf8.enumerated() { header[offset + i] = b } }
            put("cifar-10-batches-bin/test_batch.bin", at: 0)
            put("0000644", at: 100)
            put(String(batch.count, radix: 8).leftPadded(to: 11), at: 124)
            put("ustar", at: 257)
            let tar = header + batch + [UInt8](repeating: 0, count: (512 - batch.count % 512) % 512 + 1024)
            try write(tar, dir + "/cifar.tar")
            try writeGz(tar, dir + "/cifar-10-binary.tar.gz")
            try write([0x50, 0x4b, 0x03, 0x04] + [UInt8](repeating: 0, count: 60), dir + "/cifar.zip")
            let expected = [("cifar.tar", "a tar archive: extract it first and convert the folder it holds (tar xf)"),
                            ("cifar-10-binary.tar.gz", "a gzip-compressed tar archive: extract it first and convert the folder it holds (tar xzf)"),
                            ("cifar.zip", "a zip archive: extract it first and convert the folder it holds (unzip)")]
            for (name, found) in expected {
                let e = conversionError([dir + "/" + name])
                #expect(e?.errorDescription == "\(dir)/\(name): unknown layout: expected an IDX, CIFAR binary, MATLAB .mat or PNG file, found \(found)")
            }
        }
    }

    /// A batch of CIFAR's python version (a pickle) under a binary batch's name: named as a
    /// pickle with the version to use (it was reported as truncated binary records).
    @Test func aPickledBatchIsNamed() throws {
        try withTempDir { dir in
            // Protocol 2's opening (0x80 0x02, then an empty dict), padded to a size that is no
            // whole number of records.
            // Protocols 0 and 1 (Python 2's pickle.dump default, and its binary one) start with
            // "(dp" and "}q" instead: named too (were "truncated" binary records).
            for head in [[0x80, 0x02, 0x7d, 0x71, 0x00], Array("(dp0\nS'data'\n".utf8), [0x7d, 0x71, 0x00, 0x28]] as [[UInt8]] {
                try write(head + [UInt8](repeating: 0x2e, count: 18_669), dir + "/data_batch_1")
                let e = conversionError([dir + "/data_batch_1"])
                #expect(e?.errorDescription == "\(dir)/data_batch_1: unknown layout: expected CIFAR binary records, found a Python pickle (CIFAR's python version): "
                        + "use the binary version (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz), whose batches acol reads", "\(head)")
            }
        }
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
