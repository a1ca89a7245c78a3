import ACOL
import Foundation
import SwiftProtobuf

/// The one error type of ACOLONNX. Its text names the file (the model being exported, or the
/// ONNX file being read) and says what went wrong.
public enum ONNXError: Error, LocalizedError, Equatable {
    /// The model holds something the exporter cannot express in the graph.
    case unsupported(file: String, reason: String)
    /// An ONNX file that cannot be decoded, or is not what acol writes.
    case unreadable(file: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .unsupported(let file, let reason): return "\(file): cannot export to ONNX: \(reason)"
        case .unreadable(let file, let reason): return "\(file): not a readable ONNX model: \(reason)"
        }
    }
}

/// ONNX export of an `ACOLModel`: the whole inference path, from raw pixels to the cluster and
/// parent probabilities, as one graph (docs/onnx.md).
///
/// - input `pixels`: float32 [N, H, W, C], raw pixel values 0-255 (NHWC, as acol's images);
/// - the model's preprocessing, x = pixel * scale + offset (`Mul`, `Add`);
/// - the body: `Conv` (NCHW, kernels turned from HWIO into OIHW), `MaxPool`, `Relu`,
///   `BatchNormalization` (running statistics), `Gemm`; a `Transpose` back to NHWC before every
///   `Flatten` that follows a convolution, so that the Dense kernels apply unchanged; dropout is
///   the identity at inference and adds no node;
/// - the head: optional `BatchNormalization` of F, Z = F W + b (`Gemm`, output `logits` inside the
///   graph), `clusters` = `Softmax`(Z) over all n nodes [N, n] and `parents` = clusters P
///   (`MatMul`) [N, n_p] with P[j, parent(j)] = 1.
/// - `metadata_props`: the node order, parent and fine names, the cluster mapping and the
///   preprocessing, as JSON (keys in `ONNXExport.MetadataKey`).
public enum ONNXExport {
    /// The ONNX operator set the graph uses.
    public static let opsetVersion: Int64 = 13
    /// The ONNX IR version written (IR 7 is the one that came with opset 13).
    public static let irVersion: Int64 = 7
    /// The version of acol's own metadata (the `acol.*` keys).
    public static let metadataVersion = 1

    public static let inputName = "pixels"
    public static let clustersName = "clusters"
    public static let parentsName = "parents"
    /// Z, the head's logits: an intermediate value of the graph (not a graph output).
    public static let logitsName = "logits"

    /// Keys of `metadata_props`; every value is JSON.
    public enum MetadataKey {
        /// The version of these keys, 1.
        public static let version = "acol.metadata_version"
        /// One object per output node, in node order: node, parent, parent_name, duplicate and,
        /// where the model has a cluster mapping, fine_label, fine_name, count, share.
        public static let nodes = "acol.nodes"
        /// [String]: the parent names, index = column of `parents`.
        public static let parentNames = "acol.parent_names"
        /// [String]: the fine-class names (may be empty).
        public static let fineNames = "acol.fine_names"
        /// [Int]: the parent of each fine class (may be empty).
        public static let parentOfFine = "acol.parent_of_fine"
        /// The cluster mapping, one object per mapped node (node, parent, duplicate, count,
        /// fine_label, fine_name, majority_count, share); empty when the model has none.
        public static let clusters = "acol.clusters"
        /// {height, width, channels, scale, offset}: what the graph's first two nodes do.
        public static let preprocessing = "acol.preprocessing"
        /// {parents, k, duplicates, nodes, batch_norm_before_z}: the ACOL head.
        public static let head = "acol.head"
        /// The network spec: the model file's `architecture` attribute.
        public static let architecture = "acol.architecture"
    }

    /// The ONNX model of `model`. `source` names the model (its file) in errors and in the
    /// graph's doc string; `producerVersion` is written as the producer's version.
    public static func model(_ model: ACOLModel, source: String = "model",
                             producerVersion: String = "") throws -> Onnx_ModelProto {
        if let km = model.featureClusters {
            throw ONNXError.unsupported(file: source, reason: "the model's clusters are \(km.k) k-means centroids on F (an unsupervised model); the export writes the ACOL head's outputs, which are its pseudo-parents, so it is refused rather than giving clusters that differ from acol's")
        }
        var b = GraphBuilder(model: model, source: source)
        try b.build()
        var m = Onnx_ModelProto()
        m.irVersion = irVersion
        m.producerName = "acol"
        m.producerVersion = producerVersion
        m.domain = "org.acol"
        m.modelVersion = 1
        m.docString = "ACOL network exported by acol from \((source as NSString).lastPathComponent): "
            + "pixels [N, H, W, C] 0-255 -> clusters [N, n] (softmax over the output nodes), parents [N, n_p]"
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opsetVersion
        m.opsetImport = [opset]
        m.graph = b.graph
        m.metadataProps = try metadata(model).map { key, value in
            var e = Onnx_StringStringEntryProto()
            e.key = key; e.value = value
            return e
        }
        return m
    }

    /// The serialized ONNX model (the bytes of a .onnx file).
    public static func serialized(_ model: ACOLModel, source: String = "model",
                                  producerVersion: String = "") throws -> [UInt8] {
        let m = try self.model(model, source: source, producerVersion: producerVersion)
        do { return try m.serializedBytes() } catch {
            throw ONNXError.unsupported(file: source, reason: "protobuf encoding failed: \(error)")
        }
    }

    /// Decodes the bytes of an ONNX file (`file` names it in errors).
    public static func read(_ bytes: [UInt8], file: String) throws -> Onnx_ModelProto {
        do { return try Onnx_ModelProto(serializedBytes: bytes) } catch {
            throw ONNXError.unreadable(file: file, reason: "protobuf decoding failed: \(error)")
        }
    }

    /// The metadata_props entries, in a fixed order.
    public static func metadata(_ model: ACOLModel) throws -> [(String, String)] {
        let head = model.head
        let byNode = Dictionary(model.clusters.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        let nodes: [NodeEntry] = head.nodeTable.enumerated().map { j, t in
            let c = byNode[j]
            return NodeEntry(node: j, parent: t.parent,
                             parent_name: t.parent < model.parentNames.count ? model.parentNames[t.parent] : "",
                             duplicate: t.duplicate, fine_label: c?.fineLabel, fine_name: c?.fineName,
                             count: c?.count, share: c?.share)
        }
        let p = model.preprocessing
        let headEntry = HeadEntry(parents: head.parents, k: head.k, duplicates: head.duplicates,
                                  nodes: head.nodes, batch_norm_before_z: head.batchNormBeforeZ)
        return [
            (MetadataKey.version, String(metadataVersion)),
            (MetadataKey.nodes, try json(nodes)),
            (MetadataKey.parentNames, try json(model.parentNames)),
            (MetadataKey.fineNames, try json(model.fineNames)),
            (MetadataKey.parentOfFine, try json(model.parentOfFine)),
            (MetadataKey.clusters, try json(model.clusters, snakeCase: true)),
            (MetadataKey.preprocessing, try json(PreprocessingEntry(height: p.height, width: p.width,
                                                                    channels: p.channels, scale: p.scale,
                                                                    offset: p.offset))),
            (MetadataKey.head, try json(headEntry)),
            (MetadataKey.architecture, try json(model.network.spec)),
        ]
    }

    struct NodeEntry: Encodable {
        var node: Int; var parent: Int; var parent_name: String; var duplicate: Int
        var fine_label: Int?; var fine_name: String?; var count: Int?; var share: Double?
    }
    struct HeadEntry: Encodable {
        var parents: Int; var k: Int; var duplicates: [Int]?; var nodes: Int; var batch_norm_before_z: Bool
    }
    struct PreprocessingEntry: Encodable {
        var height: Int; var width: Int; var channels: Int; var scale: Float; var offset: Float
    }

    static func json<T: Encodable>(_ value: T, snakeCase: Bool = false) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if snakeCase { e.keyEncodingStrategy = .convertToSnakeCase }
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}

/// Builds the graph node by node, keeping track of the current value and its layout.
struct GraphBuilder {
    /// The layout of the current value: an image batch in NHWC (acol's) or NCHW (ONNX's Conv,
    /// MaxPool and 4-D BatchNormalization), or a matrix [N, features].
    enum Layout: Equatable { case nhwc, nchw, flat }

    let model: ACOLModel
    let source: String
    var graph = Onnx_GraphProto()
    var current = ONNXExport.inputName
    var layout = Layout.nhwc
    /// [H, W, C] of the current image value (nil when flat).
    var shape: [Int]

    init(model: ACOLModel, source: String) {
        self.model = model
        self.source = source
        shape = model.network.spec.inputShape
    }

    mutating func build() throws {
        let net = model.network
        let spec = net.spec
        let p = model.preprocessing
        guard spec.inputShape == [p.height, p.width, p.channels] else {
            throw ONNXError.unsupported(file: source, reason: "the preprocessing's image size \([p.height, p.width, p.channels]) "
                                        + "differs from the network's input shape \(spec.inputShape)")
        }
        graph.name = "acol"
        graph.input = [valueInfo(ONNXExport.inputName, dims: [nil] + spec.inputShape.map { Int64($0) })]

        // Preprocessing: x = pixel * scale + offset, as ImageSet.tensor computes it.
        current = node("Mul", "preprocess/scale", [current, scalar("preprocess/scale_value", p.scale)])
        current = node("Add", "preprocess/offset", [current, scalar("preprocess/offset_value", p.offset)])

        for (i, layer) in net.layers.enumerated() {
            let name = LayerSpec.groupName(index: i, type: layer.spec.type)
            try add(layer, name: name)
        }
        toFlat(name: "features")

        // Head.
        if let bn = net.headNorm {
            try batchNorm(bn, name: "head/batch_norm")
        }
        let d = net.headDense
        current = node("Gemm", "head/dense", [current, initializer("head/dense/kernel", d.kernel.shape, d.kernel.value),
                                              initializer("head/dense/bias", d.bias.shape, d.bias.value)],
                       output: ONNXExport.logitsName)
        current = node("Softmax", "head/softmax", [current], output: ONNXExport.clustersName, attributes: [intAttr("axis", 1)])
        let head = spec.head
        var pool = [Float](repeating: 0, count: head.nodes * head.parents)
        for j in 0..<head.nodes { pool[j * head.parents + head.parent(ofNode: j)] = 1 }
        current = node("MatMul", "head/pool", [current, initializer("head/pool/matrix", [head.nodes, head.parents], pool)],
                       output: ONNXExport.parentsName)
        graph.output = [valueInfo(ONNXExport.clustersName, dims: [nil, Int64(head.nodes)]),
                        valueInfo(ONNXExport.parentsName, dims: [nil, Int64(head.parents)])]
    }

    mutating func add(_ layer: Layer, name: String) throws {
        switch layer.spec.type {
        case .conv2d:
            guard let conv = layer as? Conv2D else { throw mismatch(name) }
            let k = conv.kernel.shape   // [kh, kw, in, out]
            guard k.count == 4 else { throw mismatch(name) }
            let (kh, kw, c, f) = (k[0], k[1], k[2], k[3])
            toNCHW(name: name)
            // HWIO -> OIHW.
            var oihw = [Float](repeating: 0, count: conv.kernel.value.count)
            conv.kernel.value.withUnsafeBufferPointer { src in
                for y in 0..<kh { for x in 0..<kw { for i in 0..<c { for o in 0..<f {
                    oihw[((o * c + i) * kh + y) * kw + x] = src[((y * kw + x) * c + i) * f + o]
                } } } }
            }
            // 'same': (k - 1) / 2 before, the rest after (TensorFlow's rule, as Conv2D pads).
            let pads: [Int64]
            switch conv.spec.padding ?? .same {
            case .same:
                let t = (kh - 1) / 2, l = (kw - 1) / 2
                pads = [Int64(t), Int64(l), Int64(kh - 1 - t), Int64(kw - 1 - l)]
            case .valid: pads = [0, 0, 0, 0]
            }
            current = node("Conv", name, [current, initializer(name + "/kernel", [f, c, kh, kw], oihw),
                                          initializer(name + "/bias", conv.bias.shape, conv.bias.value)],
                           attributes: [intsAttr("kernel_shape", [Int64(kh), Int64(kw)]), intsAttr("pads", pads),
                                        intsAttr("strides", [1, 1]), intsAttr("dilations", [1, 1]), intAttr("group", 1)])
            shape = layer.outputShape
        case .maxPool2d:
            let size = Int64(layer.spec.pool ?? 2)
            toNCHW(name: name)
            current = node("MaxPool", name, [current],
                           attributes: [intsAttr("kernel_shape", [size, size]), intsAttr("strides", [size, size]),
                                        intsAttr("pads", [0, 0, 0, 0])])
            shape = layer.outputShape
        case .relu:
            current = node("Relu", name, [current])
        case .dropout:
            break   // the identity at inference
        case .flatten:
            toFlat(name: name)
        case .dense:
            guard let d = layer as? Dense else { throw mismatch(name) }
            toFlat(name: name)
            current = node("Gemm", name, [current, initializer(name + "/kernel", d.kernel.shape, d.kernel.value),
                                          initializer(name + "/bias", d.bias.shape, d.bias.value)])
            shape = []
        case .batchNorm:
            guard let bn = layer as? BatchNorm else { throw mismatch(name) }
            if layout == .nhwc { toNCHW(name: name) }   // channels on axis 1
            try batchNorm(bn, name: name)
        }
    }

    func mismatch(_ name: String) -> ONNXError {
        .unsupported(file: source, reason: "\(name): the layer object does not match its spec")
    }

    mutating func batchNorm(_ bn: BatchNorm, name: String) throws {
        let eps = bn.spec.epsilon ?? 1e-3
        current = node("BatchNormalization", name, [
            current,
            initializer(name + "/gamma", bn.gamma.shape, bn.gamma.value),
            initializer(name + "/beta", bn.beta.shape, bn.beta.value),
            initializer(name + "/running_mean", bn.runningMean.shape, bn.runningMean.value),
            initializer(name + "/running_var", bn.runningVar.shape, bn.runningVar.value),
        ], attributes: [floatAttr("epsilon", eps)])
    }

    mutating func toNCHW(name: String) {
        switch layout {
        case .nchw: return
        case .nhwc:
            current = node("Transpose", name + "/to_nchw", [current], attributes: [intsAttr("perm", [0, 3, 1, 2])])
            layout = .nchw
        case .flat:
            // Not reachable from a valid spec (image layers need an image input).
            return
        }
    }

    /// Flatten of an NHWC value (acol's order), transposing back from NCHW first.
    mutating func toFlat(name: String) {
        switch layout {
        case .flat: return
        case .nchw:
            current = node("Transpose", name + "/to_nhwc", [current], attributes: [intsAttr("perm", [0, 2, 3, 1])])
            fallthrough
        case .nhwc:
            current = node("Flatten", name + "/flatten", [current], attributes: [intAttr("axis", 1)])
            layout = .flat
        }
    }

    // MARK: Protobuf pieces

    /// Appends a node; its output is `output` or "NAME/output".
    mutating func node(_ op: String, _ name: String, _ inputs: [String], output: String? = nil,
                       attributes: [Onnx_AttributeProto] = []) -> String {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name
        n.input = inputs
        let out = output ?? name + "/output"
        n.output = [out]
        n.attribute = attributes
        graph.node.append(n)
        return out
    }

    /// Adds a float32 initializer (little-endian raw data) and returns its name.
    mutating func initializer(_ name: String, _ dims: [Int], _ values: [Float]) -> String {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map { Int64($0) }
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        if UInt32(1).littleEndian == 1 {
            t.rawData = values.withUnsafeBytes { Data($0) }
        } else {
            var raw = Data(capacity: values.count * 4)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
            t.rawData = raw
        }
        graph.initializer.append(t)
        return name
    }

    mutating func scalar(_ name: String, _ value: Float) -> String { initializer(name, [], [value]) }

    func valueInfo(_ name: String, dims: [Int64?]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var s = Onnx_TensorShapeProto()
        s.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = d } else { dim.dimParam = "N" }
            return dim
        }
        t.shape = s
        var ty = Onnx_TypeProto()
        ty.tensorType = t
        v.type = ty
        return v
    }

    func intAttr(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .int; a.i = value
        return a
    }

    func intsAttr(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .ints; a.ints = values
        return a
    }

    func floatAttr(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .float; a.f = value
        return a
    }
}
