import Foundation
import Testing
import ACOL
import ACOLDatasets

/// The package root (for Fixtures/).
let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

func fixture(_ rel: String) -> String { packageRoot + "/Fixtures/" + rel }

/// A fresh temporary folder, removed when `body` returns.
func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    let dir = NSTemporaryDirectory() + "acol-datasets-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

func write(_ bytes: [UInt8], _ path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }

/// IDX image file bytes: magic 0x803, n x h x w, then `pixels` (or zeros).
func idxImages(n: UInt32, h: UInt32 = 28, w: UInt32 = 28, pixels: [UInt8]? = nil) -> [UInt8] {
    be32(0x803) + be32(n) + be32(h) + be32(w) + (pixels ?? [UInt8](repeating: 0, count: Int(n * h * w)))
}

func idxLabels(_ labels: [UInt8], count: UInt32? = nil) -> [UInt8] {
    be32(0x801) + be32(count ?? UInt32(labels.count)) + labels
}

/// Converts into memory.
func convert(_ inputs: [String], _ options: ConvertOptions = ConvertOptions()) throws -> (InMemorySink, ConversionSummary) {
    let sink = InMemorySink()
    let summary = try Converter.convert(inputs: inputs, options: options, into: sink, progress: nil)
    return (sink, summary)
}

/// The error a conversion throws (nil when it succeeds).
func conversionError(_ inputs: [String], _ options: ConvertOptions = ConvertOptions()) -> DatasetError? {
    do { _ = try convert(inputs, options); return nil } catch let e as DatasetError { return e } catch { return nil }
}

/// A sink that only counts, and records the largest batch.
final class CountingSink: ImageSink {
    var description: DatasetDescription?
    var counts: [String: Int] = [:]
    var current = ""
    var largestBatch = 0
    var checksum: UInt64 = 0
    func begin(_ d: DatasetDescription) throws { description = d }
    func beginSplit(_ name: String, expectedCount: Int?) throws { current = name; counts[name] = 0 }
    func append(_ batch: ImageSet) throws {
        counts[current, default: 0] += batch.count
        largestBatch = max(largestBatch, batch.count)
        checksum = batch.pixels.reduce(checksum) { $0 &+ UInt64($1) }
    }
    func endSplit() throws {}
}

func writeGz(_ bytes: [UInt8], _ path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try GzipFiles.write(bytes, to: path)
}
