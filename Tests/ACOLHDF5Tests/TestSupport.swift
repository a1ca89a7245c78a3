import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

/// All suites of this target, run one test at a time so that the process-wide open-object
/// count is not disturbed by other tests of this target (the whole target takes under a second).
@Suite(.serialized) struct HDF5Tests {}

/// A temporary folder for one test, removed when the value goes away.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "acol-hdf5-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    /// Everything in the folder (hidden temporaries included).
    func contents() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    /// Open HDF5 objects on files in this folder (must be empty between operations).
    func openObjects() -> [String] { HDF5Library.openObjects(inFilesUnder: path) }
}

enum Fixture {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/hdf5").path
    }()
    static func path(_ name: String) -> String { directory + "/" + name }

    static var reference: [String: Any] {
        let data = FileManager.default.contents(atPath: path("h5py-reference.json"))!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

/// The brief's small network with every tensor (BatchNorm statistics included) set to seeded noise.
func makeModel(seed: UInt64 = 7, withMetadata: Bool = true) throws -> ACOLModel {
    let spec = NetworkSpec(inputShape: [8, 8, 1],
                           layers: [.conv2d(4), .relu, .maxPool2d(2), .flatten, .dense(16), .relu],
                           head: ACOLHeadSpec(parents: 2, k: 3))
    let network = try Network(spec: spec, seed: seed)
    var rng = SeededGenerator(seed: seed + 1)
    let noisy = network.stateTensors().map { t in
        NamedTensor(name: t.name, shape: t.shape, values: t.values.map { _ in
            t.name.hasSuffix("running_var") ? Float.random(in: 0.5...2, using: &rng) : Float.random(in: -1...1, using: &rng)
        })
    }
    try network.loadState(noisy)
    guard withMetadata else {
        return ACOLModel(network: network, gar: .reference, preprocessing: Preprocessing(height: 8, width: 8, channels: 1))
    }
    var clusters: [ClusterInfo] = []
    for j in 0..<6 {
        let empty = j == 3
        let count: Int = empty ? 0 : 10 + j
        let majority: Int = empty ? 0 : 5 + j
        let share: Double = empty ? 0 : Double(majority) / Double(count)
        let name: String? = empty ? nil : "fine \(j) é"
        clusters.append(ClusterInfo(node: j, parent: j % 2, duplicate: j / 2, count: count, fineLabel: empty ? nil : j,
                                    fineName: name, majorityCount: majority, share: share))
    }
    let history = [
        EpochRecord(epoch: 1, loss: 1.5, parentAccuracy: 0.5, affinity: 0.3, balance: 0.6, seconds: 1.25),
        EpochRecord(epoch: 2, loss: 1.2, parentAccuracy: 0.7, affinity: 0.2, balance: 0.7, purity: 0.6, nmi: 0.4,
                    hungarianAccuracy: 0.55, clustersUsed: 5, testParentAccuracy: 0.65, testPurity: 0.58, testNMI: 0.39,
                    testHungarianAccuracy: 0.5, seconds: 1.5),
    ]
    let settings = TrainingSettings(optimizer: .sgdReference, batchSize: 128, epochs: 2, seed: UInt64.max - 3,
                                    datasetFile: "mnist.h5", datasetSHA256: String(repeating: "ab", count: 32))
    return ACOLModel(network: network,
                     gar: GARConfig(scope: .perParent, symmetric: true, cA: 0.1, cB: 0.2, cF: 3e-6, frobenius: .mean, epsilon: 1e-8),
                     preprocessing: Preprocessing(height: 8, width: 8, channels: 1, scale: 1 / 127.5, offset: -1),
                     parentNames: ["low", "high"], fineNames: (0..<6).map { "fine \($0) é" }, clusters: clusters,
                     settings: settings, history: history)
}

/// Seeded random images with labels.
func makeImages(count: Int, height: Int = 8, width: Int = 8, channels: Int = 1, seed: UInt64 = 3,
                fine: Bool = true, coarse: Bool = true, fineClasses: Int = 6, parents: Int = 2) -> ImageSet {
    var rng = SeededGenerator(seed: seed)
    let px = (0..<(count * height * width * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    let f = (0..<count).map { _ in Int32.random(in: 0..<Int32(fineClasses), using: &rng) }
    return ImageSet(count: count, height: height, width: width, channels: channels, pixels: px,
                    fineLabels: fine ? f : nil, coarseLabels: coarse ? f.map { $0 % Int32(parents) } : nil)
}

/// Expects `body` to throw an HDF5Error and returns it.
@discardableResult
func expectHDF5Error(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> HDF5Error? {
    do {
        try body()
        Issue.record("expected an HDF5Error, nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as HDF5Error {
        return e
    } catch {
        Issue.record("expected an HDF5Error, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
