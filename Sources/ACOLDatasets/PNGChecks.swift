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
    let fp = try openRegularStdio(path)
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
