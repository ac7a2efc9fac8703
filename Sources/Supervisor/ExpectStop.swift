import Platform

/// Waiting for an `expect stop` main process to raise SIGSTOP (init(5): the
/// job is ready when it does), with a bound: a daemon that never stops
/// itself (an sshd started without `-D` under Ubuntu's `ssh.conf`) must not
/// leave its job in `spawned` for ever, as Upstart does.
///
/// Pure: the shell samples how the process is blocked (`/proc/PID/syscall`)
/// when `nextTick` comes and calls `tick`. The rule, the same as for
/// `expect fork` (`Tracking`):
/// - after `Tracking.idleNanoseconds`, a process blocked in a call that
///   waits for work (poll, epoll_wait, accept, select, pause...) is up and
///   idle: it is taken as ready, with a warning naming the job;
/// - after `Tracking.giveUpNanoseconds` it is taken as ready whatever it
///   does, with a warning.
/// A SIGSTOP that comes later is still answered with SIGCONT, never with a
/// second readiness.
struct StopWait: Equatable {
    /// `job (instance)`, for the log.
    let label: String
    /// When the process was spawned (monotonic nanoseconds).
    let since: Int64
    /// When it was last sampled.
    private(set) var sampled: Int64
    /// Taken as ready without a SIGSTOP.
    private(set) var takenAsReady = false

    init(label: String, since: Int64) {
        self.label = label
        self.since = since
        self.sampled = since
    }

    /// When the shell should sample the process next; nil once decided.
    var nextTick: Int64? { takenAsReady ? nil : sampled + Tracking.idleNanoseconds }

    /// The process is blocked so (`.none`: running) at `now`. Returns the
    /// warning to log when it is now taken as ready, else nil.
    mutating func tick(pid: Int32, blocked: SyscallWait, now: Int64) -> String? {
        guard !takenAsReady, now >= sampled + Tracking.idleNanoseconds else { return nil }
        sampled = now
        let seconds = (now - since) / 1_000_000_000
        if blocked == .eventLoop {
            takenAsReady = true
            return "\(label): 'expect stop' but main process (\(pid)) has not stopped itself after \(seconds) s and waits for work; taking it as ready"
        }
        if now >= since + Tracking.giveUpNanoseconds {
            takenAsReady = true
            return "\(label): 'expect stop' but main process (\(pid)) has not stopped itself after \(seconds) s; taking it as ready"
        }
        return nil
    }
}
