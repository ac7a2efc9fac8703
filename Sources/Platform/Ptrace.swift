import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a traced process stopped for, decoded from its wait status and,
/// where the kernel keeps more, from ptrace itself.
public enum PtraceStop: Hashable, Sendable {
    /// It forked, vforked or cloned; `child` is the new task (already
    /// traced, and starting with a SIGSTOP of its own).
    case forked(child: Int32, clone: Bool)
    /// It called exec; it now runs a new program.
    case execed
    /// It is about to exit with this raw wait status (PTRACE_EVENT_EXIT):
    /// still there, but past saving.
    case exiting(rawStatus: Int32)
    /// It entered a system call (with the syscall tracing of
    /// `Ptrace.resume`) that waits as `wait` says.
    case syscallEntry(SyscallWait)
    /// It is leaving a system call.
    case syscallExit
    /// A signal is about to be delivered to it (SIGTRAP for the stop after
    /// the exec that followed PTRACE_TRACEME).
    case signal(Int32)
}

/// How a system call waits; see `cptrace_syscall_wait_kind`.
public enum SyscallWait: Hashable, Sendable {
    /// It does not wait (or not for long).
    case none
    /// An event loop, a pause or an accept: ready and waiting for work.
    case eventLoop
    /// A sleep or a wait for a child: waiting, maybe for its own start-up.
    case sleep

    public init(syscall number: Int) {
        switch cptrace_syscall_wait_kind(number) {
        case 1: self = .eventLoop
        case 2: self = .sleep
        default: self = .none
        }
    }
}

/// The ptrace(2) requests the daemon uses to follow `expect fork` and
/// `expect daemon` jobs, as thin typed wrappers (`Sources/CSpawn/cptrace.c`).
/// Every call acts on a tracee that is in a ptrace stop, except `interrupt`.
public enum Ptrace {
    /// Decodes a stop reported by waitpid (`ChildStatus.stopped`). Returns
    /// nil when the task vanished before its details could be read.
    public static func decode(pid: Int32, signal: Int32, event: Int32) -> PtraceStop? {
        if signal == SIGTRAP | 0x80 {
            var nr = 0
            switch cptrace_syscall_stop(pid, &nr) {
            case 1: return .syscallEntry(SyscallWait(syscall: nr))
            case 2: return .syscallExit
            case 0: return .syscallExit
            default: return nil
            }
        }
        guard signal == SIGTRAP, event != 0 else { return .signal(signal) }
        var message: UInt = 0
        switch event {
        case cptrace_event_fork(), cptrace_event_vfork(), cptrace_event_clone():
            guard cptrace_event_message(pid, &message) == 0 else { return nil }
            let child = Int32(truncatingIfNeeded: message)
            let clone = event == cptrace_event_clone() && cptrace_thread_group(child) != child
            return .forked(child: child, clone: clone)
        case cptrace_event_exec():
            return .execed
        case cptrace_event_exit():
            guard cptrace_event_message(pid, &message) == 0 else { return nil }
            return .exiting(rawStatus: Int32(truncatingIfNeeded: message))
        default:
            return .signal(signal)
        }
    }

    /// Asks to be told of every fork, clone and exec of the tracee (and,
    /// through inheritance, of every descendant), and marks syscall stops
    /// apart from real SIGTRAPs. With `exitStops`, each task also stops as
    /// it exits (PTRACE_O_TRACEEXIT); without, an exit is known when the
    /// task is reaped (a tracer hears of every tracee's end through wait),
    /// one stop fewer per process.
    public static func setOptions(_ pid: Int32, exitStops: Bool = true) throws(Errno) {
        guard cptrace_set_options(pid, exitStops ? 1 : 0) == 0 else { throw Errno(rawValue: Glibc.errno) }
    }

    /// Lets a stopped tracee run on, delivering `signal` (0 for none). With
    /// `syscalls`, it stops again at its next system call entry or exit.
    public static func resume(_ pid: Int32, signal: Int32 = 0, syscalls: Bool = false) throws(Errno) {
        let r = syscalls ? cptrace_syscall(pid, signal) : cptrace_cont(pid, signal)
        guard r == 0 else { throw Errno(rawValue: Glibc.errno) }
    }

    /// Stops tracing a stopped tracee; it runs on as if never traced.
    public static func detach(_ pid: Int32, signal: Int32 = 0) throws(Errno) {
        guard cptrace_detach(pid, signal) == 0 else { throw Errno(rawValue: Glibc.errno) }
    }

    /// Makes a running tracee stop soon (a SIGSTOP to that one task), so it
    /// can be resumed in another mode or detached.
    public static func interrupt(_ pid: Int32) {
        let group = cptrace_thread_group(pid)
        _ = cptrace_signal_task(group > 0 ? group : pid, pid, SIGSTOP)
    }

    /// How the process waits right now, from /proc: `.none` when it is
    /// running or not in a system call; the kind of its system call when it
    /// is blocked in one. `sleeping` tells whether it is asleep at all.
    public static func blockedWait(_ pid: Int32) -> SyscallWait {
        let nr = cptrace_blocked_syscall(pid)
        guard nr >= 0 else { return .none }
        switch SyscallWait(syscall: nr) {
        case .none: return .sleep  // blocked in some other call (read on a pipe...): asleep, reason unknown
        case let other: return other
        }
    }
}
