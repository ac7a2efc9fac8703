/// A job class: everything one job file (and its override) says, as a value.
///
/// This is the parsed, normalized form of a job file. It holds no runtime
/// state; the engine creates instances from it. Every field has the default
/// Upstart 1.13 gives it when the stanza is absent, so two files that say the
/// same thing in different words parse to equal values.
@dynamicMemberLookup
public struct JobClass: Hashable, Sendable {
    // The stanzas nearly every job file uses are stored inline; the rest
    // live in one shared, copy-on-write box (`RareStanzas`), so a loaded
    // class costs a few dozen bytes for the stanzas it does not use instead
    // of several hundred. Every field keeps its name, type and default: the
    // boxed ones are reached through `subscript(dynamicMember:)`.

    /// The job's name: its path relative to the configuration directory,
    /// without the `.conf` suffix (`net/apache` for `/etc/init/net/apache.conf`).
    public var name: String

    // MARK: Documentation stanzas
    public var description: String?

    // MARK: Events and conditions
    /// `start on`; nil when absent or cleared by a later `manual`.
    public var startOn: EventExpression?
    /// `stop on`; nil when absent.
    public var stopOn: EventExpression?

    // MARK: Instances, tasks, respawning
    public var task: Bool = false
    public var respawn: Bool = false

    // MARK: Process environment
    public var console: ConsoleMode = .log
    public var expect: ExpectMode = .none

    // MARK: Processes
    public var main: ProcessSpec?

    /// `env`: in order of first definition; a later `env` of the same name
    /// replaces the value in place.
    public var env: [EnvVariable] = []

    /// Every other stanza. Shared by all jobs that use none of them.
    @usableFromInline var rare: RareStanzasBox = RareStanzasBox.defaults

    /// Makes `rare` this value's own before a write (copy on write).
    @usableFromInline mutating func uniqueRare() -> RareStanzasBox {
        if !isKnownUniquelyReferenced(&rare) { rare = RareStanzasBox(rare.stanzas) }
        return rare
    }

    /// Every boxed stanza, read and written as if it were a field of the
    /// job: `job.setuid`, `job.limits.append(...)`. A write copies the box
    /// first when another job shares it.
    ///
    /// Inlinable, so that a caller in another module (the engine) reads a
    /// stanza directly instead of through a key path built at run time.
    @inlinable
    public subscript<Value>(dynamicMember field: WritableKeyPath<RareStanzas, Value>) -> Value {
        get { rare.stanzas[keyPath: field] }
        _modify { yield &uniqueRare().stanzas[keyPath: field] }
    }

    public init(name: String) {
        self.name = name
    }

    /// The process of the given kind, or nil when the job has none.
    public func process(_ kind: ProcessKind) -> ProcessSpec? {
        switch kind {
        case .main: return main
        case .preStart: return self.preStart
        case .postStart: return self.postStart
        case .preStop: return self.preStop
        case .postStop: return self.postStop
        }
    }

    /// Sets the process of the given kind.
    public mutating func setProcess(_ kind: ProcessKind, _ spec: ProcessSpec?) {
        switch kind {
        case .main: main = spec
        case .preStart: self.preStart = spec
        case .postStart: self.postStart = spec
        case .preStop: self.preStop = spec
        case .postStop: self.postStop = spec
        }
    }
}

/// The stanzas of a job class that most job files never use, with their
/// Upstart defaults. `JobClass` keeps them in a `RareStanzasBox`.
public struct RareStanzas: Hashable, Sendable {
    public var author: String?
    public var version: String?
    public var usage: String?
    /// `emits`: event names (globs allowed) this job says it emits. Accumulates.
    public var emits: [String] = []
    /// `while`: a Daybreak stanza. The job runs exactly while this holds.
    public var whileCondition: StateExpression?
    /// `instance NAME`: the pattern (with `$VAR` references) naming instances.
    public var instance: String?
    public var respawnLimit: RespawnLimit = .default
    /// `respawn delay SECONDS [MAX]`: a Daybreak stanza. nil (Upstart's
    /// way) respawns at once.
    public var respawnDelay: RespawnDelay?
    /// `env-file [-]PATH`: a Daybreak stanza. Files read into the
    /// environment of each process at its spawn, in order. Accumulates.
    public var envFiles: [EnvFileEntry] = []
    /// `log size SIZE|unlimited` and `log keep N`: Daybreak stanzas for
    /// `console log` files; nil takes the daemon's `--log-size` and
    /// `--log-keep`.
    public var logSize: LogSize?
    public var logKeep: Int?
    /// `normal exit`: statuses and signals that are not failures. Accumulates.
    public var normalExit: [ExitCondition] = []
    public var preStart: ProcessSpec?
    public var postStart: ProcessSpec?
    public var preStop: ProcessSpec?
    public var postStop: ProcessSpec?
    /// `export`: variable names copied into this job's events. Accumulates.
    public var export: [String] = []
    public var killSignal: Signal = .term
    /// `kill timeout`, seconds between the kill signal and SIGKILL.
    public var killTimeout: Int = 5
    public var reloadSignal: Signal = .hup
    /// `limit`: one entry per resource; a later `limit` of the same resource replaces it.
    public var limits: [ResourceLimit] = []
    public var nice: Int?
    public var oomScore: OOMScore?
    /// `umask`, or nil for the default (022).
    public var umask: Int?
    public var chdir: String?
    public var chroot: String?
    public var setuid: String?
    public var setgid: String?
    public var apparmorLoad: String?
    public var apparmorSwitch: String?
    /// `cgroup`: accumulates; an entry with the same controller, name and key replaces.
    public var cgroups: [CgroupSetting] = []
    /// `namespace`: the kinds of namespace the job's processes get. Sorted, unique.
    public var namespaces: [NamespaceKind] = []
    /// `namespace net=NAME`: the network namespace joined instead of a new
    /// one, as written (a name under `/run/netns`, or an absolute path);
    /// nil for a new one. Set only with `.net` in `namespaces`.
    public var joinNetwork: String?
    /// `namespace uts=NAME`: the hostname in the new uts namespace; nil for
    /// the job's name. Set only with `.uts` in `namespaces`.
    public var hostname: String?
}

/// The box `JobClass` keeps its rare stanzas in. Equality and hashing are
/// by contents, so two jobs that say the same thing are equal whether or
/// not they share a box. A box is written only while exactly one job holds
/// it (`JobClass.uniqueRare`), and `defaults` never is, which is what makes
/// the unchecked `Sendable` sound (the standard library's copy-on-write
/// buffers rest on the same rule).
@usableFromInline
final class RareStanzasBox: Hashable, @unchecked Sendable {
    @usableFromInline var stanzas: RareStanzas

    @usableFromInline init(_ stanzas: RareStanzas) {
        self.stanzas = stanzas
    }

    /// Shared by every job that uses none of the rare stanzas.
    static let defaults = RareStanzasBox(RareStanzas())

    @usableFromInline static func == (a: RareStanzasBox, b: RareStanzasBox) -> Bool {
        a === b || a.stanzas == b.stanzas
    }

    @usableFromInline func hash(into h: inout Hasher) {
        h.combine(stanzas)
    }
}

/// The five processes a job may define (the JobScripts specification).
public enum ProcessKind: String, CaseIterable, Hashable, Sendable {
    case main
    case preStart = "pre-start"
    case postStart = "post-start"
    case preStop = "pre-stop"
    case postStop = "post-stop"
}

/// One process: a command run directly (`exec`) or a shell script (`script`).
public struct ProcessSpec: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case exec
        case script
    }
    public var kind: Kind
    /// For `exec`: the command line as written (quotes kept; the spawner
    /// decides whether it needs a shell). For `script`: the body, verbatim,
    /// each line ending in a newline.
    public var command: String

    public init(_ kind: Kind, _ command: String) {
        self.kind = kind
        self.command = command
    }

    public static func exec(_ command: String) -> ProcessSpec { ProcessSpec(.exec, command) }
    public static func script(_ body: String) -> ProcessSpec { ProcessSpec(.script, body) }
}

/// `console none|output|owner|log`.
public enum ConsoleMode: String, CaseIterable, Hashable, Sendable {
    case none, output, owner, log
}

/// `expect stop|daemon|fork|notify` (and `none`, the default).
public enum ExpectMode: String, CaseIterable, Hashable, Sendable {
    case none, stop, daemon, fork, notify
}

/// One `env` stanza: `env KEY=VALUE`, or `env KEY` (value from the daemon's own environment).
public struct EnvVariable: Hashable, Sendable {
    public var name: String
    /// nil for `env KEY`: the value is taken from the daemon's environment.
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// `respawn limit COUNT INTERVAL` or `respawn limit unlimited`.
public enum RespawnLimit: Hashable, Sendable {
    case limit(count: Int, interval: Int)
    case unlimited

    /// Upstart's default: 10 respawns in 5 seconds.
    public static let `default` = RespawnLimit.limit(count: 10, interval: 5)
}

/// `log size`: a cap on each log file, or none (Upstart's way).
public enum LogSize: Hashable, Sendable {
    case unlimited
    case bytes(Int)

    /// `10M`, `512K`, `1G`, `4096` (bytes; K, M and G are powers of 1024)
    /// or `unlimited`; at least 4K.
    public init?(parsing text: String) {
        if text == "unlimited" { self = .unlimited; return }
        var digits = Substring(text)
        var unit = 1
        switch text.last {
        case "K", "k": unit = 1 << 10; digits = digits.dropLast()
        case "M", "m": unit = 1 << 20; digits = digits.dropLast()
        case "G", "g": unit = 1 << 30; digits = digits.dropLast()
        default: break
        }
        guard isDigits(digits), digits.count <= 12, let n = Int(digits), n * unit >= 4096, n * unit <= 1 << 50 else { return nil }
        self = .bytes(n * unit)
    }

    /// As a job file writes it: the largest unit that divides it.
    public var text: String {
        switch self {
        case .unlimited: return "unlimited"
        case .bytes(let n):
            for (u, s) in [(1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")] where n % u == 0 { return "\(n / u)\(s)" }
            return "\(n)"
        }
    }
}

/// One `env-file` stanza: the file, and whether it may be missing.
public struct EnvFileEntry: Hashable, Sendable {
    public var path: String
    public var optional: Bool

    public init(path: String, optional: Bool = false) {
        self.path = path
        self.optional = optional
    }
}

/// `respawn delay SECONDS [MAX]`: wait before each respawn, doubling the
/// wait after each quick failure up to `maximum`. Milliseconds, so that a
/// file may say `0.25` (three decimals at most).
public struct RespawnDelay: Hashable, Sendable {
    public var initialMilliseconds: Int
    public var maximumMilliseconds: Int

    public init(initialMilliseconds: Int, maximumMilliseconds: Int) {
        self.initialMilliseconds = initialMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// How long a main process must stay up for the next respawn to wait
    /// `initial` again: the longer of `maximum` and ten seconds.
    public var resetMilliseconds: Int { max(maximumMilliseconds, 10_000) }

    /// The wait after `previous` (nil: the first respawn of a run of quick
    /// failures): `initial`, then twice the last, never above `maximum`.
    public func next(after previous: Int?) -> Int {
        guard let previous else { return initialMilliseconds }
        return min(max(previous * 2, initialMilliseconds), maximumMilliseconds)
    }

    /// Milliseconds as a job file writes seconds: `2`, `0.25`.
    public static func secondsText(_ ms: Int) -> String {
        if ms % 1000 == 0 { return String(ms / 1000) }
        var frac = String(ms % 1000 + 1000).dropFirst()
        while frac.hasSuffix("0") { frac = frac.dropLast() }
        return "\(ms / 1000).\(frac)"
    }
}

/// One `normal exit` entry: an exit status or a signal.
public enum ExitCondition: Hashable, Sendable {
    case status(Int)
    case signal(Signal)
}

/// `oom score N|never` (or the old `oom N|never`, converted to a score).
public enum OOMScore: Hashable, Sendable {
    case score(Int)
    case never
}

/// One `limit RESOURCE SOFT HARD` stanza.
public struct ResourceLimit: Hashable, Sendable {
    public var resource: Resource
    public var soft: LimitValue
    public var hard: LimitValue

    public init(resource: Resource, soft: LimitValue, hard: LimitValue) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }

    /// The resources `limit` accepts (setrlimit(2)'s, without the RLIMIT_ prefix).
    public enum Resource: String, CaseIterable, Hashable, Sendable, Comparable {
        case core, cpu, data, fsize, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, sigpending, stack
        public static func < (a: Resource, b: Resource) -> Bool { a.rawValue < b.rawValue }
    }
}

/// A limit value: a number, or `unlimited`.
public enum LimitValue: Hashable, Sendable, Comparable {
    case value(UInt64)
    case unlimited

    public static func < (a: LimitValue, b: LimitValue) -> Bool {
        switch (a, b) {
        case let (.value(x), .value(y)): return x < y
        case (.value, .unlimited): return true
        default: return false
        }
    }
}

/// One `cgroup CONTROLLER [NAME] [KEY VALUE]` stanza.
public struct CgroupSetting: Hashable, Sendable {
    public var controller: String
    /// nil: the job's own group (`$UPSTART_CGROUP`).
    public var name: String?
    public var key: String?
    public var value: String?

    public init(controller: String, name: String? = nil, key: String? = nil, value: String? = nil) {
        self.controller = controller
        self.name = name
        self.key = key
        self.value = value
    }
}

/// `namespace KIND...`: a Daybreak stanza (`net=NAME` and `uts=NAME` are
/// kept in `JobClass.joinNetwork` and `JobClass.hostname`).
public enum NamespaceKind: String, CaseIterable, Hashable, Sendable, Comparable {
    case cgroup, ipc, mount, net, pid, user, uts
    public static func < (a: NamespaceKind, b: NamespaceKind) -> Bool { a.rawValue < b.rawValue }

    /// Where `namespace net=NAME` points: NAME itself when it is a path,
    /// otherwise `/run/netns/NAME` (where `ip netns add NAME` puts it).
    public static func networkPath(_ name: String) -> String {
        name.hasPrefix("/") ? name : "/run/netns/" + name
    }
}
