import Foundation
import Testing
import ACOL
import ACOLDatasets

/// Damaged copies of every fixture kind: the importers must throw a DatasetError or succeed,
/// never trap. Deterministic (a fixed xorshift sequence).
@Suite struct CorruptionTests {
    struct XorShift { var s: UInt64; mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s } }

    @Test func damagedFixturesNeverTrap() throws {
        let cases: [(src: String, name: String)] = [
            ("svhn/train_32x32.mat", "train_32x32.mat"), ("svhn/test_32x32.mat", "test_32x32.mat"),
            ("cifar/cifar-100-binary/test.bin", "test.bin"), ("cifar/cifar-10-batches-bin/test_batch.bin", "test_batch.bin"),
            ("mnist-small/t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
            ("png/flat/d_palette/0.png", "c/0.png"), ("png/flat/e_grey16/1.png", "c/0.png"), ("png/flat/c_rgba/0.png", "c/0.png"),
        ]
        var rng = XorShift(s: 0x9E3779B97F4A7C15)
        var outcomes = [String: Int]()
        try withTempDir { dir in
            for (src, name) in cases {
                let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture(src))))
                for trial in 0..<40 {
                    var bad = good
                    switch trial % 3 {
                    case 0: bad.removeLast(Int(rng.next() % UInt64(bad.count)))
                    case 1: for _ in 0..<(1 + Int(rng.next() % 4)) { bad[Int(rng.next() % UInt64(bad.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                    default:   // damage the headers, where the sizes are
                        for _ in 0..<(1 + Int(rng.next() % 3)) { bad[Int(rng.next() % UInt64(min(bad.count, 300)))] = UInt8(truncatingIfNeeded: rng.next()) }
                    }
                    let d = dir + "/\(outcomes.values.reduce(0, +))"
                    try write(bad, d + "/" + name)
                    var inputs = [d + "/" + name]
                    if name.hasPrefix("t10k-labels") {   // damaged labels next to good images
                        try FileManager.default.copyItem(atPath: fixture("mnist-small/t10k-images-idx3-ubyte.gz"), toPath: d + "/t10k-images-idx3-ubyte.gz")
                        inputs = [d]
                    }
                    if name.hasPrefix("c/") { inputs = [d] }
                    do {
                        _ = try convert(inputs, ConvertOptions(format: name.hasPrefix("test.bin") ? .cifar100 : nil))
                        outcomes["ok", default: 0] += 1
                    } catch let e as DatasetError {
                        outcomes["\(e)".prefix(while: { $0 != "(" }).description, default: 0] += 1
                        #expect(!e.localizedDescription.isEmpty && !e.localizedDescription.contains("\n"))
                    }
                }
            }
        }
        #expect(outcomes.values.reduce(0, +) == cases.count * 40)
        #expect(outcomes.count > 3)
    }
}
