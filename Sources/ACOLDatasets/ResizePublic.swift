/// Public entry to the importers' image conversion, for tools that decode single images
/// (`acol run`): channels first (rules in docs/importers.md), then size.
public enum ImageConversion {
    /// Converts one HWC u8 image to `height` x `width` x `channels`. A size change needs a
    /// `resize` mode other than `.none`; returns nil when the size differs and `resize` is `.none`.
    public static func convert(pixels: [UInt8], height: Int, width: Int, channels: Int,
                               toHeight th: Int, toWidth tw: Int, toChannels tc: Int,
                               resize: ResizeMode) -> [UInt8]? {
        if (height != th || width != tw) && resize == .none { return nil }
        if height == th && width == tw && channels == tc { return pixels }
        precondition(pixels.count == height * width * channels, "ImageConversion: pixel count mismatch")
        var out = [UInt8](repeating: 0, count: th * tw * tc)
        pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                transformImage(s.baseAddress!, from: Shape(height: height, width: width, channels: channels),
                               d.baseAddress!, to: Shape(height: th, width: tw, channels: tc), resize: resize)
            }
        }
        return out
    }
}
