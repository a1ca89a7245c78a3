import ACOLData
import Foundation
import Testing

/// A temporary folder for one test, removed when the value goes away.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "acol-data-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    func contents() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    func write(_ name: String, _ text: String) -> String {
        let p = file(name)
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }
    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: file(name)).map { String(decoding: $0, as: UTF8.self) }
    }
}

@Suite struct OutputFileTests {
    @Test func commitReplacesTheTargetAndLeavesNoTemporary() throws {
        let d = TempDir()
        _ = d.write("out.txt", "old")
        let o = try OutputFile(d.file("out.txt"))
        try o.write("new text")
        #expect(d.read("out.txt") == "old")            // untouched until commit
        #expect(d.contents().count == 2)
        #expect(TemporaryFiles.registered.contains(o.temporaryPath))
        try o.commit()
        #expect(d.read("out.txt") == "new text")
        #expect(d.contents() == ["out.txt"])
        #expect(!TemporaryFiles.registered.contains(o.temporaryPath))
    }

    @Test func abortAndDeinitRemoveTheTemporaryAndKeepTheTarget() throws {
        let d = TempDir()
        _ = d.write("out.txt", "old")
        do {
            let o = try OutputFile(d.file("out.txt"))
            try o.write("half")
            o.abort()
        }
        do {
            let o = try OutputFile(d.file("out.txt"))
            try o.write("half")
        }
        #expect(d.contents() == ["out.txt"])
        #expect(d.read("out.txt") == "old")
    }

    @Test func anOutputThatIsAnInputIsRefused() throws {
        let d = TempDir()
        let input = d.write("data.h5", "precious")
        #expect(throws: DataError.self) { try OutputFile(input, inputs: [input]) }
        // The same file under another name: a hard link, and a path with "./" in it.
        link(input, d.file("alias.h5"))
        #expect(throws: DataError.self) { try OutputFile(d.file("alias.h5"), inputs: [input]) }
        #expect(throws: DataError.self) { try OutputFile(d.path + "/./data.h5", inputs: [input]) }
        // Through a symbolic link.
        symlink(input, d.file("link.h5"))
        #expect(throws: DataError.self) { try OutputFile(d.file("link.h5"), inputs: [input]) }
        #expect(d.read("data.h5") == "precious")
        #expect(d.contents() == ["alias.h5", "data.h5", "link.h5"])
    }

    @Test func twoOutputsOnOnePathAreRefusedEvenBeforeEitherExists() throws {
        let d = TempDir()
        #expect(throws: DataError.self) { try OutputFile(d.file("m.h5"), otherOutputs: [d.file("m.h5")]) }
        #expect(throws: DataError.self) { try OutputFile(d.file("m.h5"), otherOutputs: [d.path + "/../" + (d.path as NSString).lastPathComponent + "/m.h5"]) }
        #expect(d.contents().isEmpty)
    }

    @Test func specialFilesAndMissingFoldersAreRefused() throws {
        let d = TempDir()
        let fifo = d.file("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let e = #expect(throws: DataError.self) { try OutputFile(fifo) }
        #expect(e?.localizedDescription.contains("a FIFO") == true)
        #expect(throws: DataError.self) { try OutputFile("/dev/null") }
        #expect(throws: DataError.self) { try OutputFile(d.path) }
        #expect(throws: DataError.self) { try OutputFile(d.file("no/such/folder.h5")) }
        #expect(d.contents() == ["pipe"])
    }

    @Test func aSymbolicLinkKeepsPointingAtTheNewFile() throws {
        let d = TempDir()
        _ = d.write("real.txt", "old")
        symlink(d.file("real.txt"), d.file("link.txt"))
        let o = try OutputFile(d.file("link.txt"))
        try o.write("new")
        try o.commit()
        #expect(d.read("real.txt") == "new")
        var st = stat()
        #expect(lstat(d.file("link.txt"), &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
    }

    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let d = TempDir()
        // A process id that cannot exist (above the kernel's pid_max).
        let stale = d.write(".out.txt\(OutputFile.temporaryMarker)2147483000-0000abcd", "left by a killed run")
        let mine = d.write(".out.txt\(OutputFile.temporaryMarker)\(getpid())-0000abcd", "another writer of this process")
        let o = try OutputFile(d.file("out.txt"))
        try o.commit()
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: mine))
    }

    /// A temporary file of the same target held by another live acol process: refused with the
    /// target, the process and its file named, and that file left alone. One whose process id
    /// now belongs to a program that is not acol's is stale: removed, and the output proceeds.
    @Test func anotherLiveWriterIsRefused() throws {
        let d = TempDir()
        func spawn(_ argv0: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", "exec -a \(argv0) sleep 20"]
            try p.run()
            // Wait until the exec has happened (the command line shows the new name).
            for _ in 0..<200 where !(FileManager.default.contents(atPath: "/proc/\(p.processIdentifier)/cmdline")
                .map { String(decoding: $0, as: UTF8.self).hasPrefix(argv0) } ?? true) { usleep(10_000) }
            return p
        }
        let writer = try spawn("acol-writer")
        defer { kill(writer.processIdentifier, SIGKILL); writer.waitUntilExit() }
        let theirs = d.write(".out.txt\(OutputFile.temporaryMarker)\(writer.processIdentifier)-0000abcd", "")
        let e = #expect(throws: DataError.self) { _ = try OutputFile(d.file("out.txt")) }
        let text = e?.localizedDescription ?? ""
        #expect(text.contains("out.txt") && text.contains("\(writer.processIdentifier)") && text.contains("writing"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: theirs))
        #expect(!FileManager.default.fileExists(atPath: d.file("out.txt")))

        let other = try spawn("not-ours")
        defer { kill(other.processIdentifier, SIGKILL); other.waitUntilExit() }
        let reused = d.write(".other.txt\(OutputFile.temporaryMarker)\(other.processIdentifier)-0000abcd", "")
        let o = try OutputFile(d.file("other.txt"))
        try o.commit()
        #expect(!FileManager.default.fileExists(atPath: reused))
    }

    // A full disk (a file-size limit: write(2) fails with EFBIG) is tested through the acol
    // binary in a process of its own (ACOLCLITests, `aFileSizeLimitIsACleanError`): the limit is
    // the whole process's, and set here it failed other tests' writes running at the same time.

    /// Gathered small writes and writes larger than the gathering buffer come out in order.
    @Test func gatheredWritesKeepTheirOrder() throws {
        let d = TempDir()
        let o = try OutputFile(d.file("out.bin"))
        var expected: [UInt8] = []
        var g: UInt32 = 1
        for i in 0..<3_000 {
            g = g &* 1_103_515_245 &+ 12_345
            let n = i % 500 == 7 ? 70_000 + Int(g % 1000) : Int(g % 97)
            let chunk = (0..<n).map { UInt8(truncatingIfNeeded: $0 &+ i) }
            expected += chunk
            try o.write(chunk)
        }
        #expect(!FileManager.default.fileExists(atPath: d.file("out.bin")))
        try o.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: d.file("out.bin"))) == Data(expected))
    }
}

@Suite struct InputFileTests {
    @Test func onlyRegularFilesAreInputs() throws {
        let d = TempDir()
        let f = d.write("a.txt", "x")
        try InputFile.requireRegular(f)
        mkfifo(d.file("fifo"), 0o644)
        #expect(throws: DataError.self) { try InputFile.requireRegular(d.file("fifo")) }
        #expect(throws: DataError.self) { try InputFile.requireRegular(d.path) }
        #expect(throws: DataError.self) { try InputFile.requireRegular(d.file("missing")) }
        #expect(try InputFile.requireFileOrFolder(d.path))
        #expect(throws: DataError.self) { try InputFile.requireFileOrFolder("/dev/null") }
    }
}

@Suite struct ParentMappingTests {
    @Test func parentsFromFineLabels() throws {
        let m = ParentMapping(parentNames: ["0-4", "5-9"], parentOfFine: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        let set = ImageSet(count: 3, height: 1, width: 1, channels: 1, pixels: [1, 2, 3], fineLabels: [0, 7, 4])
        #expect(try set.withParents(m, source: "s").coarseLabels == [0, 1, 0])
        let bad = ImageSet(count: 1, height: 1, width: 1, channels: 1, pixels: [1], fineLabels: [40_000])
        #expect(throws: DataError.unmappedLabel(path: "s", label: 40_000, classes: 10)) { try bad.withParents(m, source: "s") }
        let none = ImageSet(count: 1, height: 1, width: 1, channels: 1, pixels: [1])
        #expect(throws: DataError.self) { try none.withParents(m, source: "s") }
    }
}
