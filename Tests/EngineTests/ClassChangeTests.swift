import Testing
import FoundationEssentials
import JobFile
@testable import Engine

@Test func changedClassKeepsRunningInstancesOnTheOldDefinition() {
    var h = Harness()
    h.add("svc", "exec /bin/old\npost-stop exec /bin/old-clean\n")
    _ = h.request(.start, "svc")
    h.send(.jobClassChanged(Harness.job("svc", "exec /bin/new\npost-stop exec /bin/new-clean\n")))
    #expect(h.engine.jobClass("svc")?.main == .exec("/bin/old"))
    _ = h.request(.stop, "svc")
    let e1 = h.exit("svc", .main, .killed(.term))
    #expect(e1.spawns.first?.spec == .exec("/bin/old-clean"))
    h.exit("svc", .postStop)
    #expect(h.engine.jobClass("svc")?.main == .exec("/bin/new"))
    let (_, e2) = h.request(.start, "svc")
    #expect(e2.spawns.first?.spec == .exec("/bin/new"))
}

@Test func changedClassWithoutInstancesTakesOverAtOnce() {
    var h = Harness()
    h.add("svc", "start on a\nexec /bin/old\n")
    h.send(.jobClassChanged(Harness.job("svc", "start on b\nexec /bin/new\n")))
    _ = h.emit("a")
    #expect(h.goalState("svc") == nil)
    let e = h.emit("b")
    #expect(e.spawns.first?.spec == .exec("/bin/new"))
}

@Test func changingAClassReleasesEventsItsStartOnHeld() {
    var h = Harness()
    h.add("svc", "start on a and b\n")
    let e1 = h.emit("a", waiter: 1)
    #expect(e1.reply(1) == nil)
    let e2 = h.send(.jobClassChanged(Harness.job("svc", "start on c\n")))
    #expect(e2.reply(1) == .ok(nil))
}

@Test func removedClassKeepsItsInstanceUntilItStopsThenGoes() {
    var h = Harness()
    h.add("svc", "start on go\nstop on halt\nexec /bin/svc\n")
    _ = h.emit("go")
    h.send(.jobClassRemoved(name: "svc"))
    #expect(h.goalState("svc") == "start/running")
    let (r, e) = h.request(.start, "svc")
    #expect(e.reply(r) == .error("Unknown job: svc"))
    _ = h.emit("go")
    #expect(h.engine.state.events.isEmpty, "a deleted job's start on holds nothing")
    let (s, e2) = h.request(.status, "svc")
    #expect(e2.reply(s) == .ok(h.engine.status("svc")), "its instance can still be queried")
    _ = h.emit("halt")
    h.exit("svc", .main, .killed(.term))
    #expect(h.goalState("svc") == nil)
    #expect(h.engine.jobClass("svc") == nil)
    #expect(h.engine.state.startIndex["go"] == nil)
    #expect(h.engine.state.stopIndex["halt"] == nil)
}

@Test func removedClassWithoutInstancesGoesAtOnce() {
    var h = Harness()
    h.add("svc", "start on go\n")
    h.send(.jobClassRemoved(name: "svc"))
    #expect(h.engine.jobClass("svc") == nil)
    _ = h.emit("go")
    #expect(h.goalState("svc") == nil)
}

@Test func classesAreIndexedByEventName() {
    var h = Harness()
    h.add("a", "start on x or y\nstop on z\n")
    h.add("b", "start on y\n")
    #expect(h.engine.state.startIndex["x"]?.map(\.name) == ["a"])
    #expect(h.engine.state.startIndex["y"]?.map(\.name) == ["a", "b"])
    #expect(h.engine.state.stopIndex["z"]?.map(\.name) == ["a"])
    h.send(.jobClassRemoved(name: "a"))
    #expect(h.engine.state.startIndex["y"]?.map(\.name) == ["b"])
    #expect(h.engine.state.startIndex["x"] == nil)
}

@Test func stateEncodesToJSONAndBackEqualMidFlight() throws {
    var h = Harness(autoSpawn: false)
    h.add("a", "start on go and net\nexec /bin/a\n")
    h.add("b", "env N=1\ntask\nstart on starting a\nstop on never N=$N\nexec /bin/b\n")
    h.add("c", "start on net\nexec /bin/c\n")
    _ = h.emit("net", ["N=1"], waiter: 7)
    h.answerSpawn()
    _ = h.emit("go", ["N=1"])
    h.answerSpawn()
    #expect(h.goalState("a") == "start/starting")
    #expect(h.goalState("b") == "start/running")
    _ = h.request(.stop, "c")
    h.send(.jobClassChanged(Harness.job("c", "exec /bin/c2\n")))
    #expect(!h.engine.state.events.isEmpty)
    #expect(!h.engine.state.timers.isEmpty)
    let data = try h.engine.state.jsonData()
    let back = try EngineState.fromJSON(data)
    #expect(back == h.engine.state)
    #expect(try back.jsonData() == data, "equal states give equal bytes")
    // Daybreak's coder writes what Foundation's would, and reads Foundation's.
    #expect(try EngineState.fromJSON(h.engine.state.foundationJSON()) == h.engine.state)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"pids\":{\"main\":"), "process tables are JSON objects keyed by process name")
    // The decoded engine carries on exactly as the original.
    var resumed = Engine(state: back)
    var original = h.engine
    let pid = h.pid("c")!
    let input = Input.processExited(pid: pid, status: .killed(.term))
    #expect(resumed.handle(input, at: h.time) == original.handle(input, at: h.time))
    #expect(resumed == original)
}

@Test func deletedJobsInstanceCanStillBeStoppedByHand() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    h.send(.jobClassRemoved(name: "svc"))
    let (r, e) = h.request(.stop, "svc")
    #expect(e.signals.map(\.0) == [h.pid("svc")!])
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.reply(r) != nil)
    #expect(h.engine.jobClass("svc") == nil)
}
