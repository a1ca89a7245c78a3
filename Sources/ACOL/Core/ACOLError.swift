import Foundation

/// Errors of the core library: an invalid network or training set-up, or tensors that do not fit.
public enum ACOLError: Error, LocalizedError, Equatable {
    /// The network description cannot be built (what is wrong with it).
    case invalidSpec(String)
    /// A tensor loaded into a network has the wrong shape.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A tensor the network needs was not supplied.
    case missingTensor(String)
    /// A tensor was supplied that the network does not have.
    case unexpectedTensor(String)
    /// Training data that cannot be used as asked (what was expected and found).
    case invalidData(String)
    /// Training settings that do not fit together or fit the data.
    case invalidSettings(String)
    /// An unknown preset name.
    case unknownPreset(String, known: [String])
    /// Training stopped because the objective was no longer finite after an epoch (the weights
    /// had diverged: too large a learning rate or coefficients).
    case diverged(epoch: Int, loss: Double)

    public var errorDescription: String? {
        switch self {
        case .invalidSpec(let s): return "invalid network: \(s)"
        case .shapeMismatch(let n, let e, let f):
            return "tensor '\(n)': expected shape \(e), found \(f)"
        case .missingTensor(let n): return "tensor '\(n)' is missing"
        case .unexpectedTensor(let n): return "tensor '\(n)' does not belong to this network"
        case .invalidData(let s): return "invalid training data: \(s)"
        case .invalidSettings(let s): return "invalid training settings: \(s)"
        case .unknownPreset(let n, let known):
            return "unknown architecture '\(n)' (known: \(known.joined(separator: ", ")))"
        case .diverged(let e, let l):
            return "training diverged in epoch \(e) (mean objective \(l)): the weights are no longer finite; try a lower learning rate or smaller coefficients"
        }
    }
}
