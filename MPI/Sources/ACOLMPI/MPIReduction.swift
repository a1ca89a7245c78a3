import ACOL
import CMPI
import Foundation

/// Errors of the MPI layer (acol-mpi's one error type).
public enum MPIError: Error, LocalizedError {
    case call(String, code: Int32)

    public var errorDescription: String? {
        switch self {
        case let .call(name, code): return "\(name) failed with MPI error code \(code)"
        }
    }
}

/// MPI_COMM_WORLD of this process: its rank and size, and `BatchReduction` as an in-place
/// MPI_Allreduce with MPI_SUM. Open MPI's default error handler (MPI_ERRORS_ARE_FATAL) ends the
/// whole job when a collective fails, so a rank never waits for a peer that is gone.
public final class MPIWorld: BatchReduction {
    public let rank: Int
    public let size: Int
    /// Ranks on this node.
    public let localSize: Int

    /// MPI_Init (once per process).
    public init() throws {
        let rc = acol_mpi_init()
        guard rc == 0 else { throw MPIError.call("MPI_Init", code: rc) }
        rank = Int(acol_mpi_rank())
        size = Int(acol_mpi_size())
        localSize = max(1, Int(acol_mpi_local_size()))
    }

    /// Threads per rank when --threads is not given: this node's cores shared by its ranks.
    public var defaultThreads: Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount / localSize)
    }

    /// Largest count passed to one MPI call (MPI counts are C ints).
    static let chunk = 1 << 28

    public func sum(_ x: inout [Double]) {
        x.withUnsafeMutableBufferPointer { p in
            var o = 0
            while o < p.count {
                let c = min(Self.chunk, p.count - o)
                _ = acol_mpi_sum_double(p.baseAddress! + o, Int32(c))
                o += c
            }
        }
    }

    public func sum(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { p in
            var o = 0
            while o < p.count {
                let c = min(Self.chunk, p.count - o)
                _ = acol_mpi_sum_float(p.baseAddress! + o, Int32(c))
                o += c
            }
        }
    }

    /// Ends the process: MPI_Finalize and exit 0 on success; on failure MPI_Abort, which ends
    /// every rank of the job (the others could be waiting in a reduction for this one). A rank
    /// other than 0 waits a second first, so that rank 0's message (a usage error is the same on
    /// every rank and only rank 0 prints it) comes out before the abort ends the job.
    public func finish(_ code: Int32) -> Never {
        if code == 0 || size == 1 {
            _ = acol_mpi_finalize()
            exit(code)
        }
        if rank != 0 { usleep(1_000_000) }
        acol_mpi_abort(code)
        exit(code)
    }
}
