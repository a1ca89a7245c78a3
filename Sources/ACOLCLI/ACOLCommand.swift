import ArgumentParser
import ACOL

/// The `acol` command tree.
public struct ACOLCommand: ParsableCommand {
    public static let version = "0.1.0"
    public static let configuration = CommandConfiguration(
        commandName: "acol",
        abstract: "Train and run ACOL networks: fine clusters learned inside coarse labels.",
        discussion: """
        A typical session:
          acol convert mnist/ --parents 0-4,5-9 -o mnist.h5
          acol train mnist.h5 -o model.h5
          acol eval model.h5 mnist.h5
          acol run model.h5 digits/
        """,
        version: version,
        subcommands: [Convert.self, Train.self, Eval.self, Inspect.self, Run.self, Montage.self])

    public init() {}
}
