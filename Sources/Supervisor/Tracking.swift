import Platform

/// Following the processes of an `expect fork` or `expect daemon` job until
/// its daemon is known: a small state machine over ptrace stops, with no
/// system call of its own (the shell, `TrackingShell.swift`, carries out
/// its actions), so every path through it is unit-tested without processes.
///
/// Upstart (init/job_process.c, job_process_trace_*) counts forks: the
/// main process's first (`expect fork`) or second (`expect daemon`) child
/// is the daemon, whatever it then does. Daemons that fork one time more
/// or one time less than declared fool it. This tracker follows *every*
/// process of the job (forks, clones, execs and exits, through
/// PTRACE_O_TRACEFORK|VFORK|CLONE|EXEC|EXIT) and decides by what the
/// processes do:
///
/// - The candidates ("tops") are the live processes all of whose traced
///   ancestors have exited: a daemon is what is left when its parents are
///   gone. Workers the daemon starts are not candidates while it lives.
/// - Every forked process (depth 1 or more) is followed through its system
///   calls from its first stop, so that when its parents go the tracker
///   already knows whether it waits. A top is the daemon when, as the
///   candidate, it is blocked in (or enters) a call that waits for work
///   (poll, select, epoll_wait, pause, accept, recvmsg, sigsuspend...)
///   having forked at least as often as `expect` says; or, having forked
///   fewer times, when it waits so with no child left (a daemon that forks
///   once though `expect daemon` says twice). The candidate is the only
///   top; or, when every top is a child of one exited process, the child
///   it forked last (a daemon that forks its helpers before its master).
///   A sleep or a wait for a child counts only for a top without
///   children at the declared depth: a parent that waits for its child to
///   be ready, or forks again, is not the daemon.
/// - The main process itself (depth 0) is never followed through its
///   system calls: that would slow every start. If nothing has happened
///   for `idleNanoseconds`, the shell samples which tops are blocked in a
///   system call (`idle(blocked:now:)`): a lone top that is blocked, and
///   has no children or has forked as declared, is the daemon (this is how
///   a daemon that never forks, though `expect fork` says so, is found
///   after one second, with a warning).
/// - After `giveUpNanoseconds` the best top is taken whatever it does:
///   one that exec'd after a fork first, then the deepest, then the oldest.
///   The job never hangs in `spawned`.
/// - If every process of the job has exited, the job's main process has
///   ended (`ended`, with the status of the last one to go).
///
/// Once decided, every traced task is detached at once (`detaching`):
/// those stopped now directly, those running after a SIGSTOP of ours that
/// is swallowed at the detach (a SIGCONT follows when another stop came
/// first, so our SIGSTOP cannot stop the process later). Tracing costs
/// nothing after that.
///
/// The same machine follows the lifecycle scripts of those jobs
/// (`Purpose.followScript`): every fork, clone, exec and exit of the
/// script's process and of everything it starts, without system-call
/// stops or exit stops (an exit is known when the task is reaped) and
/// without deciding anything. While the script runs its
/// processes are known (`liveProcesses`: `initctl status` lists them, and
/// a signal to the script reaches all of them, even one that left its
/// process group). When the script's own process is reaped the tracker
/// names the processes it left running, in the log, and detaches them all:
/// the instance's cgroup still holds them.
struct Tracking {
    /// What the tracker is for.
    enum Purpose: Equatable {
        /// Find the daemon of an `expect fork` or `expect daemon` main process.
        case findDaemon(Expect)
        /// Follow a lifecycle script (named as in the job file: `pre-start`...) until it ends.
        case followScript(String)
    }

    /// `expect fork` (the daemon is the first fork's child) or `expect
    /// daemon` (the second's).
    enum Expect: Equatable {
        case fork, daemon
        var forks: Int { self == .fork ? 1 : 2 }
        var name: String { self == .fork ? "fork" : "daemon" }
    }

    /// One traced task (a process, or a thread of one).
    struct Task: Equatable {
        /// The process (thread group) this one was forked from; nil for the main process.
        var parent: Int32?
        /// Forks between the main process and this one (0 for the main process).
        var depth: Int
        /// A thread of `process` rather than a process of its own.
        var thread: Bool
        /// The process it belongs to (itself unless a thread).
        var process: Int32
        /// Not yet exiting.
        var alive = true
        /// Reaped, or known to be gone.
        var gone = false
        /// Its first stop (the SIGSTOP a traced child starts with) has been seen.
        var started: Bool
        var execs = 0
        /// Resumed with syscall stops.
        var syscalls = false
        /// A SIGSTOP of ours is on its way to it.
        var interrupted = false
        /// How the system call it last entered waits (`.none` after it returns).
        var waiting: SyscallWait = .none
        var detached = false
        /// When it was forked, as a count of the job's forks (0: the main process).
        var order = 0
    }

    enum Phase: Equatable { case tracing, detaching, done }

    /// What the tracker asks the shell to do, in order.
    enum Action: Equatable {
        /// PTRACE_SETOPTIONS (at the root's exec stop); exit stops are asked
        /// for when finding a daemon, not when following a script.
        case setOptions(Int32, exitStops: Bool)
        /// Let a stopped task run on (with syscall stops when `syscalls`).
        case resume(Int32, signal: Int32, syscalls: Bool)
        /// PTRACE_DETACH a stopped task.
        case detach(Int32, signal: Int32)
        /// Send a SIGSTOP to a running task, to switch or detach it.
        case interrupt(Int32)
        /// SIGCONT after a detach: drops a SIGSTOP of ours still pending.
        case continueProcess(Int32)
        case log(DaemonLog.Priority, String)
        /// The daemon is known: `mainProcessReady(pid: root, finalPid:)`.
        case ready(finalPid: Int32)
        /// Every process ended before a daemon was found: the main process
        /// ended with this wait status.
        case ended(rawStatus: Int32)
    }

    static let idleNanoseconds: Int64 = 1_000_000_000
    static let giveUpNanoseconds: Int64 = 10_000_000_000

    let root: Int32
    let purpose: Purpose
    /// `job (instance)`, for the log.
    let label: String
    /// The instance's key (`Containment.key`), so the shell can list a
    /// script's processes under its instance.
    let instanceKey: String
    private(set) var tasks: [Int32: Task]
    private(set) var phase: Phase = .tracing
    private(set) var finalPid: Int32?
    /// The exec stop after PTRACE_TRACEME is still to come.
    private var awaitingExecStop = true
    private var lastStatus: Int32 = 0
    /// Processes forked so far, to order siblings.
    private var forks = 0
    private let startedAt: Int64
    private(set) var lastActivity: Int64
    private var out: [Action] = []
    /// The task whose stop is being answered, if any.
    private var current: Int32?

    /// Tracks the main process `root` of an `expect fork|daemon` job.
    init(root: Int32, expect: Expect, label: String, instanceKey: String = "", now: Int64) {
        self.init(root: root, purpose: .findDaemon(expect), label: label, instanceKey: instanceKey, now: now)
    }

    /// Follows the lifecycle script `root` (`kind` as the job file names it).
    init(script root: Int32, kind: String, label: String, instanceKey: String = "", now: Int64) {
        self.init(root: root, purpose: .followScript(kind), label: label, instanceKey: instanceKey, now: now)
    }

    private init(root: Int32, purpose: Purpose, label: String, instanceKey: String, now: Int64) {
        self.root = root
        self.purpose = purpose
        self.label = label
        self.instanceKey = instanceKey
        self.tasks = [root: Task(parent: nil, depth: 0, thread: false, process: root, started: true)]
        self.startedAt = now
        self.lastActivity = now
    }

    /// The `expect` mode whose daemon is sought; nil when following a script.
    var expect: Expect? {
        if case .findDaemon(let e) = purpose { return e }
        return nil
    }

    /// Following a lifecycle script rather than finding a daemon.
    var followsScript: Bool { expect == nil }

    /// When the shell should sample and call `idle`, while finding a daemon.
    var nextTick: Int64? { phase == .tracing && !followsScript ? lastActivity + Tracking.idleNanoseconds : nil }

    /// Whether `pid` is one of this job's tasks that is still of interest.
    func owns(_ pid: Int32) -> Bool {
        guard let t = tasks[pid] else { return false }
        return !t.gone && !(t.detached && phase != .tracing)
    }

    /// Live processes of the job (not threads), for signals and reports.
    var liveProcesses: [Int32] { tasks.filter { $0.value.alive && !$0.value.thread }.map(\.key).sorted() }

    // MARK: Inputs

    /// A task stopped. Every stop is answered by exactly one resume or
    /// detach of that task (unless it is gone).
    mutating func stopped(_ pid: Int32, _ stop: PtraceStop, now: Int64) -> [Action] {
        out = []
        guard tasks[pid] != nil else { return [] }
        lastActivity = now
        current = pid
        defer { current = nil }
        var signal: Int32 = 0
        var ours = false  // the stop is our own SIGSTOP (or the starting one)
        switch stop {
        case .signal(let s) where s == SignalNumber.trap && pid == root && awaitingExecStop:
            awaitingExecStop = false
            out.append(.setOptions(root, exitStops: !followsScript))
        case .signal(let s) where s == SignalNumber.stop && !tasks[pid]!.started:
            tasks[pid]!.started = true
            ours = true
        case .signal(let s) where s == SignalNumber.stop && tasks[pid]!.interrupted:
            tasks[pid]!.interrupted = false
            ours = true
        case .signal(let s):
            signal = s
        case .forked(let child, let clone):
            let parent = tasks[pid]!
            let process = parent.process
            let depth = clone ? parent.depth : (tasks[process]?.depth ?? parent.depth) + 1
            if tasks[child] == nil {
                forks += 1
                tasks[child] = Task(parent: process, depth: depth, thread: clone, process: clone ? process : child, started: false, order: forks)
            }
            if !clone {
                out.append(.log(.info, "\(label): process (\(pid)) forked process (\(child))"))
            }
        case .execed:
            tasks[pid]!.execs += 1
            tasks[pid]!.waiting = .none
            out.append(.log(.info, "\(label): process (\(pid)) executable changed"))
        case .exiting(let status):
            tasks[pid]!.alive = false
            lastStatus = status
        case .syscallEntry(let wait):
            tasks[pid]!.waiting = wait
        case .syscallExit:
            tasks[pid]!.waiting = .none
        }
        if phase == .tracing { evaluate() }
        answer(pid, signal: signal, ours: ours)
        finishIfDone()
        return out
    }

    /// A task was reaped (or found gone): `rawStatus` is its wait status.
    mutating func exited(_ pid: Int32, rawStatus: Int32, now: Int64) -> [Action] {
        out = []
        guard tasks[pid] != nil else { return [] }
        lastActivity = now
        if tasks[pid]!.alive { lastStatus = rawStatus }
        tasks[pid]!.alive = false
        tasks[pid]!.gone = true
        if phase == .tracing && followsScript && pid == root {
            scriptEnded()
        } else if followsScript {
            // Nothing about a script's ended process is needed again: a
            // script that runs a command a second for hours stays small.
            tasks[pid] = nil
        } else if phase == .tracing {
            evaluate()
        }
        finishIfDone()
        return out
    }

    /// Nothing happened for a while: `blocked` says, for each live process,
    /// how it is blocked now (`.none` when running). Decides as the type's
    /// documentation says, or not yet.
    mutating func idle(blocked: [Int32: SyscallWait], now: Int64) -> [Action] {
        out = []
        guard phase == .tracing, let expect else { return [] }
        let tops = self.tops()
        if let p = candidate(tops), let task = tasks[p], let b = blocked[p], b != .none,
           !hasLiveChildren(p) || task.depth >= expect.forks {
            if task.depth < expect.forks {
                out.append(.log(.warn, "\(label): 'expect \(expect.name)' expects \(expect.forks) fork\(expect.forks == 1 ? "" : "s") but process (\(p)) forked \(task.depth == 0 ? "never" : "\(task.depth) time\(task.depth == 1 ? "" : "s")") and has been idle for \(Tracking.idleNanoseconds / 1_000_000_000) s; taking it as the daemon"))
            }
            decide(p, stopped: nil)
        } else if now >= startedAt + Tracking.giveUpNanoseconds, let p = best(tops) {
            out.append(.log(.warn, "\(label): no daemon found after \(Tracking.giveUpNanoseconds / 1_000_000_000) s of tracking ('expect \(expect.name)'); taking process (\(p))"))
            decide(p, stopped: nil)
        } else {
            lastActivity = now
        }
        finishIfDone()
        return out
    }

    // MARK: Deciding

    /// The live processes whose traced ancestors have all exited.
    func tops() -> [Int32] {
        tasks.filter { pid, t in
            guard t.alive && !t.thread else { return false }
            var up = t.parent
            while let p = up, let ancestor = tasks[p] {
                if ancestor.alive { return false }
                up = ancestor.parent
            }
            return true
        }.map(\.key).sorted()
    }

    /// The one top that may be the daemon: the only top, or, when the tops
    /// are all children of one process that has exited, the one it forked
    /// last. A parent that starts its helpers first and its master last,
    /// then exits, leaves its master as its youngest child; the master of
    /// a daemon that starts its helpers itself is their parent, so they
    /// are not tops while it lives.
    func candidate(_ tops: [Int32]) -> Int32? {
        if tops.count == 1 { return tops.first }
        guard let first = tops.first, let parent = tasks[first]?.parent, let p = tasks[parent], !p.alive,
              tops.allSatisfy({ tasks[$0]?.parent == parent }) else { return nil }
        return tops.max { tasks[$0]!.order < tasks[$1]!.order }
    }

    func hasLiveChildren(_ pid: Int32) -> Bool {
        tasks.values.contains { $0.parent == pid && $0.alive && !$0.thread }
    }

    /// The best guess among several candidates: exec'd after a fork, then deepest, then oldest.
    func best(_ candidates: [Int32]) -> Int32? {
        candidates.min { a, b in
            let ta = tasks[a]!, tb = tasks[b]!
            let ea = ta.execs > 0 && ta.depth > 0, eb = tb.execs > 0 && tb.depth > 0
            if ea != eb { return ea }
            if ta.depth != tb.depth { return ta.depth > tb.depth }
            return a < b
        }
    }

    /// Looks at the tops after a change; decides when one is clearly the daemon.
    private mutating func evaluate() {
        guard let expect else { return }
        let live = tasks.values.contains { $0.alive && !$0.thread }
        if !live {
            phase = .detaching
            out.append(.log(.info, "\(label): every process of the job has exited before a daemon was found"))
            out.append(.ended(rawStatus: lastStatus))
            return
        }
        guard let p = candidate(self.tops()), let task = tasks[p], task.depth > 0 else { return }
        let children = hasLiveChildren(p)
        if task.depth >= expect.forks {
            if task.waiting == .eventLoop || (task.waiting == .sleep && !children) {
                if task.depth > expect.forks {
                    out.append(.log(.info, "\(label): process (\(p)) forked \(task.depth) times, more than 'expect \(expect.name)' says; following it"))
                }
                decide(p, stopped: current)
            }
        } else if task.waiting == .eventLoop && !children {
            out.append(.log(.warn, "\(label): 'expect \(expect.name)' expects \(expect.forks) forks but process (\(p)) forked \(task.depth) time\(task.depth == 1 ? "" : "s") and waits for work; taking it as the daemon"))
            decide(p, stopped: current)
        }
    }

    /// The daemon is `pid`: report it and start detaching everything.
    private mutating func decide(_ pid: Int32, stopped: Int32?) {
        finalPid = pid
        phase = .detaching
        out.append(.ready(finalPid: pid))
        let others = liveProcesses.filter { $0 != pid }
        if !others.isEmpty {
            out.append(.log(.info, "\(label): besides the daemon (\(pid)) the job runs \(others.map { "(\($0))" }.joined(separator: " "))"))
        }
        detachAll(except: stopped)
    }

    /// A followed script's own process is gone: name what it left running
    /// and start detaching everything.
    private mutating func scriptEnded() {
        guard case .followScript(let kind) = purpose else { return }
        phase = .detaching
        let left = liveProcesses
        if !left.isEmpty {
            out.append(.log(.message, "\(label) \(kind) process (\(root)) ended but left processes running: \(left.map { "(\($0))" }.joined(separator: " "))"))
        }
        detachAll(except: nil)
    }

    /// Asks every running task to stop, to be detached at that stop; `stopped`
    /// (the task whose stop is being answered, if any) is detached by `answer`.
    private mutating func detachAll(except stopped: Int32?) {
        for (p, t) in tasks where p != stopped && !t.gone && !t.detached && t.alive && t.started && !t.interrupted {
            tasks[p]!.interrupted = true
            out.append(.interrupt(p))
        }
    }

    // MARK: Answering stops

    /// Resumes or detaches the stopped task.
    private mutating func answer(_ pid: Int32, signal: Int32, ours: Bool) {
        guard let task = tasks[pid] else { return }
        if phase == .tracing {
            let wants = wantsSyscalls(pid)
            tasks[pid]!.syscalls = wants
            out.append(.resume(pid, signal: signal, syscalls: wants))
            return
        }
        tasks[pid]!.detached = true
        out.append(.detach(pid, signal: signal))
        if task.interrupted && !ours {
            // Our SIGSTOP has not arrived yet: SIGCONT discards it.
            tasks[pid]!.interrupted = false
            out.append(.continueProcess(pid))
        }
    }

    /// Forked processes are followed through their system calls; the main
    /// process, threads and every process of a script are not.
    private func wantsSyscalls(_ pid: Int32) -> Bool {
        guard !followsScript, let t = tasks[pid], t.alive, !t.thread else { return false }
        return t.depth > 0
    }

    /// Detaching is over when no task still needs an answer.
    private mutating func finishIfDone() {
        guard phase == .detaching else { return }
        let pending = tasks.values.contains { !$0.gone && !$0.detached && $0.alive }
        if !pending { phase = .done }
    }
}
