import Engine
import JobFile
import Platform

/// The shell around `Tracking`: hands it the ptrace stops and exits the
/// reaper sees, carries out what it asks (ptrace calls, signals), samples
/// /proc when it is idle, and tells the engine the outcome.
///
/// While a job is being tracked the exits of its processes are the
/// tracker's, not the engine's: the main process of a forking daemon exits
/// as a matter of course. The engine hears either `mainProcessReady(pid:
/// root, finalPid:)` or, when every process ended first, the main process's
/// exit with the last status.
///
/// The lifecycle scripts of those jobs are followed too (`beginFollowing`):
/// there the engine hears the script's exit as usual; the tracker only
/// knows its processes while it runs and names those it leaves behind.
///
/// Processes a job forks are this daemon's children only when it is PID 1
/// or a child subreaper (user mode): only then is the exit of a detached
/// daemon reported here at all. The tracker itself does not depend on it
/// (the tracer hears of every exit), but supervision after detaching does.
extension Daemon {
    /// Starts tracking a main process spawned with `traceMe` (stopped at its exec).
    func beginTracking(root: Int32, expect: ExpectMode, label: String, instanceKey: String) {
        let mode: Tracking.Expect = expect == .daemon ? .daemon : .fork
        trackers[root] = Tracking(root: root, expect: mode, label: label, instanceKey: instanceKey, now: monotonicNanoseconds())
        armEarliestTimer()
    }

    /// Starts following a lifecycle script spawned with `traceMe` (stopped at its exec).
    func beginFollowing(script root: Int32, kind: ProcessKind, label: String, instanceKey: String) {
        trackers[root] = Tracking(script: root, kind: kind.rawValue, label: label, instanceKey: instanceKey, now: monotonicNanoseconds())
    }

    /// The live processes of an instance's followed scripts, other than the
    /// scripts' own processes (for `initctl status`).
    func scriptProcesses(instanceKey: String) -> [Int32] {
        trackers.values.filter { $0.followsScript && $0.phase == .tracing && $0.instanceKey == instanceKey }
            .flatMap { t in t.liveProcesses.filter { $0 != t.root } }.sorted()
    }

    /// The tracker following `pid`, by its root.
    func tracker(of pid: Int32) -> Int32? {
        if trackers[pid]?.owns(pid) == true { return pid }
        return trackers.first { $0.value.owns(pid) }?.key
    }

    /// A stop or exit the reaper saw. Returns true when tracking took it
    /// (and the engine must not see it).
    func trackingTakes(_ child: ReapedChild) -> Bool {
        guard !trackers.isEmpty else { return false }
        let now = monotonicNanoseconds()
        guard let root = tracker(of: child.pid) else {
            if case .stopped(let sig, let event) = child.status, expectStop[child.pid] == nil {
                // A new traced child can stop before its parent's fork
                // event arrives: keep it until that event names it.
                if sig == SignalNumber.stop && event == 0 {
                    strayStops[child.pid] = now
                } else {
                    try? Ptrace.detach(child.pid, signal: sig == SignalNumber.trap ? 0 : sig)
                }
                return true
            }
            return false
        }
        let tracing = trackers[root]!.phase == .tracing
        switch child.status {
        case .stopped(let sig, let event):
            guard let stop = Ptrace.decode(pid: child.pid, signal: sig, event: event) else { return true }
            carryOut(trackers[root]!.stopped(child.pid, stop, now: now), root: root)
            if case .forked(let new, _) = stop, strayStops.removeValue(forKey: new) != nil, trackers[root] != nil {
                carryOut(trackers[root]!.stopped(new, .signal(SignalNumber.stop), now: now), root: root)
            }
            return true
        case .exited, .signaled:
            let script = trackers[root]!.followsScript
            carryOut(trackers[root]!.exited(child.pid, rawStatus: child.status.rawStatus, now: now), root: root)
            // A script's own exit is the engine's; the exits of what it
            // started are not. A daemon's are the tracker's while tracing.
            return script ? child.pid != root : tracing
        case .continued:
            return true
        }
    }

    /// Carries out a tracker's actions, then tells the engine its outcome.
    func carryOut(_ actions: [Tracking.Action], root: Int32) {
        var inputs: [Input] = []
        for action in actions {
            switch action {
            case .setOptions(let pid, let exitStops):
                do {
                    try Ptrace.setOptions(pid, exitStops: exitStops)
                } catch {
                    log.write(.warn, "cannot follow the forks of process \(pid): ptrace: \(error)")
                }
            case .resume(let pid, let signal, let syscalls):
                try? Ptrace.resume(pid, signal: signal, syscalls: syscalls)
            case .detach(let pid, let signal):
                try? Ptrace.detach(pid, signal: signal)
            case .interrupt(let pid):
                Ptrace.interrupt(pid)
            case .continueProcess(let pid):
                _ = Process.signalOne(pid, SignalNumber.continue)
            case .log(let priority, let line):
                log.write(priority, line)
            case .ready(let finalPid):
                inputs.append(.mainProcessReady(pid: root, finalPid: finalPid))
            case .ended(let raw):
                inputs.append(.processExited(pid: root, status: ProcessExit(rawStatus: raw)))
            }
        }
        if trackers[root]?.phase == .done { trackers[root] = nil }
        armEarliestTimer()
        for input in inputs { feed(input) }
    }

    /// The engine signals a main process still being tracked, or a script
    /// being followed: every live process of it gets the signal (the
    /// daemon-to-be among them, and any that left the process group).
    func signalTracked(_ root: Int32, _ signal: Int32) -> Bool {
        guard let t = trackers[root], t.phase == .tracing else { return false }
        for pid in t.liveProcesses { _ = Process.signalOne(pid, signal) }
        return true
    }

    /// Trackers that have been idle long enough sample /proc and decide.
    func tickTrackers() {
        let now = monotonicNanoseconds()
        for (root, t) in trackers {
            guard let tick = t.nextTick, tick <= now else { continue }
            var blocked: [Int32: SyscallWait] = [:]
            for pid in t.liveProcesses { blocked[pid] = Ptrace.blockedWait(pid) }
            carryOut(trackers[root]!.idle(blocked: blocked, now: now), root: root)
        }
        // `expect stop` processes that never stop themselves: see StopWait.
        for (pid, wait) in expectStop {
            guard let tick = wait.nextTick, tick <= now else { continue }
            if let warning = expectStop[pid]!.tick(pid: pid, blocked: Ptrace.blockedWait(pid), now: now) {
                log.write(.warn, warning)
                feed(.mainProcessReady(pid: pid, finalPid: pid))
            }
        }
        // Stray stops nobody claimed within a second are let go.
        for (pid, at) in strayStops where now - at > Tracking.idleNanoseconds {
            strayStops[pid] = nil
            try? Ptrace.detach(pid)
        }
    }

    /// The earliest tracker tick, for the daemon's one timer.
    var earliestTrackerTick: Int64? {
        (trackers.values.compactMap(\.nextTick) + expectStop.values.compactMap(\.nextTick)).min()
    }
}

extension ChildStatus {
    /// The wait status this was decoded from (for exits).
    var rawStatus: Int32 {
        switch self {
        case .exited(let s): return (s & 0xff) << 8
        case .signaled(let sig, let core): return sig | (core ? 0x80 : 0)
        case .stopped(let sig, let event): return (event << 16) | (sig << 8) | 0x7f
        case .continued: return 0xffff
        }
    }
}

extension ProcessExit {
    /// From a raw wait status of an exit.
    init(rawStatus raw: Int32) {
        switch ChildStatus(rawStatus: raw) {
        case .signaled(let sig, _): self = .killed(JobFile.Signal(number: sig))
        case .exited(let s): self = .exited(s)
        default: self = .exited(0)
        }
    }
}
