import Testing
import JobFile
@testable import Engine

@Test func oneInstancePerDistinctExpandedName() {
    var h = Harness()
    h.add("getty", "instance $TTY\nstart on tty-added\nexec /sbin/getty $TTY\n")
    _ = h.emit("tty-added", ["TTY=tty1"])
    _ = h.emit("tty-added", ["TTY=tty2"])
    _ = h.emit("tty-added", ["TTY=tty1"])
    #expect(h.engine.instances(of: "getty").map(\.instance) == ["tty1", "tty2"])
    #expect(h.log.spawns.filter { $0.process == .main }.map(\.instance) == ["tty1", "tty2"])
}

@Test func startingAnInstanceThatIsAlreadyStartedIsAnError() {
    var h = Harness()
    h.add("getty", "instance $TTY\nexec /sbin/getty\n")
    let (_, e1) = h.request(.start, "getty", ["TTY=tty1"])
    #expect(e1.reply(1) != nil)
    let (r2, e2) = h.request(.start, "getty", ["TTY=tty1"])
    #expect(e2.reply(r2) == .error("Job is already running: getty (tty1)"))
    let (r3, e3) = h.request(.start, "getty", ["TTY=tty2"])
    #expect(e3.reply(r3) == .ok(h.engine.status("getty", instance: "tty2")))
}

@Test func singleInstanceJobStartedTwiceIsAnError() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    let (r, e) = h.request(.start, "svc")
    #expect(e.reply(r) == .error("Job is already running: svc"))
}

@Test func instanceNameThatCannotExpandIsAnErrorNamingTheUsage() {
    var h = Harness()
    h.add("getty", "instance $TTY\nusage \"TTY=ttyN\"\nexec /sbin/getty\n")
    let (r, e) = h.request(.start, "getty")
    #expect(e.reply(r) == .error("Unknown parameter: TTY\nUsage: TTY=ttyN"))
    let (u, e2) = h.request(.usage, "getty")
    #expect(e2.reply(u) == .text("Usage: TTY=ttyN"))
}

@Test func eventThatCannotNameAnInstanceStartsNothingAndIsReleased() {
    var h = Harness()
    h.add("getty", "instance $TTY\nstart on go\nexec /sbin/getty\n")
    let e = h.emit("go", waiter: 1)
    #expect(h.engine.instances(of: "getty").isEmpty)
    #expect(e.reply(1) == .ok(nil))
    #expect(e.contains(.log("Failed to obtain getty instance: Unknown parameter: TTY")))
}

@Test func stopAndStatusOfUnknownThings() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    let (r1, e1) = h.request(.stop, "svc")
    #expect(e1.reply(r1) == .error("Unknown instance: "))
    let (r2, e2) = h.request(.start, "nope")
    #expect(e2.reply(r2) == .error("Unknown job: nope"))
    let (r3, e3) = h.request(.status, "svc")
    #expect(e3.reply(r3) == .ok(InstanceStatus(job: "svc", instance: "", goal: .stop, state: .waiting, processes: [])))
    _ = h.request(.start, "svc")
    let (r4, e4) = h.request(.status, "svc")
    #expect(e4.reply(r4) == .ok(h.engine.status("svc")))
    #expect(h.engine.status("svc") == InstanceStatus(job: "svc", instance: "", goal: .start, state: .running,
                                                      processes: [ProcessEntry(process: .main, pid: h.pid("svc")!)]))
}

@Test func stopRequestSelectsTheInstanceByItsVariables() {
    var h = Harness()
    h.add("w", "instance $N\nexec /bin/w\n")
    _ = h.request(.start, "w", ["N=1"])
    _ = h.request(.start, "w", ["N=2"])
    let (_, e) = h.request(.stop, "w", ["N=2"])
    #expect(e.signals.map(\.0) == [h.pid("w", instance: "2")!])
    #expect(h.goalState("w", instance: "1") == "start/running")
}

@Test func reloadSendsTheReloadSignalToTheMainProcessAlone() {
    var h = Harness()
    h.add("svc", "reload signal USR1\nexec /bin/svc\n")
    let (r0, e0) = h.request(.reload, "svc")
    #expect(e0.reply(r0) == .error("Unknown instance: "))
    _ = h.request(.start, "svc")
    let (r, e) = h.request(.reload, "svc")
    // `.reload`, not `.signal`: the shell sends it to the process, not its group.
    #expect(e.signals.isEmpty)
    #expect(e.reloads.map(\.1) == [Signal(number: 10)])
    #expect(e.reloads.map(\.0) == [h.pid("svc")!])
    #expect(e.reply(r) == .ok(h.engine.status("svc")))
}

@Test func manualJobIgnoresEventsButStartsByHand() {
    var h = Harness()
    h.add("m", "start on go\nmanual\nexec /bin/m\n")
    _ = h.emit("go")
    #expect(h.goalState("m") == nil)
    _ = h.request(.start, "m")
    #expect(h.goalState("m") == "start/running")
}
