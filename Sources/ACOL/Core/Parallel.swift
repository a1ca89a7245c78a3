import Foundation
internal import CDNNL

// The library's threads are OpenMP's (libgomp, through `acol_parallel_parts`), the runtime that
// oneDNN's convolutions run on: with Dispatch's threads beside OpenMP's, the OpenMP workers spun
// after each convolution on the cores the next Dispatch loop wanted (cnn2 training step 150-158 ms
// against 136-146 ms with the spinning cut short, 2026-12-02, docs/benchmarks.md).

/// Runs body(i) for i in 0..<n, split over `Threads.count` workers when n is large enough.
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    let t = min(Threads.count, n)
    if t <= 1 || n < 4 {
        for i in 0..<n { body(i) }
        return
    }
    parallelParts(t) { part in
        let lo = n * part / t, hi = n * (part + 1) / t
        for i in lo..<hi { body(i) }
    }
}

/// Runs body(part) for part in 0..<parts, concurrently when parts > 1.
func parallelParts(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        var closure = body
        withUnsafeMutablePointer(to: &closure) { p in
            acol_parallel_parts(Int32(parts), { ctx, part in
                ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(part))
            }, p)
        }
    }
}
