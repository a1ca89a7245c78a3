import Foundation
import Testing
import ACOL
import ACOLDatasets

/// The fixture formula (Scripts/make_dataset_fixtures.py): image k, 8 wide, 6 high.
func pngPixel(_ k: Int, _ y: Int, _ x: Int, _ c: Int) -> UInt8 { UInt8((y * 16 + x * 3 + c * 50 + k * 7) % 256) }
func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    let y: Int = 299 * Int(r) + 587 * Int(g) + 114 * Int(b) + 500
    return UInt8(y / 1000)
}

@Suite struct PNGTests {
    let kinds = ["a_grey8", "b_rgb", "c_rgba", "d_palette", "e_grey16", "f_greyalpha"]

    @Test func decodeEveryKindAsRGB() throws {
        for kind in kinds {
            for k in 0..<2 {
                let img = try PNGDecoder.decode(path: fixture("png/flat/\(kind)/\(k).png"), channels: 3)
                #expect(img.height == 6 && img.width == 8 && img.channels == 3)
                let grey = ["a_grey8", "e_grey16", "f_greyalpha"].contains(kind)
                for y in 0..<6 { for x in 0..<8 { for c in 0..<3 {
                    let want = pngPixel(k, y, x, grey ? 0 : c)
                    if img.pixels[(y * 8 + x) * 3 + c] != want {
                        Issue.record("\(kind)/\(k) (\(y), \(x), \(c)): \(img.pixels[(y * 8 + x) * 3 + c]) != \(want)"); return
                    }
                } } }
            }
        }
    }

    @Test func nativeChannelsAndConversions() throws {
        let native = try kinds.map { try PNGDecoder.decode(path: fixture("png/flat/\($0)/1.png")).channels }
        #expect(native == [1, 3, 4, 3, 1, 2])
        let rgba = try PNGDecoder.decode(path: fixture("png/flat/c_rgba/1.png"))
        #expect(rgba.pixels[(2 * 8 + 5) * 4 + 3] == pngPixel(1, 2, 5, 3))
        let grey = try PNGDecoder.decode(path: fixture("png/flat/b_rgb/1.png"), channels: 1)
        #expect(grey.pixels[2 * 8 + 5] == luma(pngPixel(1, 2, 5, 0), pngPixel(1, 2, 5, 1), pngPixel(1, 2, 5, 2)))
        let ga = try PNGDecoder.decode(path: fixture("png/flat/a_grey8/0.png"), channels: 4)
        #expect(ga.pixels[(3 * 8 + 1) * 4 ..< (3 * 8 + 1) * 4 + 4] == [pngPixel(0, 3, 1, 0), pngPixel(0, 3, 1, 0), pngPixel(0, 3, 1, 0), 255])
        let info = try PNGDecoder.info(path: fixture("png/flat/f_greyalpha/0.png"))
        #expect(info.height == 6 && info.width == 8 && info.channels == 2)
    }

    @Test func flatFolderTakesTheFirstImagesChannels() throws {
        let (sink, summary) = try convert([fixture("png/flat")])
        let train = try #require(sink.split("train"))
        #expect(sink.splits.map(\.name) == ["train"])
        #expect(train.count == 12 && train.channels == 1 && train.height == 6 && train.width == 8)
        #expect(summary.labels.fineNames == kinds)
        #expect(train.fineLabels == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(summary.labels.parentNames.isEmpty && train.coarseLabels == nil)
        // image 3 is b_rgb/1.png: luma of the formula
        #expect(train.pixels[3 * 48 + 4 * 8 + 6] == luma(pngPixel(1, 4, 6, 0), pngPixel(1, 4, 6, 1), pngPixel(1, 4, 6, 2)))
        // What the first image's channel count drops is said, once for the colour, once for alpha.
        let colour = summary.warnings.filter { $0.contains("images are in colour") }
        #expect(colour.count == 1 && colour[0].contains("(e.g. \(fixture("png/flat"))/b_rgb/0.png)")
                && colour[0].contains("but the first, \(fixture("png/flat"))/a_grey8/0.png, is grey") && colour[0].contains("--channels 3"), "\(colour)")
        let alpha = summary.warnings.filter { $0.contains("have an alpha channel") }
        #expect(alpha.count == 1 && alpha[0].contains("--channels 2"), "\(alpha)")
        let (rgba, rgbaSummary) = try convert([fixture("png/flat")], ConvertOptions(channels: 4, parents: try ParentSpec.parse("0+4+5:grey,1-3:colour")))
        let t = try #require(rgba.split("train"))
        #expect(t.channels == 4)
        #expect(!rgbaSummary.warnings.contains { $0.contains("images are in colour") || $0.contains("alpha channel") })
        #expect(t.coarseLabels == [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
        #expect(t.pixels[5 * 192 + (1 * 8 + 2) * 4 + 3] == pngPixel(1, 1, 2, 3))   // c_rgba/1.png alpha
        #expect(t.pixels[11 * 192 + (1 * 8 + 2) * 4 + 3] == pngPixel(1, 1, 2, 3))  // f_greyalpha/1.png alpha
    }

    @Test func twoLevelFolderBringsParents() throws {
        let (sink, summary) = try convert([fixture("png/tree")])
        let train = try #require(sink.split("train"))
        #expect(summary.labels.fineNames == ["cat", "dog", "car"])
        #expect(summary.labels.parentNames == ["animals", "vehicles"])
        #expect(summary.labels.parentOfFine == [0, 0, 1])
        #expect(train.fineLabels == [0, 0, 1, 1, 2, 2] && train.coarseLabels == [0, 0, 0, 0, 1, 1])
        #expect(summary.split("train")?.perParent == [4, 2])
    }

    @Test func trainAndTestSubfoldersAreSplits() throws {
        let (sink, summary) = try convert([fixture("png/splits")])
        #expect(sink.splits.map(\.name) == ["train", "test"])
        #expect(sink.split("train")?.count == 6 && sink.split("test")?.count == 2)
        #expect(sink.split("test")?.fineLabels == [0, 1])
        #expect(summary.channels == 3)
        #expect(summary.split("train")?.perClass == [3, 3])
    }

    @Test func sizesDifferUnlessResized() throws {
        let e = try #require(conversionError([fixture("png/sizes")]))
        guard case .imageSizeMismatch(let p, _, let found) = e else { Issue.record("\(e)"); return }
        #expect(p.hasSuffix("sizes/a/1.png") && found == "16x12")
        #expect(e.localizedDescription.contains("resize"))
        for mode in [ResizeMode.nearest, .bilinear] {
            let (sink, _) = try convert([fixture("png/sizes")], ConvertOptions(resize: mode))
            let s = try #require(sink.split("train"))
            #expect(s.count == 2 && s.height == 6 && s.width == 8)
            #expect(s.pixels[0..<48] == (try PNGDecoder.decode(path: fixture("png/sizes/a/0.png"))).pixels[0..<48])
            // 16x12 -> 8x6 is an exact factor 2: nearest takes (2y + 1, 2x + 1), bilinear averages 2x2
            let v = { (y: Int, x: Int) in Double((y * 8 + x) % 256) }
            let (y, x) = (2, 3)
            let want = mode == .nearest ? v(2 * y + 1, 2 * x + 1)
                : ((v(2 * y, 2 * x) + v(2 * y, 2 * x + 1) + v(2 * y + 1, 2 * x) + v(2 * y + 1, 2 * x + 1)) / 4).rounded()
            #expect(Double(s.pixels[48 + y * 8 + x]) == want)
        }
        // an explicit size resizes every image
        let (sink, _) = try convert([fixture("png/splits")], ConvertOptions(height: 3, width: 4, resize: .bilinear))
        #expect(sink.split("train")?.height == 3 && sink.split("train")?.pixels.count == 6 * 3 * 4 * 3)
    }

    @Test func aFileThatIsNotAPNG() throws {
        let e = try #require(conversionError([fixture("png/bad")]))
        #expect(e == .notPNG(path: fixture("png/bad/a/1.png"), found: "text 'this is not a PN...'"))
        #expect(e.localizedDescription == fixture("png/bad/a/1.png") + ": expected a PNG image, found text 'this is not a PN...'")
        let (sink, summary) = try convert([fixture("png/bad")], ConvertOptions(skipBadFiles: true))
        #expect(sink.split("train")?.count == 2)
        #expect(summary.warnings.count == 1 && summary.warnings[0].contains("bad/a/1.png"))
        #expect(throws: DatasetError.self) { try PNGDecoder.decode(path: fixture("png/bad/a/1.png")) }
    }

    @Test func damagedAndOddFolders() throws {
        try withTempDir { dir in
            // a PNG cut in the middle of its data: the header passes, decoding fails with a message
            var png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("png/flat/b_rgb/0.png"))))
            png.removeLast(png.count - 45)
            try write(png, dir + "/cut/a/0.png")
            let e = try #require(conversionError([dir + "/cut"]))
            guard case .notPNG(let p, let found) = e else { Issue.record("\(e)"); return }
            #expect(p.hasSuffix("cut/a/0.png") && found.contains("damaged"))
            // an absurd IHDR (width 2^30) is refused from the header
            var big = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("png/flat/a_grey8/0.png"))))
            big.replaceSubrange(16..<20, with: be32(1 << 30))
            try write(big, dir + "/big/a/0.png")
            guard case .badHeader(_, _, let f)? = conversionError([dir + "/big"]) else { Issue.record("no badHeader"); return }
            #expect(f == "1073741824x6")
            // PNGs not inside class folders; an empty class folder; unreadable folder contents
            try FileManager.default.copyItem(atPath: fixture("png/flat/a_grey8/0.png"), toPath: dir + "/x.png")
            try FileManager.default.createDirectory(atPath: dir + "/loose/sub", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: fixture("png/flat/a_grey8/0.png"), toPath: dir + "/loose/0.png")
            try FileManager.default.copyItem(atPath: fixture("png/flat/a_grey8/0.png"), toPath: dir + "/loose/sub/0.png")
            guard case .unknownLayout? = conversionError([dir + "/loose"], ConvertOptions(format: .png)) else { Issue.record("loose"); return }
            guard case .unknownLayout? = conversionError([dir + "/x.png"]) else { Issue.record("single file"); return }
            try FileManager.default.createDirectory(atPath: dir + "/noclasses/a", withIntermediateDirectories: true)
            guard case .emptyFolder? = conversionError([dir + "/noclasses"], ConvertOptions(format: .png)) else { Issue.record("empty"); return }
        }
    }

    @Test func encoderRoundTripsAndIsAtomic() throws {
        try withTempDir { dir in
            for c in 1...4 {
                let px = (0..<(5 * 7 * c)).map { UInt8(($0 * 37) % 256) }
                let path = dir + "/out\(c).png"
                try PNGEncoder.write(path: path, width: 7, height: 5, channels: c, pixels: px)
                let back = try PNGDecoder.decode(path: path)
                #expect(back.height == 5 && back.width == 7 && back.channels == c && back.pixels == px)
            }
            #expect(throws: DatasetError.self) { try PNGEncoder.write(path: dir + "/bad.png", width: 7, height: 5, channels: 3, pixels: [1, 2]) }
            #expect(throws: DataError.self) { try PNGEncoder.write(path: dir + "/nofolder/x.png", width: 1, height: 1, channels: 1, pixels: [1]) }
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            #expect(left == ["out1.png", "out2.png", "out3.png", "out4.png"])   // no temporary files left
        }
    }
}

/// `PNGBatchDecoder` gives the same batches (images, order, errors) whether it decodes one
/// batch ahead on its own thread or on a caller's runner in `next()`.
@Suite struct PNGBatchDecoderTests {
    @Test func aRunnerGivesTheSameBatches() throws {
        try withTempDir { dir in
            var files: [String] = []
            for i in 0..<23 {
                let path = "\(dir)/\(String(format: "%02d", i)).png"
                if i == 5 || i == 17 {
                    try write(Array("not a png \(i)".utf8), path)
                } else {
                    let px = (0..<12).map { UInt8(truncatingIfNeeded: $0 * 7 + i * 13) }
                    try PNGEncoder.write(path: path, width: 4, height: 3, channels: 1, pixels: px)
                }
                files.append(path)
            }
            func batches(_ runner: PNGBatchDecoder.PartsRunner?) -> [(paths: [String], pixels: [UInt8], decoded: [Int], errors: [Int])] {
                let d = PNGBatchDecoder(files: files, height: 3, width: 4, channels: 1, batchSize: 5, threads: 2, parallel: runner)
                var out: [(paths: [String], pixels: [UInt8], decoded: [Int], errors: [Int])] = []
                while let b = d.next() { out.append((b.paths, b.images.pixels, b.decoded, b.errors.map(\.index))) }
                return out
            }
            nonisolated(unsafe) var calls = 0
            let background = batches(nil)
            let onRunner = batches { parts, body in
                calls += 1
                for p in (0..<parts).reversed() { body(p) }
            }
            #expect(calls == 5)
            #expect(background.count == 5 && onRunner.count == 5)
            for (a, b) in zip(background, onRunner) {
                #expect(a.paths == b.paths && a.pixels == b.pixels && a.decoded == b.decoded && a.errors == b.errors)
            }
            #expect(background[1].errors == [0] && background[3].errors == [2])
            #expect(background.map(\.decoded.count).reduce(0, +) == 21)
        }
    }
}

@Suite struct PNGFolderNameTests {
    /// A class folder whose name is not UTF-8 is refused, naming it (it was left out silently,
    /// with its images); so is such a file inside a class folder.
    @Test func namesThatAreNotUTF8AreRefused() throws {
        try withTempDir { dir in
            let png = fixture("mnist-png/000-digit7.png")
            for c in ["a", "b"] {
                try FileManager.default.createDirectory(atPath: dir + "/" + c, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: png, toPath: dir + "/\(c)/x.png")
            }
            // "c\xfe": not UTF-8, made through the C call (a Swift String cannot hold it).
            let bad = Array((dir + "/c").utf8CString.dropLast()) + [CChar(bitPattern: 0xfe), 0]
            #expect(mkdir(bad, 0o755) == 0)
            defer { rmdir(bad) }
            let e = conversionError([dir])
            #expect(e?.errorDescription == "\(dir)/c\\xfe: cannot read: the name is not valid UTF-8; rename it")
            rmdir(bad)
            // The same name for a file inside a class folder.
            let file = Array((dir + "/a/y").utf8CString.dropLast()) + [CChar(bitPattern: 0xfe)] + Array(".png".utf8CString)
            let fd = open(file, O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0)
            close(fd)
            defer { unlink(file) }
            #expect(conversionError([dir])?.errorDescription == "\(dir)/a/y\\xfe.png: cannot read: the name is not valid UTF-8; rename it")
            unlink(file)
            #expect(conversionError([dir]) == nil)
        }
    }

    /// A folder whose only class folder holds a name that is not UTF-8: the error names that
    /// file (the layout detection swallowed it and said "unknown layout").
    @Test func aBadNameInTheOnlyClassFolderIsNamed() throws {
        try withTempDir { dir in
            try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: fixture("mnist-png/000-digit7.png"), toPath: dir + "/a/one.png")
            let file = Array((dir + "/a/bad").utf8CString.dropLast()) + [CChar(bitPattern: 0xff)] + Array(".png".utf8CString)
            let fd = open(file, O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0)
            close(fd)
            defer { unlink(file) }
            #expect(conversionError([dir])?.errorDescription == "\(dir)/a/bad\\xff.png: cannot read: the name is not valid UTF-8; rename it")
        }
    }

    /// With --skip-bad, a first file whose header is fine but whose pixels are not (a palette
    /// index past the palette) is skipped before it sets the channels: the grey images after it
    /// make a grey data set (was RGB, from the skipped palette image).
    @Test func aSkippedFirstFileDoesNotSetTheChannels() throws {
        try withTempDir { dir in
            let badPalette = PNGBuild.png(width: 2, height: 2, colorType: 3, rows: [[7, 0], [1, 2]], palette: [UInt8](repeating: 90, count: 12))
            try write(badPalette, dir + "/a/0-bad.png")
            let grey = PNGBuild.png(width: 2, height: 2, colorType: 0, rows: [[10, 20], [30, 40]])
            try write(grey, dir + "/a/1-good.png")
            try write(grey, dir + "/b/0.png")
            let (sink, summary) = try convert([dir], ConvertOptions(skipBadFiles: true))
            #expect(sink.description?.channels == 1)
            #expect(sink.split("train")?.count == 2)
            #expect(summary.warnings.contains { $0.contains("0-bad.png") })
            #expect(!summary.warnings.contains { $0.contains("in colour") }, "\(summary.warnings)")
        }
    }

    /// A bit depth the PNG specification does not allow for the colour type is refused from the
    /// header, naming what is allowed (so --skip-bad skips it before it counts as a colour image).
    @Test func bitDepthsTheColourTypeDoesNotAllowAreRefused() throws {
        try withTempDir { dir in
            for (ct, depth, allowed) in [(3, 16, "1, 2, 4, 8"), (2, 4, "8, 16"), (6, 1, "8, 16"), (4, 2, "8, 16")] as [(UInt8, UInt8, String)] {
                let p = dir + "/c\(ct)-d\(depth).png"
                try write(PNGBuild.png(width: 1, height: 1, colorType: ct, rows: [[0, 0, 0, 0]], bitDepth: depth), p)
                var e: DatasetError?
                do { _ = try PNGDecoder.decode(path: p) } catch let x as DatasetError { e = x }
                #expect(e?.errorDescription?.contains("a bit depth of \(allowed) for PNG colour type \(ct)") == true, "\(String(describing: e))")
                #expect(e?.errorDescription?.contains(p) == true)
            }
        }
    }

    /// With --skip-bad, the "images are in colour" warning counts only the images converted: a
    /// palette PNG whose data are damaged (its header is fine) is skipped when decoded and not
    /// counted; an intact colour image still is.
    @Test func theColourWarningCountsOnlyConvertedImages() throws {
        try withTempDir { dir in
            let grey = PNGBuild.png(width: 2, height: 2, colorType: 0, rows: [[10, 20], [30, 40]])
            try write(grey, dir + "/a/0.png")
            try write(grey, dir + "/b/0.png")
            try write(PNGBuild.png(width: 2, height: 2, colorType: 3, rows: [[7, 0], [1, 2]], palette: [UInt8](repeating: 90, count: 12)),
                      dir + "/a/1-bad.png")
            let (_, onlyBad) = try convert([dir], ConvertOptions(skipBadFiles: true))
            #expect(onlyBad.warnings.contains { $0.contains("1-bad.png") && $0.hasPrefix("skipped") })
            #expect(!onlyBad.warnings.contains { $0.contains("in colour") }, "\(onlyBad.warnings)")
            try write(PNGBuild.png(width: 2, height: 2, colorType: 2, rows: [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]), dir + "/b/1-rgb.png")
            let (_, withColour) = try convert([dir], ConvertOptions(skipBadFiles: true))
            #expect(withColour.warnings.contains { $0.hasPrefix("1 images are in colour (e.g. \(dir)/b/1-rgb.png)") }, "\(withColour.warnings)")
        }
    }
}
