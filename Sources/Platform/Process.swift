#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The current process.
public enum Process {
    /// This process's id.
    public static var currentID: Int32 { getpid() }

    /// The parent's id (a job's parent is the daemon that spawned it).
    public static var parentID: Int32 { getppid() }

    /// Ends the process at once with `status`.
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}

import CSpawn
import SystemPackage

extension Process {
    /// Makes this process the reaper of its descendants' orphans, so a
    /// double-forked daemon stays our child (user mode).
    public static func becomeChildSubreaper() throws(PlatformError) {
        guard cevents_set_child_subreaper() == 0 else {
            throw PlatformError(operation: "become child subreaper:", path: "prctl", errno: Errno(rawValue: Glibc.errno))
        }
    }

    /// Sends `signal` to the process group `pid` leads, or to `pid` alone
    /// when it leads none. Returns false when no such process exists.
    @discardableResult
    public static func signal(_ pid: Int32, _ signal: Int32) -> Bool {
        if kill(-pid, signal) == 0 { return true }
        return kill(pid, signal) == 0
    }

    /// Sends `signal` to the process `pid` alone. Returns false when it is gone.
    @discardableResult
    public static func signalOne(_ pid: Int32, _ signal: Int32) -> Bool {
        kill(pid, signal) == 0
    }
}

/// What PID 1 does once every job is stopped, when asked to
/// (`initctl reboot`, `poweroff`, `halt`).
public enum PowerAction: String, CaseIterable, Sendable {
    case reboot, poweroff, halt
}

extension Process {
    /// Syncs the file systems and reboots, powers off or halts: the
    /// machine, or, for PID 1 of a pid namespace, the namespace (the
    /// kernel kills its init with SIGHUP for a reboot, SIGINT otherwise).
    /// Returns only when the kernel refused, with why.
    public static func powerDown(_ action: PowerAction) -> Errno {
        let how: Int32 = action == .reboot ? 0 : (action == .poweroff ? 1 : 2)
        _ = cplatform_reboot(how)
        return Errno(rawValue: Glibc.errno)
    }
}
