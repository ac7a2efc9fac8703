import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A set of signal numbers (a sigset_t).
public struct SignalSet: Sendable {
    var raw = sigset_t()

    public init(_ signals: [Int32] = []) {
        sigemptyset(&raw)
        for signal in signals { sigaddset(&raw, signal) }
    }

    public func contains(_ signal: Int32) -> Bool {
        withUnsafePointer(to: raw) { sigismember($0, signal) == 1 }
    }
}

/// The calling thread's signal mask. The daemon is single-threaded, so its
/// mask is the process's; spawned children start with an empty mask.
public enum SignalMask {
    /// Blocks `signals`; returns the mask before.
    @discardableResult
    public static func block(_ signals: SignalSet) throws(Errno) -> SignalSet {
        try change(SIG_BLOCK, signals)
    }

    /// Unblocks `signals`; returns the mask before.
    @discardableResult
    public static func unblock(_ signals: SignalSet) throws(Errno) -> SignalSet {
        try change(SIG_UNBLOCK, signals)
    }

    /// Replaces the mask; returns the mask before.
    @discardableResult
    public static func set(_ signals: SignalSet) throws(Errno) -> SignalSet {
        try change(SIG_SETMASK, signals)
    }

    private static func change(_ how: Int32, _ signals: SignalSet) throws(Errno) -> SignalSet {
        var old = SignalSet()
        var new = signals.raw
        let rc = pthread_sigmask(how, &new, &old.raw)
        if rc != 0 { throw Errno(rawValue: rc) }
        return old
    }
}

/// One signal read from a `SignalDescriptor` (the useful part of signalfd_siginfo).
public struct SignalInfo: Hashable, Sendable {
    public var signal: Int32
    /// si_code: why it was sent (CLD_EXITED, SI_USER...).
    public var code: Int32
    /// The sender, or for SIGCHLD the child.
    public var pid: pid_t
    public var uid: uid_t
    /// For SIGCHLD: the exit status or signal.
    public var status: Int32
}

/// Signals as readable events: the signals are blocked and delivered through
/// a signalfd(2), which the daemon's epoll loop watches. Non-blocking and
/// close-on-exec. Several SIGCHLDs may arrive as one; reap in a loop.
public struct SignalDescriptor: Sendable {
    public let fileDescriptor: FileDescriptor

    /// Blocks `signals` in the calling thread and opens a descriptor that reads them.
    public static func open(_ signals: SignalSet) throws(Errno) -> SignalDescriptor {
        try SignalMask.block(signals)
        var mask = signals.raw
        let fd = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        if fd < 0 { throw Errno(rawValue: Glibc.errno) }
        return SignalDescriptor(fileDescriptor: FileDescriptor(rawValue: fd))
    }

    /// The next pending signal, or nil when there is none.
    public func read() throws(Errno) -> SignalInfo? {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let n = Glibc.read(fileDescriptor.rawValue, &info, size)
            if n == size {
                return SignalInfo(
                    signal: Int32(bitPattern: info.ssi_signo), code: info.ssi_code,
                    pid: pid_t(bitPattern: info.ssi_pid), uid: info.ssi_uid, status: info.ssi_status)
            }
            let error = Errno(rawValue: Glibc.errno)
            if n < 0 && error == .interrupted { continue }
            if n < 0 && (error == .resourceTemporarilyUnavailable || error == .wouldBlock) { return nil }
            throw n < 0 ? error : .ioError
        }
    }

    /// Closes the descriptor. The signals stay blocked.
    public func close() {
        _ = Glibc.close(fileDescriptor.rawValue)
    }
}
