import ACOL
import ACOLCLI

// OpenBLAS picks its kernels when it loads; on CPUs it does not know, start again with good ones.
BLASInfo.relaunchWithTunedKernelsIfNeeded()
ACOLCommand.runMain()
