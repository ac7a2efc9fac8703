import JSON
import JobFile
import PropertyBased
import Testing
@testable import Engine

// The re-exec document written and read by hand (EngineStateJSON.swift,
// ShellStateJSON.swift), held to the Codable conformances it replaces in
// the daemon: the same bytes written, the same value read, for a state in
// which every field of every record is set (so a field the hand-written
// path forgets fails here), and for random engine histories.

/// Every optional stored property of `value` that is nil, by name: a rich
/// record below must set them all, so a field added later is either
/// exercised here or named by this test.
private func nilFields(_ value: Any) -> [String] {
    Mirror(reflecting: value).children.compactMap { child in
        guard let label = child.label else { return nil }
        let m = Mirror(reflecting: child.value)
        return m.displayStyle == .optional && m.children.isEmpty ? label : nil
    }
}

/// A state with an instance in every state, and one instance in which
/// every field holds a value.
private func richEngine() -> EngineState {
    var h = Harness(autoSpawn: false, daemonEnvironment: ["HOME=/root"])
    h.add("svc", "respawn\nrespawn delay 2\nexec /bin/svc\n")
    h.add("gated", "exec /bin/gated\n")
    h.add("helper", "start on starting gated\ntask\nexec /bin/helper\n")
    h.add("multi", "instance $N\nenv HOME\nstart on go N=*\nstop on halt N=$N\npre-stop exec /bin/ps\nexec /bin/m\n")
    h.add("a", "start on go and net\nkill timeout 7\nexec /bin/a\n")
    _ = h.request(.start, "svc")
    h.answerSpawn()
    _ = h.request(.start, "gated")
    h.answerSpawn()
    _ = h.emit("net", ["N=1"], waiter: 7)
    _ = h.emit("go", ["N=1"])
    h.answerSpawn()
    h.answerSpawn()
    var state = h.engine.state
    // Every state an instance can be in, beside those the history made.
    for (i, s) in JobState.allCases.enumerated() {
        var inst = JobInstance(key: InstanceKey(job: "multi", instance: "s\(i)"))
        inst.goal = Goal.allCases[i % Goal.allCases.count]
        inst.state = s
        inst.level = [.down, .rising, .up, .falling][i % 4]
        inst.environment = Environment(["N=s\(i)", "QUOTE=\"\\\n\t"])
        inst.pids = [.main: 5000 + Int32(i)]
        state.instances[inst.key] = inst
        state.classes["multi"]!.instances.append(inst.key.instance)
    }
    var full = JobInstance(key: InstanceKey(job: "multi", instance: "full"))
    full.goal = .respawn
    full.state = .postStop
    full.environment = Environment(["N=full", "UPSTART_EVENTS=go"])
    full.startEnvironment = Environment(["N=next"])
    full.stopEnvironment = Environment(["UPSTART_STOP_EVENTS=halt"])
    full.stopOn = OperatorState(leaves: 2)
    full.stopOn!.held = [nil, 42]
    full.pids = [.main: 6000, .postStart: 6001, .preStart: 6002, .preStop: 6003, .postStop: 6004]
    full.pendingSpawns = [.main: 900, .postStop: 901]
    full.blocker = 43
    full.blocking = [.event(44), .request(45, .restart)]
    full.killTimer = 950
    full.killPid = 6000
    full.failure = Failure(process: .process(.preStop), status: .exited(3))
    full.failure!.exitSignal = 9
    full.failure!.outOfMemory = true
    full.respawnWindowStart = 1_000_000
    full.respawnCount = 3
    full.descriptors = [PassedDescriptor(handle: 20, name: "web")]
    full.startDescriptors = [PassedDescriptor(handle: 21, name: "next")]
    full.mainStartedAt = EngineTime(nanoseconds: 123)
    full.lastRespawnDelay = 2000
    full.respawnDelayDue = 4000
    full.respawnTimer = 951
    full.respawnAt = EngineTime(nanoseconds: 456)
    state.instances[full.key] = full
    state.classes["multi"]!.instances.append("full")
    var respawned = JobInstance(key: InstanceKey(job: "multi", instance: "respawned"))
    respawned.failure = Failure(process: .respawn, status: .killed(Signal(number: 15)))
    state.instances[respawned.key] = respawned
    state.classes["multi"]!.instances.append("respawned")
    state.classes["multi"]!.instances.sort()
    // An event whose emitter waits, that carries a descriptor, has failed
    // and holds an instance back.
    var event = Event(id: 99, name: "socket", environment: ["JOB=multi", "PORT=80"], waiter: 77, descriptors: [30])
    event.progress = .handling
    event.blockers = 2
    event.failed = true
    event.blockedJobs = [full.key]
    state.events[99] = event
    state.nextEventID = 100
    state.rebuildIndexes()
    return state
}

private func richShell() -> ShellState {
    var s = ShellState(listener: 5, socketPath: "/run/daybreak/control")
    s.timers = [ArmedTimer(id: 3, at: 123_456_789), ArmedTimer(id: 4, at: -1)]
    s.nextRequestID = 9
    s.nextNotifySocket = 4
    var inst = InstanceShell(key: "svc", job: "svc", instance: "")
    inst.groups = ["/sys/fs/cgroup/daybreak/svc"]
    inst.namedGroups = ["cpu:/named"]
    inst.oomKills = 2
    inst.notify = NotifyRecord(fd: 12, address: "@daybreak-1-0", mainPid: 42, announcedPid: 43, ready: true)
    inst.notifyStatus = "serving"
    s.instances = [inst, InstanceShell(key: "gated", job: "gated", instance: "")]
    s.draining = [DrainingGroup(key: "old", paths: ["/sys/fs/cgroup/daybreak/old"], killAt: 99, killed: true)]
    s.madeNamedGroups = ["cpu:/named"]
    s.logs = [LogPty(master: 11, file: "/var/log/upstart/svc.log", pid: 42)]
    s.heldLogs = [HeldLog(file: "/var/log/upstart/svc.log", bytes: Array("held\n\u{1}".utf8))]
    s.clients = [ClientRecord(fd: 13, pid: 77, uid: 1000, gid: 1000, privileged: false, subscribed: true, inFlight: 1,
                              output: [0, 0, 0, 2, 123, 125])]
    s.pending = [PendingReply(request: 8, client: 13, id: 1, method: "start")]
    s.logPriority = "info"
    s.postMortems = [PostMortemRecord(job: "svc", instance: "", history: [PostMortemLine(at: 1, text: "started")],
                                      lastFailure: PostMortemLine(at: 2, text: "main process (42) killed by KILL signal")),
                     PostMortemRecord(job: "gated", instance: "", history: [], lastFailure: nil)]
    return s
}

/// Both paths agree on `document`: the same bytes written, and each reads
/// what the other wrote back to an equal document.
private func expectPathsAgree(_ document: ReexecDocument, _ comment: Comment? = nil) throws {
    let byHand = try document.encoded()
    let byCodable = try JSONValueEncoder().encode(document).compactBytes
    #expect(byHand == byCodable, comment ?? "the hand-written document differs from the Codable one")
    let readByHand = try ReexecDocument.decode(byCodable).get()
    let readByCodable = try JSONValueDecoder().decode(ReexecDocument.self, from: try JSONValue.parse(byHand))
    #expect(readByHand == document, comment)
    #expect(readByCodable == document, comment)
}

@Test func richStateSetsEveryOptionalField() {
    let state = richEngine()
    #expect(nilFields(state.instances[InstanceKey(job: "multi", instance: "full")]!) == [])
    #expect(nilFields(state.instances[InstanceKey(job: "multi", instance: "full")]!.failure!) == [])
    #expect(nilFields(richShell()) == [])
    #expect(nilFields(richShell().instances[0]) == [])
    #expect(nilFields(richShell().instances[0].notify!) == [])
    #expect(nilFields(richShell().postMortems![0]) == [])
    #expect(Set(state.instances.values.map(\.state)) == Set(JobState.allCases))
    #expect(state.events.values.contains { $0.waiter != nil } && state.events.values.contains { !$0.blockedJobs.isEmpty })
    #expect(state.classes.values.contains { $0.startOn != nil })
}

@Test func handWrittenDocumentEqualsTheCodableOneForARichState() throws {
    try expectPathsAgree(ReexecDocument(engine: richEngine(), shell: richShell()))
}

@Test func handWrittenDocumentKeepsAClassReplacementAndARemovedClass() throws {
    var state = richEngine()
    state.classes["svc"]!.replacement = ClassDefinition(Harness.job("svc", "exec /bin/svc --new\n"))
    state.classes["gated"]!.removed = true
    state.classes["gated"]!.whileHolds = true
    try expectPathsAgree(ReexecDocument(engine: state, shell: richShell()))
}

@Test func handWrittenReaderRefusesWhatTheCodableReaderRefuses() throws {
    let bytes = try ReexecDocument(engine: richEngine(), shell: richShell()).encoded()
    let text = String(decoding: bytes, as: UTF8.self)
    // A required member gone, a member of the wrong kind, an integer too
    // big for its type, an unknown enum value: refused by both, with where.
    let damaged: [(String, String, String)] = [
        (#""respawnCount":3,"#, "", "respawnCount"),
        (#""goal":"respawn""#, #""goal":7"#, "goal"),
        (#""fd":12"#, #""fd":99999999999"#, "fd"),
        (#""state":"post-stop""#, #""state":"sleeping""#, "sleeping"),
        (#""_1":"restart""#, #""_1":"dance""#, "dance"),
    ]
    for (from, to, named) in damaged {
        #expect(text.contains(from), "the document no longer holds \(from)")
        let bad = Array(text.replacingOccurrences(of: from, with: to).utf8)
        guard case .failure(let e) = ReexecDocument.decode(bad) else { Issue.record("accepted \(to)"); continue }
        #expect(e.description.hasPrefix("the state document (version 1) does not decode"), "\(e)")
        #expect(e.description.contains(named), "\(e)")
        #expect((try? JSONValueDecoder().decode(ReexecDocument.self, from: try JSONValue.parse(bad))) == nil,
                "the Codable reader accepts what the hand-written one refuses: \(to)")
    }
}

@Test func randomHistoriesGiveTheSameDocumentByHandAndByCodable() async throws {
    await propertyCheck(count: 200, input: Gen.int(in: 0...99).array(of: 1...40)) { codes in
        var sim = Simulation()
        for c in codes { sim.step(c) }
        try expectPathsAgree(ReexecDocument(engine: sim.h.engine.state, shell: richShell()), "history \(codes)")
    }
}
