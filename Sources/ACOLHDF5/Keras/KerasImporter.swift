internal import CHDF5
import ACOL
import Foundation

/// Options of a Keras import: the preprocessing Keras files do not record, and parent names.
public struct KerasImportOptions: Sendable {
    public var scale: Float
    public var offset: Float
    /// Names of the parents (n_p of them); empty: "parent 0", "parent 1", ...
    public var parentNames: [String]
    public init(scale: Float = 1.0 / 255.0, offset: Float = 0, parentNames: [String] = []) {
        self.scale = scale; self.offset = offset; self.parentNames = parentNames
    }

    /// A finite scale and offset (a model file refuses others), and parent names that are
    /// not empty and all different (results name parents by them). Errors name `path`.
    func validate(path: String) throws {
        guard scale.isFinite, offset.isFinite else {
            throw KerasError.invalid(path: path, expected: "a finite preprocessing scale and offset", found: "scale \(scale), offset \(offset)")
        }
        if parentNames.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw KerasError.invalid(path: path, expected: "parent names that are not empty", found: "\(parentNames)")
        }
        if let twice = parentNames.first(where: { n in parentNames.filter { $0 == n }.count > 1 }) {
            throw KerasError.invalid(path: path, expected: "different parent names", found: "'\(twice)' twice")
        }
    }
}

/// What an import produced.
public struct KerasImportResult {
    public let model: ACOLModel
    /// acol node i is Keras node `kerasNode[i]` of the head (the identity when the Keras order is
    /// acol's own: interleaved, node j -> parent j mod n_p).
    public let kerasNode: [Int]
    /// "Keras 3 .keras", "Keras 2 .h5", ...
    public let format: String
    public let kerasVersion: String?
    /// Layers that were dropped because they do nothing at inference (Dropout in the head, ...).
    public let notes: [String]
    /// The `creator` attribute to write: acol's, the source file and the node order.
    public let creator: String
}

/// `acol import keras`: Keras 2 / 3 full-model `.h5`, `.keras`, and weights-only files with a
/// separate config, for LALNets-style ACOL networks (docs/interop.md).
public enum KerasImporter {
    struct RawWeight { var name: String; var shape: [Int]; var values: [Float] }

    /// Imports `path`; `config` is the model's JSON (`model.to_json()`), needed for weights-only files.
    public static func load(_ path: String, config configPath: String? = nil,
                            options: KerasImportOptions = KerasImportOptions()) throws -> KerasImportResult {
        try HDF5Files.requireRegular(path)
        try options.validate(path: path)
        var configData: Data? = nil
        if let configPath {
            try HDF5Files.requireRegular(configPath)
            let size = ReadLimits.fileSize(configPath)
            guard size <= KerasConfig.maxBytes else {
                throw KerasError.invalid(path: configPath, expected: "a model config of at most \(KerasConfig.maxBytes >> 20) MiB", found: "\(size) bytes")
            }
            do { configData = try Data(contentsOf: URL(fileURLWithPath: configPath)) } catch {
                throw KerasError.invalid(path: configPath, expected: "a readable JSON file", found: error.localizedDescription)
            }
        }
        var format: String
        var version: String?
        var weights: [String: [RawWeight]]
        var configSource = configPath ?? path
        if isZip(path) {
            let zip = try KerasZip(path: path)
            if configData == nil {
                configData = try zip.read("config.json", limit: KerasConfig.maxBytes) { size in
                    KerasError.invalid(path: path + " (config.json)", expected: "a model config of at most \(KerasConfig.maxBytes >> 20) MiB", found: "\(size) bytes")
                }
            }
            if let meta = try? zip.read("metadata.json", limit: 1 << 20),
               let d = try? JSONSerialization.jsonObject(with: meta) as? [String: Any] {
                version = d["keras_version"] as? String
            }
            let h5 = try zip.read("model.weights.h5")
            let tmp = FileManager.default.temporaryDirectory
                .appendingPathComponent(".acol-keras-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).weights.h5").path
            guard FileManager.default.createFile(atPath: tmp, contents: h5, attributes: [.posixPermissions: 0o600]) else {
                throw KerasError.invalid(path: path, expected: "a writable temporary folder for model.weights.h5", found: "cannot write \(tmp)")
            }
            defer { unlink(tmp) }
            let r = try readHDF5(tmp, reportAs: path + " (model.weights.h5)")
            weights = r.weights
            format = "Keras 3 .keras"
        } else {
            let r = try readHDF5(path, reportAs: path)
            weights = r.weights
            version = r.version
            let major = (version?.split(separator: ".").first).flatMap { Int($0) }
            let gen = major.map { "Keras \($0)" } ?? "Keras"
            switch r.layout {
            case .legacyFull: format = gen + " .h5"
            case .legacyWeights: format = gen + " weights-only .h5"
            case .v3Weights: format = "Keras 3 .weights.h5"
            }
            if configData == nil, let c = r.modelConfig { configData = Data(c.utf8); configSource = path }
            guard configData != nil else { throw KerasError.needsConfig(path: path) }
        }
        guard let configData else { throw KerasError.needsConfig(path: path) }
        let config = try KerasConfig(json: configData, path: configSource)
        return try build(config, weights: weights, path: path, configPath: configSource, format: format,
                         version: version, options: options)
    }

    static func isZip(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 4)) ?? Data()
        return head == Data([0x50, 0x4b, 0x03, 0x04])
    }

    // MARK: - HDF5

    enum Layout { case legacyFull, legacyWeights, v3Weights }

    /// The weights of every layer (by layer name, in the layer's order) and the config, if any.
    static func readHDF5(_ path: String, reportAs: String) throws -> (weights: [String: [RawWeight]], modelConfig: String?, version: String?, layout: Layout) {
        do {
            return try H5Session.run {
                let root = try HDF5Files.openHDF5(path)
                defer { root.close() }
                let version = try root.hasAttribute("keras_version") ? try? root.stringAttribute("keras_version") : nil
                if try root.exists("model_weights"), try root.objectType("model_weights") == .group {
                    let config = try root.hasAttribute("model_config") ? try root.stringAttribute("model_config") : nil
                    let w = try closing(root.openGroup("model_weights")) { try legacyWeights($0, reportAs: reportAs) }
                    let v = try version ?? closing(root.openGroup("model_weights")) { g in
                        try g.hasAttribute("keras_version") ? try? g.stringAttribute("keras_version") : nil
                    }
                    return (w, config, v, .legacyFull)
                }
                if try root.hasAttribute("layer_names") {
                    return (try legacyWeights(root, reportAs: reportAs), nil, version, .legacyWeights)
                }
                if try root.exists("layers"), try root.objectType("layers") == .group {
                    return (try v3Weights(root, reportAs: reportAs), nil, version ?? "3", .v3Weights)
                }
                throw KerasError.invalid(path: reportAs, expected: "a Keras file (/model_weights, a root 'layer_names' attribute, or /layers)",
                                         found: "an HDF5 file with none of them")
            }
        } catch let e as HDF5Error {
            var text = e.localizedDescription
            for prefix in [path + ": ", reportAs + ": "] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
            throw KerasError.invalid(path: reportAs, expected: "a readable Keras file (HDF5 .h5, or a .keras zip)", found: text)
        }
    }

    /// Strings of an attribute; an empty numeric array (h5py's empty list) is no strings.
    static func names(_ g: H5ID, _ attr: String) throws -> [String] {
        try closing(g.openAttribute(attr)) { a in
            let isString = try closing(a.type()) { H5Tget_class($0.raw) == H5T_STRING }
            if !isString {
                if try a.shape().contains(0) { return [] }
            }
            return try a.readStrings().values
        }
    }

    static func readFloats(_ g: H5ID, _ name: String, reportAs: String) throws -> RawWeight {
        try closing(g.openDataset(name)) { ds in
            let r = try ds.readAll(Float.self)
            return RawWeight(name: name, shape: r.shape, values: r.values)
        }
    }

    /// Keras 2 (and Keras 3's legacy h5): `layer_names` on the group, `weight_names` on each layer
    /// group, the datasets at group/layer/weight_name.
    static func legacyWeights(_ g: H5ID, reportAs: String) throws -> [String: [RawWeight]] {
        var out: [String: [RawWeight]] = [:]
        let layerNames = try names(g, "layer_names")
        for l in layerNames {
            guard try g.exists(l) else {
                throw KerasError.invalid(path: reportAs, expected: "a group for layer '\(l)' (listed in layer_names)", found: "none")
            }
            out[l] = try closing(g.openGroup(l)) { lg in
                let wn = try lg.hasAttribute("weight_names") ? try names(lg, "weight_names") : []
                return try wn.map { try readFloats(lg, $0, reportAs: reportAs) }
            }
        }
        return out
    }

    /// Keras 3 (`.weights.h5`, a `.keras` file's model.weights.h5): layers/<key>/vars/0, 1, ...,
    /// with the layer's name in the `name` attribute of `vars`.
    static func v3Weights(_ root: H5ID, reportAs: String) throws -> [String: [RawWeight]] {
        var out: [String: [RawWeight]] = [:]
        try closing(root.openGroup("layers")) { layers in
            for key in try layers.linkNames() {
                guard try layers.objectType(key) == .group else { continue }
                try closing(layers.openGroup(key)) { lg in
                    guard try lg.exists("vars") else { return }
                    try closing(lg.openGroup("vars")) { v in
                        let name = try v.hasAttribute("name") ? try v.stringAttribute("name") : key
                        let vars = try v.linkNames()
                        guard vars.count <= 64 else {
                            throw KerasError.invalid(path: reportAs, expected: "a few variables in layers/\(key)/vars", found: "\(vars.count)")
                        }
                        var ws: [RawWeight] = []
                        for i in 0..<vars.count {
                            guard vars.contains(String(i)) else {
                                throw KerasError.invalid(path: reportAs, expected: "variables 0..<\(vars.count) in layers/\(key)/vars", found: vars.joined(separator: ", "))
                            }
                            ws.append(try readFloats(v, String(i), reportAs: reportAs))
                        }
                        if let nested = try? lg.exists("layers"), nested {
                            throw KerasError.unsupportedLayer(path: reportAs, layer: name, className: key, problem: "nested models are not read")
                        }
                        out[name] = ws
                    }
                }
            }
        }
        return out
    }
}
