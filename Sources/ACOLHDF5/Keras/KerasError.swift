import Foundation

/// Every error of the Keras importer (`KerasImporter`, `acol import keras`): the file, what was
/// expected and what was found, in one line.
public enum KerasError: Error, LocalizedError, Equatable {
    /// A layer acol has no counterpart for (or a setting of it: strides, data format, activation).
    case unsupportedLayer(path: String, layer: String, className: String, problem: String)
    /// The file (or its config, its weights, the zip around them) is not as Keras writes it.
    case invalid(path: String, expected: String, found: String)
    /// A weights-only file given without `--config`.
    case needsConfig(path: String)

    public var path: String {
        switch self {
        case .unsupportedLayer(let p, _, _, _), .invalid(let p, _, _), .needsConfig(let p): return p
        }
    }

    public var errorDescription: String? {
        switch self {
        case .unsupportedLayer(let p, let layer, let cls, let problem):
            return "\(p): layer '\(layer)' (\(cls)) is not supported: \(problem)"
        case .invalid(let p, let expected, let found):
            return "\(p): expected \(expected), found \(found)"
        case .needsConfig(let p):
            return "\(p): a Keras weights-only file holds no architecture; give the model's JSON (model.to_json()) with --config"
        }
    }
}
