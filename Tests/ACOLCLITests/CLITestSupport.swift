import Foundation
import Testing

/// Runs the built `acol` binary and captures its output.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The `acol` executable built beside the test bundle.
    static let binary: String = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("acol").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        // Fall back to the package's debug build folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/acol").path
    }()

    static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var mnistFixture: String { repoRoot.appendingPathComponent("Fixtures/mnist-small").path }

    @discardableResult
    static func run(_ args: [String], in dir: URL, executable: String? = nil) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable ?? binary)
        p.arguments = args
        p.currentDirectoryURL = dir
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently so a full pipe never blocks the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let t = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !t.isFinished { usleep(1000) }
        let errData = errBox.data
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A temporary folder removed when the value goes away.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("acol-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    var files: [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] }
}

/// One converted data set and one small trained model, shared by the tests that only read them.
final class SharedFixture: @unchecked Sendable {
    static let shared = SharedFixture()
    let dir: TempDir
    let data: String
    let model: String
    let setupError: String?

    private init() {
        dir = try! TempDir()
        data = dir.path("mnist.h5")
        model = dir.path("model.h5")
        var problem: String?
        do {
            let c = try CLI.run(["convert", CLI.mnistFixture, "--parents", "0-4,5-9", "-o", data], in: dir.url)
            if c.status != 0 { problem = "convert failed: \(c.stderr)" }
            let t = try CLI.run(["train", data, "-o", model, "--arch", "mlp", "--hidden", "64", "--epochs", "1",
                                 "--limit", "1000", "--seed", "3", "--quiet"], in: dir.url)
            if t.status != 0 { problem = "train failed: \(t.stderr)" }
        } catch {
            problem = "\(error)"
        }
        setupError = problem
    }
}
