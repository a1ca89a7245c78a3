/// A set of u8 images in memory, [count, height, width, channels], with optional labels.
/// This is what importers produce, what the data-set file holds per split, and what training reads.
public struct ImageSet: Equatable, Sendable {
    public var count: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    /// count * height * width * channels bytes, NHWC.
    public var pixels: [UInt8]
    /// Fine label of each image (index into `LabelInfo.fineNames`), when known.
    public var fineLabels: [Int32]?
    /// Coarse (parent) label of each image (index into `LabelInfo.parentNames`), when known.
    public var coarseLabels: [Int32]?

    public init(count: Int, height: Int, width: Int, channels: Int, pixels: [UInt8],
                fineLabels: [Int32]? = nil, coarseLabels: [Int32]? = nil) {
        precondition(pixels.count == count * height * width * channels, "ImageSet: pixel count mismatch")
        self.count = count; self.height = height; self.width = width; self.channels = channels
        self.pixels = pixels; self.fineLabels = fineLabels; self.coarseLabels = coarseLabels
    }

    public var imageSize: Int { height * width * channels }

    /// The images at `indices`, with their labels.
    public func subset(_ indices: [Int]) -> ImageSet {
        let s = imageSize
        var px = [UInt8](repeating: 0, count: indices.count * s)
        px.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for (o, i) in indices.enumerated() {
                    dst.baseAddress!.advanced(by: o * s).update(from: src.baseAddress!.advanced(by: i * s), count: s)
                }
            }
        }
        return ImageSet(count: indices.count, height: height, width: width, channels: channels, pixels: px,
                        fineLabels: fineLabels.map { l in indices.map { l[$0] } },
                        coarseLabels: coarseLabels.map { l in indices.map { l[$0] } })
    }
}
