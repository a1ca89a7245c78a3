import ArgumentParser
import ACOL
import ACOLDatasets
import ACOLHDF5
import Foundation

extension DatasetFormat: ExpressibleByArgument {}
extension ResizeMode: ExpressibleByArgument {}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a data set (IDX, CIFAR, SVHN .mat, PNG folders) into an acol data-set file.",
        discussion: """
        The format is detected from the inputs. A folder as its publisher ships it converts in one go, \
        train and test splits together.

        Examples:
          acol convert mnist/ --parents 0-4,5-9 -o mnist.h5
          acol convert train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz -o train.h5
          acol convert cifar-100-binary/ -o cifar100.h5
          acol convert photos/ --channels 3 --height 32 --width 32 --resize bilinear -o photos.h5
        """)

    @Argument(help: "Input files or folders.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "The data-set file to write.")
    var output: String

    @Option(help: "Force the input format (\(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))).")
    var format: DatasetFormat?

    @Option(help: "Parents of the fine classes: '0-4,5-9', '0-4:small,5-9:large', 'div:2', or a mapping file.")
    var parents: String?

    @Option(help: "Output channels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA (default: as the input; for PNG folders, as the first image).")
    var channels: Int?

    @Option(help: "Output height (default: as the input).")
    var height: Int?

    @Option(help: "Output width (default: as the input).")
    var width: Int?

    @Option(help: "How to treat images of another size: none (an error), nearest, bilinear.")
    var resize: ResizeMode = .none

    @Flag(help: "Skip PNG files that cannot be decoded, with a warning, instead of failing.")
    var skipBad = false

    @Option(help: "Put every input into this one split instead of the detected train/test splits.")
    var split: String?

    @Option(help: "Convert only shard I of N (1 <= I <= N) of every split, e.g. 2/8 (default: SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when set); 'acol merge' joins the shards in order.", transform: Shard.parseOption)
    var shard: Shard?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if let c = channels, !(1...4).contains(c) { throw ValidationError("--channels must be 1, 2, 3 or 4") }
        try OptionCheck.range("--height", height, 1...16_384)
        try OptionCheck.range("--width", width, 1...16_384)
    }

    func run() throws {
        try reportingErrors {
            var options = ConvertOptions(format: format, channels: channels, height: height, width: width,
                                         resize: resize, skipBadFiles: skipBad, split: split)
            options.shard = try shard ?? Shard.fromEnvironment()
            if let p = parents {
                options.parents = InputFile.isRegular(p) ? try ParentSpec.load(mappingFile: p) : try ParentSpec.parse(p)
            }
            let writer = try DatasetWriter(path: output, inputs: inputs)
            let bar = ProgressBar("converting")
            let summary: ConversionSummary
            do {
                summary = try Converter.convert(inputs: inputs, options: options, into: writer) { done, total in
                    bar.update(done, total)
                }
                try writer.finish()
            } catch {
                bar.finish()
                writer.abort()
                throw error
            }
            bar.finish()
            for w in summary.warnings { Console.warn(w) }
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            if json {
                Console.out(try jsonText(ConvertReport(summary, output: output, bytes: size)))
            } else {
                printSummary(summary, bytes: size)
            }
        }
    }

    func printSummary(_ s: ConversionSummary, bytes: Int) {
        Console.out("wrote \(output): \(s.totalCount) images, \(s.height)x\(s.width)x\(s.channels), format \(s.format.rawValue), \(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB, \(String(format: "%.1f", s.elapsedSeconds)) s")
        for sp in s.splits {
            Console.out("")
            Console.out("split \(sp.name): \(sp.count) images")
            if !sp.perClass.isEmpty {
                let rows = sp.perClass.enumerated().map { (i, n) -> [String] in
                    let name = i < s.labels.fineNames.count ? s.labels.fineNames[i] : "\(i)"
                    let p = i < s.labels.parentOfFine.count ? s.labels.parentOfFine[i] : -1
                    let pn = p >= 0 && p < s.labels.parentNames.count ? s.labels.parentNames[p] : "-"
                    return ["\(i)", name, pn, "\(n)"]
                }
                Console.out(table(["class", "name", "parent", "images"], rows, rightAlign: [0, 3]))
            }
            if !sp.perParent.isEmpty {
                let rows = sp.perParent.enumerated().map { (i, n) in
                    ["\(i)", i < s.labels.parentNames.count ? s.labels.parentNames[i] : "\(i)", "\(n)"]
                }
                Console.out(table(["parent", "name", "images"], rows, rightAlign: [0, 2]))
            }
        }
    }
}

struct ConvertReport: Encodable {
    struct Split: Encodable { var name: String; var count: Int; var per_class: [Int]; var per_parent: [Int] }
    var output: String
    var bytes: Int
    var format: String
    var height: Int, width: Int, channels: Int
    var images: Int
    var fine_names: [String]
    var parent_names: [String]
    var parent_of_fine: [Int]
    var splits: [Split]
    var seconds: Double
    var warnings: [String]

    init(_ s: ConversionSummary, output: String, bytes: Int) {
        self.output = output; self.bytes = bytes; format = s.format.rawValue
        height = s.height; width = s.width; channels = s.channels; images = s.totalCount
        fine_names = s.labels.fineNames; parent_names = s.labels.parentNames; parent_of_fine = s.labels.parentOfFine
        splits = s.splits.map { Split(name: $0.name, count: $0.count, per_class: $0.perClass, per_parent: $0.perParent) }
        seconds = s.elapsedSeconds; warnings = s.warnings
    }
}
