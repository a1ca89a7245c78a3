import Foundation
internal import CPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Checks around libpng's simplified API that it does not make itself: the file must be a
// regular file (libpng's own fopen would block on a FIFO), and the indices of a palette image
// must be below the palette's size (libpng silently maps an out-of-range index to black).

/// Begins a simplified-API read of `path`, opened as a checked regular file. The returned
/// stream must be closed (fclose) after `png_image_free`; nil when libpng refuses the file
/// (its message is then in `image.message`, and the stream is already closed).
func pngBeginRead(_ image: inout png_image, path: String) throws -> UnsafeMutablePointer<FILE>? {
    var fp = try openRegularStdio(path)
    if let bytes = pngWithoutColourChunks(fp) {
        // Read from an in-memory copy without them (glibc frees the buffer at fclose).
        fclose(fp)
        guard let mem = fmemopen(nil, bytes.count, "w+b") else { throw DatasetError.cannotRead(path: path, reason: errnoText()) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, mem) }
        guard written == bytes.count else {
            fclose(mem)
            throw DatasetError.cannotRead(path: path, reason: "could not copy the file into memory")
        }
        rewind(mem)
        fp = mem
    }
    guard png_image_begin_read_from_stdio(&image, fp) != 0 else {
        fclose(fp)
        return nil
    }
    return fp
}

/// For a palette image: reads the indices (colour-mapped output, which libpng passes through
/// unchanged for palette files) and throws unless every one is below the number of palette
/// entries. `width` x `height` have been checked against the limits.
func pngCheckPaletteIndexes(path: String, width: Int, height: Int, alpha: Bool) throws {
    var image = png_image()
    image.version = acol_png_image_version()
    guard let fp = try pngBeginRead(&image, path: path) else {
        let m = PNGDecoder.message(&image)
        png_image_free(&image)
        throw DatasetError.notPNG(path: path, found: "a file libpng cannot read (\(m))")
    }
    defer { fclose(fp) }
    let entries = Int(image.colormap_entries)
    image.format = UInt32(PNG_FORMAT_FLAG_COLOR) | UInt32(PNG_FORMAT_FLAG_COLORMAP) | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
    var indices = [UInt8](repeating: 0, count: width * height)
    var colormap = [UInt8](repeating: 0, count: 256 * 4)
    let ok = indices.withUnsafeMutableBytes { ib in
        colormap.withUnsafeMutableBytes { cb in
            png_image_finish_read(&image, nil, ib.baseAddress, 0, cb.baseAddress)
        }
    }
    guard ok != 0 else {
        let m = PNGDecoder.message(&image)
        png_image_free(&image)
        throw DatasetError.notPNG(path: path, found: "a damaged PNG (libpng: \(m))")
    }
    let used = Int(image.colormap_entries)
    png_image_free(&image)
    let valid = min(entries, used)
    if let i = indices.firstIndex(where: { Int($0) >= valid }) {
        throw DatasetError.notPNG(path: path,
            found: "a damaged palette PNG: pixel (\(i / width), \(i % width)) has palette index \(indices[i]), expected 0...\(valid - 1) (the palette has \(valid) entries)")
    }
}

/// Colour-space chunks that libpng's simplified API acts on: with a gAMA other than sRGB's it
/// gamma-corrects 8-bit samples (a stored 50 read as 122 with gAMA 1.0), and sRGB, cHRM and
/// iCCP describe the same thing. acol reads the stored sample values, as Pillow, OpenCV and
/// torchvision do, so a file with any of them is decoded from a copy without them.
let pngColourChunks: Set<String> = ["gAMA", "sRGB", "cHRM", "iCCP"]

/// The bytes of the PNG file open at `fp` without its colour-space chunks, or nil (the stream
/// rewound) when no such chunk comes before the first IDAT, or the file is too large to copy
/// (1 GiB; libpng then reads it as it is). A chunk list that runs past the end of the file is
/// copied as it is from there, for libpng to refuse.
func pngWithoutColourChunks(_ fp: UnsafeMutablePointer<FILE>) -> [UInt8]? {
    defer { rewind(fp) }
    func chunkType(_ b: ArraySlice<UInt8>) -> String { String(decoding: b, as: UTF8.self) }
    // First pass over the chunk headers only (lengths and types, data skipped).
    guard fseek(fp, 8, SEEK_SET) == 0 else { return nil }
    var found = false
    var header = [UInt8](repeating: 0, count: 8)
    while fread(&header, 1, 8, fp) == 8 {
        let length = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
        let type = chunkType(header[4..<8])
        if type == "IDAT" || type == "IEND" { break }
        if pngColourChunks.contains(type) { found = true; break }
        guard fseek(fp, length + 4, SEEK_CUR) == 0 else { break }
    }
    guard found else { return nil }
    var st = stat()
    guard fstat(fileno(fp), &st) == 0, st.st_size > 8, st.st_size <= 1 << 30 else { return nil }
    rewind(fp)
    var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
    let n = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, fp) }
    guard n == bytes.count else { return nil }
    var out = Array(bytes[0..<8])
    out.reserveCapacity(bytes.count)
    var pos = 8
    while pos + 12 <= bytes.count {
        let length = bytes[pos..<(pos + 4)].reduce(0) { $0 << 8 | Int($1) }
        let end = pos + 12 + length
        guard end <= bytes.count else { break }
        if !pngColourChunks.contains(chunkType(bytes[(pos + 4)..<(pos + 8)])) { out += bytes[pos..<end] }
        pos = end
    }
    out += bytes[pos...]
    return out
}
