@_exported import ACOLData

/// What turns an image set into the network's input.
extension ImageSet {
    /// Images [range] as a float tensor [n, h, w, c] with x = pixel * scale + offset.
    public func tensor(_ range: Range<Int>, scale: Float = 1.0 / 255.0, offset: Float = 0) -> Tensor {
        let s = imageSize
        var out = [Float](repeating: 0, count: range.count * s)
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                let base = range.lowerBound * s
                for i in 0..<(range.count * s) { dst[i] = Float(src[base + i]) * scale + offset }
            }
        }
        return Tensor(shape: [range.count, height, width, channels], data: out)
    }
}
