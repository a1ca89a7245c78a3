/// Named architectures from the reference code, sized from the input shape.
public enum Presets {
    public static let names = ["mlp", "cnn1", "cnn2", "cnn3"]

    /// The body layers of a preset. `filters` is f of the CNN types (32 or 64 in the paper).
    /// - mlp: Flatten, 2 x [Dense 2048, ReLU, Dropout 0.5].
    /// - cnn1: [conv f, conv f, pool, drop .2]; cnn2 adds [conv 2f x 2, pool, drop .3];
    ///   cnn3 adds [conv 4f x 2, pool, drop .4]; then Flatten, Dense 2048, ReLU, Dropout 0.5.
    /// All convolutions are 3 x 3 'same' with ReLU, pools 2 x 2.
    /// - blockNorm: BatchNorm at the start of every block, as in the authors' later PyTorch
    ///   models: on the input, before each later conv block, and before each Dense layer.
    public static func layers(_ name: String, inputShape: [Int], filters: Int = 32,
                              hidden: Int = 2048, blockNorm: Bool = false) throws -> [LayerSpec] {
        let bn: [LayerSpec] = blockNorm ? [.batchNorm()] : []
        switch name {
        case "mlp":
            return [.flatten] + bn + [.dense(hidden), .relu, .dropout(0.5)] + bn + [.dense(hidden), .relu, .dropout(0.5)]
        case "cnn1", "cnn2", "cnn3":
            let blocks = Int(String(name.last!))!
            var out: [LayerSpec] = []
            var side = min(inputShape[0], inputShape[1])
            for b in 0..<blocks {
                guard side >= 2 else {
                    throw ACOLError.invalidSpec("\(name) needs inputs of at least \(1 << blocks) pixels a side, got \(inputShape)")
                }
                let f = filters << b
                out += bn + [.conv2d(f), .relu, .conv2d(f), .relu, .maxPool2d(2), .dropout([0.2, 0.3, 0.4][b])]
                side /= 2
            }
            out += [.flatten] + bn + [.dense(hidden), .relu, .dropout(0.5)]
            return out
        default:
            throw ACOLError.unknownPreset(name, known: names)
        }
    }

    /// A full network spec for a preset.
    /// `duplicates`, when given, is the k of each parent (then `parents` and `k` are taken from it).
    /// `headNormEpsilon` is the epsilon of the BatchNorm before Z (`--bn-epsilon`).
    public static func spec(_ name: String, inputShape: [Int], parents: Int, k: Int,
                            batchNormBeforeZ: Bool = Recipe.batchNormBeforeZ, filters: Int = 32, hidden: Int = 2048,
                            blockNorm: Bool = false, duplicates: [Int]? = nil,
                            headNormEpsilon: Float = Recipe.headNormEpsilon) throws -> NetworkSpec {
        let eps: Float? = batchNormBeforeZ ? headNormEpsilon : nil
        let head = duplicates.map { ACOLHeadSpec(duplicates: $0, batchNormBeforeZ: batchNormBeforeZ, batchNormEpsilon: eps) }
            ?? ACOLHeadSpec(parents: parents, k: k, batchNormBeforeZ: batchNormBeforeZ, batchNormEpsilon: eps)
        return NetworkSpec(inputShape: inputShape,
                           layers: try layers(name, inputShape: inputShape, filters: filters, hidden: hidden, blockNorm: blockNorm),
                           head: head, preset: name)
    }
}
