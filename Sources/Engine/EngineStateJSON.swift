import JSON
import JobFile

// The engine's state written and read by hand (`JSONFields`), the path the
// daemon takes for a re-exec: the same document, member for member, as the
// Codable conformances (synthesized, and `EngineState`'s own in
// EngineState.swift) write and read, at a fraction of the cost. Members
// are written in sorted order, as the Codable path sorts them; an optional
// member that is nil is left out, as `encodeIfPresent` leaves it.
// ReexecDocumentTests compare the two paths on a state with every field
// set, so a field added to a type and forgotten here fails a test.

extension EngineState {
    public var documentJSON: JSONValue {
        .object([
            ("classes", .array(classRecords.map(\.documentJSON))),
            ("configuration", configuration.documentJSON),
            ("events", .array(sortedEvents.map(\.documentJSON))),
            ("instances", .array(sortedInstances.map(\.documentJSON))),
            ("nextEventID", .integer(nextEventID)),
            ("nextSpawnID", .integer(nextSpawnID)),
            ("nextTimerID", .integer(nextTimerID)),
            ("ready", .integers(ready)),
        ])
    }

    public init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        do {
            try self.init(configuration: f.nested("configuration", EngineConfiguration.init(documentJSON:)),
                          classRecords: try f.records("classes", ClassRecord.init(documentJSON:)),
                          instances: try f.records("instances", JobInstance.init(documentJSON:)),
                          events: try f.records("events", Event.init(documentJSON:)),
                          ready: f.integers("ready", as: EventID.self),
                          nextEventID: try f.integer("nextEventID"),
                          nextSpawnID: try f.integer("nextSpawnID"),
                          nextTimerID: try f.integer("nextTimerID"))
        } catch let error as EngineStateError {
            throw JSONShapeError("", error.description)
        } catch let error as JSONShapeError {
            throw error
        } catch {
            throw JSONShapeError("", "\(error)")
        }
    }
}

extension ClassRecord {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = [("name", .string(name)), ("removed", .bool(removed))]
        if let replacement { o.append(("replacement", .string(replacement))) }
        if let startOn { o.append(("startOn", startOn.documentJSON)) }
        o.append(("text", .string(text)))
        o.append(("whileHolds", .bool(whileHolds)))
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        name = try f.string("name")
        text = try f.string("text")
        startOn = try f.optionalNested("startOn", OperatorState.init(documentJSON:))
        replacement = try f.optionalString("replacement")
        removed = try f.bool("removed")
        whileHolds = try f.bool("whileHolds")
    }
}

extension EngineConfiguration {
    var documentJSON: JSONValue {
        .object([
            ("daemonEnvironment", .strings(daemonEnvironment)),
            ("defaultEnvironment", .strings(defaultEnvironment)),
            ("verbose", .bool(verbose)),
        ])
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(defaultEnvironment: try f.strings("defaultEnvironment"),
                  daemonEnvironment: try f.strings("daemonEnvironment"),
                  verbose: try f.bool("verbose"))
    }
}

extension OperatorState {
    var documentJSON: JSONValue {
        .object([("held", .array(held.map { $0.map(JSONValue.integer) ?? .null }))])
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(leaves: 0)
        held = try f.records("held") { v throws(JSONShapeError) in v.isNull ? nil : try v.asInteger(EventID.self) }
    }
}

extension InstanceKey {
    var documentJSON: JSONValue { .object([("instance", .string(instance)), ("job", .string(job))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(job: try f.string("job"), instance: try f.string("instance"))
    }
}

extension Environment {
    var documentJSON: JSONValue { .object([("entries", .strings(entries))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        self.init(try JSONFields(value).strings("entries"))
    }
}

extension EngineTime {
    var documentJSON: JSONValue { .object([("nanoseconds", .integer(nanoseconds))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        self.init(nanoseconds: try JSONFields(value).integer("nanoseconds"))
    }
}

extension PassedDescriptor {
    var documentJSON: JSONValue { .object([("handle", .integer(handle)), ("name", .string(name))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(handle: try f.integer("handle"), name: try f.string("name"))
    }
}

/// An enum case with associated values as synthesized Codable writes it:
/// `{"CASE":{"_0":...,"_1":...}}`; read as it reads it: exactly one of the
/// known cases among the members (others are ignored), its last value,
/// read by `read` with the case's name.
private func enumCase<T>(_ value: JSONValue, cases: [String], _ read: (String, JSONFields) throws(JSONShapeError) -> T) throws(JSONShapeError) -> T {
    let f = try JSONFields(value)
    var found: [String] = []
    for (k, _) in f.pairs where cases.contains(k) && !found.contains(k) { found.append(k) }
    guard found.count == 1 else { throw JSONShapeError("", "expected exactly one of \(cases.joined(separator: ", "))") }
    return try f.nested(found[0]) { v throws(JSONShapeError) in try read(found[0], JSONFields(v)) }
}

extension Blocked {
    var documentJSON: JSONValue {
        switch self {
        case .event(let id): return .object([("event", .object([("_0", .integer(id))]))])
        case .request(let id, let action):
            return .object([("request", .object([("_0", .integer(id)), ("_1", .string(action.rawValue))]))])
        }
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        self = try enumCase(value, cases: ["event", "request"]) { name, f throws(JSONShapeError) in
            if name == "event" { return .event(try f.integer("_0")) }
            let action = try f.string("_1")
            guard let a = ControlAction(rawValue: action) else { throw JSONShapeError("_1", "unknown action '\(action)'") }
            return .request(try f.integer("_0"), a)
        }
    }
}

extension FailedProcess {
    var documentJSON: JSONValue {
        switch self {
        case .process(let kind): return .object([("process", .object([("_0", .string(kind.rawValue))]))])
        case .respawn: return .object([("respawn", .object([]))])
        }
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        self = try enumCase(value, cases: ["process", "respawn"]) { name, f throws(JSONShapeError) in
            if name == "respawn" { return .respawn }
            return .process(try processKind(f.string("_0"), at: "_0"))
        }
    }
}

private func processKind(_ name: String, at path: String) throws(JSONShapeError) -> ProcessKind {
    guard let kind = ProcessKind(rawValue: name) else { throw JSONShapeError(path, "unknown process '\(name)'") }
    return kind
}

/// A raw-value enum member.
private func named<E: RawRepresentable<String>>(_: E.Type, _ f: JSONFields, _ key: String) throws(JSONShapeError) -> E {
    let name = try f.string(key)
    guard let v = E(rawValue: name) else { throw JSONShapeError(key, "unknown value '\(name)'") }
    return v
}

/// `[ProcessKind: I]` as an object keyed by the process's name, sorted.
private func processTable<I: FixedWidthInteger>(_ table: [ProcessKind: I]) -> JSONValue {
    var o: [(String, JSONValue)] = []
    for kind in ProcessKind.documentOrder { if let v = table[kind] { o.append((kind.rawValue, .integer(v))) } }
    return .object(o)
}

private func processTable<I: FixedWidthInteger>(_ f: JSONFields, _ key: String) throws(JSONShapeError) -> [ProcessKind: I] {
    try f.nested(key) { table throws(JSONShapeError) in
        var out: [ProcessKind: I] = [:]
        for (name, v) in try JSONFields(table).pairs {
            do throws(JSONShapeError) {
                out[try processKind(name, at: "")] = try v.asInteger(I.self)
            } catch {
                throw error.within(name)
            }
        }
        return out
    }
}

extension ProcessKind {
    /// The kinds sorted by name, the order of a document's keys.
    static let documentOrder = ProcessKind.allCases.sorted { $0.rawValue < $1.rawValue }
}

extension Failure {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = []
        if let exitSignal { o.append(("exitSignal", .integer(exitSignal))) }
        if let exitStatus { o.append(("exitStatus", .integer(exitStatus))) }
        if let outOfMemory { o.append(("outOfMemory", .bool(outOfMemory))) }
        o.append(("process", process.documentJSON))
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(process: try f.nested("process", FailedProcess.init(documentJSON:)), status: nil)
        exitStatus = try f.optionalInteger("exitStatus")
        exitSignal = try f.optionalInteger("exitSignal")
        outOfMemory = try f.optionalBool("outOfMemory")
    }
}

extension Event {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = [
            ("blockedJobs", .array(blockedJobs.map(\.documentJSON))),
            ("blockers", .integer(blockers)),
            ("descriptors", .integers(descriptors)),
            ("environment", .strings(environment)),
            ("failed", .bool(failed)),
            ("id", .integer(id)),
            ("name", .string(name)),
            ("progress", .string(progress.rawValue)),
        ]
        if let waiter { o.append(("waiter", .integer(waiter))) }
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(id: try f.integer("id"), name: try f.string("name"), environment: try f.strings("environment"),
                  waiter: try f.optionalInteger("waiter"),
                  descriptors: try f.integers("descriptors", as: Int32.self))
        progress = try named(EventProgress.self, f, "progress")
        blockers = try f.integer("blockers")
        failed = try f.bool("failed")
        blockedJobs = try f.records("blockedJobs", InstanceKey.init(documentJSON:))
    }
}

extension JobInstance {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = []
        o.reserveCapacity(24)
        if let blocker { o.append(("blocker", .integer(blocker))) }
        o.append(("blocking", .array(blocking.map(\.documentJSON))))
        o.append(("descriptors", .array(descriptors.map(\.documentJSON))))
        o.append(("environment", environment.documentJSON))
        if let failure { o.append(("failure", failure.documentJSON)) }
        o.append(("goal", .string(goal.rawValue)))
        o.append(("key", key.documentJSON))
        if let killPid { o.append(("killPid", .integer(killPid))) }
        if let killTimer { o.append(("killTimer", .integer(killTimer))) }
        if let lastRespawnDelay { o.append(("lastRespawnDelay", .integer(lastRespawnDelay))) }
        o.append(("level", .string(level.rawValue)))
        if let mainStartedAt { o.append(("mainStartedAt", mainStartedAt.documentJSON)) }
        o.append(("pendingSpawns", processTable(pendingSpawns)))
        o.append(("pids", processTable(pids)))
        if let respawnAt { o.append(("respawnAt", respawnAt.documentJSON)) }
        o.append(("respawnCount", .integer(respawnCount)))
        if let respawnDelayDue { o.append(("respawnDelayDue", .integer(respawnDelayDue))) }
        if let respawnTimer { o.append(("respawnTimer", .integer(respawnTimer))) }
        if let respawnWindowStart { o.append(("respawnWindowStart", .integer(respawnWindowStart))) }
        if let startDescriptors { o.append(("startDescriptors", .array(startDescriptors.map(\.documentJSON)))) }
        if let startEnvironment { o.append(("startEnvironment", startEnvironment.documentJSON)) }
        o.append(("state", .string(state.rawValue)))
        if let stopEnvironment { o.append(("stopEnvironment", stopEnvironment.documentJSON)) }
        if let stopOn { o.append(("stopOn", stopOn.documentJSON)) }
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(key: try f.nested("key", InstanceKey.init(documentJSON:)))
        goal = try named(Goal.self, f, "goal")
        state = try named(JobState.self, f, "state")
        environment = try f.nested("environment", Environment.init(documentJSON:))
        startEnvironment = try f.optionalNested("startEnvironment", Environment.init(documentJSON:))
        stopEnvironment = try f.optionalNested("stopEnvironment", Environment.init(documentJSON:))
        stopOn = try f.optionalNested("stopOn", OperatorState.init(documentJSON:))
        pids = try processTable(f, "pids")
        pendingSpawns = try processTable(f, "pendingSpawns")
        blocker = try f.optionalInteger("blocker")
        blocking = try f.records("blocking", Blocked.init(documentJSON:))
        killTimer = try f.optionalInteger("killTimer")
        killPid = try f.optionalInteger("killPid")
        failure = try f.optionalNested("failure", Failure.init(documentJSON:))
        level = try named(WhileLevel.self, f, "level")
        respawnWindowStart = try f.optionalInteger("respawnWindowStart")
        respawnCount = try f.integer("respawnCount")
        descriptors = try f.records("descriptors", PassedDescriptor.init(documentJSON:))
        startDescriptors = try f.optionalRecords("startDescriptors", PassedDescriptor.init(documentJSON:))
        mainStartedAt = try f.optionalNested("mainStartedAt", EngineTime.init(documentJSON:))
        lastRespawnDelay = try f.optionalInteger("lastRespawnDelay")
        respawnDelayDue = try f.optionalInteger("respawnDelayDue")
        respawnTimer = try f.optionalInteger("respawnTimer")
        respawnAt = try f.optionalNested("respawnAt", EngineTime.init(documentJSON:))
    }
}
