// acol-bench: training experiments and throughput measurements for the core library.
//
//   acol-bench speed [arch=mlp|cnn2] [batch=128] [steps=30] [threads=2] [infer=1]
//       steady-state training (and inference) samples/s on random MNIST-shaped input
//   acol-bench train data=DIR [arch=cnn2] [k=5] [parents=2] [epochs=3] [train_n=60000]
//       [optimizer=sgd|adam] [lr=] [scope=all|parent] [symmetric=0|1] [bn=1] [seed=1]
//       [frob=sum|mean] [ca=1] [cb=1] [cf=1e-6] [threads=2] [batch=128] [init=glorot|fanin]
//       [convdrop=1] [densedrop=1] [blockbn=0] [bnpos=head|before_dropout]
//       trains on raw (gunzipped) MNIST IDX files in DIR and prints test purity per epoch.
//   acol-bench features model=M.h5 data=D.h5 out=PREFIX [threads=2]
//       writes F of each split as PREFIX-SPLIT.f32 (float32 rows), PREFIX-SPLIT.labels (int32
//       fine labels) and PREFIX-SPLIT.shape (rows columns), for clustering experiments.
//   acol-bench kmeans features=PREFIX [k=10] [restarts=100] [projection=50] [seed=1] [threads=2]
//       KMeans.fit on PREFIX-train (projection=0: on the full points), then the test split's
//       nearest centroids against its fine labels: inertia, Hungarian accuracy, purity, seconds.
import ACOL
import ACOLHDF5
import Foundation
#if canImport(Glibc)
import Glibc
#endif

BLASInfo.relaunchWithTunedKernelsIfNeeded()

var args: [String: String] = [:]
let argv = CommandLine.arguments.dropFirst()
let mode = argv.first ?? "speed"
for a in argv.dropFirst() {
    let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
    if parts.count == 2 { args[parts[0]] = parts[1] }
}
func arg(_ k: String, _ d: String) -> String { args[k] ?? d }
func argInt(_ k: String, _ d: Int) -> Int { Int(arg(k, "\(d)"))! }
func argFloat(_ k: String, _ d: Float) -> Float { Float(arg(k, "\(d)"))! }

Threads.set(argInt("threads", 2))
if mode != "train" { print("\(ComputeLibraries.summary) (OpenBLAS kernels: \(BLASInfo.coreName))") }

func readIDX(_ path: String) -> (dims: [Int], bytes: [UInt8]) {
    let d = FileManager.default.contents(atPath: path)!
    let b = [UInt8](d)
    let ndim = Int(b[3])
    var dims: [Int] = []
    for i in 0..<ndim {
        let o = 4 + 4 * i
        dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
    }
    return (dims, Array(b[(4 + 4 * ndim)...]))
}

func loadMNIST(_ dir: String, train: Bool, limit: Int, parents: Int) -> ImageSet {
    let p = train ? "train" : "t10k"
    let (dims, px) = readIDX("\(dir)/\(p)-images-idx3-ubyte")
    let (_, lb) = readIDX("\(dir)/\(p)-labels-idx1-ubyte")
    let n = min(limit, dims[0])
    let fine = lb[0..<n].map { Int32($0) }
    let coarse = fine.map { Int32(Int($0) / (10 / parents)) }
    return ImageSet(count: n, height: 28, width: 28, channels: 1, pixels: Array(px[0..<(n * 784)]),
                    fineLabels: fine, coarseLabels: coarse)
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

switch mode {
case "speed":
    let arch = arg("arch", "mlp")
    let bs = argInt("batch", 128), steps = argInt("steps", 30)
    let spec = try Presets.spec(arch, inputShape: [28, 28, 1], parents: 2, k: 5,
                                batchNormBeforeZ: arg("bn", "1") == "1")
    let net = try Network(spec: spec, seed: 1)
    let model = ACOLModel(network: net, gar: GARConfig(), preprocessing: Preprocessing(height: 28, width: 28, channels: 1))
    var gen = SeededGenerator(seed: 3)
    let n = bs * 4
    let set = ImageSet(count: n, height: 28, width: 28, channels: 1,
                       pixels: (0..<(n * 784)).map { _ in UInt8(truncatingIfNeeded: gen.next()) },
                       fineLabels: (0..<n).map { Int32($0 % 10) }, coarseLabels: (0..<n).map { Int32($0 % 2) })
    let trainer = Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: bs))
    var rng = SeededGenerator(seed: 9)
    let objective = ACOLObjective(head: spec.head, gar: GARConfig())
    let params = net.namedParameters.map(\.parameter).filter(\.trainable)
    var times: [Double] = []
    var phase: [String: Double] = [:]
    for s in 0..<(steps + 3) {
        let lo = (s % 4) * bs
        let batch = set.subset(Array(lo..<(lo + bs)))
        let t0 = Date()
        let x = batch.tensor(0..<bs)
        let (_, z) = net.forward(x, training: true, rng: &rng)
        let t1 = Date()
        let r = objective.evaluate(z: z, parents: batch.coarseLabels, gradient: true)
        let t2 = Date()
        net.backward(dZ: Tensor(shape: z.shape, data: r.dZ))
        let t3 = Date()
        trainer.optimizer.update(params)
        let t4 = Date()
        if s >= 3 {
            times.append(t4.timeIntervalSince(t0))
            phase["forward", default: 0] += t1.timeIntervalSince(t0)
            phase["objective", default: 0] += t2.timeIntervalSince(t1)
            phase["backward", default: 0] += t3.timeIntervalSince(t2)
            phase["update", default: 0] += t4.timeIntervalSince(t3)
        }
    }
    let med = median(times)
    print(String(format: "%@ train: median step %.1f ms, %.0f samples/s (batch %d, %d threads)", arch, med * 1000,
                 Double(bs) / med, bs, Threads.count))
    for (k, v) in phase.sorted(by: { $0.key < $1.key }) { print(String(format: "  %@ %.1f ms/step", k, v / Double(steps) * 1000)) }
    if arg("infer", "1") == "1" {
        let ib = 256
        let x = set.tensor(0..<ib)
        var it: [Double] = []
        for _ in 0..<max(steps / 2, 5) {
            let t0 = Date()
            _ = net.forward(x, training: false, rng: &rng)
            it.append(Date().timeIntervalSince(t0))
        }
        print(String(format: "%@ inference: median %.1f ms per %d, %.0f samples/s", arch, median(it) * 1000, ib, Double(ib) / median(it)))
    }
case "train":
    let dir = arg("data", "/tmp/mnist")
    let parents = argInt("parents", 2), k = argInt("k", 5)
    let train = loadMNIST(dir, train: true, limit: argInt("train_n", 60000), parents: parents)
    let test = loadMNIST(dir, train: false, limit: argInt("test_n", 10000), parents: parents)
    var spec = try Presets.spec(arg("arch", "cnn2"), inputShape: [28, 28, 1], parents: parents, k: k,
                                batchNormBeforeZ: arg("bn", "1") == "1", blockNorm: arg("blockbn", "0") == "1")
    if arg("bnpos", "head") == "before_dropout" {
        // BatchNorm between the last ReLU and the last dropout instead of on F (after the dropout).
        let last = spec.layers.removeLast()
        spec.layers += [.batchNorm(), last]
        spec.head.batchNormBeforeZ = false
    }
    if arg("convdrop", "1") == "0" {
        // Remove the dropouts of the convolution blocks (keep the one after Dense 2048).
        var seenFlatten = false
        spec.layers = spec.layers.filter { l in
            if l.type == .flatten { seenFlatten = true }
            if l.type == .dropout, !seenFlatten { return false }
            return true
        }
    }
    if arg("densedrop", "1") == "0" {
        if spec.layers.last!.type == .dropout { spec.layers.removeLast() }
    }
    if arg("init", "glorot") == "fanin" { spec.initializer = .fanInUniform }
    print("layers: \(spec.layers.map { $0.type.rawValue }), init \(spec.initializer?.rawValue ?? "glorot_uniform")")
    let net = try Network(spec: spec, seed: UInt64(argInt("seed", 1)))
    let gar = GARConfig(scope: arg("scope", "all") == "all" ? .allNodes : .perParent,
                        symmetric: arg("symmetric", "0") == "1", cA: argFloat("ca", 1), cB: argFloat("cb", 1),
                        cF: argFloat("cf", 1e-6), frobenius: arg("frob", "sum") == "sum" ? .sum : .mean)
    let model = ACOLModel(network: net, gar: gar, preprocessing: Preprocessing(height: 28, width: 28, channels: 1))
    var opt: OptimizerConfig = arg("optimizer", "sgd") == "sgd" ? .sgdReference : .adamDefault
    if let lr = args["lr"] { opt.learningRate = Float(lr)! }
    let trainer = Trainer(model: model, config: TrainConfig(epochs: argInt("epochs", 3), batchSize: argInt("batch", 128),
                                                            optimizer: opt, seed: UInt64(argInt("seed", 1))))
    print("config: \(args)")
    let start = Date()
    try trainer.fit(train: train, test: test, onEpoch: { r in
        print(String(format: "epoch %d  loss %.4f  parent %.4f  aff %.4f  bal %.4f  train-purity %.4f  used %d  test-parent %.4f  test-purity %.4f  test-nmi %.4f  test-hung %.4f  %.0fs",
                     r.epoch, r.loss, r.parentAccuracy, r.affinity, r.balance, r.purity ?? -1, r.clustersUsed ?? -1,
                     r.testParentAccuracy ?? -1, r.testPurity ?? -1, r.testNMI ?? -1, r.testHungarianAccuracy ?? -1, r.seconds))
        fflush(stdout)
    })
    print(String(format: "total %.0f s", Date().timeIntervalSince(start)))
    for c in model.clusters { print("node \(c.node) parent \(c.parent) dup \(c.duplicate) size \(c.count) label \(c.fineLabel ?? -1) share \(String(format: "%.3f", c.share))") }
case "features":
    exitOnError { try writeFeatures(model: arg("model", "m.h5"), data: arg("data", "d.h5"), prefix: arg("out", "features")) }
case "predict":
    // The cluster (output node) of every image of a split, as int32, for offline analysis.
    exitOnError {
        let model = arg("model", "m.h5"), data = arg("data", "d.h5"), split = arg("split", "train")
        let m = try ModelFile.load(model)
        let (set, _) = try DatasetLoader.split(split, of: data, for: m)
        let clusters = m.predict(set).map { Int32($0.cluster) }
        try writeOutput(arg("out", "clusters.i32"), inputs: [model, data]) { out in try clusters.withUnsafeBytes { try out.write($0) } }
        print("\(split): \(clusters.count) clusters")
    }
case "kmeans":
    exitOnError {
        let pre = arg("features", "features")
        let tr = try readFeatures(pre, split: "train"), te = try readFeatures(pre, split: "test")
        let k = argInt("k", 10), proj = argInt("projection", 50)
        let start = Date()
        let km = try KMeans.fit(tr.x, count: tr.m, dimension: tr.d, k: k,
                                options: KMeans.Options(restarts: argInt("restarts", 100), seed: UInt64(argInt("seed", 1)),
                                                        projection: proj > 0 ? proj : nil))
        let secs = Date().timeIntervalSince(start)
        guard te.d == tr.d else { throw BenchError("\(pre)-test: \(te.d) columns, the training split has \(tr.d)") }
        let a = km.assign(te.x, count: te.m).cluster
        let t = ClusterMetrics.compactContingency(assignments: a, labels: te.labels, clusters: k).table
        print(String(format: "inertia %.6g  test hungarian %.4f  purity %.4f  nmi %.4f  iterations %d  %.1f s",
                     km.inertia, ClusterMetrics.hungarianAccuracy(t), ClusterMetrics.purity(t), ClusterMetrics.nmi(t), km.iterations, secs))
    }
case "gemm", "layers":
    break
default:
    print("usage: acol-bench speed|train|gemm|layers key=value...")
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs `body`; an error is printed as one line and the process exits with status 1.
func exitOnError(_ body: () throws -> Void) {
    do { try body() } catch {
        FileHandle.standardError.write(Data("acol-bench: \((error as? LocalizedError)?.errorDescription ?? "\(error)")\n".utf8))
        exit(1)
    }
}

/// `acol-bench features`: F of both splits as PREFIX-SPLIT.f32 / .labels / .shape, each written
/// through OutputFile (a temporary renamed at the end; an input is never overwritten).
/// Writes `path` through `OutputFile` (refused when it is one of `inputs`; removed on error).
func writeOutput(_ path: String, inputs: [String], _ write: (OutputFile) throws -> Void) throws {
    let out = try OutputFile(path, inputs: inputs)
    do { try write(out); try out.commit() } catch { out.abort(); throw error }
}

func writeFeatures(model: String, data: String, prefix: String) throws {
    let m = try ModelFile.load(model)
    for name in ["train", "test"] {
        let (set, _) = try DatasetLoader.split(name, of: data, for: m)
        let f = m.features(set)
        let labels = (set.fineLabels ?? []).map { Int32($0) }
        func save(_ ext: String, _ write: (OutputFile) throws -> Void) throws {
            try writeOutput("\(prefix)-\(name).\(ext)", inputs: [model, data], write)
        }
        try save("f32") { out in try f.data.withUnsafeBytes { try out.write($0) } }
        try save("labels") { out in try labels.withUnsafeBytes { try out.write($0) } }
        try save("shape") { out in try out.write("\(f.rows) \(f.columns)\n") }
        print("\(name): \(f.rows) x \(f.columns)")
    }
}

/// Reads what `writeFeatures` wrote, checking the sizes against the .shape file.
func readFeatures(_ prefix: String, split: String) throws -> (x: [Float], m: Int, d: Int, labels: [Int32]) {
    let base = "\(prefix)-\(split)"
    guard let shapeText = try? String(contentsOfFile: base + ".shape", encoding: .utf8) else {
        throw BenchError("\(base).shape: cannot read it (write it with acol-bench features)")
    }
    let shape = shapeText.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
    guard shape.count == 2, shape[0] > 0, shape[1] > 0, shape[0] <= Int(Int32.max), shape[1] <= 1 << 20 else {
        throw BenchError("\(base).shape: expected 'rows columns' (positive), found '\(shapeText.prefix(40))'")
    }
    guard let xd = FileManager.default.contents(atPath: base + ".f32"), xd.count == shape[0] * shape[1] * 4 else {
        throw BenchError("\(base).f32: expected \(shape[0]) x \(shape[1]) float32 values, the file is missing or of another size")
    }
    guard let ld = FileManager.default.contents(atPath: base + ".labels"), ld.count == shape[0] * 4 else {
        throw BenchError("\(base).labels: expected \(shape[0]) int32 labels, the file is missing or of another size")
    }
    let x = xd.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    let l = ld.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    return (x, shape[0], shape[1], l)
}

/// Per-layer forward/backward times (ms, median of `steps`) for a preset; used to find hot spots.
func profileLayers(_ arch: String, batch bs: Int, steps: Int) throws {
    let spec = try Presets.spec(arch, inputShape: [28, 28, 1], parents: 2, k: 5)
    let net = try Network(spec: spec, seed: 1)
    var rng = SeededGenerator(seed: 1)
    var x = Tensor(shape: [bs, 28, 28, 1], data: (0..<(bs * 784)).map { _ in rng.nextUnitFloat() })
    var layers: [Layer] = net.layers
    if let bn = net.headNorm { layers.append(bn) }
    layers.append(net.headDense)
    for l in layers {
        var fw: [Double] = [], bw: [Double] = []
        var y = x
        for _ in 0..<steps {
            let t0 = Date()
            y = l.forward(x.reshaped([bs] + l.inputShape), training: true, rng: &rng)
            let t1 = Date()
            _ = l.backward(y)
            bw.append(Date().timeIntervalSince(t1)); fw.append(t1.timeIntervalSince(t0))
        }
        print(String(format: "  %-12@ %@ -> %@  fwd %.2f ms  bwd %.2f ms", l.spec.type.rawValue, "\(l.inputShape)", "\(l.outputShape)",
                     median(fw) * 1000, median(bw) * 1000))
        x = y
    }
}
if mode == "layers" { try profileLayers(arg("arch", "cnn2"), batch: argInt("batch", 128), steps: argInt("steps", 5)) }

/// Raw cblas_sgemm timing for the shapes the reference CNN uses (through a Dense layer's
/// forward, which is one GEMM plus the bias copy).
if mode == "gemm" {
    for (m, k, n) in [(100352, 288, 32), (25088, 288, 64), (25088, 576, 64), (128, 3136, 2048), (128, 2048, 2048), (1024, 1024, 1024)] {
        var rng = SeededGenerator(seed: 1)
        let d = Dense(inputShape: [k], units: n, rng: &rng)
        let x = Tensor(shape: [m, k], data: (0..<(m * k)).map { _ in rng.nextUnitFloat() })
        var ts: [Double] = []
        for _ in 0..<5 {
            let t0 = Date()
            _ = d.forward(x, training: false, rng: &rng)
            ts.append(Date().timeIntervalSince(t0))
        }
        let t = median(ts)
        print(String(format: "gemm %6d x %5d x %5d: %.2f ms, %.1f GFLOP/s", m, k, n, t * 1000, 2.0 * Double(m * k * n) / t / 1e9))
    }
}
