import Dispatch
import Foundation

/// Runs body(i) for i in 0..<n, split over `Threads.count` workers when n is large enough.
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    let t = min(Threads.count, n)
    if t <= 1 || n < 4 {
        for i in 0..<n { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: t) { part in
            let lo = n * part / t, hi = n * (part + 1) / t
            for i in lo..<hi { body(i) }
        }
    }
}

/// Runs body(part) for part in 0..<parts, concurrently when parts > 1.
func parallelParts(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: parts) { body($0) }
    }
}
