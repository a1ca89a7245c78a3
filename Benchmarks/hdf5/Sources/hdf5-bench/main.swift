// hdf5-bench MNIST_DIR OUT_DIR [gzip levels...]
// Writes the full-MNIST data-set file with DatasetWriter (streamed in batches of 1000 images),
// reads it back whole and in 1000-image ranges, and prints sizes and speeds as JSON lines.
import ACOL
import ACOLHDF5
import Foundation

/// gunzip through the system gzip and skip the IDX header (16 bytes for images, 8 for labels).
func idx(_ path: String, header: Int) throws -> [UInt8] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-dc", path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return [UInt8](data.dropFirst(header))
}

func now() -> Double { Date().timeIntervalSinceReferenceDate }
func size(_ p: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? Int) ?? 0 }

let args = CommandLine.arguments
let mnist = args.count > 1 ? args[1] : "/work/shared/datasets/mnist"
let out = args.count > 2 ? args[2] : NSTemporaryDirectory()
let levels = args.count > 3 ? args[3...].map { Int($0)! } : [4]

var splits: [(String, ImageSet)] = []
for (name, prefix) in [("train", "train"), ("test", "t10k")] {
    let px = try idx("\(mnist)/\(prefix)-images-idx3-ubyte.gz", header: 16)
    let lb = try idx("\(mnist)/\(prefix)-labels-idx1-ubyte.gz", header: 8).map { Int32($0) }
    splits.append((name, ImageSet(count: lb.count, height: 28, width: 28, channels: 1, pixels: px,
                                  fineLabels: lb, coarseLabels: lb.map { $0 / 5 })))
}
let total = splits.reduce(0) { $0 + $1.1.count }
let rawBytes = Double(total * 784)
let description = DatasetDescription(height: 28, width: 28, channels: 1,
                                     labels: LabelInfo(fineNames: (0..<10).map(String.init), parentNames: ["0-4", "5-9"],
                                                       parentOfFine: (0..<10).map { $0 / 5 }),
                                     source: "idx: MNIST")

for level in levels {
    let path = "\(out)/mnist-acol-gzip\(level).h5"
    try? FileManager.default.removeItem(atPath: path)
    var bestW = Double.infinity, bestR = Double.infinity, bestRR = Double.infinity
    for _ in 0..<3 {
        try? FileManager.default.removeItem(atPath: path)
        let t0 = now()
        let w = try DatasetWriter(path: path, gzipLevel: level)
        try w.begin(description)
        for (name, set) in splits {
            try w.beginSplit(name, expectedCount: set.count)
            var i = 0
            while i < set.count {
                let j = min(set.count, i + 1000)
                let s = set.pixels[(i * 784)..<(j * 784)]
                try w.append(ImageSet(count: j - i, height: 28, width: 28, channels: 1, pixels: Array(s),
                                      fineLabels: Array(set.fineLabels![i..<j]), coarseLabels: Array(set.coarseLabels![i..<j])))
                i = j
            }
            try w.endSplit()
        }
        try w.finish()
        bestW = min(bestW, now() - t0)

        let t1 = now()
        let r = try DatasetReader(path: path)
        var check = 0
        for s in r.splits { check += try r.read(split: s.name).count }
        precondition(check == total)
        r.close()
        bestR = min(bestR, now() - t1)

        let t2 = now()
        let r2 = try DatasetReader(path: path)
        for s in r2.splits {
            var i = 0
            while i < s.count { let j = min(s.count, i + 1000); _ = try r2.read(split: s.name, range: i..<j); i = j }
        }
        r2.close()
        bestRR = min(bestRR, now() - t2)
    }
    // Check the round trip once.
    let r = try DatasetReader(path: path)
    for (name, set) in splits { let back = try r.read(split: name); precondition(back == set, "round trip of \(name)") }
    r.close()
    print("{\"tool\": \"acol\", \"gzip\": \(level), \"file\": \"\(path)\", \"bytes\": \(size(path)), \"images\": \(total), "
          + "\"write_s\": \(bestW), \"read_s\": \(bestR), \"read_ranges_s\": \(bestRR), \"raw_bytes\": \(Int(rawBytes))}")
}
