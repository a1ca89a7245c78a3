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

    /// As `init`, for sizes and arrays from outside: throws instead of trapping when a size is
    /// negative, the product overflows, the pixels are not count x height x width x channels, or a
    /// label array does not have one label per image.
    public init(checking count: Int, height: Int, width: Int, channels: Int, pixels: [UInt8],
                fineLabels: [Int32]? = nil, coarseLabels: [Int32]? = nil) throws {
        let sizes = [count, height, width, channels]
        var product = 1, overflow = false
        for v in sizes where !overflow { (product, overflow) = product.multipliedReportingOverflow(by: max(v, 0)) }
        guard sizes.allSatisfy({ $0 >= 0 }), !overflow, pixels.count == product else {
            throw DataError.badInput(path: "images", expected: "count x height x width x channels pixels, every size 0 or more",
                                     found: "\(count) x \(height) x \(width) x \(channels)\(overflow ? " (too large)" : "") and \(pixels.count) pixels")
        }
        for (name, labels) in [("fine", fineLabels), ("coarse", coarseLabels)] {
            if let l = labels, l.count != count {
                throw DataError.badInput(path: "images", expected: "one \(name) label per image (\(count))", found: "\(l.count)")
            }
        }
        self.init(count: count, height: height, width: width, channels: channels, pixels: pixels,
                  fineLabels: fineLabels, coarseLabels: coarseLabels)
    }

    public var imageSize: Int { height * width * channels }

    /// The images at `indices`, with their labels.
    public func subset(_ indices: [Int]) -> ImageSet {
        let s = imageSize
        var px = [UInt8](repeating: 0, count: indices.count * s)
        px.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for (o, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "ImageSet.subset: index \(i) outside 0..<\(count)")
                    dst.baseAddress!.advanced(by: o * s).update(from: src.baseAddress!.advanced(by: i * s), count: s)
                }
            }
        }
        return ImageSet(count: indices.count, height: height, width: width, channels: channels, pixels: px,
                        fineLabels: fineLabels.map { l in indices.map { l[$0] } },
                        coarseLabels: coarseLabels.map { l in indices.map { l[$0] } })
    }
}
