import ACOL
import ACOLCLI
import ACOLMPI
import Foundation

// mpirun -np N acol-mpi train DATA.h5 -o MODEL.h5 [the options of acol train]
// OpenBLAS picks its kernels when it loads; a re-exec for better ones must come before MPI_Init.
BLASInfo.relaunchWithTunedKernelsIfNeeded()
let world: MPIWorld
do {
    world = try MPIWorld()
} catch {
    FileHandle.standardError.write(("acol-mpi: error: " + error.localizedDescription + "\n").data(using: .utf8)!)
    exit(1)
}
// One rank is `acol train` exactly (no reduction at all); N ranks split every batch.
let job = world.size > 1 ? try? DataParallel(reduction: world, rank: world.rank, size: world.size) : nil
DistributedCommand.runMain(dataParallel: job, defaultThreads: world.defaultThreads, exit: { world.finish($0) })
