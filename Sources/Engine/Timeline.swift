import JobFile
import JSON

/// The boot record: when each instance first entered each state, and what
/// started it. `initctl analyze` reads it (docs/initctl.md, "analyze").
///
/// The engine keeps it as it moves instances (`recordTransition`, called
/// from `changeState`), so it costs one dictionary look-up per
/// transition and no system call; the time is the input's time, which the
/// shell reads from the monotonic clock.
///
/// What it keeps, and its bound:
/// - for each instance, its first run only: the time it first entered each
///   of the ten states, the cause of its first start (the events that fired
///   its `start on`, with the job that emitted each; the `while` condition
///   that came to hold; a control request), and whether it has pre-start
///   and post-start processes and is a task. Later runs (a respawn, a
///   restart) change nothing but `transitions`;
/// - at most `maxInstances` (4,096) instances; past that, new instances are
///   counted in `dropped` and not recorded (instance jobs that come and go
///   by the thousand after the boot cannot make it grow);
/// - when the boot ended: the first input after which the boot event
///   (`startup`) has finished and no instance is on its way up (in
///   `starting` to `post-start`, or a task not yet ended), and which job
///   arrived last.
/// Nothing else grows.
///
/// It is not carried across a re-exec: a new daemon starts with an empty
/// record (docs/initctl.md says so), which keeps the re-exec document as
/// it was.
public struct Timeline: Hashable, Sendable {
    public static let maxInstances = 4096

    /// Off: nothing is recorded (Benchmarks/EngineBench measures the
    /// record's cost against the same work without it).
    public var recording = true

    /// One instance's first run.
    public struct Entry: Hashable, Sendable {
        public var key: InstanceKey
        public var task: Bool
        public var hasPreStart: Bool
        public var hasPostStart: Bool
        /// What started it (nil: recorded before its goal turned start).
        public var cause: StartCause?
        /// When its goal first turned start.
        public var startedAt: EngineTime?
        /// The first entry into each state, indexed by `JobState.ordinal`.
        public var entered: [EngineTime?] = Array(repeating: nil, count: JobState.allCases.count)
        /// When its first pre-start and post-start processes were spawned:
        /// later than the state's entry when the shell spawned others first
        /// (every job the startup event starts enters `pre-start` at once,
        /// and the shell spawns them one after the other).
        public var preStartSpawned: EngineTime?
        public var postStartSpawned: EngineTime?

        public init(key: InstanceKey, task: Bool, hasPreStart: Bool, hasPostStart: Bool) {
            self.key = key
            self.task = task
            self.hasPreStart = hasPreStart
            self.hasPostStart = hasPostStart
        }

        /// When it first entered `state`.
        public func time(_ state: JobState) -> EngineTime? { entered[state.ordinal] }

        /// When it arrived: a service at `running`, a task at its end (its
        /// first `stopping` after `running`).
        public var arrived: EngineTime? {
            guard let up = time(.running) else { return nil }
            guard task else { return up }
            guard let end = time(.stopping), end >= up else { return nil }
            return end
        }

        /// Whether it is on its way up: in `starting` to `post-start`, or a
        /// task in `running`.
        static func busy(_ state: JobState, task: Bool) -> Bool {
            switch state {
            case .starting, .preStart, .spawned, .postStart: return true
            case .running: return task
            default: return false
            }
        }
    }

    /// The daemon's start (set by the shell), the origin of every figure.
    public var daemonStart: EngineTime = EngineTime(nanoseconds: 0)
    /// How long the kernel took before the daemon started, when the
    /// monotonic clock's zero is the kernel's boot (the daemon is PID 1 of
    /// a machine); `analyze time` then shows the kernel's part too. Nil in
    /// user mode and in a container: there "boot" is the daemon's start.
    public var kernelNanoseconds: Int64?
    /// Set by the shell after a re-exec: the record starts there and holds
    /// no boot.
    public var reexecuted = false
    /// The event whose end the boot waits for; nil when none is emitted
    /// (`--no-startup-event`).
    public var bootEvent: String? = JobEventName.startup
    /// When the boot event finished.
    public internal(set) var bootEventFinished: EngineTime?
    /// When the boot ended, and the instance that arrived last before.
    public internal(set) var bootEnd: EngineTime?
    public internal(set) var lastArrival: InstanceKey?
    public internal(set) var lastArrivalTime: EngineTime?
    public internal(set) var entries: [InstanceKey: Entry] = [:]
    /// Instances not recorded because the record was full.
    public internal(set) var dropped = 0
    /// Every transition seen, recorded or not.
    public internal(set) var transitions = 0
    /// Instances on their way up now (see `Entry.busy`).
    var busy = 0

    public init() {}

    /// Notes a transition of `key` from `old` to `new` at `time`. Only an
    /// instance whose start was recorded (`recordStart`) has an entry:
    /// one that was running before a re-exec has none.
    mutating func record(_ key: InstanceKey, from old: JobState, to new: JobState, at time: EngineTime, job def: ClassDefinition) {
        guard recording else { return }
        transitions += 1
        let task = def.job.task
        if Entry.busy(old, task: task) { busy -= 1 }
        if Entry.busy(new, task: task) { busy += 1 }
        if bootEnd == nil, (new == .running && !task) || (old == .running && task) {
            lastArrival = key
            lastArrivalTime = time
        }
        if let i = entries.index(forKey: key) {
            entries.values[i].note(new, at: time)
        }
    }

    /// Notes that the shell spawned `key`'s pre-start or post-start process.
    mutating func processStarted(_ key: InstanceKey, _ kind: ProcessKind, at time: EngineTime) {
        guard recording, let i = entries.index(forKey: key), entries.values[i].time(.waiting) == nil else { return }
        switch kind {
        case .preStart where entries.values[i].preStartSpawned == nil: entries.values[i].preStartSpawned = time
        case .postStart where entries.values[i].postStartSpawned == nil: entries.values[i].postStartSpawned = time
        default: break
        }
    }

    /// Notes why `key`'s goal turned start (kept for its first run only).
    mutating func recordStart(_ key: InstanceKey, _ cause: StartCause, at time: EngineTime, job def: ClassDefinition) {
        guard recording else { return }
        if let i = entries.index(forKey: key) {
            if entries.values[i].cause == nil {
                entries.values[i].cause = cause
                entries.values[i].startedAt = time
            }
            return
        }
        guard entries.count < Timeline.maxInstances else {
            dropped += 1
            return
        }
        var e = Entry(key: key, task: def.job.task, hasPreStart: def.job.preStart != nil, hasPostStart: def.job.postStart != nil)
        e.cause = cause
        e.startedAt = time
        entries[key] = e
    }

    /// Notes that an event finished: the boot event's end, the first time.
    mutating func eventFinished(_ name: String, at time: EngineTime) {
        if bootEventFinished == nil, bootEnd == nil, name == bootEvent { bootEventFinished = time }
    }

    /// Called after each input: the boot ends once its event has finished
    /// (at once when there is none) and nothing is on its way up.
    mutating func settle(at time: EngineTime) {
        guard bootEnd == nil, !reexecuted else { return }
        if bootEvent == nil { bootEventFinished = bootEventFinished ?? time }
        if bootEventFinished != nil && busy <= 0 { bootEnd = time }
    }

    /// The instances recorded, in name order.
    public var sortedEntries: [Entry] { entries.keys.sorted().map { entries[$0]! } }
}

extension Timeline.Entry {
    mutating func note(_ state: JobState, at time: EngineTime) {
        if entered[state.ordinal] == nil {
            // A state is first entered in its first run only if the run
            // had not already ended: `waiting` closes the first run.
            if entered[JobState.waiting.ordinal] == nil || state == .waiting { entered[state.ordinal] = time }
        }
    }
}

/// What started an instance.
public enum StartCause: Hashable, Sendable {
    /// The events that fired its `start on`, in expression order.
    case events([CauseEvent])
    /// Its `while` condition came to hold: the condition as written, and
    /// the jobs it names, sorted.
    case condition(String, [String])
    /// A control request (`initctl start`, `restart`).
    case request
}

/// An event in a start's cause: its name, and for a job event the
/// instance that emitted it.
public struct CauseEvent: Hashable, Sendable {
    public var name: String
    public var job: InstanceKey?

    public init(name: String, job: InstanceKey? = nil) {
        self.name = name
        self.job = job
    }

    /// The state whose entry emitted a job event (`started`: `running`).
    public var emittingState: JobState? {
        switch name {
        case JobEventName.starting: return .starting
        case JobEventName.started: return .running
        case JobEventName.stopping: return .stopping
        case JobEventName.stopped: return .waiting
        default: return nil
        }
    }
}

extension JobState {
    /// Its place in lifecycle order (waiting 0 ... post-stop 9).
    public var ordinal: Int {
        switch self {
        case .waiting: return 0
        case .starting: return 1
        case .preStart: return 2
        case .spawned: return 3
        case .postStart: return 4
        case .running: return 5
        case .preStop: return 6
        case .stopping: return 7
        case .killed: return 8
        case .postStop: return 9
        }
    }
}

// MARK: - The engine's side

extension Engine {
    /// Notes a transition in the timeline (from `changeState`).
    @inline(__always)
    mutating func recordTransition(_ key: InstanceKey, from old: JobState, to new: JobState) {
        timeline.record(key, from: old, to: new, at: now, job: definition(key.job))
    }

    /// Notes that events started `key` (from `handleStartOn`).
    mutating func recordStart(_ key: InstanceKey, events: [EventID]) {
        guard timeline.recording else { return }
        let cause = events.compactMap { id -> CauseEvent? in
            guard let ev = state.events[id] else { return nil }
            var c = CauseEvent(name: ev.name)
            if c.emittingState != nil, let j = Environment.index(of: "JOB", in: ev.environment) {
                let i = Environment.index(of: "INSTANCE", in: ev.environment).map { String(ev.environment[$0].dropFirst(9)) } ?? ""
                c.job = InstanceKey(job: String(ev.environment[j].dropFirst(4)), instance: i)
            }
            return c
        }
        timeline.recordStart(key, .events(cause), at: now, job: definition(key.job))
    }

    /// Notes that its `while` condition, or a request, started `key`.
    mutating func recordStart(_ key: InstanceKey, _ cause: StartCause) {
        timeline.recordStart(key, cause, at: now, job: definition(key.job))
    }
}

// MARK: - JSON (the `analyze` reply, docs/protocol.md)

extension Timeline {
    /// The record as the `analyze` method returns it: every time in
    /// nanoseconds since the daemon's start.
    public var json: JSONValue {
        func t(_ time: EngineTime?) -> JSONValue { time.map { .number(Int($0.nanoseconds - daemonStart.nanoseconds)) } ?? .null }
        let jobs: [JSONValue] = sortedEntries.map { e in
            var fields: [(String, JSONValue)] = [("job", .string(e.key.job)), ("instance", .string(e.key.instance))]
            if e.task { fields.append(("task", .bool(true))) }
            if e.hasPreStart { fields.append(("pre_start", .bool(true))) }
            if e.hasPostStart { fields.append(("post_start", .bool(true))) }
            switch e.cause {
            case .events(let list)?:
                fields.append(("cause", .object([("events", .array(list.map { c -> JSONValue in
                    var f: [(String, JSONValue)] = [("name", .string(c.name))]
                    if let j = c.job { f += [("job", .string(j.job)), ("instance", .string(j.instance))] }
                    return .object(f)
                }))])))
            case .condition(let text, let jobs)?:
                fields.append(("cause", .object([("while", .string(text)), ("jobs", .array(jobs.map(JSONValue.string)))])))
            case .request?:
                fields.append(("cause", .object([("request", .bool(true))])))
            case nil:
                break
            }
            if let s = e.startedAt { fields.append(("started_at", t(s))) }
            if let s = e.preStartSpawned { fields.append(("pre_start_spawned", t(s))) }
            if let s = e.postStartSpawned { fields.append(("post_start_spawned", t(s))) }
            var states: [(String, JSONValue)] = []
            for s in JobState.allCases { if let at = e.time(s) { states.append((s.rawValue, t(at))) } }
            fields.append(("states", .object(states)))
            return .object(fields)
        }
        var out: [(String, JSONValue)] = []
        if let k = kernelNanoseconds { out.append(("kernel", .number(Int(k)))) }
        if reexecuted { out.append(("reexecuted", .bool(true))) }
        if let e = bootEvent { out.append(("boot_event", .string(e))) }
        out.append(("boot_event_finished", t(bootEventFinished)))
        out.append(("boot_end", t(bootEnd)))
        if let k = lastArrival { out.append(("last", .object([("job", .string(k.job)), ("instance", .string(k.instance))]))) }
        out.append(("last_at", t(lastArrivalTime)))
        out.append(("dropped", .number(dropped)))
        out.append(("transitions", .number(transitions)))
        out.append(("jobs", .array(jobs)))
        return .object(out)
    }

    /// Reads the record back from the `analyze` reply (times relative to
    /// the daemon's start, which becomes 0). Nil when it is not one.
    public init?(json: JSONValue) {
        guard let jobs = json["jobs"]?.array else { return nil }
        func t(_ v: JSONValue?) -> EngineTime? { v?.int.map { EngineTime(nanoseconds: Int64($0)) } }
        func key(_ v: JSONValue?) -> InstanceKey? {
            guard let j = v?["job"]?.string else { return nil }
            return InstanceKey(job: j, instance: v?["instance"]?.string ?? "")
        }
        kernelNanoseconds = json["kernel"]?.int.map(Int64.init)
        reexecuted = json["reexecuted"]?.bool ?? false
        bootEvent = json["boot_event"]?.string
        bootEventFinished = t(json["boot_event_finished"])
        bootEnd = t(json["boot_end"])
        lastArrival = key(json["last"])
        lastArrivalTime = t(json["last_at"])
        dropped = json["dropped"]?.int ?? 0
        transitions = json["transitions"]?.int ?? 0
        for v in jobs {
            guard let k = key(v) else { return nil }
            var e = Entry(key: k, task: v["task"]?.bool ?? false, hasPreStart: v["pre_start"]?.bool ?? false,
                          hasPostStart: v["post_start"]?.bool ?? false)
            if let c = v["cause"] {
                if let list = c["events"]?.array {
                    e.cause = .events(list.map { CauseEvent(name: $0["name"]?.string ?? "", job: key($0)) })
                } else if let w = c["while"]?.string {
                    e.cause = .condition(w, c["jobs"]?.strings ?? [])
                } else if c["request"] != nil {
                    e.cause = .request
                }
            }
            e.startedAt = t(v["started_at"])
            e.preStartSpawned = t(v["pre_start_spawned"])
            e.postStartSpawned = t(v["post_start_spawned"])
            for s in JobState.allCases { e.entered[s.ordinal] = t(v["states"]?[s.rawValue]) }
            entries[k] = e
        }
    }
}
