import JobFile

/// A job class as the engine holds it: the parsed definition, with its
/// `start on` and `stop on` compiled for matching. Immutable and shared, so
/// copying the engine state never copies a job class.
public final class ClassDefinition: Hashable, Sendable {
    // The fields matching reads come first, so that they share a cache
    // line with the object header.
    public let name: String
    /// The match of a `start on` that is a single event match (the common
    /// case), kept inline so that matching it touches no other object.
    let singleStartMatch: EventMatch?
    let startOn: CompiledExpression?
    let stopOn: CompiledExpression?
    public let job: JobClass

    init(_ job: JobClass) {
        self.name = job.name
        if case .match(let m)? = job.startOn {
            self.singleStartMatch = m
        } else {
            self.singleStartMatch = nil
        }
        self.startOn = job.startOn.map(CompiledExpression.init)
        self.stopOn = job.stopOn.map(CompiledExpression.init)
        self.job = job
    }

    public static func == (a: ClassDefinition, b: ClassDefinition) -> Bool {
        a === b || a.job == b.job
    }

    public func hash(into h: inout Hasher) {
        h.combine(job.name)
    }
}

/// One registered job class and what the engine remembers about it.
///
/// Guarantees: `instances` is the sorted list of the names of this class's
/// instances in `EngineState.instances`; `startOn` holds exactly the events
/// the class's `start on` operands hold. While instances exist the
/// definition never changes: a changed file waits in `replacement`, and a
/// deleted one sets `removed`, until the last instance has stopped.
public struct ClassEntry: Hashable, Sendable {
    public internal(set) var definition: ClassDefinition
    var startOn: OperatorState?
    /// A newer definition, taking over when the last instance stops.
    public internal(set) var replacement: ClassDefinition?
    public internal(set) var instances: [String] = []
    /// The job file is gone: no new instances; dropped when none is left.
    public internal(set) var removed: Bool = false
    /// For a job with `while`: the condition's value when last evaluated.
    public internal(set) var whileHolds: Bool = false

    /// The definition whose `while` condition rules the class: the waiting
    /// replacement, if any (an edited condition applies at once), else the
    /// current one.
    public var effective: ClassDefinition { replacement ?? definition }

    init(_ job: JobClass) {
        definition = ClassDefinition(job)
        startOn = definition.startOn.map { OperatorState(leaves: $0.matches.count) }
    }
}

/// Who owns a pid or a pending spawn: an instance and which of its processes.
struct ProcessOwner: Hashable, Sendable {
    var key: InstanceKey
    var kind: ProcessKind
}

/// The whole state of the engine, as a value.
///
/// It encodes to JSON and decodes back to an equal value (stateful re-exec).
/// Only the primary facts are encoded; the indexes (event name to classes,
/// pid to instance, spawn to instance, timer to instance) are rebuilt from
/// them on decoding, which is what makes a decoded state consistent by
/// construction. Job classes travel as job-file text (`jobFileText`), which
/// the parser reads back to an equal `JobClass`.
public struct EngineState: Hashable, Sendable {
    public var configuration: EngineConfiguration
    public internal(set) var classes: [String: ClassEntry] = [:]
    public internal(set) var instances: [InstanceKey: JobInstance] = [:]
    public internal(set) var events: [EventID: Event] = [:]
    /// Events ready for a step (pending, or handled with no holds left),
    /// ascending: the queue is first in, first out.
    var ready: [EventID] = []
    var nextEventID: EventID = 1
    var nextSpawnID: SpawnID = 1
    var nextTimerID: TimerID = 1

    // Derived: rebuilt on decoding.
    /// Event name to the classes whose `start on` names it, sorted by name.
    /// A removed class is not here: nothing starts it any more.
    var startIndex: [String: [ClassDefinition]] = [:]
    /// Event name to the classes whose `stop on` names it, sorted by name.
    var stopIndex: [String: [ClassDefinition]] = [:]
    /// Job name to the sorted names of the classes whose `while` condition
    /// (of their effective definition) names it: a change of that job's
    /// state re-evaluates exactly these.
    var whileDependents: [String: [String]] = [:]
    /// Classes whose condition is to be evaluated when the input settles
    /// (empty between inputs, unless the conditions did not settle).
    var whilePending: Set<String> = []
    var pidIndex: [Int32: ProcessOwner] = [:]
    /// Processes reported killed by the OOM killer whose exit is next
    /// (`processOutOfMemory`); consumed by `processExited`, never encoded.
    var outOfMemory: Set<Int32> = []
    var spawnIndex: [SpawnID: ProcessOwner] = [:]
    var timers: [TimerID: InstanceKey] = [:]

    public init(configuration: EngineConfiguration) {
        self.configuration = configuration
    }

    /// Rebuilds every derived index from the primary facts.
    mutating func rebuildIndexes() {
        startIndex = [:]
        stopIndex = [:]
        whileDependents = [:]
        pidIndex = [:]
        spawnIndex = [:]
        timers = [:]
        for name in classes.keys.sorted() {
            index(classes[name]!.definition, start: !classes[name]!.removed)
            indexWhile(name)
        }
        for (key, inst) in instances {
            for (kind, pid) in inst.pids { pidIndex[pid] = ProcessOwner(key: key, kind: kind) }
            for (kind, id) in inst.pendingSpawns { spawnIndex[id] = ProcessOwner(key: key, kind: kind) }
            if let t = inst.killTimer { timers[t] = key }
            if let t = inst.respawnTimer { timers[t] = key }
        }
    }

    /// Adds a class to the event-name indexes (to the start index only
    /// when `start` is true).
    mutating func index(_ def: ClassDefinition, start: Bool = true) {
        if start {
            for name in def.job.startOn?.eventNames ?? [] {
                EngineState.sortedInsert(def, into: &startIndex[name, default: []])
            }
        }
        for name in def.job.stopOn?.eventNames ?? [] {
            EngineState.sortedInsert(def, into: &stopIndex[name, default: []])
        }
    }

    /// Removes a class from the start index (a deleted job starts no more).
    mutating func unindexStart(_ def: ClassDefinition) {
        for name in def.job.startOn?.eventNames ?? [] {
            EngineState.sortedRemove(def.name, from: &startIndex, at: name)
        }
    }

    /// Removes a class from both event-name indexes.
    mutating func unindex(_ def: ClassDefinition) {
        unindexStart(def)
        for name in def.job.stopOn?.eventNames ?? [] {
            EngineState.sortedRemove(def.name, from: &stopIndex, at: name)
        }
    }

    /// Adds a class to the `while` index under each job its effective
    /// condition names.
    mutating func indexWhile(_ name: String) {
        guard let cond = classes[name]?.effective.job.whileCondition else { return }
        for job in cond.jobNames {
            EngineState.sortedInsert(name, into: &whileDependents[job, default: []])
        }
    }

    /// Removes a class from the `while` index (before its effective
    /// definition changes or it goes).
    mutating func unindexWhile(_ name: String) {
        guard let cond = classes[name]?.effective.job.whileCondition else { return }
        for job in cond.jobNames {
            guard var list = whileDependents[job], let i = list.firstIndex(of: name) else { continue }
            list.remove(at: i)
            whileDependents[job] = list.isEmpty ? nil : list
        }
    }

    static func sortedInsert<T: Comparable>(_ value: T, into array: inout [T]) {
        var lo = 0, hi = array.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if array[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        if lo < array.count && array[lo] == value { return }
        array.insert(value, at: lo)
    }

    static func sortedInsert(_ def: ClassDefinition, into array: inout [ClassDefinition]) {
        var lo = 0, hi = array.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if array[mid].name < def.name { lo = mid + 1 } else { hi = mid }
        }
        if lo < array.count && array[lo].name == def.name {
            array[lo] = def
        } else {
            array.insert(def, at: lo)
        }
    }

    static func sortedRemove(_ name: String, from index: inout [String: [ClassDefinition]], at key: String) {
        guard var list = index[key], let i = list.firstIndex(where: { $0.name == name }) else { return }
        list.remove(at: i)
        index[key] = list.isEmpty ? nil : list
    }
}

extension Dictionary {
    /// Runs `body` on the value at `i` in place: reading a field this way
    /// does not copy the whole value out, as the subscript getter does.
    @inline(__always)
    mutating func withValue<R>(at i: Index, _ body: (inout Value) -> R) -> R {
        body(&values[i])
    }
}

// MARK: - JSON

/// A job class as the state document holds it: its job file text, and
/// what the engine remembers about it.
struct ClassRecord: Codable, Equatable {
    var name: String
    var text: String
    var startOn: OperatorState?
    var replacement: String?
    var removed: Bool
    var whileHolds: Bool
}

/// Why the primary facts of a state document make no state.
struct EngineStateError: Error, CustomStringConvertible {
    var description: String
}

extension EngineState {
    /// The classes as the document holds them, sorted by name.
    var classRecords: [ClassRecord] {
        classes.keys.sorted().map { name -> ClassRecord in
            let e = classes[name]!
            return ClassRecord(name: name, text: e.definition.job.jobFileText, startOn: e.startOn,
                               replacement: e.replacement?.job.jobFileText, removed: e.removed,
                               whileHolds: e.whileHolds)
        }
    }

    /// The instances and events, sorted by key and id (the document's order).
    var sortedInstances: [JobInstance] { instances.keys.sorted().map { instances[$0]! } }
    var sortedEvents: [Event] { events.keys.sorted().map { events[$0]! } }

    /// A state from the primary facts a document holds, whichever path
    /// read them (Codable or by hand): each class's text parsed again, the
    /// indexes rebuilt, and refused when no engine could have reached it
    /// (an instance listed twice, `inconsistency`).
    init(configuration: EngineConfiguration, classRecords: [ClassRecord], instances: [JobInstance], events: [Event],
         ready: [EventID], nextEventID: EventID, nextSpawnID: SpawnID, nextTimerID: TimerID) throws(EngineStateError) {
        self.init(configuration: configuration)
        for r in classRecords {
            var entry = ClassEntry(try EngineState.parse(name: r.name, text: r.text))
            entry.startOn = r.startOn
            if let text = r.replacement { entry.replacement = ClassDefinition(try EngineState.parse(name: r.name, text: text)) }
            entry.removed = r.removed
            entry.whileHolds = r.whileHolds
            classes[r.name] = entry
        }
        for inst in instances {
            // One record an instance: a second would replace the first in
            // the table but count twice in its class.
            guard self.instances.updateValue(inst, forKey: inst.key) == nil else {
                throw EngineStateError(description: "the instance \(inst.key) is listed twice")
            }
            classes[inst.key.job]?.instances.append(inst.key.instance)
        }
        for name in classes.keys {
            classes[name]!.instances.sort()
        }
        for ev in events {
            self.events[ev.id] = ev
        }
        self.ready = ready
        self.nextEventID = nextEventID
        self.nextSpawnID = nextSpawnID
        self.nextTimerID = nextTimerID
        rebuildIndexes()
        if let wrong = inconsistency() { throw EngineStateError(description: wrong) }
    }

    private static func parse(name: String, text: String) throws(EngineStateError) -> JobClass {
        do {
            return try Parser.parse(name: name, text: text, file: "<engine state: \(name)>")
        } catch {
            throw EngineStateError(description: "job class \(name): \(error)")
        }
    }
}

/// The Codable path: what `JSONValueEncoder`/`Decoder` (and Foundation's
/// coders, in the tests) write and read. The daemon writes and reads the
/// same document by hand (`EngineStateJSON.swift`), faster; the tests
/// compare the two.
extension EngineState: Codable {
    private enum Keys: String, CodingKey {
        case configuration, classes, instances, events, ready, nextEventID, nextSpawnID, nextTimerID
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(classRecords, forKey: .classes)
        try c.encode(sortedInstances, forKey: .instances)
        try c.encode(sortedEvents, forKey: .events)
        try c.encode(ready, forKey: .ready)
        try c.encode(nextEventID, forKey: .nextEventID)
        try c.encode(nextSpawnID, forKey: .nextSpawnID)
        try c.encode(nextTimerID, forKey: .nextTimerID)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        do {
            try self.init(configuration: try c.decode(EngineConfiguration.self, forKey: .configuration),
                          classRecords: try c.decode([ClassRecord].self, forKey: .classes),
                          instances: try c.decode([JobInstance].self, forKey: .instances),
                          events: try c.decode([Event].self, forKey: .events),
                          ready: try c.decode([EventID].self, forKey: .ready),
                          nextEventID: try c.decode(EventID.self, forKey: .nextEventID),
                          nextSpawnID: try c.decode(SpawnID.self, forKey: .nextSpawnID),
                          nextTimerID: try c.decode(TimerID.self, forKey: .nextTimerID))
        } catch let error as EngineStateError {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: error.description))
        }
    }
}

extension EngineState {
    /// What makes a decoded state one no engine could have reached, or nil.
    /// Each pid, pending spawn and armed timer belongs to one process or
    /// instance, and every instance to a defined job: the indexes rebuilt
    /// from a state that says otherwise would depend on dictionary order.
    func inconsistency() -> String? {
        var pids = 0, spawns = 0, armed = 0
        for (key, inst) in instances {
            guard classes[key.job] != nil else {
                return "an instance of '\(key.job)', a job the document does not define"
            }
            pids += inst.pids.count
            spawns += inst.pendingSpawns.count
            armed += (inst.killTimer == nil ? 0 : 1) + (inst.respawnTimer == nil ? 0 : 1)
        }
        func twice<ID: Hashable & Comparable>(_ ids: [ID]) -> ID? {
            var seen = Set<ID>()
            return ids.sorted().first { !seen.insert($0).inserted }
        }
        if pidIndex.count != pids, let pid = twice(instances.values.flatMap { $0.pids.values }) {
            return "pid \(pid) is given to two processes"
        }
        if spawnIndex.count != spawns, let id = twice(instances.values.flatMap { $0.pendingSpawns.values }) {
            return "spawn \(id) is given to two processes"
        }
        if timers.count != armed {
            return "a timer is armed for two instances"
        }
        return nil
    }
}

extension ProcessExit: Codable {
    private enum Keys: String, CodingKey { case exited, killed }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .exited(let s): try c.encode(s, forKey: .exited)
        case .killed(let s): try c.encode(s.number, forKey: .killed)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if let s = try c.decodeIfPresent(Int32.self, forKey: .exited) {
            self = .exited(s)
        } else {
            self = .killed(Signal(number: try c.decode(Int32.self, forKey: .killed)))
        }
    }
}
