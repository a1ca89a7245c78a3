import Foundation
internal import CPNG

// PNG through libpng's simplified API (png_image_*): errors come back as a return code and
// png_image.message, so no setjmp/longjmp crosses Swift frames.

/// What a PNG file's IHDR chunk says (read without libpng, from the first 33 bytes).
struct PNGHeader {
    var width: Int, height: Int, bitDepth: Int, colorType: Int
    /// Adam7 interlacing (IHDR's interlace method 1).
    var interlaced = false
    /// Channels of the decoded image (palette: 3; a tRNS chunk, not seen here, adds alpha).
    var channels: Int {
        switch colorType { case 0: return 1; case 4: return 2; case 6: return 4; default: return 3 }
    }

    /// Largest side accepted, and largest number of pixels (256 MB of RGBA).
    static let maxSide = 16384
    static let maxPixels = 1 << 26

    /// Reads and checks the signature and the IHDR chunk: magic, then dimensions, then that the
    /// file is large enough for them (deflate expands at most about 1032:1).
    static func read(_ path: String) throws -> PNGHeader {
        let b = try readPrefix(path, 33)
        guard b.count >= 8, b.starts(with: Detect.pngSignature) else {
            let printable = b.count >= 4 && b.prefix(8).allSatisfy { (0x20..<0x7F).contains($0) || $0 == 0x0A || $0 == 0x09 }
            let found = printable ? "text '\(String(decoding: b.prefix(16).filter { $0 >= 0x20 }, as: UTF8.self))...'" : describeBytes(b)
            throw DatasetError.notPNG(path: path, found: found)
        }
        guard b.count == 33, Array(b[12..<16]) == Array("IHDR".utf8), be32(b, 8) == 13 else {
            throw DatasetError.notPNG(path: path, found: "a PNG signature without a complete IHDR chunk (\(b.count) bytes)")
        }
        let h = PNGHeader(width: Int(be32(b, 16)), height: Int(be32(b, 20)), bitDepth: Int(b[24]), colorType: Int(b[25]),
                          interlaced: b[28] == 1)
        guard (1...maxSide).contains(h.width), (1...maxSide).contains(h.height), h.width * h.height <= maxPixels else {
            throw DatasetError.badHeader(path: path, expected: "a PNG of sides 1...\(maxSide) and at most \(maxPixels) pixels",
                                         found: "\(h.width)x\(h.height)")
        }
        // The bit depths the PNG specification allows for each colour type (table 11.1).
        let depths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let allowed = depths[h.colorType] else {
            throw DatasetError.badHeader(path: path, expected: "a PNG colour type 0, 2, 3, 4 or 6",
                                         found: "colour type \(h.colorType), bit depth \(h.bitDepth)")
        }
        guard allowed.contains(h.bitDepth) else {
            throw DatasetError.badHeader(path: path, expected: "a bit depth of \(allowed.map(String.init).joined(separator: ", ")) for PNG colour type \(h.colorType)",
                                         found: "bit depth \(h.bitDepth)")
        }
        guard b[26] == 0, b[27] == 0, b[28] <= 1 else {
            throw DatasetError.badHeader(path: path, expected: "PNG compression method 0, filter method 0 and interlace method 0 or 1",
                                         found: "\(b[26]), \(b[27]) and \(b[28])")
        }
        try ImportLimits.checkImage(path: path, height: h.height, width: h.width, channels: h.channels, what: "a PNG")
        let samples = h.colorType == 3 ? 1 : h.channels
        let raw = h.height * (1 + (h.width * samples * h.bitDepth + 7) / 8)
        let size = try fileSize(path)
        if raw / maxDeflateRatio > size {
            throw DatasetError.truncated(path: path, expected: "at least \(raw / maxDeflateRatio) bytes for a \(h.width)x\(h.height) PNG",
                                         found: "\(size) bytes")
        }
        return h
    }
}

/// Decodes PNG files (grey, grey+alpha, RGB, RGBA, palette, 1...16 bits) into 8-bit pixels.
public enum PNGDecoder {
    /// Decodes `path` into row-major HWC u8 pixels with `channels` channels (1 grey, 2 grey+alpha,
    /// 3 RGB, 4 RGBA; nil: those of the file, palette images giving RGB or RGBA).
    /// 16-bit samples are scaled to 8 bits (v / 257, rounded) without a gamma change; conversions
    /// between channel counts follow docs/importers.md (luma 601 for grey, alpha dropped or 255).
    public static func decode(path: String, channels: Int? = nil) throws
        -> (height: Int, width: Int, channels: Int, pixels: [UInt8]) {
        try decode(path: path, channels: channels, headerChecked: false)
    }

    /// `headerChecked`: the caller has already run `PNGHeader.read` on this file.
    static func decode(path: String, channels: Int?, headerChecked: Bool) throws
        -> (height: Int, width: Int, channels: Int, pixels: [UInt8]) {
        if let c = channels, !(1...4).contains(c) {
            throw DatasetError.invalidOption("channels must be 1, 2, 3 or 4, found \(c)")
        }
        let header = headerChecked ? nil : try PNGHeader.read(path)
        var image = png_image()
        let fp = try beginRead(&image, path: path)
        defer { fclose(fp) }
        let w = Int(image.width), h = Int(image.height)
        guard (1...PNGHeader.maxSide).contains(w), (1...PNGHeader.maxSide).contains(h), w * h <= PNGHeader.maxPixels else {
            png_image_free(&image)
            throw DatasetError.badHeader(path: path, expected: "a PNG of sides 1...\(PNGHeader.maxSide)", found: "\(w)x\(h)")
        }
        // 16-bit files without gAMA/sRGB are otherwise taken as linear and gamma-encoded on the
        // way to 8 bits; treating them as sRGB keeps v16 / 257 = v8.
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let native = image.format & (UInt32(PNG_FORMAT_FLAG_ALPHA) | UInt32(PNG_FORMAT_FLAG_COLOR))
        let nc = (native & UInt32(PNG_FORMAT_FLAG_COLOR) != 0 ? 3 : 1) + (native & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0 ? 1 : 0)
        do {
            try ImportLimits.checkImage(path: path, height: h, width: w, channels: nc, what: "a decoded PNG")
            if image.format & UInt32(PNG_FORMAT_FLAG_COLORMAP) != 0 {
                try pngCheckPaletteIndexes(path: path, width: w, height: h, alpha: native & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0)
            }
        } catch {
            png_image_free(&image)
            throw error
        }
        // libpng 1.6.39's simplified reader scrambles 16-bit Adam7-interlaced images when it
        // reduces them to 8 bits (about half the rows wrong); their 16-bit ("linear") reading is
        // exact, so those files are read at 16 bits and reduced here.
        let linear16: Bool
        do {
            linear16 = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0 ? try (header ?? PNGHeader.read(path)).interlaced : false
        } catch {
            png_image_free(&image)
            throw error
        }
        image.format = native | (linear16 ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        // The linear reading takes the file as linear unless told it is sRGB: as stored.
        if linear16 { image.flags &= ~UInt32(PNG_IMAGE_FLAG_16BIT_sRGB) }
        var px = [UInt8](repeating: 0, count: w * h * nc)
        var wide = [UInt16](repeating: 0, count: linear16 ? w * h * nc : 0)
        let ok = linear16
            ? wide.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            : px.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        if ok != 0 && linear16 {
            reduce16(wide, into: &px, channels: nc, alpha: native & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0)
        }
        guard ok != 0 else {
            let m = message(&image)
            png_image_free(&image)
            throw DatasetError.notPNG(path: path, found: "a damaged PNG (libpng: \(m))")
        }
        let tc = channels ?? nc
        if tc != nc {
            px = transformBatch(px, count: 1, from: Shape(height: h, width: w, channels: nc),
                                to: Shape(height: h, width: w, channels: tc), resize: .none)
        }
        return (h, w, tc, px)
    }

    /// 16-bit samples from libpng's linear reading to 8 bits, v / 257 rounded. That reading
    /// premultiplies the colour by alpha (the last channel when `alpha`); it is divided out first,
    /// so the colour is as stored, within 1. Where the alpha is 0 in 8 bits (below 129 of 65,535)
    /// the premultiplied colour has kept too few bits to divide out (a stored 205 came back as
    /// 255 or 170): the colour is 0 there.
    static func reduce16(_ wide: [UInt16], into px: inout [UInt8], channels nc: Int, alpha: Bool) {
        func to8(_ v: UInt32) -> UInt8 { UInt8(min(255, (v * 2 + 257) / 514)) }
        for p in stride(from: 0, to: wide.count, by: nc) {
            let a = alpha ? UInt32(wide[p + nc - 1]) : 65535
            let transparent = to8(a) == 0
            for c in 0..<nc {
                var v = UInt32(wide[p + c])
                if alpha && c < nc - 1 { v = transparent ? 0 : min(65535, (v * 65535 + a / 2) / a) }
                px[p + c] = to8(v)
            }
        }
    }

    /// A simplified-API read begun on `path` (see `pngBeginRead`), or libpng's refusal as an error.
    static func beginRead(_ image: inout png_image, path: String) throws -> UnsafeMutablePointer<FILE> {
        image.version = acol_png_image_version()
        guard let fp = try pngBeginRead(&image, path: path) else {
            let m = message(&image)
            png_image_free(&image)
            throw DatasetError.notPNG(path: path, found: "a file libpng cannot read (\(m))")
        }
        return fp
    }

    /// Height, width and channels of a PNG without decoding its pixels (palette + tRNS counts as RGBA).
    public static func info(path: String) throws -> (height: Int, width: Int, channels: Int) {
        _ = try PNGHeader.read(path)
        var image = png_image()
        let fp = try beginRead(&image, path: path)
        defer { png_image_free(&image); fclose(fp) }
        let f = image.format
        let c = (f & UInt32(PNG_FORMAT_FLAG_COLOR) != 0 ? 3 : 1) + (f & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0 ? 1 : 0)
        return (Int(image.height), Int(image.width), c)
    }

    static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { b in
            String(decoding: b.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}

/// Writes 8-bit PNG files.
public enum PNGEncoder {
    /// Writes row-major HWC u8 `pixels` (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA channels) to `path`,
    /// atomically: a temporary file in the same folder, renamed over `path` once complete.
    public static func write(path: String, width: Int, height: Int, channels: Int, pixels: [UInt8], inputs: [String] = []) throws {
        guard (1...4).contains(channels) else { throw DatasetError.invalidOption("channels must be 1, 2, 3 or 4, found \(channels)") }
        guard width >= 1, height >= 1, width <= 1 << 24, height <= 1 << 24 else {
            throw DatasetError.invalidOption("a PNG needs a size of at least 1x1, found \(width)x\(height)")
        }
        guard pixels.count == width * height * channels else {
            throw DatasetError.invalidOption("expected \(width * height * channels) bytes for a \(width)x\(height)x\(channels) image, found \(pixels.count)")
        }
        var image = png_image()
        image.version = acol_png_image_version()
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = (channels >= 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (channels % 2 == 0 ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
        let out = try OutputFile(path, inputs: inputs, keepOpen: false)
        let ok = pixels.withUnsafeBytes { png_image_write_to_file(&image, out.temporaryPath, 0, $0.baseAddress, 0, nil) }
        guard ok != 0 else {
            let m = PNGDecoder.message(&image)
            png_image_free(&image)
            out.abort()
            throw DatasetError.cannotWrite(path: path, reason: m.isEmpty ? "libpng failed" : m)
        }
        try out.commit()
    }
}
