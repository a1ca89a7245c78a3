import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Temporary output files to remove if the process is interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT) or
/// crashes (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT). The handler only calls unlink(2)
/// on names stored in advance as C strings (async-signal-safe), then re-raises the signal with its
/// default action, so the exit status is the usual one for that signal.
public enum TemporaryFiles {
    static let capacity = 256

    /// Registers a path; returns its slot (nil when all slots are taken: the file is then only
    /// removed by `OutputFile` itself).
    static func register(_ path: String) -> Int? {
        installHandlers()
        registryLock.lock(); defer { registryLock.unlock() }
        for i in 0..<capacity where registrySlots[i] == nil {
            registrySlots[i] = strdup(path)
            return i
        }
        return nil
    }

    static func unregister(_ slot: Int) {
        registryLock.lock(); defer { registryLock.unlock() }
        let p = registrySlots[slot]
        registrySlots[slot] = nil
        free(p)
    }

    /// Paths registered now (for tests).
    public static var registered: [String] {
        registryLock.lock(); defer { registryLock.unlock() }
        return (0..<capacity).compactMap { registrySlots[$0].map { String(cString: $0) } }
    }

    /// The signals whose default action ends the process and after which temporary files go.
    public static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT, SIGXFSZ]

    static func installHandlers() { _ = handlersInstalled }

    /// Unblocks SIGINT, SIGTERM and SIGHUP in the calling thread (a process can inherit them
    /// blocked from its parent, and would then never be interrupted). For executables' main.
    public static func unblockInterrupts() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

private let registryLock = NSLock()
private let registrySlots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
    let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: TemporaryFiles.capacity)
    p.initialize(repeating: nil, count: TemporaryFiles.capacity)
    return p
}()

private let previousActions: UnsafeMutablePointer<sigaction> = {
    let p = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
    p.initialize(repeating: sigaction(), count: 65)
    return p
}()

private let handlersInstalled: Void = {
    _ = registrySlots
    _ = previousActions
    for sig in TemporaryFiles.signals where sig < 65 {
        var old = sigaction()
        sigaction(sig, nil, &old)
        // Leave signals the process ignores (e.g. SIGHUP under nohup) ignored.
        if unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == 1 { continue }
        previousActions[Int(sig)] = old
        var action = sigaction()
        action.__sigaction_handler.sa_handler = removeTemporaryFilesAndReraise
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(sig, &action, nil)
    }
}()

private func removeTemporaryFilesAndReraise(_ sig: Int32) {
    for i in 0..<TemporaryFiles.capacity {
        if let p = registrySlots[i] { unlink(p) }
    }
    // Hand the signal to whoever had it before (the Swift runtime's backtracer, or the default
    // action): restore that action; it runs when this handler returns and the signal, blocked
    // while the handler runs, is delivered again. SIGQUIT gets its default action (end the
    // process): the runtime's backtracer prints a backtrace for it and returns, and the process
    // would go on without the files just removed.
    if sig == SIGQUIT {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_DFL
        sigemptyset(&action.sa_mask)
        sigaction(sig, &action, nil)
    } else {
        sigaction(sig, previousActions + Int(sig), nil)
    }
    raise(sig)
}
