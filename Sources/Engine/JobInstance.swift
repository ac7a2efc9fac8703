import JobFile

/// What an instance is heading for (Upstart's JobGoal).
public enum Goal: String, Hashable, Sendable, Codable, CaseIterable {
    case stop
    case start
    /// The main process died and will be started again once the post-start
    /// or pre-stop process that is running ends.
    case respawn
}

/// Where an instance is (Upstart's JobState), in lifecycle order.
public enum JobState: String, Hashable, Sendable, Codable, CaseIterable {
    case waiting
    case starting
    case preStart = "pre-start"
    case spawned
    case postStart = "post-start"
    case running
    case preStop = "pre-stop"
    case stopping
    case killed
    case postStop = "post-stop"
}

/// Names an instance: its job and its instance name (`""` for a job
/// without `instance`). Sorted by job, then instance, for stable order.
public struct InstanceKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var job: String
    public var instance: String

    public init(job: String, instance: String = "") {
        self.job = job
        self.instance = instance
    }

    public static func < (a: InstanceKey, b: InstanceKey) -> Bool {
        (a.job, a.instance) < (b.job, b.instance)
    }

    /// `job` or `job (instance)`, as Upstart names instances in messages.
    public var description: String {
        instance.isEmpty ? job : "\(job) (\(instance))"
    }
}

/// Something an instance holds until it settles (Upstart's Blocked): an
/// event that started or stopped it, or a control request waiting for it.
public enum Blocked: Hashable, Sendable, Codable {
    case event(EventID)
    case request(RequestID, ControlAction)
}

/// Which process failed, for `RESULT=failed PROCESS=...`.
public enum FailedProcess: Hashable, Sendable, Codable {
    case process(ProcessKind)
    /// The respawn limit was exceeded.
    case respawn
}

/// How the failed process ended: nil for a spawn that failed outright.
public struct Failure: Hashable, Sendable, Codable {
    public var process: FailedProcess
    /// Exit status, when it exited.
    public var exitStatus: Int32?
    /// Signal number, when a signal killed it.
    public var exitSignal: Int32?
    /// The OOM killer killed it inside its job's memory limit.
    public var outOfMemory: Bool?

    public init(process: FailedProcess, status: ProcessExit?) {
        self.process = process
        switch status {
        case .exited(let s)?: exitStatus = s
        case .killed(let sig)?: exitSignal = sig.number
        case nil: break
        }
    }
}

/// One instance of a job: Upstart's Job.
///
/// Guarantees kept by the transition functions:
/// - `goal` and `state` move only as Upstart's table allows (init(8)).
/// - `blocker` is set exactly while the instance waits in `starting` or
///   `stopping` for its own event to finish.
/// - `pids` holds only live processes the shell reported spawned; an entry
///   goes when its exit is reported. At most the main process and one of
///   post-start or pre-stop are live at once.
/// - `pendingSpawns` holds the spawns asked for but not yet answered.
public struct JobInstance: Hashable, Sendable, Codable {
    public var key: InstanceKey
    public var goal: Goal = .stop
    public var state: JobState = .waiting
    /// The environment the running instance has (from its start).
    public var environment: Environment = Environment()
    /// The environment the next start will take (nil: keep the current).
    var startEnvironment: Environment?
    /// What stopped it: `UPSTART_STOP_EVENTS` and the stop events' or the
    /// stop request's variables, for pre-stop and post-stop.
    var stopEnvironment: Environment?
    /// The remembered state of this instance's `stop on`.
    var stopOn: OperatorState?
    public var pids: [ProcessKind: Int32] = [:]
    var pendingSpawns: [ProcessKind: SpawnID] = [:]
    /// The starting/stopping event this instance waits for.
    var blocker: EventID?
    /// Events and requests released when the instance settles.
    var blocking: [Blocked] = []
    /// The kill timer, and the pid it will SIGKILL.
    var killTimer: TimerID?
    var killPid: Int32?
    public var failure: Failure?
    /// How far it is from `running`, as `while` conditions see it.
    public var level: WhileLevel = .down
    /// Respawn accounting: when the current window began, and how many
    /// respawns it has seen.
    var respawnWindowStart: Int64?
    var respawnCount: Int = 0
    /// Descriptors its main process gets (from the events that started
    /// it), kept until the instance is gone so a respawned main process
    /// gets them again.
    public var descriptors: [PassedDescriptor] = []
    /// Those the next start takes (nil: keep the current), as `startEnvironment`.
    var startDescriptors: [PassedDescriptor]?
    /// `respawn delay`: when the main process last started (for the
    /// reset), the last delay waited (ms, nil after a reset), the delay
    /// the respawn under way will wait once it reaches `post-stop`, and
    /// while it waits there, its timer and when it fires.
    var mainStartedAt: EngineTime?
    var lastRespawnDelay: Int?
    var respawnDelayDue: Int?
    var respawnTimer: TimerID?
    public var respawnAt: EngineTime?

    public init(key: InstanceKey) {
        self.key = key
    }

    public var failed: Bool { failure != nil }

    /// The instance as `initctl status` shows it.
    public var status: InstanceStatus {
        let procs = ProcessKind.allCases.compactMap { k in pids[k].map { ProcessEntry(process: k, pid: $0) } }
        var s = InstanceStatus(job: key.job, instance: key.instance, goal: goal, state: state, processes: procs)
        s.respawnAt = respawnAt
        s.respawnDelayMilliseconds = respawnAt == nil ? nil : lastRespawnDelay
        return s
    }

    /// True while the instance waits out its `respawn delay` (goal start,
    /// state post-stop, nothing running).
    public var awaitingRespawn: Bool { respawnTimer != nil }

    /// True while the process of `kind` is alive or being spawned.
    func isLive(_ kind: ProcessKind) -> Bool {
        pids[kind] != nil || pendingSpawns[kind] != nil
    }
}

/// Process kinds encode by name, and as JSON object keys in dictionaries
/// (`"pids":{"main":123}`), so that sorted-key JSON is the same bytes for
/// equal states in every run.
extension ProcessKind: Codable, CodingKeyRepresentable {}
