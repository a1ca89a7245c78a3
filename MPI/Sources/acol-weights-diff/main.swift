import ACOL
import ACOLHDF5
import Foundation

// acol-weights-diff A.h5 B.h5 [--tolerance T]
// Compares every weight and statistic of two model files of the same architecture: prints, per
// tensor, max |a - b| / max |b| (the largest difference relative to the tensor's scale), then
// the largest over all tensors; exits 1 when that exceeds T (default 1e-4) or the tensors differ
// in names or shapes, 2 for a usage error. Used by Scripts/test_mpi.sh.
func fail(_ s: String, _ code: Int32) -> Never {
    FileHandle.standardError.write(("acol-weights-diff: " + s + "\n").data(using: .utf8)!)
    exit(code)
}
var args = Array(CommandLine.arguments.dropFirst())
var tolerance = 1e-4
if let i = args.firstIndex(of: "--tolerance") {
    guard i + 1 < args.count, let t = Double(args[i + 1]), t >= 0 else { fail("--tolerance needs a number >= 0", 2) }
    tolerance = t
    args.removeSubrange(i...(i + 1))
}
guard args.count == 2 else { fail("usage: acol-weights-diff A.h5 B.h5 [--tolerance T]", 2) }
let a: ACOLModel, b: ACOLModel
do {
    a = try ModelFile.load(args[0])
    b = try ModelFile.load(args[1])
} catch {
    fail(error.localizedDescription, 1)
}
let ta = a.network.stateTensors(), tb = b.network.stateTensors()
guard ta.map(\.name) == tb.map(\.name), ta.map(\.shape) == tb.map(\.shape) else {
    fail("the two models have different tensors", 1)
}
var worst = 0.0, worstName = ""
for (x, y) in zip(ta, tb) {
    let scale = y.values.map { abs(Double($0)) }.max() ?? 0
    let diff = zip(x.values, y.values).map { abs(Double($0) - Double($1)) }.max() ?? 0
    let rel = scale > 0 ? diff / scale : diff
    let name = x.name.count < 40 ? x.name + String(repeating: " ", count: 40 - x.name.count) : x.name
    print(name + String(format: " %10d values  max|a-b| %.3e  relative %.3e", x.values.count, diff, rel))
    if rel > worst || worstName.isEmpty { worst = rel; worstName = x.name }
}
print(String(format: "largest relative difference %.3e", worst) + " (\(worstName)), tolerance "
      + String(format: "%.1e", tolerance) + (worst <= tolerance ? ": same weights" : ": DIFFERENT"))
exit(worst <= tolerance ? 0 : 1)
