import Foundation

/// Element-wise sums across the processes of a data-parallel job (acol-mpi implements it with
/// MPI_Allreduce and MPI_SUM). Every process calls the methods in the same order with arrays of
/// the same length; afterwards each holds the sum over all processes. One process needs no
/// reduction: the library's functions take `nil` for that and then compute exactly what they
/// computed before the reduction existed.
public protocol BatchReduction: AnyObject {
    func sum(_ x: inout [Double])
    func sum(_ x: inout [Float])
}

/// One process's part of a global batch: which rows of the whole batch its local rows are, and
/// the reduction that turns its partial batch statistics into the whole batch's.
///
/// The local rows are the global rows of `segments`, concatenated in order (one segment for a
/// plain batch; two when the batch is forwarded as two views, rows [0, M) and [M, 2M)).
public struct BatchShard {
    public let reduction: BatchReduction
    /// Rows of the whole batch, over all processes.
    public let globalRows: Int
    /// The global rows of this process's rows, in local order (ascending, not overlapping).
    public let segments: [Range<Int>]

    public init(reduction: BatchReduction, globalRows: Int, segments: [Range<Int>]) {
        self.reduction = reduction; self.globalRows = globalRows; self.segments = segments
    }

    /// Rows this process holds.
    public var localRows: Int { segments.reduce(0) { $0 + $1.count } }

    /// The same split of a batch forwarded as two views stacked: global rows [0, M) the first
    /// views, [M, 2M) the second; locally the first views of this process's rows, then their
    /// second views (as `Trainer` stacks them).
    public func stackedTwice() -> BatchShard {
        BatchShard(reduction: reduction, globalRows: 2 * globalRows,
                   segments: segments + segments.map { ($0.lowerBound + globalRows)..<($0.upperBound + globalRows) })
    }
}

/// A data-parallel training job: `size` processes, each holding the whole network; this one is
/// `rank`. Every process takes rows [rank * m / size, (rank + 1) * m / size) of each global batch
/// of m rows (the same shuffled order on every process, from the seed); the batch statistics and
/// the parameter gradients are summed with `reduction`, so every process takes the step one
/// process would take on the whole batch.
public struct DataParallel {
    public let reduction: BatchReduction
    public let rank: Int
    public let size: Int

    public init(reduction: BatchReduction, rank: Int, size: Int) throws {
        guard size >= 1, rank >= 0, rank < size else {
            throw ACOLError.invalidData("data-parallel rank \(rank) of \(size) processes: expected 0 <= rank < size")
        }
        self.reduction = reduction; self.rank = rank; self.size = size
    }

    /// The process that writes the model, the log and the progress.
    public var isRoot: Bool { rank == 0 }

    /// This process's rows of a global batch of `m` rows: [rank * m / size, (rank + 1) * m / size).
    public func rows(ofBatch m: Int) -> Range<Int> {
        (rank * m / size)..<((rank + 1) * m / size)
    }

    /// The shard of a global batch of `m` rows.
    public func shard(ofBatch m: Int) -> BatchShard {
        BatchShard(reduction: reduction, globalRows: m, segments: [rows(ofBatch: m)])
    }

    /// Sums every trainable parameter's gradient across the processes (one reduction of all of
    /// them, in the order given).
    public func sumGradients(_ params: [Parameter]) {
        var flat = [Float]()
        flat.reserveCapacity(params.reduce(0) { $0 + $1.grad.count })
        for p in params { flat.append(contentsOf: p.grad) }
        reduction.sum(&flat)
        var o = 0
        for p in params {
            let c = p.grad.count
            p.grad.withUnsafeMutableBufferPointer { g in
                flat.withUnsafeBufferPointer { f in for i in 0..<c { g[i] = f[o + i] } }
            }
            o += c
        }
    }
}

/// A reduction over processes that live in one address space: each "process" is a thread calling
/// through its own `InProcessReduction.Member` (Swift code with no MPI: tests, and a check of the
/// exact-reduction logic). Every member blocks in `sum` until all members have contributed.
public final class InProcessReduction {
    public let size: Int
    private let lock = NSCondition()
    private var doubles: [Double] = []
    private var floats: [Float] = []
    private var arrived = 0
    private var generation = 0
    private var departed = 0

    public init(size: Int) { self.size = max(size, 1) }

    /// The reduction seen by member `rank`.
    public func member(_ rank: Int) -> BatchReduction { Member(group: self) }

    final class Member: BatchReduction {
        let group: InProcessReduction
        init(group: InProcessReduction) { self.group = group }
        func sum(_ x: inout [Double]) { group.exchange(&x, \.doubles) }
        func sum(_ x: inout [Float]) { group.exchange(&x, \.floats) }
    }

    /// Adds `x` into the shared buffer, waits for all members, copies the total back. Members add
    /// in arrival order, so float sums can differ in the last bit from run to run; tests compare
    /// with a tolerance.
    private func exchange<T: AdditiveArithmetic>(_ x: inout [T], _ buffer: ReferenceWritableKeyPath<InProcessReduction, [T]>) {
        lock.lock()
        // Wait until the previous exchange has been read by every member.
        while departed != 0 { lock.wait() }
        let gen = generation
        if arrived == 0 { self[keyPath: buffer] = x } else {
            precondition(self[keyPath: buffer].count == x.count, "InProcessReduction: members summed arrays of different lengths")
            for i in 0..<x.count { self[keyPath: buffer][i] += x[i] }
        }
        arrived += 1
        if arrived == size {
            arrived = 0; generation += 1; departed = size
            lock.broadcast()
        } else {
            while generation == gen { lock.wait() }
        }
        x = self[keyPath: buffer]
        departed -= 1
        if departed == 0 { lock.broadcast() }
        lock.unlock()
    }
}
