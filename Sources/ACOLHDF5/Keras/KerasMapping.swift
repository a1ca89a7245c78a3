import ACOL
import Foundation

extension KerasImporter {
    /// The config's layers and their weights -> an acol model.
    static func build(_ config: KerasConfig, weights: [String: [RawWeight]], path: String, configPath: String,
                      format: String, version: String?, options: KerasImportOptions) throws -> KerasImportResult {
        func refuse(_ l: KerasLayer, _ problem: String) -> KerasError {
            KerasError.unsupportedLayer(path: configPath, layer: l.name, className: l.className, problem: problem)
        }
        var ls = config.layers
        // A Functional model must be one chain: every layer fed by the one before it.
        if config.modelClass != "Sequential" {
            for i in 1..<max(1, ls.count) where ls[i].inbound != [ls[i - 1].name] {
                throw refuse(ls[i], "the model is not a linear chain (its inputs are \(ls[i].inbound), expected ['\(ls[i - 1].name)'])")
            }
        }
        if let first = ls.first, first.className == "InputLayer" { ls.removeFirst() }
        if let l = ls.first(where: { $0.className == "InputLayer" }) { throw refuse(l, "an input layer inside the model") }
        guard let rawShape = config.inputShape, rawShape.count == 3, let h = rawShape[0], let w = rawShape[1], let c = rawShape[2],
              h > 0, w > 0, c > 0, h <= ACOLLimits.maxImageSide, w <= ACOLLimits.maxImageSide, c <= ACOLLimits.maxChannels else {
            throw KerasError.invalid(path: configPath, expected: "an image input [height, width, channels] (channels last)",
                                     found: "input shape \(config.inputShape.map { "\($0.map { $0.map(String.init) ?? "None" })" } ?? "none")")
        }
        var notes: [String] = []

        // The head, from the end: pooling <- softmax <- [Dropout...] <- Dense (n nodes) <- [BatchNormalization].
        guard ls.count >= 2, let pool = ls.last else {
            throw KerasError.invalid(path: configPath, expected: "an ACOL head (Dense, softmax, pooling) at the end of the model", found: "\(ls.count) layers")
        }
        let poolClasses = ["AcolPooling", "AveragePooling"]
        let poolIsDense = pool.className == "Dense"
        guard poolClasses.contains(pool.className) || poolIsDense else {
            throw refuse(pool, "expected the ACOL head's pooling layer last (AcolPooling, or a Dense without bias holding a 0/1 matrix)")
        }
        if pool.activation != "linear" { throw refuse(pool, "the pooling layer must be linear, found activation '\(pool.activation)'") }
        if poolIsDense && pool.bool("use_bias") != false { throw refuse(pool, "a pooling Dense must have no bias (use_bias false)") }
        if pool.className == "AveragePooling" && pool.bool("bias") == true { throw refuse(pool, "a pooling layer with a bias") }
        var i = ls.count - 2
        func isSoftmax(_ l: KerasLayer) -> Bool {
            (l.className == "Activation" && l.activation == "softmax")
                || (l.className == "Softmax" && ((l.config["axis"] as? NSNumber)?.intValue ?? -1) == -1)
        }
        var headIndex: Int
        if ls[i].className == "Dense" && ls[i].activation == "softmax" {
            headIndex = i
        } else {
            guard isSoftmax(ls[i]) else { throw refuse(ls[i], "expected a softmax (Activation('softmax') or Softmax) before the pooling layer") }
            i -= 1
            while i >= 0 && ls[i].className == "Dropout" { notes.append("dropped '\(ls[i].name)' (Dropout in the head: nothing at inference)"); i -= 1 }
            guard i >= 0, ls[i].className == "Dense", ls[i].activation == "linear" else {
                throw i >= 0 ? refuse(ls[i], "expected the head's linear Dense (n_p x k nodes) before the softmax")
                             : KerasError.invalid(path: configPath, expected: "a Dense before the softmax", found: "none")
            }
            headIndex = i
        }
        let headLayer = ls[headIndex]
        var bodyEnd = headIndex
        var headBN: KerasLayer? = nil
        var headBNEpsilon: Float? = nil
        if headIndex > 0, ls[headIndex - 1].className == "BatchNormalization" {
            // Any positive epsilon: the head stores it (acol's 1e-3 of old files stays implicit).
            let e = ls[headIndex - 1].number("epsilon") ?? 1e-3
            if e.isFinite, e > 0 {
                headBN = ls[headIndex - 1]; bodyEnd = headIndex - 1
                headBNEpsilon = abs(e - 1e-3) < 1e-9 ? nil : Float(e)
            }
        }

        // The body.
        var shape = [h, w, c]
        var specs: [LayerSpec] = []
        var tensors: [NamedTensor] = []
        func take(_ l: KerasLayer, _ expected: [[Int]]) throws -> [[Float]] {
            let ws = weights[l.name] ?? []
            guard ws.count == expected.count else {
                throw KerasError.invalid(path: path, expected: "\(expected.count) weight arrays for layer '\(l.name)' (\(l.className)) with shapes \(expected)",
                                         found: "\(ws.count)\(ws.isEmpty ? "" : " with shapes \(ws.map(\.shape))")")
            }
            for (a, e) in zip(ws, expected) where a.shape != e {
                throw KerasError.invalid(path: path, expected: "layer '\(l.name)' weight \(a.name) of shape \(e)", found: "shape \(a.shape)")
            }
            // Named here, by the Keras layer, rather than later by acol's own tensor names.
            for a in ws {
                if let i = a.values.firstIndex(where: { !$0.isFinite }) {
                    throw KerasError.invalid(path: path, expected: "finite values in layer '\(l.name)' weight \(a.name)", found: "\(a.values[i]) at index \(i)")
                }
            }
            return ws.map(\.values)
        }
        func add(_ spec: LayerSpec, _ named: [(String, [Int], [Float])] = []) {
            let prefix = LayerSpec.groupName(index: specs.count, type: spec.type)
            for (n, s, v) in named { tensors.append(NamedTensor(name: prefix + "/" + n, shape: s, values: v)) }
            specs.append(spec)
        }
        func batchNorm(_ l: KerasLayer, channels n: Int) throws -> (spec: LayerSpec, values: [(String, [Int], [Float])]) {
            let axis = l.ints("axis") ?? [-1]
            guard axis.count == 1, axis[0] == -1 || axis[0] == shape.count else {
                throw refuse(l, "normalisation over axis \(axis); only the last (channels) axis is supported")
            }
            let center = l.bool("center") ?? true, scale = l.bool("scale") ?? true
            let expected = Array(repeating: [n], count: 2 + (center ? 1 : 0) + (scale ? 1 : 0))
            var v = try take(l, expected)
            let gamma = scale ? v.removeFirst() : [Float](repeating: 1, count: n)
            let beta = center ? v.removeFirst() : [Float](repeating: 0, count: n)
            if let i = v[1].firstIndex(where: { $0 < 0 }) {
                throw KerasError.invalid(path: path, expected: "a moving variance >= 0 in layer '\(l.name)'", found: "\(v[1][i]) at index \(i)")
            }
            let spec = LayerSpec.batchNorm(momentum: Float(l.number("momentum") ?? 0.99), epsilon: Float(l.number("epsilon") ?? 1e-3))
            return (spec, [("gamma", [n], gamma), ("beta", [n], beta), ("running_mean", [n], v[0]), ("running_var", [n], v[1])])
        }
        func checkChannelsLast(_ l: KerasLayer) throws {
            let f = l.string("data_format") ?? "channels_last"
            if f != "channels_last" { throw refuse(l, "data_format '\(f)'; only channels_last is supported") }
        }
        func activation(_ l: KerasLayer) throws -> Bool {
            switch l.activation {
            case "relu": return true
            case "linear": return false
            default: throw refuse(l, "activation '\(l.activation)' (relu or linear are supported here)")
            }
        }
        for l in ls[0..<bodyEnd] {
            switch l.className {
            case "Conv2D", "Convolution2D":
                try checkChannelsLast(l)
                guard shape.count == 3 else { throw refuse(l, "a convolution after Flatten") }
                guard let f = l.int("filters"), f > 0, f <= 65_536 else { throw refuse(l, "filters missing or out of range") }
                let k = l.ints("kernel_size") ?? []
                let kk = k.count == 1 ? [k[0], k[0]] : k
                guard kk.count == 2, kk.allSatisfy({ $0 > 0 && $0 <= 64 }) else { throw refuse(l, "kernel_size \(k)") }
                if let s = l.ints("strides"), s.contains(where: { $0 != 1 }) { throw refuse(l, "strides \(s); only 1 is supported") }
                if let d = l.ints("dilation_rate"), d.contains(where: { $0 != 1 }) { throw refuse(l, "dilation_rate \(d); only 1 is supported") }
                if let g = l.number("groups"), g != 1 { throw refuse(l, "groups \(g); only 1 is supported") }
                let padString = l.string("padding") ?? "valid"
                guard let pad = Padding(rawValue: padString) else { throw refuse(l, "padding '\(padString)'") }
                if pad == .valid && (kk[0] > shape[0] || kk[1] > shape[1]) { throw refuse(l, "kernel \(kk) larger than its input \(shape)") }
                let relu = try activation(l)
                let bias = l.bool("use_bias") ?? true
                let kshape = [kk[0], kk[1], shape[2], f]
                let v = try take(l, bias ? [kshape, [f]] : [kshape])
                add(.conv2d(f, kernel: kk, padding: pad), [("kernel", kshape, v[0]), ("bias", [f], bias ? v[1] : [Float](repeating: 0, count: f))])
                shape = pad == .same ? [shape[0], shape[1], f] : [shape[0] - kk[0] + 1, shape[1] - kk[1] + 1, f]
                if relu { add(.relu) }
            case "MaxPooling2D", "MaxPool2D":
                try checkChannelsLast(l)
                guard shape.count == 3 else { throw refuse(l, "pooling after Flatten") }
                let p = l.ints("pool_size") ?? [2, 2]
                let pp = p.count == 1 ? [p[0], p[0]] : p
                guard pp.count == 2, pp[0] == pp[1], pp[0] > 0 else { throw refuse(l, "pool_size \(p); only square windows are supported") }
                if let s = l.ints("strides"), s.count >= 1, s.contains(where: { $0 != pp[0] }) { throw refuse(l, "strides \(s) differ from the pool size \(pp[0])") }
                let pad = l.string("padding") ?? "valid"
                let fits = shape[0] % pp[0] == 0 && shape[1] % pp[0] == 0
                guard pad == "valid" || (pad == "same" && fits) else { throw refuse(l, "padding '\(pad)' on a \(shape[0])x\(shape[1]) input") }
                guard shape[0] >= pp[0], shape[1] >= pp[0] else { throw refuse(l, "pool \(pp[0]) larger than its input \(shape)") }
                add(.maxPool2d(pp[0]))
                shape = [shape[0] / pp[0], shape[1] / pp[0], shape[2]]
            case "Dropout":
                let r = Float(l.number("rate") ?? l.number("p") ?? 0.5)
                guard r >= 0, r < 1 else { throw refuse(l, "rate \(r)") }
                add(.dropout(r))
            case "Flatten":
                try checkChannelsLast(l)
                add(.flatten)
                shape = [shape.reduce(1, *)]
            case "Dense":
                guard shape.count == 1 else { throw refuse(l, "a Dense on a \(shape) input (acol needs a Flatten before it)") }
                guard let u = l.int("units") ?? l.int("output_dim"), u > 0, u <= 1 << 20 else {
                    throw refuse(l, "units missing or out of range")
                }
                let relu = try activation(l)
                let bias = l.bool("use_bias") ?? l.bool("bias") ?? true
                var maxNorm: Float? = nil
                if let kc = l.config["kernel_constraint"] as? [String: Any], let cls = kc["class_name"] as? String,
                   cls == "MaxNorm" || cls == "max_norm", let cc = kc["config"] as? [String: Any] {
                    maxNorm = (cc["max_value"] as? NSNumber)?.floatValue
                }
                let v = try take(l, bias ? [[shape[0], u], [u]] : [[shape[0], u]])
                add(.dense(u, maxNorm: maxNorm), [("kernel", [shape[0], u], v[0]), ("bias", [u], bias ? v[1] : [Float](repeating: 0, count: u))])
                shape = [u]
                if relu { add(.relu) }
            case "BatchNormalization":
                let bn = try batchNorm(l, channels: shape[shape.count - 1])
                add(bn.spec, bn.values)
            case "Activation":
                if try activation(l) { add(.relu) }
            case "ReLU":
                let plain = (l.number("max_value") == nil) && (l.number("negative_slope") ?? 0) == 0 && (l.number("threshold") ?? 0) == 0
                guard plain else { throw refuse(l, "a ReLU with max_value, negative_slope or threshold") }
                add(.relu)
            case "Softmax":
                throw refuse(l, "a softmax inside the body (only the ACOL head's softmax is supported)")
            default:
                throw refuse(l, "acol has no such layer (supported: InputLayer, Conv2D, MaxPooling2D, Dropout, Flatten, Dense, BatchNormalization, Activation, ReLU, Softmax, and the ACOL head)")
            }
        }

        // The head's Dense, its batch norm and the pooling matrix.
        guard shape.count == 1 else { throw refuse(headLayer, "the head's Dense on a \(shape) input (acol needs a Flatten before it)") }
        let features = shape[0]
        let nodes = headLayer.int("units") ?? headLayer.int("output_dim") ?? 0
        guard nodes >= 2, nodes <= 1 << 16 else { throw refuse(headLayer, "\(nodes) head nodes") }
        var headTensors: [NamedTensor] = []
        if let bn = headBN {
            let r = try batchNorm(bn, channels: features)
            for (n, s, v) in r.values { headTensors.append(NamedTensor(name: "head/batch_norm/" + n, shape: s, values: v)) }
        }
        let headBias = headLayer.bool("use_bias") ?? headLayer.bool("bias") ?? true
        let hv = try take(headLayer, headBias ? [[features, nodes], [nodes]] : [[features, nodes]])
        let kernel = hv[0], bias = headBias ? hv[1] : [Float](repeating: 0, count: nodes)

        let poolWeights = weights[pool.name] ?? []
        guard poolWeights.count == 1, poolWeights[0].shape.count == 2, poolWeights[0].shape[0] == nodes, poolWeights[0].shape[1] >= 1 else {
            throw KerasError.invalid(path: path, expected: "one [\(nodes), n_p] matrix in the pooling layer '\(pool.name)'",
                                     found: "\(poolWeights.count) arrays with shapes \(poolWeights.map(\.shape))")
        }
        let np = poolWeights[0].shape[1]
        let m = poolWeights[0].values
        var parentOf = [Int](repeating: -1, count: nodes)
        for j in 0..<nodes {
            var ones: [Int] = []
            for p in 0..<np {
                let x = m[j * np + p]
                if x == 1 { ones.append(p) } else if x != 0 {
                    throw KerasError.invalid(path: path, expected: "a 0/1 matrix in the pooling layer '\(pool.name)'", found: "\(x) at node \(j), parent \(p)")
                }
            }
            guard ones.count == 1 else {
                throw KerasError.invalid(path: path, expected: "exactly one parent per node in the pooling layer '\(pool.name)'", found: "node \(j) pooled into \(ones.count) parents")
            }
            parentOf[j] = ones[0]
        }
        var kerasNodes = [[Int]](repeating: [], count: np)
        for j in 0..<nodes { kerasNodes[parentOf[j]].append(j) }
        if let empty = kerasNodes.firstIndex(where: { $0.isEmpty }) {
            throw KerasError.invalid(path: path, expected: "at least one node for every parent in '\(pool.name)'", found: "none for parent \(empty) (a null node?)")
        }
        let counts = kerasNodes.map(\.count)
        let headSpec = Set(counts).count == 1 ? ACOLHeadSpec(parents: np, k: counts[0], batchNormBeforeZ: headBN != nil, batchNormEpsilon: headBNEpsilon)
                                               : ACOLHeadSpec(duplicates: counts, batchNormBeforeZ: headBN != nil, batchNormEpsilon: headBNEpsilon)
        let perm = headSpec.nodeTable.map { kerasNodes[$0.parent][$0.duplicate] }
        var pk = [Float](repeating: 0, count: kernel.count)
        for r in 0..<features { for i in 0..<nodes { pk[r * nodes + i] = kernel[r * nodes + perm[i]] } }
        headTensors.append(NamedTensor(name: "head/dense/kernel", shape: [features, nodes], values: pk))
        headTensors.append(NamedTensor(name: "head/dense/bias", shape: [nodes], values: perm.map { bias[$0] }))

        // The network.
        let spec = NetworkSpec(inputShape: [h, w, c], layers: specs, head: headSpec)
        let network: Network
        do {
            network = try Network(spec: spec)
            try network.loadState(tensors + headTensors)
        } catch {
            throw KerasError.invalid(path: path, expected: "a network acol can build", found: error.localizedDescription)
        }
        if !options.parentNames.isEmpty && options.parentNames.count != np {
            throw KerasError.invalid(path: path, expected: "\(np) parent names (the pooling layer has \(np) parents)", found: "\(options.parentNames.count)")
        }
        let model = ACOLModel(network: network, gar: GARConfig(),
                              preprocessing: Preprocessing(height: h, width: w, channels: c, scale: options.scale, offset: options.offset),
                              parentNames: options.parentNames)
        let identity = perm == Array(0..<nodes)
        var creator = ModelFile.defaultCreator + " (acol import keras: \((path as NSString).lastPathComponent), \(format)"
        if let version { creator += " \(version)" }
        creator += identity ? "; node order as in Keras" : "; acol node i = Keras node \(perm)[i]"
        creator += ")"
        return KerasImportResult(model: model, kerasNode: perm, format: format, kerasVersion: version, notes: notes, creator: creator)
    }
}

