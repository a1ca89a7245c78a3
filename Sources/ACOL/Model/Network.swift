/// A network body followed by the ACOL head, built from a `NetworkSpec`.
///
/// Forward: x [m, H, W, C] -> body -> F [m, h] -> (BatchNorm) -> Dense -> Z [m, n_p * k].
/// Tensors are named "layers/NN_type/param" for the body and "head/batch_norm/param",
/// "head/dense/kernel|bias" for the head.
public final class Network {
    public let spec: NetworkSpec
    public let layers: [Layer]
    public let headNorm: BatchNorm?
    public let headDense: Dense
    /// Heads trained beside `headDense` on the same normalised F (training only: they are not in
    /// `namedParameters` and not saved); `promoteHead` makes one of them the model's head.
    public private(set) var extraHeads: [Dense] = []
    /// The head's input G [m, h] of the last training forward, while there are extra heads.
    private var headInput: Tensor?

    /// Builds the network with Glorot-uniform weights drawn from `seed`.
    public init(spec: NetworkSpec, seed: UInt64 = 0) throws {
        try spec.validate()   // ACOLLimits, overflow-checked, before anything is allocated
        guard spec.inputShape.count == 3, spec.inputShape.allSatisfy({ $0 > 0 }) else {
            throw ACOLError.invalidSpec("input shape must be [height, width, channels] > 0, got \(spec.inputShape)")
        }
        guard spec.head.parents >= 1, spec.head.k >= 1 else {
            throw ACOLError.invalidSpec("the ACOL head needs parents >= 1 and k >= 1, got \(spec.head.parents) x \(spec.head.k)")
        }
        guard spec.head.nodes >= 2 else {
            throw ACOLError.invalidSpec("the ACOL head needs at least 2 nodes (parents x k), got \(spec.head.nodes)")
        }
        var rng = SeededGenerator(seed: seed)
        let initializer = spec.initializer ?? .glorotUniform
        var shape = spec.inputShape
        var built: [Layer] = []
        for (i, l) in spec.layers.enumerated() {
            let where_ = "layer \(i) (\(l.type.rawValue))"
            let layer: Layer
            switch l.type {
            case .dense:
                guard let u = l.units, u > 0 else { throw ACOLError.invalidSpec("\(where_) needs units > 0") }
                layer = Dense(inputShape: shape, units: u, maxNorm: l.maxNorm, initializer: initializer, rng: &rng)
            case .conv2d:
                guard shape.count == 3 else { throw ACOLError.invalidSpec("\(where_) needs an image input, got \(shape)") }
                guard let f = l.filters, f > 0 else { throw ACOLError.invalidSpec("\(where_) needs filters > 0") }
                let k = l.kernel ?? [3, 3]
                guard k.count == 2, k.allSatisfy({ $0 > 0 }) else {
                    throw ACOLError.invalidSpec("\(where_) needs a kernel [height, width], got \(k)")
                }
                let pad = l.padding ?? .same
                if pad == .valid && (k[0] > shape[0] || k[1] > shape[1]) {
                    throw ACOLError.invalidSpec("\(where_): kernel \(k) is larger than its input \(shape)")
                }
                layer = Conv2D(inputShape: shape, filters: f, kernel: k, padding: pad, maxNorm: l.maxNorm,
                               initializer: initializer, rng: &rng)
            case .maxPool2d:
                guard shape.count == 3 else { throw ACOLError.invalidSpec("\(where_) needs an image input, got \(shape)") }
                let p = l.pool ?? 2
                guard p > 0, shape[0] >= p, shape[1] >= p else {
                    throw ACOLError.invalidSpec("\(where_): pool \(p) does not fit input \(shape)")
                }
                layer = MaxPool2D(inputShape: shape, size: p)
            case .relu: layer = ReLU(inputShape: shape)
            case .dropout:
                let r = l.rate ?? 0.5
                guard r >= 0, r < 1 else { throw ACOLError.invalidSpec("\(where_): rate must be in [0, 1), got \(r)") }
                layer = Dropout(inputShape: shape, rate: r)
            case .flatten: layer = Flatten(inputShape: shape)
            case .batchNorm:
                layer = BatchNorm(inputShape: shape, momentum: l.momentum ?? 0.99, epsilon: l.epsilon ?? 1e-3)
            }
            built.append(layer)
            shape = layer.outputShape
        }
        // A ReLU right after a Dense or Conv2D is applied by that layer in the same pass over
        // its output (the ReLU layer stays in the spec and passes values through).
        for i in 0..<max(0, built.count - 1) {
            guard let relu = built[i + 1] as? ReLU else { continue }
            if let d = built[i] as? Dense { d.fusedReLU = true; relu.passthrough = true }
            if let c = built[i] as? Conv2D { c.fusedReLU = true; relu.passthrough = true }
        }
        let features = shape.reduce(1, *)
        let fShape = [features]
        headNorm = spec.head.batchNormBeforeZ ? BatchNorm(inputShape: fShape, epsilon: spec.head.normEpsilon) : nil
        headDense = Dense(inputShape: fShape, units: spec.head.nodes, initializer: initializer, rng: &rng)
        layers = built
        self.spec = spec
    }

    /// Whether `backward` computes dL/dx for the input. Training does not need it, and skipping it
    /// saves the first layer's largest product; the trainer turns it off.
    public var computesInputGradient = true {
        didSet { configureInputGradient() }
    }

    /// Index of the first layer with weights: nothing before it needs a gradient.
    private var firstWeighted: Int? { layers.firstIndex { !$0.parameters.isEmpty } }

    private func configureInputGradient() {
        guard let f = firstWeighted else { return }
        (layers[f] as? Dense)?.skipsInputGradient = !computesInputGradient
        (layers[f] as? Conv2D)?.skipsInputGradient = !computesInputGradient
    }

    /// Size of F, the penultimate activations.
    public var featureCount: Int { headDense.inFeatures }

    /// Every tensor with its full name, in a fixed order.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        var out: [(String, Parameter)] = []
        for (i, l) in layers.enumerated() {
            let prefix = LayerSpec.groupName(index: i, type: l.spec.type)
            for p in l.parameters { out.append((prefix + "/" + p.name, p)) }
        }
        if let bn = headNorm { for p in bn.parameters { out.append(("head/batch_norm/" + p.name, p)) } }
        for p in headDense.parameters { out.append(("head/dense/" + p.name, p)) }
        return out
    }

    /// Trainable values (weights, biases, BatchNorm scale and shift).
    public var parameterCount: Int {
        namedParameters.filter { $0.parameter.trainable }.reduce(0) { $0 + $1.parameter.value.count }
    }

    /// All weights and statistics, as a model file stores them.
    public func stateTensors() -> [NamedTensor] {
        namedParameters.map { NamedTensor(name: $0.name, shape: $0.parameter.shape, values: $0.parameter.value) }
    }

    /// Replaces all weights and statistics; every tensor must be present with its exact shape.
    public func loadState(_ tensors: [NamedTensor]) throws {
        var byName: [String: NamedTensor] = [:]
        for t in tensors { byName[t.name] = t }
        let mine = namedParameters
        let known = Set(mine.map(\.name))
        if let extra = tensors.first(where: { !known.contains($0.name) }) { throw ACOLError.unexpectedTensor(extra.name) }
        for (name, p) in mine {
            guard let t = byName[name] else { throw ACOLError.missingTensor(name) }
            guard t.shape == p.shape, t.values.count == p.value.count else {
                throw ACOLError.shapeMismatch(name: name, expected: p.shape, found: t.shape)
            }
            if let i = t.values.firstIndex(where: { !$0.isFinite }) {
                throw ACOLError.invalidData("tensor \(name): expected finite values, found \(t.values[i]) at index \(i)")
            }
        }
        for (name, p) in mine { p.value = byName[name]!.values }
    }

    /// x [m, H, W, C] -> (F [m, h], Z [m, n]). Training mode caches what `backward` needs.
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> (features: Tensor, z: Tensor) {
        forward(x, training: training, rng: &rng, shard: nil)
    }

    /// As `forward`, for this process's rows of a batch split over processes (nil: the whole
    /// batch): BatchNorm reduces its statistics over the processes, Dropout draws the whole
    /// batch's masks for these rows.
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator,
                        shard: BatchShard?) -> (features: Tensor, z: Tensor) {
        var h = x
        for l in layers { h = l.forward(h, training: training, rng: &rng, shard: shard) }
        let f = h.reshaped([h.rows, h.columns])
        var g = f
        if let bn = headNorm { g = bn.forward(g, training: training, rng: &rng, shard: shard) }
        let z = headDense.forward(g, training: training, rng: &rng, shard: shard)
        headInput = training && !extraHeads.isEmpty ? g : nil
        return (f, z)
    }

    /// Replaces the extra heads by `count` new heads like `headDense` (the spec's initializer,
    /// weights drawn from `seed`); 0 removes them.
    public func setExtraHeads(_ count: Int, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        extraHeads = []
        headInput = nil
        for _ in 0..<max(0, count) {
            extraHeads.append(Dense(inputShape: [featureCount], units: spec.head.nodes,
                                    initializer: spec.initializer ?? .glorotUniform, rng: &rng))
        }
    }

    /// Z [m, n] of every extra head for the last training forward (empty without extra heads).
    public func extraLogits(shard: BatchShard? = nil) -> [Tensor] {
        guard let g = headInput else { return [] }
        var rng = SeededGenerator(seed: 0)   // Dense draws nothing
        return extraHeads.map { $0.forward(g, training: true, rng: &rng, shard: shard) }
    }

    /// Makes extra head `index` (0-based in `extraHeads`) the model's head: its weights and
    /// optimiser state change places with `headDense`'s. An index outside `extraHeads` changes nothing.
    public func promoteHead(_ index: Int) {
        guard extraHeads.indices.contains(index) else { return }
        let other = extraHeads[index]
        for (a, b) in zip(headDense.parameters, other.parameters) {
            swap(&a.value, &b.value)
            swap(&a.slots, &b.slots)
        }
    }

    /// dZ [m, n] -> gradients of every trainable parameter. Returns dL/dx [m, H, W, C], or an
    /// empty tensor (shape [0]) when `computesInputGradient` is false.
    @discardableResult
    public func backward(dZ: Tensor) -> Tensor { backward(dZ: dZ, shard: nil) }

    /// As `backward`, for the shard of the last forward. The parameter gradients are this
    /// process's part: sum them over the processes (`DataParallel.sumGradients`) before a step.
    @discardableResult
    public func backward(dZ: Tensor, shard: BatchShard?) -> Tensor {
        backward(dZ: dZ, extraDZ: [], shard: shard)
    }

    /// As `backward`, with dZ [m, n] of each extra head (in `extraHeads` order, as many as
    /// `extraLogits` gave). Each head's parameters get the gradient of its own objective; the
    /// body and the head BatchNorm get the mean over the heads (dG averaged), so the body steps
    /// as with one head whatever their number.
    @discardableResult
    public func backward(dZ: Tensor, extraDZ: [Tensor], shard: BatchShard?) -> Tensor {
        backward(dZ: dZ, extraDZ: extraDZ, headOnly: nil, shard: shard)
    }

    /// As `backward(dZ:extraDZ:shard:)`, with a part of the gradient that trains a head's own
    /// weights only: `headOnly` [m, n] is added to dZ for the head's dense layer and does not
    /// reach G, F or the body (a stop-gradient at the head's input); `extraHeadOnly` the same
    /// for each extra head (empty, or one per extra head). nil / empty: none. The k-means start
    /// uses it (`KMeansStart.trainsBody` false).
    @discardableResult
    public func backward(dZ: Tensor, extraDZ: [Tensor], headOnly: Tensor?, extraHeadOnly: [Tensor] = [],
                         shard: BatchShard?) -> Tensor {
        var d = Self.backward(headDense, dZ, headOnly: headOnly, shard: shard)
        if !extraDZ.isEmpty {
            precondition(extraDZ.count == extraHeads.count, "Network.backward: one dZ per extra head")
            precondition(extraHeadOnly.isEmpty || extraHeadOnly.count == extraHeads.count, "Network.backward: one headOnly per extra head")
            var sum = d.data
            for (i, (h, dz)) in zip(extraHeads, extraDZ).enumerated() {
                let dh = Self.backward(h, dz, headOnly: extraHeadOnly.isEmpty ? nil : extraHeadOnly[i], shard: shard)
                sum.withUnsafeMutableBufferPointer { sp in
                    dh.data.withUnsafeBufferPointer { hp in for i in 0..<sp.count { sp[i] += hp[i] } }
                }
            }
            let scale = 1 / Float(extraDZ.count + 1)
            for i in 0..<sum.count { sum[i] *= scale }
            d = Tensor(shape: d.shape, data: sum)
        }
        if let bn = headNorm { d = bn.backward(d, shard: shard) }
        let stop = computesInputGradient ? 0 : (firstWeighted ?? layers.count)
        for i in stride(from: layers.count - 1, through: stop, by: -1) {
            let l = layers[i]
            d = l.backward(d.reshaped([d.rows] + l.outputShape), shard: shard)
        }
        return computesInputGradient ? d : Tensor(shape: [0], data: [])
    }

    /// dZ [m, n] through one head's dense layer, whose weights also get `headOnly` [m, n]:
    /// returns dG [m, h] of dZ alone (dG = (dZ + headOnly) W^T - headOnly W^T, W [h, n]).
    private static func backward(_ head: Dense, _ dZ: Tensor, headOnly: Tensor?, shard: BatchShard?) -> Tensor {
        guard let only = headOnly else { return head.backward(dZ, shard: shard) }
        precondition(only.shape == dZ.shape, "Network.backward: headOnly must have dZ's shape")
        var total = dZ.data
        for i in 0..<total.count { total[i] += only.data[i] }
        var d = head.backward(Tensor(shape: dZ.shape, data: total), shard: shard)
        let m = dZ.rows, n = dZ.columns, h = d.columns
        let negated = only.data.map { -$0 }
        negated.withUnsafeBufferPointer { a in
            head.kernel.value.withUnsafeBufferPointer { w in
                d.data.withUnsafeMutableBufferPointer { c in
                    parallelGemm(transB: true, m: m, n: h, k: n, a: a.baseAddress!, lda: n, b: w.baseAddress!, ldb: n,
                                 beta: 1, c: c.baseAddress!, ldc: h)
                }
            }
        }
        return d
    }

    /// Inference: Z for every example of x, `batchSize` at a time.
    public func logits(_ x: Tensor, batchSize: Int = 256) -> Tensor {
        var rng = SeededGenerator(seed: 0)
        let m = x.rows, n = spec.head.nodes
        var out = [Float](repeating: 0, count: m * n)
        var start = 0
        while start < m {
            let end = min(m, start + max(1, batchSize))
            let z = forward(x.rows(start..<end), training: false, rng: &rng).z
            out.replaceSubrange((start * n)..<(end * n), with: z.data)
            start = end
        }
        return Tensor(shape: [m, n], data: out)
    }
}
