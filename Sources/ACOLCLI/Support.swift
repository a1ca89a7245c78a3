import ArgumentParser
import ACOL
import ACOLData
import ACOLHDF5
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors of the command-line layer (problems with arguments and files that the libraries do not
/// cover). Library errors pass through unchanged and are printed the same way.
public enum CLIError: Error, LocalizedError, Equatable {
    /// A file or folder cannot be used for the reason given.
    case file(String, String)
    /// An option value that cannot be used.
    case option(String)

    public var errorDescription: String? {
        switch self {
        case .file(let path, let problem): return "\(path): \(problem)"
        case .option(let s): return s
        }
    }
}

enum Console {
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
    static var stdoutIsTerminal: Bool { isatty(1) == 1 }

    /// One line each, whatever the message holds (a newline in a file name is written as \n).
    static func error(_ s: String) { writeAll(2, "acol: error: " + printable(s) + "\n") }
    static func warn(_ s: String) { writeAll(2, "acol: warning: " + printable(s) + "\n") }
    static func note(_ s: String) { writeAll(2, s + "\n") }
    static func out(_ s: String) { write(s + "\n") }
    /// Text to standard output as it is.
    static func write(_ s: String) { writeAll(1, s) }

    /// The first failed write to standard output or error (errno), if any: the command then ends
    /// with exit code 1 and a message, instead of trapping (`ACOLCommand.runMain`).
    nonisolated(unsafe) static var failure: (fd: Int32, code: Int32)?

    private static func writeAll(_ fd: Int32, _ s: String) {
        if failure?.fd == fd { return }
        var t = s
        t.withUTF8 { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    if failure == nil { failure = (fd, errno) }
                    return
                }
                off += n
            }
        }
    }
}

/// Runs a command body; a library or file error becomes one line on standard error and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as CleanExit {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        Console.error(oneLine(error))
        throw ExitCode.failure
    }
}

func oneLine(_ error: Error) -> String {
    let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    return text.split(whereSeparator: \.isNewline).joined(separator: " ")
}

/// A progress bar on standard error, drawn only when standard error is a terminal.
final class ProgressBar {
    let label: String
    let enabled: Bool
    private var last = Date.distantPast
    private let start = Date()
    private var drawn = false

    init(_ label: String, enabled: Bool = Console.stderrIsTerminal) {
        self.label = label; self.enabled = enabled
    }

    func update(_ done: Int, _ total: Int?, extra: String = "") {
        guard enabled else { return }
        let now = Date()
        if now.timeIntervalSince(last) < 0.1 && done != total { return }
        last = now
        let elapsed = now.timeIntervalSince(start)
        var line = "\r\(label) "
        if let total, total > 0 {
            let frac = min(1, Double(done) / Double(total))
            let width = 30
            let filled = Int(frac * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
            line += String(format: " %3.0f%% %d/%d", frac * 100, done, total)
            if done > 0 && frac < 1 {
                line += String(format: " eta %.0fs", elapsed / frac - elapsed)
            }
        } else {
            line += "\(done)"
        }
        line += String(format: " %.1fs", elapsed) + (extra.isEmpty ? "" : " " + extra) + "\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    /// Clears the bar's line.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}

/// Pretty, key-sorted JSON of an Encodable value.
func jsonText<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try enc.encode(value), as: UTF8.self)
}

func fmt(_ x: Double?, _ digits: Int = 4) -> String {
    guard let x else { return "-" }
    return String(format: "%.\(digits)f", x)
}

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

func requireFile(_ path: String) throws {
    var st = stat()
    guard stat(path, &st) == 0 else { throw CLIError.file(path, InputFile.unreachableReason(path, errno, missing: "no such file")) }
    if st.st_mode & S_IFMT == S_IFDIR { throw CLIError.file(path, "is a folder, expected a file") }
}


/// The widest a table cell is shown (longer ones end in "..."; --json gives them whole): a class
/// name may be up to an attribute's 64 KiB, and every row would be padded to it.
let maxCellWidth = 200

/// Text columns padded to their widest cell, trailing spaces removed.
func table(_ header: [String], _ rows: [[String]], rightAlign: Set<Int> = []) -> String {
    func cell(_ s: String) -> String {
        let p = printable(s)
        return p.count > maxCellWidth ? String(p.prefix(maxCellWidth - 3)) + "..." : p
    }
    let header = header.map(cell), rows = rows.map { $0.map(cell) }
    var w = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < w.count { w[i] = max(w[i], c.count) } }
    func line(_ r: [String]) -> String {
        var text = r.enumerated().map { i, c in
            let pad = String(repeating: " ", count: max(0, (i < w.count ? w[i] : 0) - c.count))
            return rightAlign.contains(i) ? pad + c : c + pad
        }.joined(separator: "  ")
        while text.last == " " { text.removeLast() }
        return text
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}

/// A name from a file as one line of text: control characters (a newline or a tab in a class
/// name) written as escapes (\n, \t, \u{1b}), so tables and messages keep their rows.
func printable(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return s }
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.properties.generalCategory == .control { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
    }
    return out
}

/// `--parents`: 'none', a mapping file, or a spec text; nil: the data set's own.
func parentSource(_ option: String?) throws -> ParentSource {
    guard let p = option else { return .file }
    if p.lowercased() == "none" { return .none }
    return .spec(InputFile.isRegular(p) ? try ParentSpec.load(mappingFile: p) : try ParentSpec.parse(p))
}

/// `--threads`, shared by every command that computes.
struct ThreadOptions: ParsableArguments {
    static let maximum = 256

    @Option(help: "Threads to compute on (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let t = threads, !(1...Self.maximum).contains(t) {
            throw ValidationError("--threads must be 1...\(Self.maximum), found \(t)")
        }
    }

    /// Sets the library's thread count (--threads, else `default`, else all cores); returns it.
    @discardableResult
    func apply(default fallback: Int? = nil) -> Int {
        let n = threads ?? fallback ?? ProcessInfo.processInfo.activeProcessorCount
        Threads.set(n)
        return n
    }
}

/// Bounds on option values, checked before anything is allocated (docs/cli.md lists them).
enum OptionCheck {
    /// Duplicates per parent (parents x k is bounded by `ACOLLimits.maxNodes` too).
    static let maxK = ACOLLimits.maxNodes / 2

    static func range(_ name: String, _ value: Int?, _ r: ClosedRange<Int>) throws {
        guard let v = value else { return }
        if !r.contains(v) { throw ValidationError("\(name) must be \(r.lowerBound)...\(r.upperBound), found \(v)") }
    }

    static func positive(_ name: String, _ value: Float?) throws {
        guard let v = value else { return }
        if !(v.isFinite && v > 0) { throw ValidationError("\(name) must be a finite number above 0, found \(v)") }
    }

    static func nonNegative(_ name: String, _ value: Float?) throws {
        guard let v = value else { return }
        if !(v.isFinite && v >= 0) { throw ValidationError("\(name) must be a finite number of 0 or more, found \(v)") }
    }
}

/// `--shard I/N` on the command line.
extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(text: argument) }

    /// `--shard I/N`, with a message that says what is wrong ("5/4": I above N).
    static func parseOption(_ text: String) throws -> Shard {
        if let s = Shard(text: text) { return s }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) {
            throw ValidationError("expected 1 <= I <= N (N at most 1000000), found I = \(i), N = \(n)")
        }
        throw ValidationError("expected I/N, two whole numbers such as 2/8")
    }

    /// From Slurm's job-array variables, when SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are
    /// set: the task's position in the array, from SLURM_ARRAY_TASK_MIN (default 1) in steps of
    /// SLURM_ARRAY_TASK_STEP (default 1). A value that is not a whole number is an error.
    static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        guard let idText = env["SLURM_ARRAY_TASK_ID"], let countText = env["SLURM_ARRAY_TASK_COUNT"] else { return nil }
        func number(_ name: String, _ text: String) throws -> Int {
            guard let v = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw CLIError.option("\(name) is '\(text)', not a whole number: cannot tell which shard this task is (give --shard I/N)")
            }
            return v
        }
        let id = try number("SLURM_ARRAY_TASK_ID", idText), n = try number("SLURM_ARRAY_TASK_COUNT", countText)
        let base = try env["SLURM_ARRAY_TASK_MIN"].map { try number("SLURM_ARRAY_TASK_MIN", $0) } ?? 1
        // An array with a step (--array=1-9:2) numbers its tasks 1, 3, 5, ...: the shard is the
        // task's position in the array, not its id.
        let step = try env["SLURM_ARRAY_TASK_STEP"].map { try number("SLURM_ARRAY_TASK_STEP", $0) } ?? 1
        guard step >= 1, (id - base) % step == 0, let s = Shard(text: "\((id - base) / step + 1)/\(n)") else {
            throw CLIError.option("SLURM_ARRAY_TASK_ID \(id), SLURM_ARRAY_TASK_MIN \(base), SLURM_ARRAY_TASK_STEP \(step) and SLURM_ARRAY_TASK_COUNT \(n) do not give a shard 1...N (ids min, min + step, ...: one per shard)")
        }
        return s
    }
}

/// `-k`: one number of clusters for every parent ("5"), or one per parent, by name or in parent
/// order ("tops=5,footwear=3,trouser=1,bag=1", "5,3,1,1").
struct ClusterCounts: ExpressibleByArgument, Equatable {
    /// (parent name or "" for positional, count).
    var entries: [(key: String, count: Int)]

    static func == (a: ClusterCounts, b: ClusterCounts) -> Bool {
        a.entries.map(\.key) == b.entries.map(\.key) && a.entries.map(\.count) == b.entries.map(\.count)
    }

    init(_ k: Int) { entries = [("", k)] }

    init?(argument: String) {
        var e: [(String, Int)] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            let t = part.trimmingCharacters(in: .whitespaces)
            if let eq = t.lastIndex(of: "=") {
                let name = t[..<eq].trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, let n = Int(t[t.index(after: eq)...].trimmingCharacters(in: .whitespaces)) else { return nil }
                e.append((name, n))
            } else {
                guard let n = Int(t) else { return nil }
                e.append(("", n))
            }
        }
        guard !e.isEmpty else { return nil }
        // All named or all positional.
        guard e.allSatisfy({ $0.0.isEmpty }) || e.allSatisfy({ !$0.0.isEmpty }) else { return nil }
        entries = e
    }

    /// One value for every parent.
    var uniform: Int? { entries.count == 1 && entries[0].key.isEmpty ? entries[0].count : nil }

    func validate(_ option: String) throws {
        for (key, n) in entries where !(1...OptionCheck.maxK).contains(n) {
            throw ValidationError("\(option) must be 1...\(OptionCheck.maxK)\(key.isEmpty ? "" : " for '\(key)'"), found \(n)")
        }
    }

    /// The count of each parent.
    func resolve(parentNames: [String]) throws -> [Int] {
        if let k = uniform { return [Int](repeating: k, count: parentNames.count) }
        if entries.allSatisfy({ $0.key.isEmpty }) {
            guard entries.count == parentNames.count else {
                throw CLIError.option("-k: expected \(parentNames.count) counts, one per parent (\(parentNames.joined(separator: ", "))), found \(entries.count)")
            }
            return entries.map(\.count)
        }
        var out = [Int?](repeating: nil, count: parentNames.count)
        for (key, n) in entries {
            let p = try parentIndex(key, in: parentNames, option: "-k",
                                    instead: { "give the counts by position ('5,3,...') or by number ('\($0)=5')" })
            guard out[p] == nil else { throw CLIError.option("-k: parent '\(key)' given twice") }
            out[p] = n
        }
        if let missing = out.firstIndex(where: { $0 == nil }) {
            throw CLIError.option("-k: no count for parent '\(parentNames[missing])' (give one for every parent: \(parentNames.joined(separator: ", ")))")
        }
        return out.map { $0! }
    }
}

/// A parent named on the command line by its name or its number ("footwear", "1"): its index.
/// `option` starts the messages; `instead` says what to give when two parents share the name (a
/// data set written elsewhere may name two alike), given the first one's number.
func parentIndex(_ key: String, in parentNames: [String], option: String, instead: (Int) -> String) throws -> Int {
    let byName = parentNames.indices.filter { parentNames[$0] == key }
    if byName.count > 1 {
        throw CLIError.option("\(option): parents \(byName[0]) and \(byName[1]) are both named '\(key)'; \(instead(byName[0]))")
    }
    guard let p = byName.first ?? Int(key).flatMap({ (0..<parentNames.count).contains($0) ? $0 : nil }) else {
        throw CLIError.option("\(option): unknown parent '\(key)' (the parents are: \(parentNames.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ")))")
    }
    return p
}
