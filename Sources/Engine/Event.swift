import JobFile

/// Where an event is in its life (Upstart's EventProgress).
public enum EventProgress: String, Hashable, Sendable, Codable {
    /// Queued; no job has seen it yet.
    case pending
    /// Jobs have seen it; it waits until nothing holds it any more.
    case handling
}

/// One event in the queue.
///
/// Guarantees kept by the engine (pinned by property tests):
/// - `blockers` counts exactly the holds on the event: one per `start on` /
///   `stop on` operand that matched it and has not been reset, and one per
///   instance that it started or stopped and that has not yet settled. (A
///   `start on` of a single match fires at the moment it matches, so its
///   hold would begin and end within one step; the engine skips it.)
/// - An event finishes once, when it is being handled and `blockers` is 0;
///   it is then removed from the state and an `eventFinished` effect says so.
public struct Event: Hashable, Sendable, Codable {
    public var id: EventID
    public var name: String
    /// `KEY=VALUE` entries, in order; positional matches index into them.
    public var environment: [String]
    public var progress: EventProgress = .pending
    public var blockers: Int = 0
    /// Set when a job this event started or stopped failed: the event then
    /// fails, its waiter gets an error and `NAME/failed` is emitted.
    public var failed: Bool = false
    /// Told when the event finishes (`initctl emit` without `--no-wait`).
    public var waiter: RequestID?
    /// Instances whose state change waits for this event to finish: the job
    /// that emitted `starting` or `stopping`.
    public var blockedJobs: [InstanceKey] = []
    /// Descriptors the event carries (a listening socket from the socket
    /// bridge), as the shell's opaque handles; the jobs it starts take
    /// them. The shell closes a handle when the engine says
    /// `closeDescriptors`: once neither an event nor an instance holds it.
    public var descriptors: [Int32] = []

    public init(id: EventID, name: String, environment: [String], waiter: RequestID? = nil, descriptors: [Int32] = []) {
        self.id = id
        self.name = name
        self.environment = environment
        self.waiter = waiter
        self.descriptors = descriptors
    }

    public var record: EventRecord { EventRecord(id: id, name: name, environment: environment) }
}

/// The names of the events the engine itself emits.
public enum JobEventName {
    public static let starting = "starting"
    public static let started = "started"
    public static let stopping = "stopping"
    public static let stopped = "stopped"
    public static let startup = "startup"
    /// Appended to the name of an event that failed (`startup/failed`).
    public static let failedSuffix = "/failed"
    /// The time bridge's events; addressed with `JOB=`.
    public static let timer = "timer"
    /// The socket bridge's events; addressed with `JOB=`, they carry a
    /// listening socket (docs/socket-bridge.md).
    public static let socket = "socket"
    /// The file bridge's events; addressed with `JOB=` (docs/file-bridge.md).
    public static let file = "file"
    /// Events addressed to one job when they carry `JOB=NAME`.
    public static let addressed: Set<String> = [timer, socket, file]
}

/// A descriptor a job's main process gets: the shell's handle and the
/// name it gets in `LISTEN_FDNAMES` (the event's `FDNAME`, else its name).
public struct PassedDescriptor: Hashable, Sendable, Codable {
    public var handle: Int32
    public var name: String

    public init(handle: Int32, name: String) {
        self.handle = handle
        self.name = name
    }
}
