/// A dense Float32 tensor in row-major order. Images are NHWC throughout the library.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) holds \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public init(repeating value: Float, shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    /// Size of the first dimension (the batch).
    public var rows: Int { shape.first ?? 1 }
    /// Product of all dimensions but the first.
    public var columns: Int { shape.count <= 1 ? 1 : shape.dropFirst().reduce(1, *) }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Rows `range` of the first dimension.
    public func rows(_ range: Range<Int>) -> Tensor {
        let c = columns
        var s = shape
        s[0] = range.count
        return Tensor(shape: s, data: Array(data[(range.lowerBound * c)..<(range.upperBound * c)]))
    }
}

/// Makes `buffer` hold `count` values (contents unspecified), keeping its storage when the size
/// already fits. Layers keep their output and gradient buffers across steps this way, so a
/// training step does not fault in fresh pages for every activation; when a caller still holds
/// the previous contents, the first write copies (copy-on-write), so this is always safe.
@inline(__always)
func reuse(_ buffer: inout [Float], count: Int) {
    if buffer.count != count { buffer = [Float](repeating: 0, count: count) }
}

/// A named weight or statistic tensor of a network, as stored in a model file.
public struct NamedTensor: Equatable, Sendable {
    /// A stable path such as "layers/00_conv2d/kernel" or "head/dense/bias".
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name; self.shape = shape; self.values = values
    }
}
