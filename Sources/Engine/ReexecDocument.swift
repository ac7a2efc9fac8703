import JSON

/// The state document of a stateful re-exec (`initctl reexec`): everything
/// the daemon holds, as a value, written by the old daemon on a memfd and
/// read by the new one (`--state-fd N`).
///
/// The engine's state travels whole (`EngineState`: job classes as their
/// text, instances with goal, state, pids and environment, events with who
/// waits on them, the queue, `set-env`, respawn history). The shell's state
/// is what only the shell knows: descriptors kept open across the exec
/// (the control socket and its clients, pty masters, notify sockets),
/// armed timers, each instance's cgroups and notify state, and the replies
/// still owed to clients.
///
/// Versioned: `format` is always `daybreak-state`, `version` says which
/// layout follows. A reader checks both before it decodes anything else,
/// and refuses what it does not know with a message naming the version
/// (`decode`); it never crashes on any input (the decoder is total, and
/// fuzzable: `decode` is pure). The daemon writes and reads it by hand
/// (EngineStateJSON.swift, ShellStateJSON.swift); the Codable conformances
/// are the reference the tests hold that path to. Version 1 documents are kept as test
/// fixtures (`Tests/IntegrationTests/Fixtures`) so a later reader is
/// tested against them.
public struct ReexecDocument: Codable, Sendable, Equatable {
    public static let formatName = "daybreak-state"
    public static let currentVersion = 1
    /// The deepest a document may nest (JSON levels); the engine's state
    /// is flat, so this is far more than a real document needs, and bounds
    /// what a hostile one can make the reader do.
    public static let maxDepth = 64

    public var format: String
    public var version: Int
    public var engine: EngineState
    public var shell: ShellState

    public init(engine: EngineState, shell: ShellState) {
        self.format = ReexecDocument.formatName
        self.version = ReexecDocument.currentVersion
        self.engine = engine
        self.shell = shell
    }

    /// The document's bytes (compact JSON, keys sorted), written by hand
    /// (`documentJSON`): the same bytes as the Codable conformance gives,
    /// which the tests and the `reexec` fuzz target check.
    public func encoded() throws -> [UInt8] {
        // About 1 KB an instance (its record, the shell's, a post-mortem).
        var out: [UInt8] = []
        out.reserveCapacity(4096 + 1024 * engine.instances.count)
        documentJSON.appendCompact(to: &out)
        return out
    }

    /// Reads a document: total, pure, never traps. Refuses bytes that are
    /// not JSON, a document of another format or version, or one whose
    /// fields do not decode, each with a message that says which.
    public static func decode(_ bytes: [UInt8]) -> Result<ReexecDocument, ReexecDocumentError> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            return .failure(ReexecDocumentError("the state document is not valid JSON: \(error)"))
        }
        guard case .object(let fields) = value else {
            return .failure(ReexecDocumentError("the state document is not a JSON object"))
        }
        // A member given twice counts by its last value, as the reader takes it.
        func field(_ name: String) -> JSONValue? { fields.last { $0.0 == name }?.1 }
        guard case .string(let format)? = field("format"), format == formatName else {
            return .failure(ReexecDocumentError("the state document is not a daybreak state document (no \"format\": \"\(formatName)\")"))
        }
        guard case .number(let version)? = field("version") else {
            return .failure(ReexecDocumentError("the state document has no version"))
        }
        guard version == currentVersion else {
            return .failure(ReexecDocumentError("the state document is version \(version), and this build reads version \(currentVersion) only"))
        }
        do {
            return .success(try ReexecDocument(documentJSON: value))
        } catch {
            return .failure(ReexecDocumentError("the state document (version \(currentVersion)) does not decode: \(error)"))
        }
    }
}

/// Why a state document was refused.
public struct ReexecDocumentError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the shell holds beside the engine, as plain values.
public struct ShellState: Codable, Sendable, Equatable {
    /// The listening control socket (kept open across the exec).
    public var listener: Int32
    public var socketPath: String
    /// Armed engine timers: id and when (CLOCK_MONOTONIC, which an exec
    /// does not reset).
    public var timers: [ArmedTimer] = []
    public var nextRequestID: UInt64 = 1
    public var nextNotifySocket: Int = 0
    /// One record per instance the shell knows of: its groups and notify state.
    public var instances: [InstanceShell] = []
    /// Groups of ended instances still being emptied.
    public var draining: [DrainingGroup] = []
    public var madeNamedGroups: [String] = []
    /// Job output: the pty master of each process writing a log.
    public var logs: [LogPty] = []
    /// Log output held in memory while the log directory could not be written, by file.
    public var heldLogs: [HeldLog] = []
    /// Control clients, with the bytes not yet sent to them.
    public var clients: [ClientRecord] = []
    /// Replies owed: engine request id to the client and its protocol id.
    public var pending: [PendingReply] = []
    public var logPriority: String?
    /// Each instance's post-mortem, least recently touched first (absent
    /// from documents written before it was carried).
    public var postMortems: [PostMortemRecord]?

    public init(listener: Int32, socketPath: String) {
        self.listener = listener
        self.socketPath = socketPath
    }
}

public struct ArmedTimer: Codable, Sendable, Equatable {
    public var id: UInt64
    public var at: Int64
    public init(id: UInt64, at: Int64) { self.id = id; self.at = at }
}

/// One instance's shell state: its cgroups, and its `expect notify` socket.
public struct InstanceShell: Codable, Sendable, Equatable {
    public var key: String
    public var job: String
    public var instance: String
    public var groups: [String] = []
    public var namedGroups: [String] = []
    public var oomKills: Int?
    public var notify: NotifyRecord?
    public var notifyStatus: String?
    public init(key: String, job: String, instance: String) {
        self.key = key
        self.job = job
        self.instance = instance
    }
}

public struct NotifyRecord: Codable, Sendable, Equatable {
    public var fd: Int32
    public var address: String
    public var mainPid: Int32
    public var announcedPid: Int32?
    public var ready: Bool
    public init(fd: Int32, address: String, mainPid: Int32, announcedPid: Int32?, ready: Bool) {
        self.fd = fd
        self.address = address
        self.mainPid = mainPid
        self.announcedPid = announcedPid
        self.ready = ready
    }
}

public struct DrainingGroup: Codable, Sendable, Equatable {
    public var key: String
    public var paths: [String]
    public var killAt: Int64
    public var killed: Bool
    public init(key: String, paths: [String], killAt: Int64, killed: Bool) {
        self.key = key
        self.paths = paths
        self.killAt = killAt
        self.killed = killed
    }
}

public struct LogPty: Codable, Sendable, Equatable {
    public var master: Int32
    public var file: String
    public var pid: Int32
    public init(master: Int32, file: String, pid: Int32) {
        self.master = master
        self.file = file
        self.pid = pid
    }
}

public struct HeldLog: Codable, Sendable, Equatable {
    public var file: String
    public var bytes: [UInt8]
    public init(file: String, bytes: [UInt8]) { self.file = file; self.bytes = bytes }
}

public struct ClientRecord: Codable, Sendable, Equatable {
    public var fd: Int32
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public var privileged: Bool
    public var subscribed: Bool
    public var inFlight: Int
    /// Bytes queued for the client and not yet sent.
    public var output: [UInt8]
    public init(fd: Int32, pid: Int32, uid: UInt32, gid: UInt32, privileged: Bool, subscribed: Bool, inFlight: Int, output: [UInt8]) {
        self.fd = fd
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.privileged = privileged
        self.subscribed = subscribed
        self.inFlight = inFlight
        self.output = output
    }
}

public struct PendingReply: Codable, Sendable, Equatable {
    public var request: UInt64
    public var client: Int32
    public var id: Int
    public var method: String
    public init(request: UInt64, client: Int32, id: Int, method: String) {
        self.request = request
        self.client = client
        self.id = id
        self.method = method
    }
}

extension Engine {
    /// Every descriptor the engine's state holds (events' and instances'
    /// handles): the shell keeps them open across a re-exec.
    public var heldDescriptors: Set<Int32> {
        var held = Set<Int32>()
        for ev in state.events.values { held.formUnion(ev.descriptors) }
        for inst in state.instances.values {
            for d in inst.descriptors { held.insert(d.handle) }
            for d in inst.startDescriptors ?? [] { held.insert(d.handle) }
        }
        return held
    }
}

extension Engine {
    /// Recovery after a crash: takes an instance back as `start/running`
    /// with `mainPid` as its main process, as a new daemon finds it in the
    /// cgroup of a previous one that is gone. Nothing is spawned and no job
    /// event is emitted (the instance was running all along); from here on
    /// it is supervised as any other: its exit is reported with
    /// `.processExited` (respawn, `stop on` and `stop` work as usual).
    /// Refused (nil, no change) when the job is not loaded or the instance
    /// exists already, so nothing runs twice.
    public mutating func adoptRunning(job: String, instance: String, mainPid: Int32, at time: EngineTime) -> [Effect]? {
        now = time
        out = []
        guard let entry = state.classes[job], !entry.removed, mainPid > 0 else { return nil }
        let key = InstanceKey(job: job, instance: instance)
        guard state.instances[key] == nil, state.pidIndex[mainPid] == nil else { return nil }
        createInstance(key)
        state.instances[key]!.goal = .start
        state.instances[key]!.state = .running
        state.instances[key]!.level = .up
        state.instances[key]!.pids[.main] = mainPid
        state.pidIndex[mainPid] = ProcessOwner(key: key, kind: .main)
        info("\(key) taken back as running, process \(mainPid)")
        whileChanged(job)
        return out
    }
}

/// One instance's post-mortem (`initctl status` after the fact): its last
/// transitions and its last failure, each a wall-clock time and a line.
public struct PostMortemRecord: Codable, Sendable, Equatable {
    public var job: String
    public var instance: String
    public var history: [PostMortemLine]
    public var lastFailure: PostMortemLine?
    public init(job: String, instance: String, history: [PostMortemLine], lastFailure: PostMortemLine?) {
        self.job = job
        self.instance = instance
        self.history = history
        self.lastFailure = lastFailure
    }
}

/// A post-mortem line: when (wall-clock milliseconds) and what.
public struct PostMortemLine: Codable, Sendable, Equatable {
    public var at: Int64
    public var text: String
    public init(at: Int64, text: String) {
        self.at = at
        self.text = text
    }
}
