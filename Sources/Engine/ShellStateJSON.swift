import JSON

// The shell's part of the re-exec document written and read by hand, as
// EngineStateJSON.swift does the engine's: the same members as the
// synthesized Codable conformances, sorted, nil optionals left out.

extension ReexecDocument {
    /// The whole document, by hand (what `encoded()` prints).
    public var documentJSON: JSONValue {
        .object([
            ("engine", engine.documentJSON),
            ("format", .string(format)),
            ("shell", shell.documentJSON),
            ("version", .integer(version)),
        ])
    }

    /// A document read by hand (what `decode` uses once the format and
    /// version are checked).
    public init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        format = try f.string("format")
        version = try f.integer("version")
        engine = try f.nested("engine", EngineState.init(documentJSON:))
        shell = try f.nested("shell", ShellState.init(documentJSON:))
    }
}

extension ShellState {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = [
            ("clients", .array(clients.map(\.documentJSON))),
            ("draining", .array(draining.map(\.documentJSON))),
            ("heldLogs", .array(heldLogs.map(\.documentJSON))),
            ("instances", .array(instances.map(\.documentJSON))),
            ("listener", .integer(listener)),
        ]
        if let logPriority { o.append(("logPriority", .string(logPriority))) }
        o.append(("logs", .array(logs.map(\.documentJSON))))
        o.append(("madeNamedGroups", .strings(madeNamedGroups)))
        o.append(("nextNotifySocket", .integer(nextNotifySocket)))
        o.append(("nextRequestID", .integer(nextRequestID)))
        o.append(("pending", .array(pending.map(\.documentJSON))))
        if let postMortems { o.append(("postMortems", .array(postMortems.map(\.documentJSON)))) }
        o.append(("socketPath", .string(socketPath)))
        o.append(("timers", .array(timers.map(\.documentJSON))))
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(listener: try f.integer("listener"), socketPath: try f.string("socketPath"))
        timers = try f.records("timers", ArmedTimer.init(documentJSON:))
        nextRequestID = try f.integer("nextRequestID")
        nextNotifySocket = try f.integer("nextNotifySocket")
        instances = try f.records("instances", InstanceShell.init(documentJSON:))
        draining = try f.records("draining", DrainingGroup.init(documentJSON:))
        madeNamedGroups = try f.strings("madeNamedGroups")
        logs = try f.records("logs", LogPty.init(documentJSON:))
        heldLogs = try f.records("heldLogs", HeldLog.init(documentJSON:))
        clients = try f.records("clients", ClientRecord.init(documentJSON:))
        pending = try f.records("pending", PendingReply.init(documentJSON:))
        logPriority = try f.optionalString("logPriority")
        postMortems = try f.optionalRecords("postMortems", PostMortemRecord.init(documentJSON:))
    }
}

extension ArmedTimer {
    var documentJSON: JSONValue { .object([("at", .integer(at)), ("id", .integer(id))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(id: try f.integer("id"), at: try f.integer("at"))
    }
}

extension InstanceShell {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = [
            ("groups", .strings(groups)),
            ("instance", .string(instance)),
            ("job", .string(job)),
            ("key", .string(key)),
            ("namedGroups", .strings(namedGroups)),
        ]
        if let notify { o.append(("notify", notify.documentJSON)) }
        if let notifyStatus { o.append(("notifyStatus", .string(notifyStatus))) }
        if let oomKills { o.append(("oomKills", .integer(oomKills))) }
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(key: try f.string("key"), job: try f.string("job"), instance: try f.string("instance"))
        groups = try f.strings("groups")
        namedGroups = try f.strings("namedGroups")
        oomKills = try f.optionalInteger("oomKills")
        notify = try f.optionalNested("notify", NotifyRecord.init(documentJSON:))
        notifyStatus = try f.optionalString("notifyStatus")
    }
}

extension NotifyRecord {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = [("address", .string(address))]
        if let announcedPid { o.append(("announcedPid", .integer(announcedPid))) }
        o += [("fd", .integer(fd)), ("mainPid", .integer(mainPid)), ("ready", .bool(ready))]
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(fd: try f.integer("fd"), address: try f.string("address"), mainPid: try f.integer("mainPid"),
                  announcedPid: try f.optionalInteger("announcedPid"), ready: try f.bool("ready"))
    }
}

extension DrainingGroup {
    var documentJSON: JSONValue {
        .object([("key", .string(key)), ("killAt", .integer(killAt)), ("killed", .bool(killed)), ("paths", .strings(paths))])
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(key: try f.string("key"), paths: try f.strings("paths"), killAt: try f.integer("killAt"), killed: try f.bool("killed"))
    }
}

extension LogPty {
    var documentJSON: JSONValue { .object([("file", .string(file)), ("master", .integer(master)), ("pid", .integer(pid))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(master: try f.integer("master"), file: try f.string("file"), pid: try f.integer("pid"))
    }
}

extension HeldLog {
    var documentJSON: JSONValue { .object([("bytes", .integers(bytes)), ("file", .string(file))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(file: try f.string("file"), bytes: try f.integers("bytes", as: UInt8.self))
    }
}

extension ClientRecord {
    var documentJSON: JSONValue {
        .object([
            ("fd", .integer(fd)), ("gid", .integer(gid)), ("inFlight", .integer(inFlight)), ("output", .integers(output)),
            ("pid", .integer(pid)), ("privileged", .bool(privileged)), ("subscribed", .bool(subscribed)), ("uid", .integer(uid)),
        ])
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(fd: try f.integer("fd"), pid: try f.integer("pid"), uid: try f.integer("uid"), gid: try f.integer("gid"),
                  privileged: try f.bool("privileged"), subscribed: try f.bool("subscribed"), inFlight: try f.integer("inFlight"),
                  output: try f.integers("output", as: UInt8.self))
    }
}

extension PendingReply {
    var documentJSON: JSONValue {
        .object([("client", .integer(client)), ("id", .integer(id)), ("method", .string(method)), ("request", .integer(request))])
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(request: try f.integer("request"), client: try f.integer("client"), id: try f.integer("id"), method: try f.string("method"))
    }
}

extension PostMortemRecord {
    var documentJSON: JSONValue {
        var o: [(String, JSONValue)] = [("history", .array(history.map(\.documentJSON))), ("instance", .string(instance)), ("job", .string(job))]
        if let lastFailure { o.append(("lastFailure", lastFailure.documentJSON)) }
        return .object(o)
    }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(job: try f.string("job"), instance: try f.string("instance"),
                  history: try f.records("history", PostMortemLine.init(documentJSON:)),
                  lastFailure: try f.optionalNested("lastFailure", PostMortemLine.init(documentJSON:)))
    }
}

extension PostMortemLine {
    var documentJSON: JSONValue { .object([("at", .integer(at)), ("text", .string(text))]) }

    init(documentJSON value: JSONValue) throws(JSONShapeError) {
        let f = try JSONFields(value)
        self.init(at: try f.integer("at"), text: try f.string("text"))
    }
}
