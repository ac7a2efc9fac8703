import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a child changed, decoded from a waitpid(2) status.
public enum ChildStatus: Hashable, Sendable {
    /// It exited with this status (0...255).
    case exited(Int32)
    /// A signal ended it; `coreDumped` when it left a core file.
    case signaled(Int32, coreDumped: Bool)
    /// It stopped: by a signal, or (traced) at a ptrace event, `ptraceEvent`
    /// being PTRACE_EVENT_FORK, _EXEC... or 0 for a plain signal stop.
    case stopped(Int32, ptraceEvent: Int32)
    /// SIGCONT resumed it.
    case continued

    /// Decodes a raw status (the W* macros, which Swift cannot import).
    public init(rawStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            self = .exited((status >> 8) & 0xff)
        } else if status == 0xffff {
            self = .continued
        } else if status & 0xff == 0x7f {
            self = .stopped((status >> 8) & 0xff, ptraceEvent: (status >> 16) & 0xff)
        } else {
            self = .signaled(low, coreDumped: status & 0x80 != 0)
        }
    }

    /// Whether the child is gone (exited or killed), not merely stopped or continued.
    public var isTerminal: Bool {
        switch self {
        case .exited, .signaled: return true
        case .stopped, .continued: return false
        }
    }
}

/// A child whose state changed.
public struct ReapedChild: Hashable, Sendable {
    public var pid: pid_t
    public var status: ChildStatus

    public init(pid: pid_t, status: ChildStatus) {
        self.pid = pid
        self.status = status
    }
}

/// Reaping children with waitpid(2), without blocking.
public enum Reaper {
    /// Collects one child that has changed state, or nil when none has (or
    /// there are no children at all). `pid` -1 means any child; the daemon
    /// calls this in a loop on SIGCHLD until it returns nil. With
    /// `reportStopped`, stops (traced processes, SIGSTOP) and continues are
    /// reported too.
    public static func reap(_ pid: pid_t = -1, reportStopped: Bool = false) throws(Errno) -> ReapedChild? {
        var options = WNOHANG | __WALL
        if reportStopped { options |= WUNTRACED | WCONTINUED }
        var status: Int32 = 0
        while true {
            let got = waitpid(pid, &status, options)
            if got > 0 { return ReapedChild(pid: got, status: ChildStatus(rawStatus: status)) }
            if got == 0 { return nil }
            let error = Errno(rawValue: Glibc.errno)
            if error == .interrupted { continue }
            if error == .noChildProcess { return nil }
            throw error
        }
    }

    /// Waits until `pid` has exited or been killed, and reaps it. For tests
    /// and shutdown; the daemon's loop uses `reap` instead.
    public static func waitForExit(_ pid: pid_t) throws(Errno) -> ChildStatus {
        var status: Int32 = 0
        while true {
            let got = waitpid(pid, &status, __WALL)
            if got == pid { return ChildStatus(rawStatus: status) }
            let error = Errno(rawValue: Glibc.errno)
            if got < 0 && error == .interrupted { continue }
            throw error
        }
    }
}
