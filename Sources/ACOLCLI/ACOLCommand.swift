import ArgumentParser
import ACOLData
import Foundation
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
        subcommands: [Convert.self, Merge.self, Train.self, Eval.self, Baseline.self, Inspect.self, Run.self, Montage.self,
                      Export.self, Import.self])

    public init() {}

    /// Parses the arguments, runs the command and exits: 0 on success, 1 with a one-line error
    /// for failures (a failed write to standard output or error included), 64 for usage errors.
    public static func runMain(_ arguments: [String]? = nil) -> Never {
        // A file-size limit makes write(2) fail with EFBIG (a clean error) instead of killing.
        signal(SIGXFSZ, SIG_IGN)
        TemporaryFiles.unblockInterrupts()
        var code: Int32 = 0
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            code = exitCode(for: error).rawValue
            let text = fullMessage(for: error)
            if !text.isEmpty { code == 0 ? Console.write(text + "\n") : Console.note(text) }
        }
        if let f = Console.failure {
            let name = f.fd == 1 ? "standard output" : "standard error"
            if f.fd == 1 { Console.error("\(name): cannot write: \(String(cString: strerror(f.code)))") }
            Glibc.exit(code == 0 ? 1 : code)
        }
        Glibc.exit(code)
    }
}
