import JSON

/// The protocol version this build speaks. A request with another version
/// gets the error `unsupported-version` and changes nothing.
public let protocolVersion = 1

/// The methods a client may call (docs/protocol.md lists each with its
/// parameters and result).
public enum Method: String, CaseIterable, Sendable {
    case version, list, status, start, stop, restart, reload, emit
    case reloadConfiguration = "reload-configuration"
    case logPriority = "log-priority"
    case showConfig = "show-config"
    case checkConfig = "check-config"
    case listEnv = "list-env", getEnv = "get-env", setEnv = "set-env", unsetEnv = "unset-env", resetEnv = "reset-env"
    case usage, subscribe
    case notifyDiskWriteable = "notify-disk-writeable"
    /// `initctl log JOB [-n N] [-f]` and `initctl reopen-logs`.
    case log
    case reopenLogs = "reopen-logs"
    case reexec
    /// `initctl reboot|poweroff|halt` (PID 1 only): stop every job, then
    /// reboot(2). The action is in `name`.
    case powerDown = "power-down"
    /// `initctl analyze`: the boot record (docs/protocol.md).
    case analyze

    /// Methods any local user may call; the rest need root or, in user
    /// mode, the session's owner.
    public var isReadOnly: Bool {
        switch self {
        case .version, .list, .status, .showConfig, .checkConfig, .listEnv, .getEnv, .usage, .subscribe, .analyze: return true
        default: return false
        }
    }
}

/// Error codes. The message carries the human text (Upstart's where there is one).
public enum ErrorCode: String, Sendable {
    case badRequest = "bad-request"
    case unsupportedVersion = "unsupported-version"
    case unknownMethod = "unknown-method"
    case permissionDenied = "permission-denied"
    case unknownJob = "unknown-job"
    case unknownInstance = "unknown-instance"
    case alreadyStarted = "already-started"
    case alreadyStopped = "already-stopped"
    case jobFailed = "job-failed"
    case invalidArguments = "invalid-arguments"
    case unknownVariable = "unknown-variable"
    case internalError = "internal"
}

/// One request: `{"v":1,"id":N,"method":"start","params":{...}}`.
public struct Request: Sendable, Equatable {
    public var id: Int
    public var method: Method
    public var params: Params

    public init(id: Int, method: Method, params: Params = Params()) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// Every parameter any method takes; each method reads the ones it needs.
    public struct Params: Sendable, Equatable {
        public var job: String?
        /// Names the instance directly (as `UPSTART_INSTANCE` does inside a
        /// job); otherwise the instance is expanded from `env`.
        public var instance: String?
        public var env: [String] = []
        public var wait: Bool = true
        public var event: String?
        public var name: String?
        public var global: Bool = false
        public var retain: Bool = false
        public var priority: String?
        public var enumerate: Bool = false
        /// `show-config`: only the jobs whose `start on` or `stop on` names
        /// one of these events, with those two stanzas alone (what a bridge
        /// needs); empty: every job, every line.
        public var events: [String] = []
        /// `log`: how many of the last lines, and whether to follow.
        public var lines: Int?
        public var follow: Bool = false
        /// `status`: also each variable of the instance's environment and
        /// where it came from (privileged callers only).
        public var verbose: Bool = false

        public init(job: String? = nil, instance: String? = nil, env: [String] = [], wait: Bool = true, event: String? = nil, name: String? = nil,
                    global: Bool = false, retain: Bool = false, priority: String? = nil, enumerate: Bool = false, events: [String] = []) {
            self.job = job
            self.instance = instance
            self.env = env
            self.wait = wait
            self.event = event
            self.name = name
            self.global = global
            self.retain = retain
            self.priority = priority
            self.enumerate = enumerate
            self.events = events
        }
    }

    public var json: JSONValue {
        var p: [(String, JSONValue)] = []
        if let job = params.job { p.append(("job", .string(job))) }
        if let instance = params.instance { p.append(("instance", .string(instance))) }
        if !params.env.isEmpty { p.append(("env", .array(params.env.map(JSONValue.string)))) }
        if !params.wait { p.append(("wait", .bool(false))) }
        if let e = params.event { p.append(("event", .string(e))) }
        if let n = params.name { p.append(("name", .string(n))) }
        if params.global { p.append(("global", .bool(true))) }
        if params.retain { p.append(("retain", .bool(true))) }
        if let pr = params.priority { p.append(("priority", .string(pr))) }
        if params.enumerate { p.append(("enumerate", .bool(true))) }
        if !params.events.isEmpty { p.append(("events", .array(params.events.map(JSONValue.string)))) }
        if let n = params.lines { p.append(("lines", .number(n))) }
        if params.follow { p.append(("follow", .bool(true))) }
        if params.verbose { p.append(("verbose", .bool(true))) }
        return .object([("v", .number(protocolVersion)), ("id", .number(id)), ("method", .string(method.rawValue)), ("params", .object(p))])
    }

    /// Reads a request body. Anything malformed is a `ControlError` the
    /// daemon sends back (with the request id when one could be read).
    public static func decode(_ body: [UInt8]) -> Result<Request, ControlError> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            return .failure(ControlError(id: nil, code: .badRequest, message: error.description))
        }
        guard case .object = value else {
            return .failure(ControlError(id: nil, code: .badRequest, message: "a request must be a JSON object"))
        }
        let id = value["id"]?.int
        guard let id else {
            return .failure(ControlError(id: nil, code: .badRequest, message: "a request needs a whole-number \"id\""))
        }
        guard let v = value["v"]?.int else {
            return .failure(ControlError(id: id, code: .badRequest, message: "a request needs a protocol version \"v\""))
        }
        guard v == protocolVersion else {
            return .failure(ControlError(id: id, code: .unsupportedVersion, message: "protocol version \(v) is not supported; this daemon speaks version \(protocolVersion)"))
        }
        guard let name = value["method"]?.string else {
            return .failure(ControlError(id: id, code: .badRequest, message: "a request needs a \"method\" string"))
        }
        guard let method = Method(rawValue: name) else {
            return .failure(ControlError(id: id, code: .unknownMethod, message: "unknown method '\(name)'"))
        }
        var params = Params()
        if let p = value["params"] {
            guard case .object = p else {
                return .failure(ControlError(id: id, code: .badRequest, message: "\"params\" must be an object"))
            }
            func str(_ k: String) -> Result<String?, ControlError> {
                guard let x = p[k], !x.isNull else { return .success(nil) }
                guard let s = x.string else { return .failure(ControlError(id: id, code: .badRequest, message: "\"\(k)\" must be a string")) }
                return .success(s)
            }
            func flag(_ k: String, _ d: Bool) -> Result<Bool, ControlError> {
                guard let x = p[k], !x.isNull else { return .success(d) }
                guard let b = x.bool else { return .failure(ControlError(id: id, code: .badRequest, message: "\"\(k)\" must be true or false")) }
                return .success(b)
            }
            do {
                params.job = try str("job").get()
                params.instance = try str("instance").get()
                params.event = try str("event").get()
                params.name = try str("name").get()
                params.priority = try str("priority").get()
                params.wait = try flag("wait", true).get()
                params.global = try flag("global", false).get()
                params.retain = try flag("retain", false).get()
                params.enumerate = try flag("enumerate", false).get()
                params.follow = try flag("follow", false).get()
                params.verbose = try flag("verbose", false).get()
            } catch {
                return .failure(error)
            }
            if let n = p["lines"], !n.isNull {
                guard let lines = n.int, lines >= 0 else {
                    return .failure(ControlError(id: id, code: .badRequest, message: "\"lines\" must be a whole number from 0"))
                }
                params.lines = lines
            }
            if let e = p["env"], !e.isNull {
                guard let list = e.strings else {
                    return .failure(ControlError(id: id, code: .badRequest, message: "\"env\" must be an array of KEY=VALUE strings"))
                }
                params.env = list
            }
            if let e = p["events"], !e.isNull {
                guard let list = e.strings else {
                    return .failure(ControlError(id: id, code: .badRequest, message: "\"events\" must be an array of event names"))
                }
                params.events = list
            }
        }
        return .success(Request(id: id, method: method, params: params))
    }
}

/// An error reply: `{"v":1,"id":N,"error":{"code":"unknown-job","message":"Unknown job: foo"}}`.
public struct ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    public var id: Int?
    public var code: ErrorCode
    public var message: String

    public init(id: Int?, code: ErrorCode, message: String) {
        self.id = id
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public var json: JSONValue {
        .object([("v", .number(protocolVersion)), ("id", id.map(JSONValue.number) ?? .null),
                 ("error", .object([("code", .string(code.rawValue)), ("message", .string(message))]))])
    }
}

/// A successful reply: `{"v":1,"id":N,"result":{...}}`.
public func replyJSON(id: Int, result: JSONValue) -> JSONValue {
    .object([("v", .number(protocolVersion)), ("id", .number(id)), ("result", result)])
}

/// One process of an instance, as `status` and `list` report it.
public struct ProcessStatus: Sendable, Equatable {
    /// `main`, `pre-start`, `post-start`, `pre-stop` or `post-stop`.
    public var kind: String
    public var pid: Int32

    public init(kind: String, pid: Int32) {
        self.kind = kind
        self.pid = pid
    }
}

/// An instance's control groups and what they use now (`initctl status`
/// of a job with a `cgroup` stanza). A figure the kernel does not keep
/// for these groups is nil.
public struct CgroupUsage: Sendable, Equatable {
    /// The group directories, the job's own first.
    public var groups: [String]
    /// Memory charged to it, in bytes (v2 `memory.current`, v1 `memory.usage_in_bytes`).
    public var memoryBytes: Int?
    /// Its memory limit as the kernel holds it (`max`, or bytes).
    public var memoryLimit: String?
    /// Processes (and threads, as pids counts them) in it.
    public var tasks: Int?
    /// CPU time used, in microseconds (v2 `cpu.stat`, v1 `cpuacct.usage`).
    public var cpuMicroseconds: Int?

    public init(groups: [String], memoryBytes: Int? = nil, memoryLimit: String? = nil, tasks: Int? = nil, cpuMicroseconds: Int? = nil) {
        self.groups = groups
        self.memoryBytes = memoryBytes
        self.memoryLimit = memoryLimit
        self.tasks = tasks
        self.cpuMicroseconds = cpuMicroseconds
    }

    public var json: JSONValue {
        .object([("groups", .array(groups.map(JSONValue.string)))]
            + (memoryBytes.map { [("memory", JSONValue.number($0))] } ?? [])
            + (memoryLimit.map { [("memory_limit", JSONValue.string($0))] } ?? [])
            + (tasks.map { [("tasks", JSONValue.number($0))] } ?? [])
            + (cpuMicroseconds.map { [("cpu_usec", JSONValue.number($0))] } ?? []))
    }

    public init?(json: JSONValue) {
        guard let groups = json["groups"]?.array?.compactMap(\.string) else { return nil }
        self.init(groups: groups, memoryBytes: json["memory"]?.int, memoryLimit: json["memory_limit"]?.string,
                  tasks: json["tasks"]?.int, cpuMicroseconds: json["cpu_usec"]?.int)
    }

    /// The lines `initctl status` prints under the instance.
    public var lines: [String] {
        var use: [String] = []
        if let m = memoryBytes { use.append("memory \(CgroupUsage.size(m))" + (memoryLimit.map { $0 == "max" ? "" : " of \(Int($0).map(CgroupUsage.size) ?? $0)" } ?? "")) }
        if let t = tasks { use.append("\(t) task\(t == 1 ? "" : "s")") }
        if let c = cpuMicroseconds { use.append("cpu \(c / 1_000_000).\(String(c / 10_000 % 100 + 100).dropFirst()) s") }
        return groups.map { "\tcgroup \($0)" } + (use.isEmpty ? [] : ["\tuses " + use.joined(separator: ", ")])
    }

    /// Bytes as `12.3M`.
    static func size(_ bytes: Int) -> String {
        let units = ["", "K", "M", "G", "T"]
        var v = Double(bytes)
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(bytes)" }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)\(units[u])"
    }
}

/// One remembered moment of an instance: when (wall clock, milliseconds
/// since the epoch) and what (`stopped (failed: main status 3)`).
public struct HistoryEntry: Sendable, Equatable {
    public var at: Int64
    public var what: String

    public init(at: Int64, what: String) {
        self.at = at
        self.what = what
    }

    public var json: JSONValue { .object([("at_ms", .number(Int(at))), ("what", .string(what))]) }

    public init?(json: JSONValue) {
        guard let at = json["at_ms"]?.int, let what = json["what"]?.string else { return nil }
        self.init(at: Int64(at), what: what)
    }
}

/// One job instance's status (or a job class with no instance: stop/waiting).
public struct InstanceStatus: Sendable, Equatable {
    public var job: String
    /// Empty for single-instance jobs.
    public var instance: String
    public var goal: String
    public var state: String
    public var processes: [ProcessStatus]
    /// `STATUS=` from sd_notify, when the job sent one.
    public var statusText: String?
    /// For a job with `while`: why its condition is false
    /// (`baz is not running`); nil when it holds or there is none.
    public var whileReason: String?
    /// For a job with a `cgroup` stanza: its groups and what they use now.
    public var cgroup: CgroupUsage?
    /// For an instance waiting out its `respawn delay`: milliseconds until
    /// it is respawned, and the delay it waits.
    public var respawnIn: Int?
    public var respawnDelay: Int?
    /// Post-mortem: the instance's last failure, its last transitions
    /// (oldest first, at most ten) and the last lines of its output.
    public var lastFailure: HistoryEntry?
    public var history: [HistoryEntry] = []
    public var output: [String] = []
    /// `status --verbose`: `KEY=VALUE (SOURCE)` for each variable.
    public var environmentSources: [String] = []

    public init(job: String, instance: String = "", goal: String, state: String, processes: [ProcessStatus] = [], statusText: String? = nil,
                whileReason: String? = nil, cgroup: CgroupUsage? = nil) {
        self.job = job
        self.instance = instance
        self.goal = goal
        self.state = state
        self.processes = processes
        self.statusText = statusText
        self.whileReason = whileReason
        self.cgroup = cgroup
    }

    public var json: JSONValue {
        .object([
            ("job", .string(job)), ("instance", .string(instance)), ("goal", .string(goal)), ("state", .string(state)),
            ("processes", .array(processes.map { .object([("kind", .string($0.kind)), ("pid", .number(Int($0.pid)))]) })),
            ("status", statusText.map(JSONValue.string) ?? .null),
        ] + (whileReason.map { [("while", JSONValue.string($0))] } ?? [])
          + (cgroup.map { [("cgroup", $0.json)] } ?? [])
          + (respawnIn.map { [("respawn_in_ms", JSONValue.number($0))] } ?? [])
          + (respawnDelay.map { [("respawn_delay_ms", JSONValue.number($0))] } ?? [])
          + (lastFailure.map { [("last_failure", $0.json)] } ?? [])
          + (history.isEmpty ? [] : [("history", JSONValue.array(history.map(\.json)))])
          + (output.isEmpty ? [] : [("output", JSONValue.array(output.map(JSONValue.string)))])
          + (environmentSources.isEmpty ? [] : [("env_sources", JSONValue.array(environmentSources.map(JSONValue.string)))]))
    }

    /// The post-mortem lines `initctl status` prints under a job that
    /// failed: when, what, and the last lines of its output.
    public var failureLines: [String] {
        guard let f = lastFailure else { return [] }
        return ["\tlast failure \(Timestamp.utc(milliseconds: f.at)) UTC: \(f.what)"] + output.map { "\t| " + $0 }
    }

    /// `initctl status --history`: the last transitions, oldest first.
    public var historyLines: [String] {
        history.map { "\t\(Timestamp.utc(milliseconds: $0.at)) \($0.what)" }
    }

    /// `\trespawning in 1.2 s (delay 2 s)`, for an instance waiting out its
    /// `respawn delay`.
    public var respawnLine: String? {
        guard let ms = respawnIn else { return nil }
        func secs(_ ms: Int) -> String {
            let tenths = (max(ms, 0) + 50) / 100
            return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
        }
        return "\trespawning in \(secs(ms)) s" + (respawnDelay.map { " (delay \(secs($0)) s)" } ?? "")
    }

    public init?(json: JSONValue) {
        guard let job = json["job"]?.string, let goal = json["goal"]?.string, let state = json["state"]?.string else { return nil }
        var processes: [ProcessStatus] = []
        for p in json["processes"]?.array ?? [] {
            guard let kind = p["kind"]?.string, let pid = p["pid"]?.int, let pid32 = Int32(exactly: pid) else { return nil }
            processes.append(ProcessStatus(kind: kind, pid: pid32))
        }
        self.init(job: job, instance: json["instance"]?.string ?? "", goal: goal, state: state,
                  processes: processes, statusText: json["status"]?.string, whileReason: json["while"]?.string,
                  cgroup: json["cgroup"].flatMap(CgroupUsage.init(json:)))
        lastFailure = json["last_failure"].flatMap(HistoryEntry.init(json:))
        history = json["history"]?.array?.compactMap(HistoryEntry.init(json:)) ?? []
        output = json["output"]?.strings ?? []
        environmentSources = json["env_sources"]?.strings ?? []
        respawnIn = json["respawn_in_ms"]?.int
        respawnDelay = json["respawn_delay_ms"]?.int
    }
}
