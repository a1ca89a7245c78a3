/// The documented limits on every size that comes from a file or an option (docs/file-format.md,
/// "Limits"). Readers check sizes against them, with overflow-checked products, before anything is
/// allocated; writers refuse what readers would refuse, so that every file acol writes can be read.
///
/// The limits are far above what ACOL networks and their data sets use (MNIST, CIFAR, SVHN, STL:
/// images of 96 x 96 x 3 at most, a few hundred nodes, a few million parameters), and low enough
/// that nothing they admit allocates more than a few GB.
public enum ACOLLimits {
    /// Height and width of an image or a network input, each.
    public static let maxImageSide = 16_384
    /// Channels of an image or a network input.
    public static let maxChannels = 16
    /// height x width x channels of one image (bytes of a u8 image, floats of a network input):
    /// 64 Mi, e.g. 8192 x 8192 x 1 or 4096 x 4096 x 4.
    public static let maxImageElements = 1 << 26
    /// Layers of a network body.
    public static let maxLayers = 1024
    /// Units of a dense layer, filters of a convolution.
    public static let maxUnits = 1 << 16
    /// Kernel height and width of a convolution, pool size of a max-pool layer.
    public static let maxKernelSide = 1024
    /// Values of one example's activations after any layer (64 Mi floats, 256 MiB).
    public static let maxActivationElements = 1 << 26
    /// All tensors of a network together (weights, biases, BatchNorm statistics): 512 Mi floats
    /// (2 GiB; every preset on 96 x 96 x 3 inputs with 64 filters fits: cnn1 has 303 M).
    public static let maxParameters = 1 << 29
    /// Output nodes of the ACOL head (n_p x k); also bounds n_p and k. The model file names every
    /// node in one string-array attribute, and HDF5 keeps an attribute in an object header of at
    /// most 64 KiB: 16 bytes an entry, so about 4,090 entries fit (4,092 failed, after training).
    public static let maxNodes = 4000
    /// Fine classes (named, or implied by labels) and parents of a data set or model (their names
    /// are string-array attributes too, as above).
    public static let maxClasses = 4000
    /// Heads trained side by side (`TrainConfig.heads`, the model file's `/training@heads`).
    public static let maxHeads = 64
    /// Epochs of a model's training history.
    public static let maxEpochs = 1 << 20
    /// Splits of a data-set file.
    public static let maxSplits = 1024

    /// What is wrong with an image shape (nil when it is within the limits). The data-set writer
    /// and reader, the model reader and the options share this check.
    public static func imageShapeProblem(height: Int, width: Int, channels: Int) -> String? {
        let ok = (1...maxImageSide).contains(height) && (1...maxImageSide).contains(width)
            && (1...maxChannels).contains(channels)
            && (CheckedSize.product([height, width, channels]).map { $0 <= maxImageElements } ?? false)
        if ok { return nil }
        return "expected height and width in 1...\(maxImageSide), channels in 1...\(maxChannels) and height x width x channels <= \(maxImageElements), found \(height) x \(width) x \(channels)"
    }
}

extension ACOLHeadSpec {
    /// Checks n_p and k against the limits (n_p x k overflow-checked) without building anything.
    public func validate() throws {
        guard parents >= 1, k >= 1 else {
            throw ACOLError.invalidSpec("the ACOL head needs parents >= 1 and k >= 1, got \(parents) x \(k)")
        }
        if let d = duplicates {
            guard d.count == parents, d.allSatisfy({ (1...ACOLLimits.maxNodes).contains($0) }) else {
                throw ACOLError.invalidSpec("the ACOL head's duplicates per parent must be \(parents) counts of 1...\(ACOLLimits.maxNodes), got \(d.count) (\(d.prefix(8).map(String.init).joined(separator: ", ")))")
            }
            guard k == d.max() else { throw ACOLError.invalidSpec("the ACOL head's k (\(k)) must be the largest of its duplicates per parent") }
        }
        let (n0, overflow) = parents.multipliedReportingOverflow(by: k)
        let n = overflow ? n0 : nodes
        guard !overflow, n <= ACOLLimits.maxNodes else {
            throw ACOLError.invalidSpec("the ACOL head has parents x k = \(parents) x \(k)\(overflow ? " (overflows)" : " = \(n)") nodes, at most \(ACOLLimits.maxNodes) are allowed")
        }
        guard n >= 2 else {
            throw ACOLError.invalidSpec("the ACOL head needs at least 2 nodes (parents x k), got \(n)")
        }
        if let e = batchNormEpsilon, !(e.isFinite && e > 0) {
            throw ACOLError.invalidSpec("the ACOL head's batchNormEpsilon must be a finite number above 0, got \(e)")
        }
    }
}

extension NetworkSpec {
    /// Checks the whole spec against `ACOLLimits` without allocating any tensor: input shape,
    /// layer count, each layer's settings, every activation shape and the total parameter count,
    /// all with overflow-checked arithmetic. `Network(spec:)` calls it first; model readers call
    /// it before trusting a file's architecture. Throws `ACOLError.invalidSpec`.
    public func validate() throws {
        _ = try stateShapes()
    }

    /// The name and shape of every tensor `Network(spec:)` would have, in `stateTensors()` order,
    /// after the checks of `validate()`, without allocating any tensor: a model reader compares a
    /// file's weights with these before building the network.
    public func stateShapes() throws -> [(name: String, shape: [Int])] {
        typealias L = ACOLLimits
        guard inputShape.count == 3 else {
            throw ACOLError.invalidSpec("input shape must be [height, width, channels] > 0, got \(inputShape)")
        }
        if let problem = L.imageShapeProblem(height: inputShape[0], width: inputShape[1], channels: inputShape[2]) {
            throw ACOLError.invalidSpec("input shape: \(problem)")
        }
        guard layers.count <= L.maxLayers else {
            throw ACOLError.invalidSpec("\(layers.count) layers, at most \(L.maxLayers) are allowed")
        }
        try head.validate()
        var shape = inputShape
        var tensors: [(name: String, shape: [Int])] = []
        var parameters: [Int] = []
        func add(_ prefix: String, _ named: [(String, [Int])]) {
            for (n, sh) in named { tensors.append((prefix + "/" + n, sh)) }
        }
        func finite(_ v: Float?, _ what: String, _ where_: String) throws {
            if let v, !v.isFinite { throw ACOLError.invalidSpec("\(where_): \(what) must be a finite number, got \(v)") }
        }
        for (i, l) in layers.enumerated() {
            let where_ = "layer \(i) (\(l.type.rawValue))"
            let prefix = "layers/" + (i < 10 ? "0\(i)" : "\(i)") + "_" + l.type.rawValue
            try finite(l.maxNorm, "maxNorm", where_)
            switch l.type {
            case .dense:
                guard let u = l.units, (1...L.maxUnits).contains(u) else {
                    throw ACOLError.invalidSpec("\(where_) needs units in 1...\(L.maxUnits), got \(l.units.map(String.init) ?? "none")")
                }
                guard let n = CheckedSize.product(shape), let w = CheckedSize.product([n, u]) else {
                    throw ACOLError.invalidSpec("\(where_): its kernel \(shape) x \(u) overflows")
                }
                parameters += [w, u]
                add(prefix, [("kernel", [n, u]), ("bias", [u])])
                shape = [u]
            case .conv2d:
                guard shape.count == 3 else { throw ACOLError.invalidSpec("\(where_) needs an image input, got \(shape)") }
                guard let f = l.filters, (1...L.maxUnits).contains(f) else {
                    throw ACOLError.invalidSpec("\(where_) needs filters in 1...\(L.maxUnits), got \(l.filters.map(String.init) ?? "none")")
                }
                let k = l.kernel ?? [3, 3]
                guard k.count == 2, k.allSatisfy({ (1...L.maxKernelSide).contains($0) }) else {
                    throw ACOLError.invalidSpec("\(where_) needs a kernel [height, width] in 1...\(L.maxKernelSide), got \(k)")
                }
                let pad = l.padding ?? .same
                if pad == .valid && (k[0] > shape[0] || k[1] > shape[1]) {
                    throw ACOLError.invalidSpec("\(where_): kernel \(k) is larger than its input \(shape)")
                }
                guard let w = CheckedSize.product([k[0], k[1], shape[2], f]) else {
                    throw ACOLError.invalidSpec("\(where_): its kernel \(k) x \(shape[2]) x \(f) overflows")
                }
                parameters += [w, f]
                add(prefix, [("kernel", [k[0], k[1], shape[2], f]), ("bias", [f])])
                shape = pad == .same ? [shape[0], shape[1], f] : [shape[0] - k[0] + 1, shape[1] - k[1] + 1, f]
            case .maxPool2d:
                guard shape.count == 3 else { throw ACOLError.invalidSpec("\(where_) needs an image input, got \(shape)") }
                let p = l.pool ?? 2
                guard p > 0, p <= L.maxKernelSide, shape[0] >= p, shape[1] >= p else {
                    throw ACOLError.invalidSpec("\(where_): pool \(p) does not fit input \(shape)")
                }
                shape = [shape[0] / p, shape[1] / p, shape[2]]
            case .relu:
                break
            case .dropout:
                let r = l.rate ?? 0.5
                guard r >= 0, r < 1 else { throw ACOLError.invalidSpec("\(where_): rate must be in [0, 1), got \(r)") }
            case .flatten:
                guard let n = CheckedSize.product(shape) else { throw ACOLError.invalidSpec("\(where_): input \(shape) overflows") }
                shape = [n]
            case .batchNorm:
                try finite(l.momentum, "momentum", where_)
                try finite(l.epsilon, "epsilon", where_)
                if let e = l.epsilon, !(e > 0) {   // sqrt(var + eps) of a constant input: 0 or NaN
                    throw ACOLError.invalidSpec("\(where_): epsilon must be above 0, got \(e)")
                }
                parameters += Array(repeating: shape.last ?? 1, count: 4)
                add(prefix, ["gamma", "beta", "running_mean", "running_var"].map { ($0, [shape.last ?? 1]) })
            }
            guard let a = CheckedSize.product(shape), a <= L.maxActivationElements else {
                throw ACOLError.invalidSpec("\(where_): its output \(shape) has more than \(L.maxActivationElements) values per example")
            }
        }
        let features = CheckedSize.product(shape) ?? Int.max
        if head.batchNormBeforeZ {
            parameters += Array(repeating: features, count: 4)
            add("head/batch_norm", ["gamma", "beta", "running_mean", "running_var"].map { ($0, [features]) })
        }
        let nodes = head.nodes   // checked by head.validate()
        guard let w = CheckedSize.product([features, nodes]) else {
            throw ACOLError.invalidSpec("the head's kernel \(features) x \(nodes) overflows")
        }
        parameters += [w, nodes]
        add("head/dense", [("kernel", [features, nodes]), ("bias", [nodes])])
        guard let total = CheckedSize.sum(parameters), total <= L.maxParameters else {
            throw ACOLError.invalidSpec("the network has \(CheckedSize.sum(parameters).map(String.init) ?? "more than \(Int.max)") parameters, at most \(L.maxParameters) are allowed")
        }
        return tensors
    }
}
