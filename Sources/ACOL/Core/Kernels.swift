import Foundation

// Element-wise kernels shared by the layers (bias, ReLU masks, column sums), SIMD where it pays.

/// The incoming gradient of a layer whose ReLU is fused into its output: dy where y > 0, else 0
/// (into `scratch`, reused across steps); dy itself when no ReLU is fused.
func gradientThroughFusedReLU(_ dy: Tensor, output y: [Float], fused: Bool, scratch: inout [Float]) -> Tensor {
    guard fused else { return dy }
    maskByPositive(dy.data, y, into: &scratch)
    return Tensor(shape: dy.shape, data: scratch)
}

/// y[r, :] += b, then max(0, .) when `relu`; parallel over rows.
func addBias(_ y: UnsafeMutablePointer<Float>, rows: Int, _ b: UnsafePointer<Float>, _ n: Int, relu: Bool,
             parallel: Bool = true) {
    let chunks = parallel ? min(rows, 64) : 1
    parallelFor(chunks) { c in
        addBias(y, rows: rows * c / chunks..<rows * (c + 1) / chunks, columns: 0..<n, stride: n, b, relu: relu)
    }
}

/// The same on one block of y (row-major, `stride` floats a row), on the calling thread: y[r, j] +=
/// b[j] (then max(., 0) when `relu`) for r in `rows`, j in `columns` (parallelGemm's epilogue).
func addBias(_ y: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Range<Int>, stride: Int,
             _ b: UnsafePointer<Float>, relu: Bool) {
    for r in rows {
        let row = y + r * stride
        if relu { for j in columns { row[j] = max(row[j] + b[j], 0) } }
        else { for j in columns { row[j] += b[j] } }
    }
}

/// out = dy where y > 0, else 0 (the gradient through a fused ReLU).
func maskByPositive(_ dy: [Float], _ y: [Float], into out: inout [Float]) {
    reuse(&out, count: dy.count)
    dy.withUnsafeBufferPointer { d in
        y.withUnsafeBufferPointer { yp in
            out.withUnsafeMutableBufferPointer { o in
                maskByPositive(d.baseAddress!, yp.baseAddress!, o.baseAddress!, count: d.count)
            }
        }
    }
}

/// out[i] = y[i] > 0 ? dy[i] : 0, branch-free over 16 lanes at a time (a data-dependent branch
/// per element mispredicts on ReLU patterns and cost ~9 % of a CNN training step).
func maskByPositive(_ d: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, count n: Int) {
    typealias V = SIMD16<Float>
    let dr = UnsafeRawPointer(d), yr = UnsafeRawPointer(y), orw = UnsafeMutableRawPointer(o)
    var i = 0
    let zero = V(repeating: 0)
    while i + 16 <= n {
        let yv = yr.loadUnaligned(fromByteOffset: i * 4, as: V.self)
        let dv = dr.loadUnaligned(fromByteOffset: i * 4, as: V.self)
        orw.storeBytes(of: zero.replacing(with: dv, where: yv .> zero), toByteOffset: i * 4, as: V.self)
        i += 16
    }
    while i < n { o[i] = y[i] > 0 ? d[i] : 0; i += 1 }
}

/// Column sums of a [rows, n] matrix into g[n].
func columnSums(_ d: UnsafePointer<Float>, rows: Int, n: Int, into g: UnsafeMutablePointer<Float>) {
    g.update(repeating: 0, count: n)
    typealias V = SIMD8<Float>
    let gr = UnsafeMutableRawPointer(g)
    var j0 = 0
    // Eight columns at a time, accumulated down the rows in a register (same order as the
    // scalar loop: row by row).
    while j0 + 8 <= n {
        var acc = V(repeating: 0)
        var row = UnsafeRawPointer(d + j0)
        for _ in 0..<rows {
            acc += row.loadUnaligned(as: V.self)
            row += n * 4
        }
        gr.storeBytes(of: acc, toByteOffset: j0 * 4, as: V.self)
        j0 += 8
    }
    for r in 0..<rows {
        let row = d + r * n
        for j in j0..<n { g[j] += row[j] }
    }
}
