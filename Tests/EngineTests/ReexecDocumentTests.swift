import FoundationEssentials
import JSON
import JobFile
import Testing
@testable import Engine

// The re-exec state document (ReexecDocument.swift): it round-trips, it
// refuses what it does not know with a message, it never traps on any
// bytes, and a version-1 document saved by this build (Fixtures/) stays
// readable by every later build.

/// An engine mid-flight: a job running, one blocked in `starting` by a
/// task, an event whose emitter waits, a timer armed.
private func midFlight() -> Harness {
    var h = Harness(autoSpawn: false)
    h.add("svc", "respawn\nexec /bin/svc\n")
    h.add("gated", "exec /bin/gated\n")
    h.add("helper", "start on starting gated\ntask\nexec /bin/helper\n")
    h.add("b", "env N=1\ntask\nstart on starting a\nstop on never N=$N\nexec /bin/b\n")
    h.add("a", "start on go and net\nkill timeout 7\nexec /bin/a\n")
    _ = h.request(.start, "svc")
    h.answerSpawn()
    _ = h.request(.start, "gated")
    h.answerSpawn()
    _ = h.emit("net", ["N=1"], waiter: 7)
    _ = h.emit("go", ["N=1"])
    h.answerSpawn()
    return h
}

private func shell() -> ShellState {
    var s = ShellState(listener: 5, socketPath: "/run/daybreak/control")
    s.timers = [ArmedTimer(id: 3, at: 123_456_789)]
    s.nextRequestID = 9
    var inst = InstanceShell(key: "svc", job: "svc", instance: "")
    inst.groups = ["/sys/fs/cgroup/daybreak/svc"]
    inst.notify = NotifyRecord(fd: 12, address: "@daybreak-1-0", mainPid: 42, announcedPid: nil, ready: true)
    s.instances = [inst]
    s.logs = [LogPty(master: 11, file: "/var/log/upstart/svc.log", pid: 42)]
    s.heldLogs = [HeldLog(file: "/var/log/upstart/svc.log", bytes: Array("held\n".utf8))]
    s.clients = [ClientRecord(fd: 13, pid: 77, uid: 0, gid: 0, privileged: true, subscribed: false, inFlight: 1, output: [0, 0, 0, 2, 123, 125])]
    s.pending = [PendingReply(request: 8, client: 13, id: 1, method: "start")]
    return s
}

@Test func reexecDocumentRoundTripsMidFlight() throws {
    let h = midFlight()
    #expect(h.goalState("gated") == "start/starting")
    let doc = ReexecDocument(engine: h.engine.state, shell: shell())
    let bytes = try doc.encoded()
    let back = try ReexecDocument.decode(bytes).get()
    #expect(back == doc)
    #expect(try back.encoded() == bytes, "equal documents give equal bytes")
}

@Test func reexecDocumentOfAnotherVersionIsRefusedWithAMessage() throws {
    let doc = try JSONValueEncoder().encode(ReexecDocument(engine: midFlight().engine.state, shell: shell()))
    guard case .object(var fields) = doc else { Issue.record("not an object"); return }
    fields = fields.map { $0.0 == "version" ? ("version", .number(2)) : $0 }
    let refused = ReexecDocument.decode(Array(JSONValue.object(fields).compact.utf8))
    #expect(refused == .failure(ReexecDocumentError("the state document is version 2, and this build reads version 1 only")))
    #expect(ReexecDocument.decode(Array(#"{"format":"other","version":1}"#.utf8))
        == .failure(ReexecDocumentError("the state document is not a daybreak state document (no \"format\": \"daybreak-state\")")))
    guard case .failure(let e) = ReexecDocument.decode(Array("not json".utf8)) else { Issue.record("accepted"); return }
    #expect(e.description.hasPrefix("the state document is not valid JSON"))
    guard case .failure(let m) = ReexecDocument.decode(Array(#"{"format":"daybreak-state","version":1,"engine":{}}"#.utf8)) else {
        Issue.record("accepted"); return
    }
    #expect(m.description.hasPrefix("the state document (version 1) does not decode"))
}

@Test func reexecDocumentDecoderNeverTrapsOnDamagedBytes() throws {
    let bytes = try ReexecDocument(engine: midFlight().engine.state, shell: shell()).encoded()
    var rng = SystemRandomNumberGenerator()
    // Every truncation, and random single-byte damage.
    for n in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 400)) {
        _ = ReexecDocument.decode(Array(bytes[..<n]))
    }
    for _ in 0..<400 {
        var damaged = bytes
        damaged[Int.random(in: 0..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        _ = ReexecDocument.decode(damaged)
    }
}

private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/reexec-v1.json")

/// A version-1 document written by the build that introduced re-exec:
/// every later build must read it (or refuse it with a message).
@Test func savedVersionOneDocumentStillDecodes() throws {
    if ProcessInfo.processInfo.environment["DAYBREAK_WRITE_FIXTURES"] != nil {
        try Data(try ReexecDocument(engine: midFlight().engine.state, shell: shell()).encoded()).write(to: fixture)
    }
    let data = try Data(contentsOf: fixture)
    let doc = try ReexecDocument.decode(Array(data)).get()
    #expect(doc.version == 1)
    #expect(Set(doc.engine.classes.keys) == ["a", "b", "gated", "helper", "svc"])
    #expect(doc.engine.instances.count == 5)
    #expect(doc.shell.pending.first?.method == "start")
    #expect(doc.shell.clients.first?.output == [0, 0, 0, 2, 123, 125])
}

@Test func adoptedInstanceRunsAndIsSupervisedAsAnyOther() throws {
    var h = Harness()
    h.add("svc", "respawn\nexec /bin/svc\n")
    h.add("plain", "exec /bin/plain\n")
    #expect(h.engine.adoptRunning(job: "svc", instance: "", mainPid: 4242, at: EngineTime(nanoseconds: 0)) != nil)
    #expect(h.engine.adoptRunning(job: "plain", instance: "", mainPid: 4343, at: EngineTime(nanoseconds: 0)) != nil)
    #expect(h.goalState("svc") == "start/running")
    #expect(h.pid("svc") == 4242)
    // Nothing runs twice: a second adoption, or of an unknown job, is refused.
    #expect(h.engine.adoptRunning(job: "svc", instance: "", mainPid: 5000, at: EngineTime(nanoseconds: 0)) == nil)
    #expect(h.engine.adoptRunning(job: "nosuch", instance: "", mainPid: 5001, at: EngineTime(nanoseconds: 0)) == nil)
    // Its death is respawned; a stop stops the other.
    h.send(.processExited(pid: 4242, status: .killed(Signal(number: 9))))
    #expect(h.goalState("svc") == "start/running")
    #expect(h.pid("svc") != 4242 && h.pid("svc") != nil)
    _ = h.request(.stop, "plain")
    h.send(.processExited(pid: 4343, status: .killed(Signal(number: 15))))
    #expect(h.goalState("plain") == nil || h.goalState("plain") == "stop/waiting")
}

/// The saved version-1 document with `edit` applied to its text.
private func fixtureEdited(_ from: String, _ to: String) throws -> [UInt8] {
    let text = String(decoding: try Data(contentsOf: fixture), as: UTF8.self)
    #expect(text.contains(from), "the fixture no longer holds \(from)")
    return Array(text.replacingOccurrences(of: from, with: to).utf8)
}

/// FuzzReexec (its first long run; the input is Fuzz/corpus/reexec/pid-given-twice):
/// a document giving one pid to two instances decoded, but which of the two
/// owned the pid depended on dictionary order, so the document did not
/// round-trip, and the new daemon would have reaped one job's exit as the
/// other's. A pid, a pending spawn or an armed timer belongs to one
/// process; a document that says otherwise is refused, with a message that
/// names what is given twice.
@Test func reexecDocumentGivingOnePidToTwoProcessesIsRefused() throws {
    let found = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus/reexec/pid-given-twice"))
    guard case .failure(let e) = ReexecDocument.decode(Array(found)) else {
        Issue.record("a document giving pid 101 to two instances was accepted"); return
    }
    #expect(e.description.contains("pid 101 is given to two processes"), "\(e)")

    // The same within one instance, and for a pending spawn.
    let twice = try fixtureEdited(#""pids":{"main":100}"#, #""pids":{"main":100,"post-start":100}"#)
    guard case .failure(let own) = ReexecDocument.decode(twice) else { Issue.record("accepted"); return }
    #expect(own.description.contains("pid 100 is given to two processes"), "\(own)")
    let spawns = try fixtureEdited(#""pendingSpawns":{}"#, #""pendingSpawns":{"main":3}"#)
    guard case .failure(let s) = ReexecDocument.decode(spawns) else { Issue.record("accepted"); return }
    #expect(s.description.contains("spawn 3 is given to two processes"), "\(s)")
    // An instance of a job the document does not define.
    let orphan = try fixtureEdited(#""job":"svc"},"level""#, #""job":"nosuch"},"level""#)
    guard case .failure(let o) = ReexecDocument.decode(orphan) else { Issue.record("accepted"); return }
    #expect(o.description.contains("an instance of 'nosuch', a job the document does not define"), "\(o)")
    // The untouched fixture still decodes.
    #expect((try? ReexecDocument.decode(Array(try Data(contentsOf: fixture))).get()) != nil)
}

/// FuzzReexec (the run that first compared the hand-written reader with
/// the Codable one; the input is Fuzz/corpus/reexec/instance-given-twice):
/// a document listing one instance twice decoded, the second record
/// replacing the first but the instance counted twice in its class, so
/// the document did not round-trip (and `list` would have shown the
/// instance twice). An instance is one record; a document that lists one
/// twice is refused, with a message that names it.
@Test func reexecDocumentListingOneInstanceTwiceIsRefused() throws {
    let found = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus/reexec/instance-given-twice"))
    guard case .failure(let e) = ReexecDocument.decode(Array(found)) else {
        Issue.record("a document listing instance 'b' twice was accepted"); return
    }
    #expect(e.description.contains("the instance b is listed twice"), "\(e)")
    // The Codable reader refuses it too.
    #expect((try? JSONValueDecoder().decode(ReexecDocument.self, from: try JSONValue.parse(Array(found)))) == nil)
}

/// FuzzReexec (Fuzz/corpus/reexec/format-given-twice): a document giving
/// `format` twice, the daybreak one first and another last, was accepted,
/// since the check looked at the first while the reader (as the Codable
/// one) takes a member's last value; the document read then said the other
/// format, and did not read again once written. The checks now take the
/// last value, as the reader does.
@Test func reexecDocumentGivingTheFormatOrVersionTwiceIsJudgedByTheLast() throws {
    let bytes = try ReexecDocument(engine: midFlight().engine.state, shell: shell()).encoded()
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.hasSuffix("}"))
    let otherFormat = Array((text.dropLast() + #","format":"other"}"#).utf8)
    #expect(ReexecDocument.decode(otherFormat)
        == .failure(ReexecDocumentError("the state document is not a daybreak state document (no \"format\": \"daybreak-state\")")))
    let otherVersion = Array((text.dropLast() + #","version":2}"#).utf8)
    #expect(ReexecDocument.decode(otherVersion)
        == .failure(ReexecDocumentError("the state document is version 2, and this build reads version 1 only")))
    let found = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus/reexec/format-given-twice"))
    guard case .failure = ReexecDocument.decode(Array(found)) else { Issue.record("accepted"); return }
}
