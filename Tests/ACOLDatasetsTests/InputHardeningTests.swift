import Foundation
import Testing
import ACOL
@testable import ACOLDatasets
#if canImport(Glibc)
import Glibc
#endif

// Issue 9, importer side: MAT small elements, size limits before allocation, non-regular
// input files, CRLF / BOM text files, out-of-range palette indices.

// MARK: builders

/// MAT v5 (little-endian) builders: elements, small elements, matrices, files.
enum MATBuild {
    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func tag(_ t: UInt32, _ n: Int) -> [UInt8] { u32(t) + u32(UInt32(n)) }
    static func pad(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0, count: (8 - b.count % 8) % 8) }
    /// A small element: size in the upper 16 bits of the first word, data in the second.
    static func small(_ t: UInt32, _ data: [UInt8], size: Int? = nil) -> [UInt8] {
        u32(UInt32(size ?? data.count) << 16 | t) + data + [UInt8](repeating: 0, count: 4 - data.count)
    }
    static func sub(_ t: UInt32, _ data: [UInt8]) -> [UInt8] { data.count <= 4 ? small(t, data) : tag(t, data.count) + pad(data) }
    static func dims(_ d: [Int]) -> [UInt8] { tag(5, 4 * d.count) + pad(d.flatMap { u32(UInt32(bitPattern: Int32($0))) }) }
    /// A miMATRIX element; `dimsElement` replaces the dimensions sub-element.
    static func matrix(_ name: String, cls: UInt32, dims d: [Int], type: UInt32, data: [UInt8], dimsElement: [UInt8]? = nil) -> [UInt8] {
        let body = tag(6, 8) + u32(cls) + u32(0) + (dimsElement ?? dims(d)) + sub(1, Array(name.utf8)) + sub(type, data)
        return tag(14, body.count) + body
    }
    static func file(_ elements: [[UInt8]]) -> [UInt8] {
        var text = Array("MATLAB 5.0 MAT-file, Platform: test".utf8)
        text += [UInt8](repeating: 0x20, count: 116 - text.count)
        return text + [UInt8](repeating: 0, count: 8) + [0x00, 0x01, 0x49, 0x4D] + elements.flatMap { $0 }
    }
    /// X (2 x 2 x 1 x n uint8) and y (n x 1 uint8, small when n <= 4).
    static func svhn(n: Int) -> [UInt8] {
        file([matrix("X", cls: 9, dims: [2, 2, 1, n], type: 2, data: (0..<(4 * n)).map { UInt8($0) }),
              matrix("y", cls: 9, dims: [n, 1], type: 2, data: (0..<n).map { UInt8($0 + 1) })])
    }
}

/// PNG files built byte by byte (stored deflate blocks), for images libpng would not write.
enum PNGBuild {
    /// A 16-bit image of `channels` samples per pixel (row-major), optionally Adam7-interlaced
    /// (seven passes of sub-images, each row with filter byte 0).
    static func png16(width w: Int, height h: Int, colorType: UInt8, channels nc: Int, samples: [UInt16], interlaced: Bool) -> [UInt8] {
        func row(_ y: Int, _ xs: StrideTo<Int>) -> [UInt8] {
            [0] + xs.flatMap { x in (0..<nc).flatMap { c in let v = samples[(y * w + x) * nc + c]; return [UInt8(v >> 8), UInt8(v & 255)] } }
        }
        var raw: [UInt8] = []
        if interlaced {
            for (x0, y0, dx, dy) in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            where x0 < w && y0 < h {
                for y in stride(from: y0, to: h, by: dy) { raw += row(y, stride(from: x0, to: w, by: dx)) }
            }
        } else {
            for y in 0..<h { raw += row(y, stride(from: 0, to: w, by: 1)) }
        }
        let ihdr = be32(UInt32(w)) + be32(UInt32(h)) + [16, colorType, 0, 0, interlaced ? 1 : 0]
        var idat: [UInt8] = []   // stored blocks of at most 65,535 bytes
        var a: UInt32 = 1, b: UInt32 = 0
        for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        idat = [0x78, 0x01]
        var start = 0
        repeat {
            let n = min(65535, raw.count - start), last: UInt8 = start + n == raw.count ? 1 : 0
            idat += [last, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)] + raw[start..<(start + n)]
            start += n
        } while start < raw.count
        idat += be32(b << 16 | a)
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
    }

    static func crc32(_ b: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in b {
            c ^= UInt32(x)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let td = Array(type.utf8) + data
        return be32(UInt32(data.count)) + td + be32(crc32(td))
    }
    /// A zlib stream of one stored block.
    static func zlibStored(_ raw: [UInt8]) -> [UInt8] {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let n = UInt16(raw.count)
        return [0x78, 0x01, 0x01, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8(~n >> 8)] + raw + be32(b << 16 | a)
    }
    /// An 8-bit image (rows of samples, filter 0) of colour type `colorType`.
    static func png(width: Int, height: Int, colorType: UInt8, rows: [[UInt8]], palette: [UInt8]? = nil, bitDepth: UInt8 = 8,
                    extra: [[UInt8]] = []) -> [UInt8] {
        let ihdr = be32(UInt32(width)) + be32(UInt32(height)) + [bitDepth, colorType, 0, 0, 0]
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr)
        for c in extra { out += c }
        if let palette { out += chunk("PLTE", palette) }
        return out + chunk("IDAT", zlibStored(rows.flatMap { [0] + $0 })) + chunk("IEND", [])
    }
}

func makeFIFO(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    #expect(mkfifo(path, 0o600) == 0)
}

@Suite struct InputHardeningTests {
    // MARK: PNG colour-space chunks

    /// A gAMA chunk (or sRGB, cHRM, iCCP) does not change the samples: acol reads the stored
    /// values, as Pillow does (libpng's simplified API alone turned a stored 50 into 122 with
    /// gAMA 1.0). Grey and RGB, several chunks at once, and the file itself left unchanged.
    @Test func colourSpaceChunksDoNotChangeSamples() throws {
        try withTempDir { dir in
            let grey: [[UInt8]] = [[50, 200, 128], [0, 255, 7]]
            let rgb: [[UInt8]] = [[50, 200, 128, 1, 2, 3], [0, 255, 7, 90, 91, 92]]
            let gamma = { (g: UInt32) in PNGBuild.chunk("gAMA", be32(g)) }
            let cases: [(String, [UInt8], [UInt8])] = [
                ("g1", PNGBuild.png(width: 3, height: 2, colorType: 0, rows: grey, extra: [gamma(100_000)]), grey.flatMap { $0 }),
                ("g2", PNGBuild.png(width: 3, height: 2, colorType: 0, rows: grey, extra: [gamma(55_555), PNGBuild.chunk("cHRM", [UInt8](repeating: 1, count: 32))]), grey.flatMap { $0 }),
                ("g3", PNGBuild.png(width: 3, height: 2, colorType: 0, rows: grey, extra: [PNGBuild.chunk("sRGB", [0]), gamma(45_455)]), grey.flatMap { $0 }),
                ("c1", PNGBuild.png(width: 2, height: 2, colorType: 2, rows: rgb, extra: [gamma(200_000)]), rgb.flatMap { $0 }),
            ]
            for (name, bytes, expected) in cases {
                let path = dir + "/\(name).png"
                try write(bytes, path)
                let img = try PNGDecoder.decode(path: path)
                #expect(img.pixels == expected, "\(name)")
                #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
            }
        }
    }

    /// 16-bit Adam7-interlaced PNGs (libpng's simplified reader scrambled about half their rows
    /// when reducing them to 8 bits): grey, grey + alpha and RGBA decode to v / 257 rounded, the
    /// same as their non-interlaced twins (colour under alpha within 1: libpng's linear reading
    /// premultiplies it, acol divides it out). Where the alpha is 0 in 8 bits (below 129 of
    /// 65,535) too little of the colour is left to divide out (a stored 205 came back as 255 or
    /// 170): the colour is 0 there.
    @Test func sixteenBitInterlacedPNGsDecodeLikeTheirNonInterlacedTwins() throws {
        try withTempDir { dir in
            var rng = SystemRandomNumberGenerator()
            for (colorType, nc) in [(UInt8(0), 1), (4, 2), (6, 4)] {
                let w = 13, h = 11
                var samples = (0..<(w * h * nc)).map { _ in UInt16.random(in: 0...65535, using: &rng) }
                if nc == 2 || nc == 4 {   // every alpha, a third of them below 400
                    for p in 0..<(w * h) { samples[p * nc + nc - 1] = UInt16.random(in: p % 3 == 0 ? 0...400 : 0...65535, using: &rng) }
                }
                let interlaced = PNGBuild.png16(width: w, height: h, colorType: colorType, channels: nc, samples: samples, interlaced: true)
                let plain = PNGBuild.png16(width: w, height: h, colorType: colorType, channels: nc, samples: samples, interlaced: false)
                try write(interlaced, dir + "/i\(nc).png")
                try write(plain, dir + "/p\(nc).png")
                let a = try PNGDecoder.decode(path: dir + "/i\(nc).png")
                let b = try PNGDecoder.decode(path: dir + "/p\(nc).png")
                let shape = [a.height, a.width, a.channels]
                #expect(shape == [h, w, nc])
                let pa = a.pixels, pb = b.pixels
                let expected = samples.map { UInt8((UInt32($0) * 2 + 257) / 514) }
                var worstExpected = 0, worstTwin = 0, worstAlpha = 0, transparent = 0
                for i in 0..<expected.count {
                    if nc > 1 && i % nc != nc - 1 && expected[i - i % nc + nc - 1] == 0 {
                        #expect(pa[i] == 0, "colour under an alpha of 0 in 8 bits, pixel \(i / nc)")
                        transparent += 1
                        continue
                    }
                    let dExpected = abs(Int(pa[i]) - Int(expected[i])), dTwin = abs(Int(pa[i]) - Int(pb[i]))
                    if nc > 1 && i % nc == nc - 1 { worstAlpha = max(worstAlpha, dExpected, dTwin) }
                    worstExpected = max(worstExpected, dExpected); worstTwin = max(worstTwin, dTwin)
                }
                let tolerance = nc > 1 ? 1 : 0   // colour under alpha: within 1; alpha and grey exact
                #expect(worstExpected <= tolerance && worstTwin <= tolerance && worstAlpha == 0, "\(nc) channels")
                if nc > 1 { #expect(transparent > 0, "some alphas below 129") }
            }
        }
    }

    // MARK: MAT small elements (item 7)

    @Test func smallElementsAreReadWhereTheyAreValid() throws {
        try withTempDir { dir in
            // names of one letter and y of 3 uint8 labels are small elements; a small element
            // at the top level is skipped
            let bytes = MATBuild.svhn(n: 3)
            try write(bytes + MATBuild.small(2, [1, 2]), dir + "/train_32x32.mat")
            let (sink, summary) = try convert([dir + "/train_32x32.mat"])
            let train = try #require(sink.split("train"))
            #expect(train.count == 3 && train.height == 2 && train.width == 2 && train.channels == 1)
            #expect(train.fineLabels == [1, 2, 3])
            #expect(Array(train.pixels.prefix(4)) == [0, 2, 1, 3])   // column-major to row-major
            #expect(summary.format == .svhn)
        }
    }

    /// y of class char (labels saved as text) names its class instead of "no variable y";
    /// fractional labels are refused as such, not reported by their truncated value.
    @Test func labelsThatAreNotWholeNumbersAreNamed() throws {
        try withTempDir { dir in
            let x = MATBuild.matrix("X", cls: 9, dims: [2, 2, 1, 2], type: 2, data: Array(0..<8))
            // char arrays are class 4 with UTF-16 (miUINT16 = 4) data
            let yChar = MATBuild.matrix("y", cls: 4, dims: [2, 1], type: 4, data: [0x31, 0, 0x32, 0])
            try write(MATBuild.file([x, yChar]), dir + "/a/train_32x32.mat")
            let e1 = conversionError([dir + "/a/train_32x32.mat"])
            #expect(e1?.localizedDescription.contains("y of class char") == true, "\(String(describing: e1))")
            let halves = [10.5, 2.0].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
            let yFrac = MATBuild.matrix("y", cls: 6, dims: [2, 1], type: 9, data: halves)
            try write(MATBuild.file([x, yFrac]), dir + "/b/train_32x32.mat")
            let e2 = conversionError([dir + "/b/train_32x32.mat"])
            #expect(e2?.localizedDescription.contains("10.5 for item 0") == true, "\(String(describing: e2))")
            #expect(e2?.localizedDescription.contains("train_32x32.mat") == true)
        }
    }

    @Test func smallElementDimensionsAreACleanError() throws {
        try withTempDir { dir in
            // dimensions in a small element claiming 8 bytes (the crash of issue 9): 4 bytes only
            let x = MATBuild.matrix("X", cls: 9, dims: [], type: 2, data: [1, 2, 3, 4],
                                    dimsElement: MATBuild.small(5, [2, 0, 0, 0], size: 8))
            try write(MATBuild.file([x]), dir + "/a.mat")
            let e = try #require(conversionError([dir + "/a.mat"]))
            guard case .badHeader(let p, let expected, let found) = e else { Issue.record("\(e)"); return }
            #expect(p == dir + "/a.mat" && expected.contains("at most 4 bytes") && found.contains("8 bytes"))
            // a valid small element of one dimension: not 2...32 dimensions
            let x1 = MATBuild.matrix("X", cls: 9, dims: [], type: 2, data: [1, 2, 3, 4], dimsElement: MATBuild.small(5, [4, 0, 0, 0]))
            try write(MATBuild.file([x1]), dir + "/b.mat")
            guard case .badHeader(_, let e2, _)? = conversionError([dir + "/b.mat"]) else { Issue.record("1 dim"); return }
            #expect(e2.contains("dimensions"))
            // small name and real-part tags claiming more than 4 bytes
            var y = MATBuild.matrix("y", cls: 9, dims: [1, 1], type: 2, data: [3])
            y.replaceSubrange((y.count - 8)..<(y.count - 4), with: MATBuild.u32(6 << 16 | 2))
            try write(MATBuild.file([MATBuild.matrix("X", cls: 9, dims: [1, 1, 1, 1], type: 2, data: [9]), y]), dir + "/c.mat")
            guard case .badHeader(_, let e3, _)? = conversionError([dir + "/c.mat"]) else { Issue.record("small data"); return }
            #expect(e3.contains("at most 4 bytes"))
            // a small element at the top level claiming 100 bytes
            try write(MATBuild.svhn(n: 1) + MATBuild.small(2, [1], size: 100), dir + "/d.mat")
            guard case .badHeader? = conversionError([dir + "/d.mat"]) else { Issue.record("top-level small"); return }
        }
    }

    @Test func everyMatrixHeaderReadStaysInItsElement() throws {
        try withTempDir { dir in
            // a matrix element that says 16 bytes, followed by more elements: the header reads
            // must not run into them
            let good = MATBuild.svhn(n: 1)
            var bytes = Array(good.prefix(128)) + MATBuild.tag(14, 16)
            bytes += Array(good.dropFirst(128 + 8).prefix(16))   // flags tag + flags only
            bytes += Array(good.dropFirst(128))
            try write(bytes, dir + "/a.mat")
            let e = try #require(conversionError([dir + "/a.mat"]))
            guard case .truncated(let p, let expected, _) = e else { Issue.record("\(e)"); return }
            #expect(p == dir + "/a.mat" && expected.contains("16-byte matrix element"))
            // every cut of a valid file is a clean error
            for cut in stride(from: 0, to: good.count, by: 3) {
                try write(Array(good.prefix(cut)), dir + "/cut.mat")
                #expect(conversionError([dir + "/cut.mat"], ConvertOptions(format: .svhn)) != nil)
            }
        }
    }

    // MARK: limits before allocation (items 3, 8, 12)

    @Test func imageBytesOverTheLimitAreRefusedFromTheHeader() throws {
        try withTempDir { dir in
            // IDX: sides within 16384 but 2^28 bytes per image; the file is only the header
            try write(be32(0x803) + be32(1) + be32(16384) + be32(16384), dir + "/i-images-idx3-ubyte")
            guard case .badHeader(let p, let e, let f)? = conversionError([dir + "/i-images-idx3-ubyte"]) else {
                Issue.record("idx"); return
            }
            #expect(p.hasSuffix("i-images-idx3-ubyte") && e.contains("\(ImportLimits.maxImageBytes) bytes") && f.contains("16384x16384x1"))
            // IDX: 4 dimensions, 8192 x 4096 x 4
            try write(be32(0x804) + be32(1) + be32(8192) + be32(4096) + be32(4), dir + "/j-images-idx3-ubyte")
            guard case .badHeader? = conversionError([dir + "/j-images-idx3-ubyte"]) else { Issue.record("idx 4d"); return }
            // PNG: IHDR of 8192 x 8192 RGB, 2^26 pixels but 3 x 2^26 bytes (the data are never read)
            let png = PNGBuild.png(width: 8192, height: 8192, colorType: 2, rows: [])
            try write(png, dir + "/big.png")
            guard case .badHeader(_, let e2, _)? = { () -> DatasetError? in
                do { _ = try PNGDecoder.decode(path: dir + "/big.png"); return nil } catch let e as DatasetError { return e } catch { return nil }
            }() else { Issue.record("png"); return }
            #expect(e2.contains("bytes"))
            // SVHN: X of 16384 x 16384 x 3 x 1 declared, 1 byte of data
            let x = MATBuild.matrix("X", cls: 9, dims: [16384, 16384, 3, 1], type: 2, data: [0])
            try write(MATBuild.file([x, MATBuild.matrix("y", cls: 9, dims: [1, 1], type: 2, data: [1])]), dir + "/s.mat")
            #expect(conversionError([dir + "/s.mat"]) != nil)
        }
    }

    @Test func outputShapeOptionsAreBoundedBeforeAllocation() throws {
        // `acol convert --height 16384 --width 16384` tried to allocate 275 GB
        let e = conversionError([fixture("mnist-small")], ConvertOptions(height: 16384, width: 16384, resize: .nearest))
        guard case .invalidOption(let m)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(m.contains("\(ImportLimits.maxImageBytes)") && m.contains("16384x16384x1"))
        #expect(conversionError([fixture("mnist-small")], ConvertOptions(channels: 4, height: 8192, width: 4096, resize: .nearest)) != nil)
        // within the limit: 2048 x 2048 x 1 is accepted (checked with a tiny input, 2 images)
        try withTempDir { dir in
            try write(idxImages(n: 2, h: 2, w: 2), dir + "/x-images-idx3-ubyte")
            let sink = CountingSink()
            _ = try Converter.convert(inputs: [dir + "/x-images-idx3-ubyte"],
                                      options: ConvertOptions(height: 2048, width: 2048, resize: .nearest, batchSize: Int.max), into: sink)
            #expect(sink.counts["train"] == 2 && sink.largestBatch == 2)
        }
        #expect(conversionError([fixture("mnist-small")], ConvertOptions(classNames: [])) == .invalidOption("expected at least one class name, found none"))
    }

    @Test func batchesStayWithinTheBatchByteLimit() throws {
        #expect(ImportLimits.batchImages(requested: 1024, imageBytes: [784]) == 1024)
        #expect(ImportLimits.batchImages(requested: Int.max, imageBytes: [3072, 784]) == ImportLimits.maxBatchBytes / 3072)
        #expect(ImportLimits.batchImages(requested: 1024, imageBytes: [ImportLimits.maxImageBytes]) == 4)
        #expect(ImportLimits.batchImages(requested: 1, imageBytes: [ImportLimits.maxImageBytes]) == 1)
        #expect(CheckedSize.product([1 << 32, 1 << 32]) == nil)
        #expect(CheckedSize.product([-1, 2]) == nil)
        #expect(CheckedSize.product([16384, 16384, 4]) == 1 << 30)
        // a huge batch size on a real input converts in one batch, without a huge allocation
        let sink = CountingSink()
        _ = try Converter.convert(inputs: [fixture("mnist-small")], options: ConvertOptions(batchSize: Int.max), into: sink)
        #expect(sink.counts["train"] == 3000 && sink.largestBatch == 3000)
    }

    // MARK: non-regular files (item 9)

    @Test func fifosAndDevicesAsInputFilesAreRefused() throws {
        try withTempDir { dir in
            let fifo = dir + "/train-images-idx3-ubyte"
            try makeFIFO(fifo)
            let e = try #require(conversionError([fifo]))
            #expect(e == .cannotRead(path: fifo, reason: "is a FIFO (named pipe), expected a regular file"))
            #expect(conversionError([fifo], ConvertOptions(format: .idx)) == e)
            #expect(conversionError([fifo], ConvertOptions(format: .cifar10)) == e)
            #expect(conversionError([fifo], ConvertOptions(format: .svhn)) == e)
            guard case .cannotRead(_, let r)? = conversionError(["/dev/zero"]) else { Issue.record("device"); return }
            #expect(r.contains("character device"))
            #expect(throws: DatasetError.self) { _ = try PNGDecoder.decode(path: fifo) }
            #expect(throws: DatasetError.self) { _ = try PNGDecoder.info(path: fifo) }
            #expect(throws: DatasetError.self) { _ = try GzipFiles.readAll(path: fifo) }
            // a FIFO among the files of an IDX folder (the labels)
            try write(idxImages(n: 1), dir + "/f/train-images-idx3-ubyte")
            try makeFIFO(dir + "/f/train-labels-idx1-ubyte")
            guard case .cannotRead(let p, _)? = conversionError([dir + "/f"]) else { Issue.record("idx folder"); return }
            #expect(p == dir + "/f/train-labels-idx1-ubyte")
            // a FIFO as a .mat in an SVHN folder
            try makeFIFO(dir + "/m/train_32x32.mat")
            guard case .cannotRead? = conversionError([dir + "/m"]) else { Issue.record("svhn folder"); return }
        }
    }

    @Test func aFIFONamedLikeAPNGIsSkippedOrRefused() throws {
        try withTempDir { dir in
            let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("png/flat/a_grey8/0.png"))))
            try write(good, dir + "/a/0.png")
            try write(good, dir + "/b/0.png")
            try makeFIFO(dir + "/a/1.png")
            let e = try #require(conversionError([dir]))
            #expect(e == .cannotRead(path: dir + "/a/1.png", reason: "is a FIFO (named pipe), expected a regular file"))
            let (sink, summary) = try convert([dir], ConvertOptions(skipBadFiles: true))
            #expect(sink.split("train")?.count == 2)
            #expect(summary.warnings.contains { $0.contains(dir + "/a/1.png") && $0.contains("FIFO") })
        }
    }

    @Test func fifoMappingAndNameFilesAreRefused() throws {
        try withTempDir { dir in
            try makeFIFO(dir + "/map.txt")
            guard case .badInput(let p, _, let found)? = { () -> DataError? in
                do { _ = try ParentSpec.load(mappingFile: dir + "/map.txt"); return nil } catch let e as DataError { return e } catch { return nil }
            }() else { Issue.record("mapping"); return }
            #expect(p == dir + "/map.txt")
            #expect(found == "a FIFO")
            let rec = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("cifar/cifar-10-batches-bin/data_batch_1.bin")))).prefix(3073)
            try write(Array(rec), dir + "/c/data_batch_1.bin")
            try makeFIFO(dir + "/c/batches.meta.txt")
            guard case .cannotRead(let p2, _)? = conversionError([dir + "/c"]) else { Issue.record("meta"); return }
            #expect(p2 == dir + "/c/batches.meta.txt")
        }
    }

    // MARK: CRLF and BOM (item 11)

    @Test func mappingFilesWithCRLFAndBOMAreRead() throws {
        try withTempDir { dir in
            let lf = "# parents\n0: even\n1: odd\n2: even\n"
            try write(Array(lf.utf8), dir + "/lf.txt")
            try write([0xEF, 0xBB, 0xBF] + Array(lf.replacingOccurrences(of: "\n", with: "\r\n").utf8), dir + "/crlf.txt")
            try write(Array(lf.replacingOccurrences(of: "\n", with: "\r").utf8), dir + "/cr.txt")
            let expected = ParentSpec.mapping([.init(fine: "0", parent: "even"), .init(fine: "1", parent: "odd"), .init(fine: "2", parent: "even")])
            #expect(try ParentSpec.load(mappingFile: dir + "/lf.txt") == expected)
            #expect(try ParentSpec.load(mappingFile: dir + "/crlf.txt") == expected)
            #expect(try ParentSpec.load(mappingFile: dir + "/cr.txt") == expected)
            // a BOM before a class name, CRLF and line numbers in errors
            try write([0xEF, 0xBB, 0xBF] + Array("Ankle boot: shoes\r\n\r\nbad line\r\n".utf8), dir + "/names.txt")
            #expect(throws: DataError.invalidParentSpec(source: dir + "/names.txt line 3", reason: "expected '<fine class>: <parent>', found 'bad line'")) {
                _ = try ParentSpec.load(mappingFile: dir + "/names.txt")
            }
            try write([0xEF, 0xBB, 0xBF] + Array("Ankle boot: shoes\r\nBag: bag\r\n".utf8), dir + "/names2.txt")
            #expect(try ParentSpec.load(mappingFile: dir + "/names2.txt") == .mapping([.init(fine: "Ankle boot", parent: "shoes"), .init(fine: "Bag", parent: "bag")]))
        }
    }

    @Test func classNameFilesWithCRLFAndBOMAreRead() throws {
        try withTempDir { dir in
            let rec = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("cifar/cifar-10-batches-bin/data_batch_1.bin")))).prefix(3073)
            try write(Array(rec), dir + "/data_batch_1.bin")
            let names = (0..<10).map { "class \($0)" }
            try write([0xEF, 0xBB, 0xBF] + Array(names.joined(separator: "\r\n").utf8) + [13, 10], dir + "/batches.meta.txt")
            let (_, summary) = try convert([dir])
            #expect(summary.labels.fineNames == names)
        }
    }

    // MARK: palette indices (item 15)

    @Test func anOutOfRangePaletteIndexIsAnError() throws {
        try withTempDir { dir in
            let palette: [UInt8] = [255, 0, 0, 0, 255, 0]   // 2 entries
            try write(PNGBuild.png(width: 2, height: 2, colorType: 3, rows: [[0, 1], [1, 0]], palette: palette), dir + "/ok.png")
            let ok = try PNGDecoder.decode(path: dir + "/ok.png")
            #expect(ok.channels == 3 && ok.pixels == [255, 0, 0, 0, 255, 0, 0, 255, 0, 255, 0, 0])
            try write(PNGBuild.png(width: 2, height: 2, colorType: 3, rows: [[0, 1], [5, 0]], palette: palette), dir + "/bad.png")
            #expect(throws: DatasetError.notPNG(path: dir + "/bad.png",
                                                found: "a damaged palette PNG: pixel (1, 0) has palette index 5, expected 0...1 (the palette has 2 entries)")) {
                _ = try PNGDecoder.decode(path: dir + "/bad.png")
            }
            // 4-bit indices, in a class folder: an error, or skipped with --skip-bad-files
            try write(PNGBuild.png(width: 2, height: 1, colorType: 3, rows: [[0x0F]], palette: palette, bitDepth: 4), dir + "/f/a/0.png")
            try write(PNGBuild.png(width: 2, height: 1, colorType: 3, rows: [[0x01]], palette: palette, bitDepth: 4), dir + "/f/a/1.png")
            try write(PNGBuild.png(width: 2, height: 1, colorType: 3, rows: [[0x10]], palette: palette, bitDepth: 4), dir + "/f/b/0.png")
            guard case .notPNG(let p, _)? = conversionError([dir + "/f"]) else { Issue.record("folder"); return }
            #expect(p == dir + "/f/a/0.png")
            let (sink, summary) = try convert([dir + "/f"], ConvertOptions(skipBadFiles: true))
            #expect(sink.split("train")?.count == 2 && summary.warnings.contains { $0.contains("palette index 15") })
        }
    }

    // MARK: parent specs

    @Test func aParentSpecIsBoundedInTotalNotOnlyPerRange() throws {
        // each range below 10^6 classes, but 2000 of them asked for 2 x 10^9 Ints
        let text = Array(repeating: "0-999999", count: 2000).joined(separator: "+")
        #expect(throws: DataError.invalidParentSpec(source: "'\(text.prefix(40))...' (\(text.count) characters)", reason: "expected at most 1000000 classes in all groups, found more at '0-999999'")) {
            _ = try ParentSpec.parse(text)
        }
        #expect(try ParentSpec.parse("0-999999") == .groups([.init(classes: Array(0...999_999))]))
    }
}

@Suite struct PNGFolderWalkTests {
    /// A link back up (a loop) and a folder reached twice along one path are reported as one
    /// problem each and not entered; the PNGs around them are still found, once each.
    @Test func linkLoopsAreSkippedNotFatal() throws {
        try withTempDir { dir in
            let png = PNGBuild.png(width: 1, height: 1, colorType: 0, rows: [[9]])
            try FileManager.default.createDirectory(atPath: dir + "/root/a/b", withIntermediateDirectories: true)
            try write(png, dir + "/root/x.png")
            try write(png, dir + "/root/a/y.png")
            try write(png, dir + "/root/a/b/z.png")
            try FileManager.default.createSymbolicLink(atPath: dir + "/root/a/b/up", withDestinationPath: "../..")
            try FileManager.default.createSymbolicLink(atPath: dir + "/root/a/self", withDestinationPath: ".")
            let found = try PNGFiles.find([dir + "/root"])
            #expect(found.files == [dir + "/root/a/b/z.png", dir + "/root/a/y.png", dir + "/root/x.png"])
            #expect(found.problems.map(\.path) == [dir + "/root/a/b/up", dir + "/root/a/self"])
            #expect(found.problems.allSatisfy { $0.problem.contains("loop") })
        }
    }
}
