import Foundation
import Testing
import ACOL
import ACOLDatasets

func svhnPixel(_ n: Int, _ y: Int, _ x: Int, _ c: Int) -> UInt8 { UInt8((n * 37 + y * 7 + x * 3 + c * 60) % 256) }

@Suite struct SVHNTests {
    @Test func plainAndCompressedMatFiles() throws {
        let (sink, summary) = try convert([fixture("svhn")])
        let train = try #require(sink.split("train")), test = try #require(sink.split("test"))
        #expect(train.count == 5 && test.count == 3)
        #expect(train.fineLabels == [0, 1, 2, 3, 0])   // 10 means 0
        #expect(test.fineLabels == [5, 0, 9])
        for (set, n) in [(train, 5), (test, 3)] {
            #expect(set.height == 32 && set.width == 32 && set.channels == 3)
            for i in 0..<n {
                for (y, x) in [(0, 0), (0, 31), (7, 19), (31, 2), (31, 31)] {
                    for c in 0..<3 { #expect(set.pixels[i * 3072 + (y * 32 + x) * 3 + c] == svhnPixel(i, y, x, c)) }
                }
            }
        }
        #expect(summary.format == .svhn)
        #expect(summary.labels.fineNames == ClassNames.digits)
    }

    @Test func singleFileAndGreyOption() throws {
        let (sink, _) = try convert([fixture("svhn/test_32x32.mat")], ConvertOptions(channels: 1, batchSize: 2))
        let t = try #require(sink.split("test"))
        #expect(t.channels == 1 && t.count == 3)
        let (r, g, b) = (Int(svhnPixel(2, 4, 5, 0)), Int(svhnPixel(2, 4, 5, 1)), Int(svhnPixel(2, 4, 5, 2)))
        let y: Int = 299 * r + 587 * g + 114 * b + 500
        #expect(Int(t.pixels[2 * 1024 + 4 * 32 + 5]) == y / 1000)
    }

    @Test func v73FilesAreRefused() throws {
        try withTempDir { dir in
            var head = Array("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .".utf8)
            head += [UInt8](repeating: 0x20, count: 116 - head.count) + [UInt8](repeating: 0, count: 8) + [0, 2, 0x49, 0x4D]
            try write(head + [UInt8](repeating: 0, count: 512 - 128) + [0x89] + Array("HDF\r\n".utf8) + [0x1a, 0x0a], dir + "/train_32x32.mat")
            let e = try #require(conversionError([dir]))
            guard case .unsupported(let p, _, let found) = e else { Issue.record("\(e)"); return }
            #expect(p.hasSuffix("train_32x32.mat") && found.contains("7.3"))
        }
    }

    @Test func truncatedAndInconsistentMatFiles() throws {
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("svhn/train_32x32.mat"))))
        let goodZ = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("svhn/test_32x32.mat"))))
        try withTempDir { dir in
            try write(Array(good.prefix(good.count - 200)), dir + "/a/train_32x32.mat")
            let e = try #require(conversionError([dir + "/a"]))
            guard case .wrongLength = e else { Issue.record("\(e)"); return }
            try write(Array(goodZ.prefix(goodZ.count - 60)), dir + "/b/test_32x32.mat")
            let e2 = try #require(conversionError([dir + "/b"]))
            switch e2 { case .wrongLength, .truncated, .corrupt: break; default: Issue.record("\(e2)") }
            try write(Array(good.prefix(100)), dir + "/c/train_32x32.mat")
            guard case .truncated? = conversionError([dir + "/c"]) else { Issue.record("short header"); return }
            try write(Array("MATLAB is not here".utf8), dir + "/d/x.mat")
            #expect(conversionError([dir + "/d"]) != nil)
            // y is the last variable of the plain fixture: 5 doubles; make the last one 11
            var bad = good
            withUnsafeBytes(of: Double(11).bitPattern.littleEndian) { bad.replaceSubrange((bad.count - 8)..., with: $0) }
            try write(bad, dir + "/f/train_32x32.mat")
            #expect(conversionError([dir + "/f"]) == .labelOutOfRange(path: dir + "/f/train_32x32.mat", index: 4, value: 11, valid: 0...10))
            try write(Array("not a mat file at all".utf8), dir + "/e/train_32x32.mat")
            guard case .badMagic? = conversionError([dir + "/e"], ConvertOptions(format: .svhn)) else { Issue.record("magic"); return }
        }
    }
}
