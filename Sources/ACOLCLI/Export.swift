import ArgumentParser
import ACOL
import ACOLHDF5
import ACOLONNX
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model to ONNX: raw pixels in, cluster and parent probabilities out.",
        discussion: """
        Writes the whole inference path as one ONNX graph (opset 13): input `pixels`, float32 \
        [N, H, W, C] with raw pixel values 0-255 (the model's preprocessing is inside the graph); \
        outputs `clusters` (softmax over the output nodes, [N, n]) and `parents` (pooled parent \
        probabilities, [N, n_p]). The node order, parent and fine names and the cluster mapping are \
        in the model's metadata_props as JSON (docs/onnx.md).

        Examples:
          acol export model.h5 -o model.onnx
        """)

    @Argument(help: "The model file.")
    var model: String

    @Option(name: .shortAndLong, help: "The ONNX file to write.")
    var output: String

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            try requireFile(model)
            let started = Date()
            let m = try ModelFile.load(model)
            let bytes = try ONNXExport.serialized(m, source: model, producerVersion: ACOLCommand.version)
            let out = try OutputFile(output, inputs: [model])
            try out.write(bytes)
            try out.commit()
            if !quiet {
                let head = m.head
                let p = m.preprocessing
                Console.write("wrote \(output): ONNX opset \(ONNXExport.opsetVersion), input pixels [N, \(p.height), \(p.width), \(p.channels)], "
                              + "outputs clusters [N, \(head.nodes)], parents [N, \(head.parents)], "
                              + String(format: "%.1f MiB, %.1f s\n", Double(bytes.count) / 1_048_576, Date().timeIntervalSince(started)))
            }
        }
    }
}
