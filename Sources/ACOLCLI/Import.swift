import ArgumentParser
import ACOL
import ACOLHDF5
import Foundation

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a model made elsewhere.",
        subcommands: [ImportKeras.self])
}

struct ImportKeras: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keras",
        abstract: "Import a Keras ACOL network (Keras 2 or 3 .h5, .keras, weights-only with --config).",
        discussion: """
        Reads a LALNets-style ACOL network: a body of Conv2D, MaxPooling2D, BatchNormalization, \
        Dropout, Flatten, Dense and ReLU layers (channels last, stride 1), then the head: Dense \
        (n_p x k nodes, linear), optional Dropout, softmax, and the pooling layer (AcolPooling, or \
        a Dense without bias holding the frozen [n_p x k, n_p] 0/1 matrix). A BatchNormalization \
        right before the head's Dense becomes acol's head batch norm. The node -> parent \
        assignment is read from the pooling matrix; when Keras's node order is not acol's, the \
        head's columns are permuted and the permutation is printed and kept in the model's \
        `creator` attribute (docs/interop.md). Anything else is refused, naming the layer.

        Keras files do not record preprocessing: x = pixel * scale + offset, 1/255 and 0 by default.

        Examples:
          acol import keras lalnets.h5 -o model.h5
          acol import keras model.keras -o model.h5 --parents-names 0-4,5-9
          acol import keras model.weights.h5 --config model.json -o model.h5
        """)

    @Argument(help: "The Keras file: .h5 (Keras 2 or 3), .keras, *_weights.h5 or .weights.h5.")
    var file: String

    @Option(name: .shortAndLong, help: "The acol model file to write.")
    var output: String

    @Option(help: "The model's JSON (model.to_json()); needed for weights-only files.")
    var config: String?

    @Option(help: "Comma-separated names of the parents, in the pooling matrix's column order.")
    var parentsNames: String?

    @Option(help: "Preprocessing: x = pixel * scale + offset.")
    var scale: Float = 1.0 / 255.0

    @Option(help: "Preprocessing offset (see --scale).")
    var offset: Float = 0

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        guard scale.isFinite, offset.isFinite else {
            throw ValidationError("--scale and --offset must be finite numbers, found \(scale) and \(offset)")
        }
    }

    func run() throws {
        try reportingErrors {
            try requireFile(file)
            if let config { try requireFile(config) }
            let names = parentsNames.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
            let started = Date()
            let r = try KerasImporter.load(file, config: config,
                                           options: KerasImportOptions(scale: scale, offset: offset, parentNames: names))
            try ModelFile.save(r.model, to: output, creator: r.creator, inputs: [file] + (config.map { [$0] } ?? []))
            if !quiet {
                let head = r.model.head
                let dup = head.duplicates.map { "duplicates \($0)" } ?? "\(head.parents) parents x \(head.k)"
                Console.write("read \(file): \(r.format)\(r.kerasVersion.map { " (keras \($0))" } ?? ""), "
                              + "\(r.model.network.spec.layers.count) body layers, head \(dup)\(head.batchNormBeforeZ ? " with batch norm" : "")\n")
                for n in r.notes { Console.write("  \(n)\n") }
                if r.kerasNode != Array(0..<head.nodes) {
                    Console.write("  node order: acol node i is Keras node \(r.kerasNode)[i]\n")
                }
                Console.write("wrote \(output): \(r.model.network.parameterCount) parameters, "
                              + String(format: "%.1f s\n", Date().timeIntervalSince(started)))
            }
        }
    }
}
