import ArgumentParser
import ACOL

/// The `acol` command tree.
public struct ACOLCommand: ParsableCommand {
    public static let version = "0.1.0"
    public static let configuration = CommandConfiguration(
        commandName: "acol",
        abstract: "Train and run ACOL networks: fine clusters learned inside coarse labels.",
        version: version,
        subcommands: [])

    public init() {}
}
