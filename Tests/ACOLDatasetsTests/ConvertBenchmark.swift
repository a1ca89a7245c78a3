import Foundation
import Testing
import ACOL
import ACOLDatasets

/// Peak resident set size of this process, from /proc/self/status (VmHWM), in MB.
func peakRSSMegabytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
    return kb / 1024
}

/// Decode speed of the full data sets into a sink that only counts.
/// Runs only with ACOL_BENCH=1 (see Benchmarks/convert/README.md):
///   ACOL_BENCH=1 swift test -c release --filter ConvertBenchmark
@Suite struct ConvertBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["ACOL_BENCH"] == "1"

    @Test(.enabled(if: ConvertBenchmark.enabled)) func fullMNISTAndFashion() throws {
        let env = ProcessInfo.processInfo.environment
        let sets = [("MNIST", env["ACOL_MNIST"] ?? "/work/shared/datasets/mnist"),
                    ("Fashion-MNIST", env["ACOL_FASHION"] ?? "/usr/share/datasets/fashion-mnist")]
        print("bench: peak RSS before: \(String(format: "%.1f", peakRSSMegabytes())) MB")
        for (name, dir) in sets {
            guard FileManager.default.fileExists(atPath: dir) else { print("bench: \(name): \(dir) missing, skipped"); continue }
            var best = Double.infinity
            var n = 0
            for _ in 0..<3 {
                let sink = CountingSink()
                let start = Date()
                let s = try Converter.convert(inputs: [dir], options: ConvertOptions(parents: .byDivision(2)), into: sink)
                best = min(best, Date().timeIntervalSince(start))
                n = s.totalCount
                #expect(s.split("train")?.count == 60000 && s.split("test")?.count == 10000)
            }
            print("bench: \(name): \(n) images in \(String(format: "%.3f", best)) s (best of 3) = \(Int(Double(n) / best)) images/s; peak RSS \(String(format: "%.1f", peakRSSMegabytes())) MB")
        }
        // PNG decode speed on a folder written here (28x28 grey, as MNIST test images).
        try withTempDir { dir in
            let (sink, _) = try convert([sets[0].1 + "/t10k-images-idx3-ubyte.gz", sets[0].1 + "/t10k-labels-idx1-ubyte.gz"])
            let t = sink.split("test")!
            let n = 2000
            for i in 0..<n {
                let d = dir + "/png/\(t.fineLabels![i])"
                if i < 10 { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
                try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                try PNGEncoder.write(path: d + "/\(i).png", width: 28, height: 28, channels: 1, pixels: Array(t.pixels[(i * 784)..<((i + 1) * 784)]))
            }
            let start = Date()
            let s = try Converter.convert(inputs: [dir + "/png"], options: ConvertOptions(), into: CountingSink())
            let el = Date().timeIntervalSince(start)
            #expect(s.totalCount == n)
            print("bench: PNG folder 28x28 grey: \(n) images in \(String(format: "%.3f", el)) s = \(Int(Double(n) / el)) images/s")
        }
    }
}
