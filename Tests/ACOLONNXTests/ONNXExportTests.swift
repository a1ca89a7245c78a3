import ACOL
import ACOLDatasets
import ACOLONNX
import Foundation
import SwiftProtobuf
import Testing

// MARK: Support

enum Fixture {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures").path
    }()

    /// The first `count` digits of Fixtures/mnist-png, as one image set.
    static func mnistDigits(_ count: Int) throws -> ImageSet {
        let folder = root + "/mnist-png"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
        var pixels: [UInt8] = []
        for name in names.prefix(count) {
            let d = try PNGDecoder.decode(path: folder + "/" + name, channels: 1)
            #expect(d.height == 28 && d.width == 28)
            pixels += d.pixels
        }
        return ImageSet(count: min(count, names.count), height: 28, width: 28, channels: 1, pixels: pixels)
    }
}

/// Seeded random images.
func randomImages(_ count: Int, _ shape: [Int], seed: UInt64 = 3) -> ImageSet {
    var rng = SeededGenerator(seed: seed)
    let px = (0..<(count * shape.reduce(1, *))).map { _ in UInt8.random(in: 0...255, using: &rng) }
    return ImageSet(count: count, height: shape[0], width: shape[1], channels: shape[2], pixels: px)
}

/// A model of `spec` with every tensor (BatchNorm statistics included) set to seeded noise, after
/// Tests/ACOLHDF5Tests/TestSupport.swift makeModel.
func makeModel(_ spec: NetworkSpec, scale: Float = 1 / 127.5, offset: Float = -1, seed: UInt64 = 7,
               mapping: Bool = true) throws -> ACOLModel {
    let network = try Network(spec: spec, seed: seed)
    var rng = SeededGenerator(seed: seed + 1)
    let noisy = network.stateTensors().map { t in
        // Kernels U(-a, a) with a = 2 sqrt(6 / fan_in), so that activations stay of order 1 and the
        // examples spread over several clusters.
        // Biases, shifts and running means U(-0.1, 0.1), so that they do not drown the input.
        let a: Float = t.name.hasSuffix("kernel") ? 2 * (6 / Float(t.values.count / (t.shape.last ?? 1))).squareRoot()
            : t.name.hasSuffix("gamma") ? 1 : 0.1
        return NamedTensor(name: t.name, shape: t.shape, values: t.values.map { _ in
            t.name.hasSuffix("running_var") ? Float.random(in: 0.5...2, using: &rng) : Float.random(in: -a...a, using: &rng)
        })
    }
    try network.loadState(noisy)
    let head = spec.head
    let s = spec.inputShape
    var clusters: [ClusterInfo] = []
    if mapping {
        for (j, t) in head.nodeTable.enumerated() {
            clusters.append(ClusterInfo(node: j, parent: t.parent, duplicate: t.duplicate, count: 10 + j,
                                        fineLabel: j, fineName: "fine \(j) é", majorityCount: 5 + j,
                                        share: Double(5 + j) / Double(10 + j)))
        }
    }
    return ACOLModel(network: network, gar: .reference,
                     preprocessing: Preprocessing(height: s[0], width: s[1], channels: s[2], scale: scale, offset: offset),
                     parentNames: (0..<head.parents).map { "parent \($0)" },
                     fineNames: mapping ? (0..<head.nodes).map { "fine \($0) é" } : [],
                     clusters: clusters)
}

/// The cases: every layer kind and head variant the exporter handles.
enum Case: String, CaseIterable, CustomTestStringConvertible {
    /// conv 'same' -> relu -> BN -> pool -> conv -> relu -> pool -> dropout -> flatten -> dense -> BN -> relu, head BN, on MNIST digits.
    case mnistCNN
    /// A non-square 3-channel input, an asymmetric 2x3 'same' kernel and a 'valid' one.
    case colourCNN
    /// Dense straight on the image (no flatten), one k per parent, no head BN.
    case mlpDuplicates
    /// A body that ends on an image: the head's Flatten comes from the network itself.
    case convIntoHead

    var testDescription: String { rawValue }

    func model() throws -> ACOLModel {
        switch self {
        case .mnistCNN:
            return try makeModel(NetworkSpec(inputShape: [28, 28, 1],
                                             layers: [.conv2d(4), .relu, .batchNorm(), .maxPool2d(2), .conv2d(6, kernel: 3),
                                                      .relu, .maxPool2d(2), .dropout(0.25), .flatten, .dense(12),
                                                      .batchNorm(epsilon: 1e-2), .relu, .dropout(0.5)],
                                             head: ACOLHeadSpec(parents: 2, k: 3)),
                                 scale: 1 / 255, offset: 0)
        case .colourCNN:
            return try makeModel(NetworkSpec(inputShape: [9, 7, 3],
                                             layers: [.conv2d(4, kernel: [2, 3], padding: .same), .relu, .maxPool2d(2),
                                                      .conv2d(5, kernel: [3, 2], padding: .valid), .batchNorm(), .relu,
                                                      .flatten, .dense(7), .relu],
                                             head: ACOLHeadSpec(parents: 3, k: 2)))
        case .mlpDuplicates:
            return try makeModel(NetworkSpec(inputShape: [5, 4, 2],
                                             layers: [.dense(9), .batchNorm(), .relu, .dense(8), .relu],
                                             head: ACOLHeadSpec(duplicates: [3, 1, 2], batchNormBeforeZ: false)),
                                 scale: 0.02, offset: -2.5, mapping: false)
        case .convIntoHead:
            return try makeModel(NetworkSpec(inputShape: [6, 6, 2], layers: [.conv2d(3), .relu, .maxPool2d(3)],
                                             head: ACOLHeadSpec(parents: 3, k: 2, batchNormBeforeZ: true)))
        }
    }

    func images() throws -> ImageSet {
        switch self {
        case .mnistCNN: return try Fixture.mnistDigits(12)
        default:
            let m = try model()
            return randomImages(16, m.network.spec.inputShape)
        }
    }
}

func exportedModel(_ model: ACOLModel) throws -> Onnx_ModelProto {
    // Through the bytes, as a consumer reads the file.
    let bytes = try ONNXExport.serialized(model, source: "test.h5", producerVersion: "test")
    return try Onnx_ModelProto(serializedBytes: bytes)
}

func dims(_ v: Onnx_ValueInfoProto) -> [String] {
    v.type.tensorType.shape.dim.map { d in
        switch d.value {
        case .dimValue(let x): return String(x)
        case .dimParam(let p): return p
        case nil: return "?"
        }
    }
}

func jsonValue(_ m: Onnx_ModelProto, _ key: String) throws -> Any {
    let entries = m.metadataProps.filter { $0.key == key }
    #expect(entries.count == 1, "metadata key \(key)")
    return try JSONSerialization.jsonObject(with: Data((entries.first?.value ?? "null").utf8), options: [.fragmentsAllowed])
}

// MARK: Tests

@Suite struct ONNXExportTests {
    @Test(arguments: Case.allCases)
    func graphMatchesThePredictions(_ c: Case) throws {
        let model = try c.model()
        let set = try c.images()
        let onnx = try exportedModel(model)
        let n = model.head.nodes, np = model.head.parents

        let input = GraphEvaluator.Value(shape: [set.count, set.height, set.width, set.channels],
                                         data: set.pixels.map { Double($0) })
        let env = try GraphEvaluator(model: onnx).run(input)
        let z = try #require(env[ONNXExport.logitsName])
        let clusters = try #require(env[ONNXExport.clustersName])
        let parents = try #require(env[ONNXExport.parentsName])
        #expect(z.shape == [set.count, n])
        #expect(clusters.shape == [set.count, n])
        #expect(parents.shape == [set.count, np])

        let logits = model.logits(set)
        let predictions = model.predict(set)
        let parentOf = model.head.nodeParents
        var worst = 0.0
        for i in 0..<set.count {
            let row = (0..<n).map { Double(logits.data[i * n + $0]) }
            for j in 0..<n { worst = max(worst, abs(z.data[i * n + j] - row[j])) }
            let mx = row.max()!
            let e = row.map { exp($0 - mx) }
            let total = e.reduce(0, +)
            var pooled = [Double](repeating: 0, count: np)
            for j in 0..<n {
                #expect(abs(clusters.data[i * n + j] - e[j] / total) < 1e-4, "example \(i) node \(j)")
                pooled[parentOf[j]] += e[j] / total
            }
            for p in 0..<np { #expect(abs(parents.data[i * np + p] - pooled[p]) < 1e-4, "example \(i) parent \(p)") }
            let crow = Array(clusters.data[(i * n)..<((i + 1) * n)])
            let prow = Array(parents.data[(i * np)..<((i + 1) * np)])
            #expect(crow.firstIndex(of: crow.max()!) == predictions[i].cluster)
            #expect(prow.firstIndex(of: prow.max()!) == predictions[i].pooledParent)
            #expect(abs(crow[predictions[i].cluster] - Double(predictions[i].confidence)) < 1e-4)
        }
        #expect(worst < 1e-4, "largest logit difference \(worst)")
        // Not a degenerate case: the logits differ between examples (and on the digits, the
        // examples fall into several clusters).
        var spread = 0.0
        for j in 0..<n {
            let col = (0..<set.count).map { Double(logits.data[$0 * n + j]) }
            spread = max(spread, col.max()! - col.min()!)
        }
        #expect(spread > 0.1, "logits \(logits.data.prefix(2 * n))")
        if c == .mnistCNN { #expect(Set(predictions.map(\.cluster)).count > 1, "clusters \(predictions.map(\.cluster))") }
    }

    @Test func structure() throws {
        let model = try Case.mnistCNN.model()
        let m = try exportedModel(model)
        #expect(m.irVersion == 7)
        #expect(m.opsetImport.count == 1)
        #expect(m.opsetImport.first?.domain == "")
        #expect(m.opsetImport.first?.version == 13)
        #expect(m.producerName == "acol")
        #expect(m.producerVersion == "test")

        let g = m.graph
        #expect(g.input.map(\.name) == ["pixels"])
        #expect(g.input.map(dims) == [["N", "28", "28", "1"]])
        #expect(g.output.map(\.name) == ["clusters", "parents"])
        #expect(g.output.map(dims) == [["N", "6"], ["N", "2"]])
        for v in g.input + g.output { #expect(v.type.tensorType.elemType == 1) }   // FLOAT

        #expect(g.node.map(\.opType) == [
            "Mul", "Add",
            "Transpose", "Conv", "Relu", "BatchNormalization", "MaxPool", "Conv", "Relu", "MaxPool",
            "Transpose", "Flatten", "Gemm", "BatchNormalization", "Relu",
            "BatchNormalization", "Gemm", "Softmax", "MatMul",
        ])
        // Every node's inputs are defined before it (topological order), outputs are unique.
        var defined = Set(g.input.map(\.name) + g.initializer.map(\.name))
        for n in g.node {
            for i in n.input { #expect(defined.contains(i), "\(n.name) reads \(i)") }
            for o in n.output { #expect(!defined.contains(o)); defined.insert(o) }
        }
        let perms = g.node.filter { $0.opType == "Transpose" }.map { $0.attribute.first { $0.name == "perm" }?.ints ?? [] }
        #expect(perms == [[0, 3, 1, 2], [0, 2, 3, 1]])
        let softmax = try #require(g.node.first { $0.opType == "Softmax" })
        #expect(softmax.attribute.first { $0.name == "axis" }?.i == 1)
        let conv = try #require(g.node.first { $0.opType == "Conv" })
        #expect(conv.attribute.first { $0.name == "pads" }?.ints == [1, 1, 1, 1])
        #expect(conv.attribute.first { $0.name == "kernel_shape" }?.ints == [3, 3])

        let shapes = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0.dims.map { Int($0) }) })
        #expect(shapes == [
            "preprocess/scale_value": [], "preprocess/offset_value": [],
            "layers/00_conv2d/kernel": [4, 1, 3, 3], "layers/00_conv2d/bias": [4],
            "layers/02_batch_norm/gamma": [4], "layers/02_batch_norm/beta": [4],
            "layers/02_batch_norm/running_mean": [4], "layers/02_batch_norm/running_var": [4],
            "layers/04_conv2d/kernel": [6, 4, 3, 3], "layers/04_conv2d/bias": [6],
            "layers/09_dense/kernel": [294, 12], "layers/09_dense/bias": [12],
            "layers/10_batch_norm/gamma": [12], "layers/10_batch_norm/beta": [12],
            "layers/10_batch_norm/running_mean": [12], "layers/10_batch_norm/running_var": [12],
            "head/batch_norm/gamma": [12], "head/batch_norm/beta": [12],
            "head/batch_norm/running_mean": [12], "head/batch_norm/running_var": [12],
            "head/dense/kernel": [12, 6], "head/dense/bias": [6],
            "head/pool/matrix": [6, 2],
        ])
        for t in g.initializer {
            #expect(t.dataType == 1)
            #expect(t.rawData.count == 4 * t.dims.reduce(1, *), "\(t.name)")
        }
        let eps = g.node.filter { $0.opType == "BatchNormalization" }.map { $0.attribute.first { $0.name == "epsilon" }?.f }
        #expect(eps == [1e-3, 1e-2, 1e-3])
        // The parameters are acol's, the conv kernel turned from HWIO to OIHW.
        let ev = GraphEvaluator(model: m)
        let k = try ev.tensor(try #require(g.initializer.first { $0.name == "layers/04_conv2d/kernel" }))
        let hwio = model.network.layers[4].parameters[0].value   // [3, 3, 4, 6]
        for (y, x, i, o) in [(0, 0, 0, 0), (2, 1, 3, 5), (1, 2, 0, 4)] {
            #expect(k.data[((o * 4 + i) * 3 + y) * 3 + x] == Double(hwio[((y * 3 + x) * 4 + i) * 6 + o]))
        }
        let pool = try ev.tensor(try #require(g.initializer.first { $0.name == "head/pool/matrix" }))
        #expect(pool.data == [1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1])
    }

    @Test func metadata() throws {
        let model = try Case.mnistCNN.model()
        let m = try exportedModel(model)
        #expect(m.metadataProps.map(\.key) == [
            "acol.metadata_version", "acol.nodes", "acol.parent_names", "acol.fine_names", "acol.parent_of_fine",
            "acol.clusters", "acol.preprocessing", "acol.head", "acol.architecture",
        ])
        #expect(try jsonValue(m, "acol.metadata_version") as? Int == 1)
        let nodes = try #require(try jsonValue(m, "acol.nodes") as? [[String: Any]])
        #expect(nodes.count == 6)
        for (j, e) in nodes.enumerated() {
            #expect(e["node"] as? Int == j)
            #expect(e["parent"] as? Int == j % 2)
            #expect(e["duplicate"] as? Int == j / 2)
            #expect(e["parent_name"] as? String == "parent \(j % 2)")
            #expect(e["fine_label"] as? Int == j)
            #expect(e["fine_name"] as? String == "fine \(j) é")
        }
        #expect(try jsonValue(m, "acol.parent_names") as? [String] == ["parent 0", "parent 1"])
        #expect(try jsonValue(m, "acol.fine_names") as? [String] == (0..<6).map { "fine \($0) é" })
        let clusters = try #require(try jsonValue(m, "acol.clusters") as? [[String: Any]])
        #expect(clusters.count == 6)
        #expect(clusters[2]["majority_count"] as? Int == 7)
        #expect(clusters[2]["fine_label"] as? Int == 2)
        let pre = try #require(try jsonValue(m, "acol.preprocessing") as? [String: Any])
        #expect(pre["height"] as? Int == 28 && pre["channels"] as? Int == 1)
        #expect(abs((pre["scale"] as? Double ?? 0) - 1 / 255) < 1e-8)
        let head = try #require(try jsonValue(m, "acol.head") as? [String: Any])
        #expect(head["parents"] as? Int == 2 && head["k"] as? Int == 3 && head["nodes"] as? Int == 6)
        let arch = try #require(m.metadataProps.first { $0.key == "acol.architecture" }?.value)
        #expect(try JSONDecoder().decode(NetworkSpec.self, from: Data(arch.utf8)) == model.network.spec)
    }

    @Test func perParentDuplicatesInTheMetadataAndPool() throws {
        let model = try Case.mlpDuplicates.model()
        let m = try exportedModel(model)
        let nodes = try #require(try jsonValue(m, "acol.nodes") as? [[String: Any]])
        // k = [3, 1, 2]: (p0 d0) (p1 d0) (p2 d0) (p0 d1) (p2 d1) (p0 d2)
        #expect(nodes.map { $0["parent"] as? Int } == [0, 1, 2, 0, 2, 0])
        #expect(nodes.map { $0["duplicate"] as? Int } == [0, 0, 0, 1, 1, 2])
        #expect(nodes.allSatisfy { $0["fine_label"] == nil })
        let pool = try GraphEvaluator(model: m).tensor(try #require(m.graph.initializer.first { $0.name == "head/pool/matrix" }))
        #expect(pool.shape == [6, 3])
        #expect(pool.data == [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0])
        #expect(m.graph.node.map(\.opType) == ["Mul", "Add", "Flatten", "Gemm", "BatchNormalization", "Relu", "Gemm", "Relu",
                                               "Gemm", "Softmax", "MatMul"])
        #expect(try jsonValue(m, "acol.clusters") as? [Any] != nil)
    }

    @Test func errorsNameTheFile() throws {
        let model = try Case.mlpDuplicates.model()
        model.preprocessing.width = 3
        do {
            _ = try ONNXExport.serialized(model, source: "models/bad.h5")
            Issue.record("expected an error")
        } catch let e as ONNXError {
            #expect(e.localizedDescription.hasPrefix("models/bad.h5: cannot export to ONNX: "))
        }
        do {
            _ = try ONNXExport.read([0xff, 0xff, 0xff], file: "x.onnx")
            Issue.record("expected an error")
        } catch let e as ONNXError {
            #expect(e.localizedDescription.hasPrefix("x.onnx: not a readable ONNX model"))
        }
    }
}
