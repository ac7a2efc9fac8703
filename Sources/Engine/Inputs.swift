import JobFile

/// A point in time, as the shell's monotonic clock saw it when an input
/// arrived. The engine never reads a clock: every input carries the time, so
/// that a test can replay any history exactly.
public struct EngineTime: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// Whole seconds, as Upstart's respawn accounting counts them.
    public var seconds: Int64 { nanoseconds / 1_000_000_000 }

    public static func seconds(_ s: Int64) -> EngineTime { EngineTime(nanoseconds: s * 1_000_000_000) }
    public static func milliseconds(_ ms: Int64) -> EngineTime { EngineTime(nanoseconds: ms * 1_000_000) }

    /// This time plus a number of seconds.
    public func adding(seconds s: Int) -> EngineTime {
        EngineTime(nanoseconds: nanoseconds + Int64(s) * 1_000_000_000)
    }

    public static func < (a: EngineTime, b: EngineTime) -> Bool { a.nanoseconds < b.nanoseconds }
    public var description: String { "\(nanoseconds)ns" }
}

/// Names a control request (or an `emit` waiter) so that its reply can find it.
public typealias RequestID = UInt64
/// Names one spawn the engine asked for; the shell answers with it.
public typealias SpawnID = UInt64
/// Names one timer the engine armed.
public typealias TimerID = UInt64
/// Names one event for its whole life in the queue.
public typealias EventID = UInt64

/// How a process ended: its exit status, or the signal that killed it.
public enum ProcessExit: Hashable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case killed(Signal)

    /// True for anything but `exited(0)`: Upstart's "non-zero status".
    public var isFailure: Bool {
        if case .exited(0) = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .exited(let s): return "status \(s)"
        case .killed(let s): return "signal \(s.fullName)"
        }
    }
}

/// What a control request asks for (initctl's verbs that touch jobs).
public enum ControlAction: String, Hashable, Sendable, Codable, CaseIterable {
    case start, stop, restart, reload, status, usage
}

/// One control request: `initctl start JOB KEY=VALUE...` and its kin.
public struct ControlRequest: Hashable, Sendable {
    public var id: RequestID
    public var action: ControlAction
    public var job: String
    /// `KEY=VALUE` arguments: the new instance's environment for `start`,
    /// and in every case what selects the instance (through `instance`).
    public var environment: [String]
    /// False for `--no-wait`: reply once the goal has changed.
    public var wait: Bool

    public init(id: RequestID, action: ControlAction, job: String, environment: [String] = [], wait: Bool = true) {
        self.id = id
        self.action = action
        self.job = job
        self.environment = environment
        self.wait = wait
    }
}

/// Everything that can happen to the engine. Each comes with the time.
public enum Input: Hashable, Sendable {
    /// A job file appeared. If a class of that name exists, this is a change.
    case jobClassAdded(JobClass)
    /// A job file changed: running instances keep the old definition until
    /// they stop; the new one takes over when none is left.
    case jobClassChanged(JobClass)
    /// A job file was deleted: running instances keep running on it until
    /// they stop; no new instance starts.
    case jobClassRemoved(name: String)
    /// An event to queue (`initctl emit`, a bridge, or the daemon's
    /// `startup`). `waiter` is told when the event has finished.
    case emit(name: String, environment: [String], waiter: RequestID?)
    /// An event that carries descriptors (the socket bridge's `socket`,
    /// with its listening socket): as `emit`, and the jobs it starts get
    /// them (docs/socket-bridge.md). The engine owns the handles from now
    /// on and says `closeDescriptors` when they may be closed.
    case emitCarrying(name: String, environment: [String], waiter: RequestID?, descriptors: [Int32])
    /// The shell started the process asked for by `spawn`.
    case processSpawned(spawn: SpawnID, pid: Int32)
    /// The shell could not start it (fork, exec or a setup step failed).
    case spawnFailed(spawn: SpawnID, reason: String)
    /// For `expect fork|daemon|stop|notify`: the main process is ready, and
    /// `finalPid` is the pid to supervise from now on. With `notify` it may
    /// come again later (`MAINPID=` after `READY=1`) to move supervision.
    case mainProcessReady(pid: Int32, finalPid: Int32)
    /// A child the engine knows ended.
    case processExited(pid: Int32, status: ProcessExit)
    /// The process whose `processExited` comes next was killed by the OOM
    /// killer inside its job's memory limit (the shell saw the job's
    /// cgroup count the kill): its failure says so (`KILLED_BY=oom`).
    case processOutOfMemory(pid: Int32)
    /// A timer armed with `armTimer` fired.
    case timerFired(TimerID)
    /// A control request.
    case control(ControlRequest)
}
