import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

/// `KerasImporter` on the fixtures of Scripts/make_keras_fixtures.py (Fixtures/keras/k2: tf.keras
/// 2.15, k3: Keras 3), compared with the outputs Keras itself computed (expected.json).
extension HDF5Tests {
    @Suite struct KerasImportTests {
        static let root: String = {
            var url = URL(fileURLWithPath: #filePath)
            for _ in 0..<3 { url.deleteLastPathComponent() }
            return url.appendingPathComponent("Fixtures/keras").path
        }()

        static func expected(_ gen: String) -> [String: Any] {
            let data = FileManager.default.contents(atPath: root + "/\(gen)/expected.json")!
            return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        }

        static let models = ["cnn_interleaved", "mlp_grouped", "mlp_uneven"]

        /// (generation, file, config) for every supported format of every model.
        static let cases: [(String, String, String?)] = models.flatMap { m -> [(String, String, String?)] in
            [("k3", "\(m).keras", nil), ("k3", "\(m).h5", nil), ("k3", "\(m).weights.h5", "\(m).json"),
             ("k2", "\(m).h5", nil), ("k2", "\(m)_weights.h5", "\(m).json")]
        }

        @Test(arguments: 0..<cases.count)
        func matchesKeras(_ index: Int) throws {
            let (gen, file, config) = Self.cases[index]
            let model = String(file.prefix { $0 != "." }.replacingOccurrences(of: "_weights", with: ""))
            let dir = Self.root + "/" + gen + "/"
            let r = try KerasImporter.load(dir + file, config: config.map { dir + $0 })
            let e = (Self.expected(gen)["models"] as! [String: Any])[model] as! [String: Any]
            let nodeParents = e["node_parents"] as! [Int]
            let np = e["parents"] as! Int
            let shape = e["shape"] as! [Int]
            let pixels = (e["pixels"] as! [[Int]])
            let logits = e["logits"] as! [[Double]], clusters = e["clusters"] as! [[Double]]
            let parentProbs = e["parent_probs"] as! [[Double]]
            let head = r.model.head
            let n = nodeParents.count
            #expect(head.parents == np && head.nodes == n)
            #expect(r.model.head.batchNormBeforeZ == (model == "cnn_interleaved"))
            // acol node i is Keras node kerasNode[i], with the same parent.
            #expect(Set(r.kerasNode) == Set(0..<n))
            for i in 0..<n { #expect(head.parent(ofNode: i) == nodeParents[r.kerasNode[i]]) }

            let images = ImageSet(count: pixels.count, height: shape[0], width: shape[1], channels: shape[2],
                                  pixels: pixels.flatMap { $0.map { UInt8($0) } })
            let z = r.model.logits(images)
            let preds = r.model.predictions(fromLogits: z)
            for s in 0..<pixels.count {
                let row = Array(z.data[(s * n)..<((s + 1) * n)])
                let mx = row.max()!
                let ex = row.map { exp(Double($0 - mx)) }
                let total = ex.reduce(0, +)
                var pooled = [Double](repeating: 0, count: np)
                for i in 0..<n {
                    let k = r.kerasNode[i]
                    #expect(abs(Double(row[i]) - logits[s][k]) < 1e-4, "\(gen)/\(file) sample \(s) node \(i): logit \(row[i]) vs Keras \(logits[s][k])")
                    #expect(abs(ex[i] / total - clusters[s][k]) < 1e-4, "\(gen)/\(file) sample \(s) node \(i): softmax")
                    pooled[head.parent(ofNode: i)] += ex[i] / total
                }
                for p in 0..<np { #expect(abs(pooled[p] - parentProbs[s][p]) < 1e-4, "\(gen)/\(file) sample \(s) parent \(p)") }
                // The cluster is Keras's argmax node, the parent Keras's pooled argmax.
                let kerasCluster = clusters[s].indices.max { clusters[s][$0] < clusters[s][$1] }!
                let kerasParent = parentProbs[s].indices.max { parentProbs[s][$0] < parentProbs[s][$1] }!
                #expect(r.kerasNode[preds[s].cluster] == kerasCluster)
                #expect(preds[s].pooledParent == kerasParent)
            }
        }

        @Test func roundTripsThroughAModelFile() throws {
            let dir = TempDir()
            let src = Self.root + "/k3/mlp_grouped.keras"
            let r = try KerasImporter.load(src, options: KerasImportOptions(parentNames: ["a", "b", "c"]))
            try ModelFile.save(r.model, to: dir.file("m.h5"), creator: r.creator, inputs: [src])
            let back = try ModelFile.load(dir.file("m.h5"))
            #expect(back.parentNames == ["a", "b", "c"])
            #expect(back.network.spec == r.model.network.spec)
            #expect(r.kerasNode == [0, 2, 4, 1, 3, 5])
            #expect(r.creator.contains("[0, 2, 4, 1, 3, 5]"))
        }

        @Test(arguments: ["k3/unsupported_gap.keras", "k3/unsupported_gap.h5", "k2/unsupported_gap.h5"])
        func refusesAnUnsupportedLayer(_ file: String) throws {
            do {
                _ = try KerasImporter.load(Self.root + "/" + file)
                Issue.record("imported \(file)")
            } catch let e as KerasError {
                guard case .unsupportedLayer(_, let layer, let cls, _) = e else { Issue.record("\(e)"); return }
                #expect(layer == "gap" && cls == "GlobalAveragePooling2D")
                #expect(e.localizedDescription.contains("'gap' (GlobalAveragePooling2D)"))
            }
        }

        @Test(arguments: ["k3/cnn_interleaved.weights.h5", "k2/cnn_interleaved_weights.h5"])
        func weightsOnlyNeedsAConfig(_ file: String) throws {
            #expect(throws: KerasError.needsConfig(path: Self.root + "/" + file)) {
                _ = try KerasImporter.load(Self.root + "/" + file)
            }
        }

        @Test(arguments: ["k3/cnn_interleaved.h5", "k2/cnn_interleaved.h5", "k3/cnn_interleaved.keras"])
        func refusesATruncatedFile(_ file: String) throws {
            let dir = TempDir()
            let data = FileManager.default.contents(atPath: Self.root + "/" + file)!
            for fraction in [0.1, 0.5, 0.9] {
                let cut = dir.file("cut-\(fraction)-" + (file as NSString).lastPathComponent)
                _ = FileManager.default.createFile(atPath: cut, contents: data.prefix(Int(Double(data.count) * fraction)))
                #expect(throws: (any Error).self) { _ = try KerasImporter.load(cut) }
            }
            #expect(dir.openObjects().isEmpty)
        }

        @Test func refusesAConfigThatIsNotAChain() throws {
            let dir = TempDir()
            let cfg = dir.file("bad.json")
            // The grouped model's config with the pooling layer fed by the input instead.
            var text = try String(contentsOfFile: Self.root + "/k3/mlp_grouped.json", encoding: .utf8)
            text = text.replacingOccurrences(of: "\"keras_history\": [\"softmax\", 0, 0]", with: "\"keras_history\": [\"fc\", 0, 0]")
            try text.write(toFile: cfg, atomically: true, encoding: .utf8)
            do {
                _ = try KerasImporter.load(Self.root + "/k3/mlp_grouped.weights.h5", config: cfg)
                Issue.record("imported a non-chain")
            } catch let e as KerasError {
                guard case .unsupportedLayer(_, let layer, _, let problem) = e else { Issue.record("\(e)"); return }
                #expect(layer == "pool" && problem.contains("linear chain"))
            }
        }

        @Test func refusesAPoolingDenseWithABias() throws {
            // The grouped model's config with use_bias true on its pooling Dense.
            let dir = TempDir()
            let cfg = dir.file("bias.json")
            var text = try String(contentsOfFile: Self.root + "/k3/mlp_grouped.json", encoding: .utf8)
            let marker = "\"name\": \"pool\", \"trainable\": false"
            #expect(text.contains(marker))
            text = text.replacingOccurrences(of: "\"use_bias\": false", with: "\"use_bias\": true")
            try text.write(toFile: cfg, atomically: true, encoding: .utf8)
            #expect(throws: KerasError.self) { _ = try KerasImporter.load(Self.root + "/k3/mlp_grouped.weights.h5", config: cfg) }
        }
        @Test(arguments: ["\"units\": 1e300,", "\"units\": -3,", "\"units\": 2.5,", "\"units\": \"five\","])
        func refusesAbsurdSizesInTheConfig(_ units: String) throws {
            let dir = TempDir()
            let cfg = dir.file("units.json")
            var text = try String(contentsOfFile: Self.root + "/k3/mlp_grouped.json", encoding: .utf8)
            text = text.replacingOccurrences(of: "\"units\": 5,", with: units)
            try text.write(toFile: cfg, atomically: true, encoding: .utf8)
            #expect(throws: KerasError.self) { _ = try KerasImporter.load(Self.root + "/k3/mlp_grouped.weights.h5", config: cfg) }
        }

        /// Weights that are not finite, or a negative moving variance, are refused naming the
        /// Keras layer (were named by acol's tensor, or only when the output was written);
        /// options a model file cannot hold (a NaN scale, empty or repeated parent names) too.
        @Test func refusesBadWeightsAndOptionsNamingTheLayer() throws {
            for (file, says) in [("bad/nan_fc.h5", "expected finite values in layer 'fc' weight fc/kernel, found nan at index 7"),
                                 ("bad/inf_head.h5", "expected finite values in layer 'L-1' weight L-1/bias, found inf at index 2"),
                                 ("bad/negvar_bn.h5", "expected a moving variance >= 0 in layer 'bn_a', found -5.0 at index 1")] {
                let path = Self.root + "/" + file
                do { _ = try KerasImporter.load(path); Issue.record("\(file) was imported") } catch let e as KerasError {
                    #expect(e.path == path && e.errorDescription?.hasSuffix(says) == true, "\(e.errorDescription ?? "")")
                }
            }
            let good = Self.root + "/k3/cnn_interleaved.h5"
            for (options, says) in [(KerasImportOptions(scale: .nan), "a finite preprocessing scale and offset"),
                                    (KerasImportOptions(offset: .infinity), "a finite preprocessing scale and offset"),
                                    (KerasImportOptions(parentNames: ["a", "a"]), "different parent names, found 'a' twice"),
                                    (KerasImportOptions(parentNames: ["", " "]), "parent names that are not empty")] {
                do { _ = try KerasImporter.load(good, options: options); Issue.record("\(says): imported") } catch let e as KerasError {
                    #expect(e.errorDescription?.contains(says) == true, "\(e.errorDescription ?? "")")
                }
            }
            #expect(try KerasImporter.load(good, options: KerasImportOptions(parentNames: ["a", "b"])).model.parentNames == ["a", "b"])
        }

        /// A .keras whose config.json inflates past the config limit is refused from the
        /// archive's directory, before anything is inflated (a 1 GiB member was inflated first).
        @Test func anOversizedConfigMemberIsRefusedBeforeInflating() throws {
            let dir = TempDir()
            let path = dir.file("big.keras")
            // A stored (method 0) zip with a config.json of 65 MiB of spaces: cheap to build.
            let content = Data(repeating: 0x20, count: (64 << 20) + 1024)
            try storedZip([("config.json", content)], to: path)
            do { _ = try KerasImporter.load(path); Issue.record("imported") } catch let e as KerasError {
                #expect(e.errorDescription == "\(path) (config.json): expected a model config of at most 64 MiB, found \(content.count) bytes")
            }
        }

        @Test func refusesACraftedZipMember() throws {
            // A .keras whose model.weights.h5 claims 1 GiB in its central directory.
            let dir = TempDir()
            var data = FileManager.default.contents(atPath: Self.root + "/k3/mlp_uneven.keras")!
            let name = Array("model.weights.h5".utf8)
            let bytes = [UInt8](data)
            var found = false
            for i in 0..<(bytes.count - 46 - name.count) where bytes[i] == 0x50 && bytes[i + 1] == 0x4b && bytes[i + 2] == 1 && bytes[i + 3] == 2 {
                if Array(bytes[(i + 46)..<(i + 46 + name.count)]) == name {
                    data.replaceSubrange((i + 24)..<(i + 28), with: [0, 0, 0, 0x40])
                    found = true
                }
            }
            #expect(found)
            let path = dir.file("crafted.keras")
            _ = FileManager.default.createFile(atPath: path, contents: data)
            #expect(throws: KerasError.self) { _ = try KerasImporter.load(path) }
        }
    }
}

/// A zip archive of stored (uncompressed) members, as a .keras file is laid out; the CRC fields
/// are 0 (the tests that use it are refused before any CRC is checked).
func storedZip(_ members: [(String, Data)], to path: String) throws {
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 255), UInt8((v >> 8) & 255)] }
    func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16((v >> 16) & 0xFFFF) }
    var out = Data(), central = Data()
    for (name, content) in members {
        let n = Array(name.utf8)
        let crc = 0
        let offset = out.count
        out += le32(0x0403_4b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc) + le32(content.count) + le32(content.count) + le16(n.count) + le16(0) + n
        out += content
        central += le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc) + le32(content.count) + le32(content.count)
            + le16(n.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + n
    }
    let start = out.count
    out += central
    out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(members.count) + le16(members.count) + le32(central.count) + le32(start) + le16(0)
    try out.write(to: URL(fileURLWithPath: path))
}
