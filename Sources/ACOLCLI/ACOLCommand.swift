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
        runMain(root: ACOLCommand.self, arguments, run: { command in try command.run() }, exit: { Glibc.exit($0) })
    }

    /// `runMain` for any root command: `run` runs the parsed command, `exit` ends the process
    /// with the code (acol-mpi finalises or aborts MPI there).
    /// `printsUsageMessages` false: help, version and usage errors (exit codes 0 and 64) are not
    /// printed (the ranks of an MPI job other than 0, so that the text appears once); the exit
    /// code is the same, and other errors are printed.
    static func runMain(root: ParsableCommand.Type, _ arguments: [String]?, printsUsageMessages: Bool = true,
                        run: (inout ParsableCommand) throws -> Void, exit: (Int32) -> Never) -> Never {
        // A file-size limit makes write(2) fail with EFBIG (a clean error) instead of killing.
        signal(SIGXFSZ, SIG_IGN)
        TemporaryFiles.unblockInterrupts()
        var code: Int32 = 0
        do {
            var command = try root.parseAsRoot(arguments)
            try run(&command)
        } catch {
            code = root.exitCode(for: error).rawValue
            let text = root.fullMessage(for: error)
            // Help and version (0) and usage errors (64) are the same on every rank.
            let prints = printsUsageMessages || (code != 0 && code != ExitCode.validationFailure.rawValue)
            if prints && !text.isEmpty { code == 0 ? Console.write(text + "\n") : Console.note(text) }
        }
        if let f = Console.failure {
            let name = f.fd == 1 ? "standard output" : "standard error"
            if f.fd == 1 { Console.error("\(name): cannot write: \(String(cString: strerror(f.code)))") }
            exit(code == 0 ? 1 : code)
        }
        exit(code)
    }
}

/// The `acol-mpi` command tree: `train` as `acol train` has it, run as one process of a
/// data-parallel job (docs/scaling.md). The MPI executable supplies the job.
public struct DistributedCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "acol-mpi",
        abstract: "Data-parallel training of ACOL models over MPI: mpirun -np N acol-mpi train ...",
        discussion: """
        Every rank holds the whole network and takes its rows of each global batch; batch \
        statistics (BatchNorm, GAR, the losses) and gradients are summed over the ranks, so N \
        ranks take the step one process takes on the whole batch. Rank 0 writes the model and the \
        log and prints the progress. The options are those of 'acol train'.

        Example:
          mpirun -np 4 acol-mpi train mnist.h5 -o model.h5 --log train.jsonl
        """,
        version: ACOLCommand.version,
        subcommands: [Train.self])

    public init() {}

    /// Parses the arguments and runs `train` as process `dataParallel.rank` of the job (nil: one
    /// process, exactly `acol train`); `defaultThreads` is the thread count when --threads is not
    /// given (nil: all cores). Ends the process through `exit`.
    public static func runMain(_ arguments: [String]? = nil, dataParallel: DataParallel?, defaultThreads: Int?,
                               exit: (Int32) -> Never) -> Never {
        ACOLCommand.runMain(root: DistributedCommand.self, arguments,
                            printsUsageMessages: (dataParallel?.rank ?? 0) == 0, run: { command in
            if let train = command as? Train {
                try reportingErrors { try train.train(dataParallel: dataParallel, defaultThreads: defaultThreads) }
            } else {
                try command.run()
            }
        }, exit: exit)
    }
}
