import Foundation

/// One layer of a Keras model config (`model.to_json()`, the `model_config` attribute, a `.keras`
/// file's config.json), Keras 2 or 3.
struct KerasLayer {
    var name: String
    var className: String
    var config: [String: Any]
    /// Names of the layers feeding this one (Functional models; empty in a Sequential).
    var inbound: [String]

    func string(_ key: String) -> String? { config[key] as? String }
    func bool(_ key: String) -> Bool? { config[key] as? Bool }
    func ints(_ key: String) -> [Int]? {
        if let a = config[key] as? [Any] { let v = a.compactMap { ($0 as? NSNumber)?.intValue }; return v.count == a.count ? v : nil }
        if let n = config[key] as? NSNumber { return [n.intValue] }
        return nil
    }
    func number(_ key: String) -> Double? { (config[key] as? NSNumber)?.doubleValue }
    /// An integer setting; nil when absent, fractional or out of range (never a trap on 1e300).
    func int(_ key: String) -> Int? {
        guard let d = number(key), d.isFinite, d == d.rounded(), abs(d) <= 1e15 else { return nil }
        return Int(d)
    }
    /// The activation's name ("relu", "linear", ...); Keras 3 may write it as a serialized object.
    var activation: String {
        if let s = config["activation"] as? String { return s }
        if let d = config["activation"] as? [String: Any] {
            if let c = d["config"] as? String { return c }
            if let c = d["class_name"] as? String { return c }
        }
        return "linear"
    }
}

/// A parsed model config: the layers of a Sequential or a Functional chain and the input shape.
struct KerasConfig {
    var modelClass: String
    var layers: [KerasLayer]
    /// [H, W, C] (or whatever rank the model has), without the batch dimension; nil when unknown.
    var inputShape: [Int?]?

    static let maxBytes = 64 << 20

    init(json data: Data, path: String) throws {
        guard data.count <= Self.maxBytes else {
            throw KerasError.invalid(path: path, expected: "a model config of at most \(Self.maxBytes >> 20) MiB", found: "\(data.count) bytes")
        }
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw KerasError.invalid(path: path, expected: "a Keras model config (JSON)", found: "text that is not JSON (\(error.localizedDescription))")
        }
        guard var top = any as? [String: Any], let cls = top["class_name"] as? String else {
            throw KerasError.invalid(path: path, expected: "a Keras model config (a JSON object with class_name)", found: "other JSON")
        }
        // Keras 2 files may wrap the model: {"class_name": ..., "config": ...} at the top already.
        if cls == "Model" || cls == "Functional" || cls == "Sequential" {} else if let inner = top["config"] as? [String: Any], inner["class_name"] != nil {
            top = inner
        }
        modelClass = top["class_name"] as? String ?? cls
        guard ["Sequential", "Functional", "Model"].contains(modelClass) else {
            throw KerasError.unsupportedLayer(path: path, layer: (top["config"] as? [String: Any])?["name"] as? String ?? "model",
                                              className: modelClass, problem: "only Sequential and Functional models are read")
        }
        let cfg = top["config"]
        let rawLayers: [Any]
        if let d = cfg as? [String: Any], let l = d["layers"] as? [Any] { rawLayers = l }
        else if let l = cfg as? [Any] { rawLayers = l }      // Keras 2.0 Sequential: the list itself
        else { throw KerasError.invalid(path: path, expected: "a 'layers' list in the model config", found: "none") }
        var out: [KerasLayer] = []
        for (i, r) in rawLayers.enumerated() {
            guard let d = r as? [String: Any], let c = d["class_name"] as? String, let lc = d["config"] as? [String: Any] else {
                throw KerasError.invalid(path: path, expected: "layer \(i) of the config as {class_name, config}", found: "something else")
            }
            let name = (lc["name"] as? String) ?? (d["name"] as? String) ?? "layer \(i)"
            var inbound: [String] = []
            if let nodes = d["inbound_nodes"] { Self.collectHistory(nodes, into: &inbound) }
            // Custom classes are registered as "package>Class" (Keras 3) or "Custom>Class".
            let cls = c.split(separator: ">").last.map(String.init) ?? c
            out.append(KerasLayer(name: name, className: cls, config: lc, inbound: inbound))
        }
        layers = out
        // The input shape: an InputLayer's batch shape, a first layer's batch_input_shape, the
        // model's build_config.
        func shape(_ v: Any?) -> [Int?]? {
            guard let a = v as? [Any], !a.isEmpty else { return nil }
            return Array(a.dropFirst()).map { ($0 as? NSNumber)?.intValue }
        }
        var found: [Int?]? = nil
        for l in out.prefix(1) {
            found = shape(l.config["batch_shape"]) ?? shape(l.config["batch_input_shape"])
        }
        if found == nil, let d = cfg as? [String: Any], let b = (top["build_config"] as? [String: Any]) ?? (d["build_config"] as? [String: Any]) {
            found = shape(b["input_shape"])
        }
        inputShape = found
    }

    /// Layer names in inbound-node structures: Keras 3 `keras_history: [name, 0, 0]`, Keras 2
    /// `[name, 0, 0, {}]`: any array whose first element is a string and second a number.
    private static func collectHistory(_ v: Any, into out: inout [String]) {
        if let a = v as? [Any] {
            if a.count >= 3, let s = a[0] as? String, a[1] is NSNumber, a[2] is NSNumber {
                if !out.contains(s) { out.append(s) }
                return
            }
            for x in a { collectHistory(x, into: &out) }
        } else if let d = v as? [String: Any] {
            for (_, x) in d { collectHistory(x, into: &out) }
        }
    }
}
