import JobFile

/// One thing the engine asks the shell to do. The shell carries effects
/// out in the order given; none of them may block.
public enum Effect: Hashable, Sendable {
    /// Start a process of a job instance. Answer with `processSpawned` or
    /// `spawnFailed` quoting `request.id`.
    case spawn(SpawnRequest)
    /// Send a signal to a process (the shell sends it to the process group
    /// when the process leads one).
    case signal(pid: Int32, signal: Signal)
    /// Send a job's reload signal to its main process alone, never to the
    /// process group it leads (`initctl reload`, as Upstart does).
    case reload(pid: Int32, signal: Signal)
    /// Fire `timerFired(id)` at the given time (or as soon after as it can).
    case armTimer(TimerID, at: EngineTime)
    /// Forget a timer armed earlier; a late `timerFired` for it is ignored.
    case cancelTimer(TimerID)
    /// An event entered the queue (for logs and observers).
    case eventEmitted(EventRecord)
    /// An event finished: everything it started or stopped has settled.
    case eventFinished(EventRecord, failed: Bool)
    /// Answer a control request or an `emit` waiter.
    case reply(RequestID, Reply)
    /// A line for the daemon's own log.
    case log(String)
    /// Close these descriptor handles: no event and no instance holds them
    /// any more (an event's socket, once it is done and no job took it, or
    /// once the job that took it has stopped).
    case closeDescriptors([Int32])
}

/// What `spawn` carries: the process, its environment, and the job class
/// that says how to set it up (user, limits, console and the rest).
public struct SpawnRequest: Hashable, Sendable {
    public var id: SpawnID
    public var job: String
    public var instance: String
    public var process: ProcessKind
    public var spec: ProcessSpec
    /// `KEY=VALUE`, in order: the complete environment of the process.
    public var environment: [String]
    public var jobClass: JobClass
    /// Descriptor handles the process gets at 3, 4, ... in order (the
    /// main process of a job started by events that carried them).
    /// `environment` then has `UPSTART_FDS`, `LISTEN_FDS` and
    /// `LISTEN_FDNAMES`; the shell adds `LISTEN_PID` in the child.
    public var descriptors: [Int32] = []
    /// For a job with `env-file`: the names its files must not replace,
    /// because the start's events or request, the stop, or the engine
    /// (`UPSTART_JOB`, `UPSTART_INSTANCE`) set them. The files come after
    /// `env` and before these.
    public var fixedNames: [String] = []

    public init(id: SpawnID, job: String, instance: String, process: ProcessKind,
                spec: ProcessSpec, environment: [String], jobClass: JobClass, descriptors: [Int32] = []) {
        self.descriptors = descriptors
        self.id = id
        self.job = job
        self.instance = instance
        self.process = process
        self.spec = spec
        self.environment = environment
        self.jobClass = jobClass
    }
}

/// An event as observers see it: its id, name and environment.
public struct EventRecord: Hashable, Sendable {
    public var id: EventID
    public var name: String
    public var environment: [String]

    public init(id: EventID, name: String, environment: [String]) {
        self.id = id
        self.name = name
        self.environment = environment
    }
}

/// The answer to a control request or an emit waiter.
public enum Reply: Hashable, Sendable {
    /// Done; for job verbs, the instance as it stands now.
    case ok(InstanceStatus?)
    /// Text to show (`usage`).
    case text(String)
    /// The request failed; the message says why and names the job.
    case error(String)
}

/// A snapshot of one instance: what `initctl status` prints.
public struct InstanceStatus: Hashable, Sendable, Codable {
    public var job: String
    public var instance: String
    public var goal: Goal
    public var state: JobState
    /// Live processes, in the order main, pre-start, post-start, pre-stop, post-stop.
    public var processes: [ProcessEntry]
    /// `respawn delay`: when the instance waiting to be respawned will be
    /// (nil when it is not waiting), and the delay it waits.
    public var respawnAt: EngineTime?
    public var respawnDelayMilliseconds: Int?

    public init(job: String, instance: String, goal: Goal, state: JobState, processes: [ProcessEntry]) {
        self.job = job
        self.instance = instance
        self.goal = goal
        self.state = state
        self.processes = processes
    }
}

/// One live process of an instance.
public struct ProcessEntry: Hashable, Sendable, Codable {
    public var process: ProcessKind
    public var pid: Int32

    public init(process: ProcessKind, pid: Int32) {
        self.process = process
        self.pid = pid
    }
}
