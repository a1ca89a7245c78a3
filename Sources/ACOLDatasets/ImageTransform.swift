/// How images whose size differs from the target size are handled.
public enum ResizeMode: String, CaseIterable, Sendable {
    /// A different size is an error.
    case none
    /// Nearest neighbour: target pixel (y, x) takes source pixel (floor((y + 0.5) * h / th), ...).
    case nearest
    /// Bilinear with half-pixel centres (as OpenCV's INTER_LINEAR, no antialiasing),
    /// rounded to the nearest integer.
    case bilinear
}

/// Height, width and channels of an image.
struct Shape: Equatable, CustomStringConvertible {
    var height: Int, width: Int, channels: Int
    var size: Int { height * width * channels }
    var description: String { "\(height)x\(width)x\(channels)" }
}

/// Channel conversion rules (documented in docs/importers.md):
/// grey -> colour repeats the grey value; colour -> grey is the ITU-R 601 luma
/// (299 R + 587 G + 114 B) / 1000 rounded, as Pillow's convert("L"); an alpha channel that is
/// not asked for is dropped (as Pillow's convert("RGB")); one that is asked for but missing is 255.
@inline(__always)
private func convertPixel(_ s: UnsafePointer<UInt8>, _ c: Int, _ d: UnsafeMutablePointer<UInt8>, _ tc: Int) {
    var r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255
    switch c {
    case 1: r = s[0]; g = r; b = r
    case 2: r = s[0]; g = r; b = r; a = s[1]
    case 3: r = s[0]; g = s[1]; b = s[2]
    default: r = s[0]; g = s[1]; b = s[2]; a = s[3]
    }
    switch tc {
    case 1, 2:
        if c <= 2 { d[0] = r } else {
            let y: Int = 299 * Int(r) + 587 * Int(g) + 114 * Int(b) + 500
            d[0] = UInt8(y / 1000)
        }
        if tc == 2 { d[1] = a }
    default:
        d[0] = r; d[1] = g; d[2] = b
        if tc == 4 { d[3] = a }
    }
}

/// Converts one image of shape `from` at `src` into shape `to` at `dst` (channels, then size).
func transformImage(_ src: UnsafePointer<UInt8>, from: Shape, _ dst: UnsafeMutablePointer<UInt8>, to: Shape,
                    resize: ResizeMode) {
    let c = from.channels, tc = to.channels
    if from.height == to.height && from.width == to.width {
        if c == tc { dst.update(from: src, count: from.size); return }
        for p in 0..<(from.height * from.width) { convertPixel(src + p * c, c, dst + p * tc, tc) }
        return
    }
    // Channels first, at the source size, then resample.
    var tmp = [UInt8](repeating: 0, count: from.height * from.width * tc)
    tmp.withUnsafeMutableBufferPointer { t in
        let tp = t.baseAddress!
        if c == tc { tp.update(from: src, count: from.size) } else {
            for p in 0..<(from.height * from.width) { convertPixel(src + p * c, c, tp + p * tc, tc) }
        }
        resample(UnsafePointer(tp), h: from.height, w: from.width, c: tc, dst, th: to.height, tw: to.width,
                 bilinear: resize == .bilinear)
    }
}

private func resample(_ s: UnsafePointer<UInt8>, h: Int, w: Int, c: Int, _ d: UnsafeMutablePointer<UInt8>,
                      th: Int, tw: Int, bilinear: Bool) {
    let sy = Double(h) / Double(th), sx = Double(w) / Double(tw)
    if !bilinear {
        for y in 0..<th {
            let yy = min(h - 1, Int((Double(y) + 0.5) * sy))
            for x in 0..<tw {
                let xx = min(w - 1, Int((Double(x) + 0.5) * sx))
                for k in 0..<c { d[(y * tw + x) * c + k] = s[(yy * w + xx) * c + k] }
            }
        }
        return
    }
    for y in 0..<th {
        let fy = min(max((Double(y) + 0.5) * sy - 0.5, 0), Double(h - 1))
        let y0 = Int(fy), y1 = min(y0 + 1, h - 1), wy = fy - Double(y0)
        for x in 0..<tw {
            let fx = min(max((Double(x) + 0.5) * sx - 0.5, 0), Double(w - 1))
            let x0 = Int(fx), x1 = min(x0 + 1, w - 1), wx = fx - Double(x0)
            for k in 0..<c {
                let a = Double(s[(y0 * w + x0) * c + k]), b = Double(s[(y0 * w + x1) * c + k])
                let e = Double(s[(y1 * w + x0) * c + k]), f = Double(s[(y1 * w + x1) * c + k])
                let v = (a * (1 - wx) + b * wx) * (1 - wy) + (e * (1 - wx) + f * wx) * wy
                d[(y * tw + x) * c + k] = UInt8(min(255, max(0, v.rounded())))
            }
        }
    }
}

/// Converts a batch of images of one shape into the target shape (a copy only when needed).
func transformBatch(_ pixels: [UInt8], count: Int, from: Shape, to: Shape, resize: ResizeMode) -> [UInt8] {
    if from == to { return pixels }
    var out = [UInt8](repeating: 0, count: count * to.size)
    pixels.withUnsafeBufferPointer { s in
        out.withUnsafeMutableBufferPointer { d in
            for i in 0..<count {
                transformImage(s.baseAddress! + i * from.size, from: from, d.baseAddress! + i * to.size, to: to, resize: resize)
            }
        }
    }
    return out
}
