import ArgumentParser
import ACOLData
import ACOLHDF5
import Foundation

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join data-set files (the shards of 'acol convert --shard') into one.",
        discussion: """
        Every file must have the same image shape and labels. Each split of the result is that \
        split of the inputs, concatenated in the order given, so merging the shards 1/N ... N/N \
        of a conversion gives the data set the unsharded conversion gives.

        Examples:
          acol convert photos/ --shard 1/2 -o part1.h5 & acol convert photos/ --shard 2/2 -o part2.h5
          acol merge part1.h5 part2.h5 -o photos.h5
        """)

    @Argument(help: "The data-set files, in order.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "The data-set file to write.")
    var output: String

    func run() throws {
        try reportingErrors {
            let writer = try DatasetWriter(path: output, inputs: inputs)
            let bar = ProgressBar("merging")
            do {
                let splits = try DatasetMerge.merge(inputs, into: writer) { d, t in bar.update(d, t) }
                try writer.finish()
                bar.finish()
                Console.out("wrote \(output): " + splits.map { "\($0.split) \($0.count)" }.joined(separator: ", ") + " images from \(inputs.count) files")
            } catch {
                bar.finish()
                writer.abort()
                throw error
            }
        }
    }
}
