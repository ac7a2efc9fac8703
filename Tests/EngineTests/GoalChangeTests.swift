import Testing
import JobFile
@testable import Engine

/// stop while pre-start runs: pre-start finishes, then the job stops
/// without its main process ever starting.
@Test func stopWhilePreStartRunsStopsAfterPreStartWithoutMain() {
    var h = Harness()
    h.add("svc", "pre-start exec /bin/slow\nexec /bin/svc\npost-stop exec /bin/clean\n")
    let (start, _) = h.request(.start, "svc")
    let (stop, e1) = h.request(.stop, "svc")
    #expect(h.goalState("svc") == "stop/pre-start")
    if case .ok(let st)? = e1.reply(start) {
        #expect(st?.state == .preStart, "a new command releases the old waiter")
    } else {
        Issue.record("the start request was not answered by the stop")
    }
    let e2 = h.exit("svc", .preStart)
    #expect(!e2.spawnedKinds.contains("svc:main"))
    #expect(e2.jobEvents == ["stopping svc"])
    #expect(e2.spawnedKinds == ["svc:post-stop"])
    let e3 = h.exit("svc", .postStop)
    #expect(e3.jobEvents == ["stopped svc"])
    #expect(e3.reply(stop) != nil)
}

/// start again while stopping: the instance runs again after it has stopped
/// (post-stop, then starting, without a stopped event).
@Test func startWhileStoppingRunsAgainAfterStopping() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\npost-stop exec /bin/clean\n")
    _ = h.request(.start, "svc")
    let old = h.pid("svc")!
    _ = h.request(.stop, "svc")
    #expect(h.goalState("svc") == "stop/killed")
    let (again, e1) = h.request(.start, "svc", ["RUN=2"])
    #expect(h.goalState("svc") == "start/killed")
    #expect(e1.signals.isEmpty)
    h.exit("svc", .main, .killed(.term))
    #expect(h.goalState("svc") == "start/post-stop")
    let e2 = h.exit("svc", .postStop)
    #expect(e2.jobEvents == ["starting svc", "started svc"])
    #expect(h.goalState("svc") == "start/running")
    #expect(h.pid("svc") != old)
    #expect(e2.spawns.first?.environment.contains("RUN=2") == true)
    #expect(e2.reply(again) == .ok(h.engine.status("svc")))
}

/// stop while the starting event is held: once it finishes the instance goes
/// to stopping and never spawns.
@Test func stopWhileStartingGoesStraightToStopping() {
    var h = Harness()
    h.add("a", "exec /bin/a\n")
    h.add("gate", "start on starting a\ntask\nexec /bin/gate\n")
    _ = h.request(.start, "a")
    #expect(h.goalState("a") == "start/starting")
    _ = h.request(.stop, "a")
    #expect(h.goalState("a") == "stop/starting")
    let e = h.exit("gate")
    #expect(!e.spawnedKinds.contains("a:main"))
    #expect(e.jobEvents == ["stopping gate", "stopped gate", "stopping a", "stopped a"])
    #expect(h.goalState("a") == nil)
}

/// start while pre-stop runs cancels the stop: back to running, main untouched.
@Test func startWhilePreStopRunsCancelsTheStop() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\npre-stop exec /bin/drain\n")
    _ = h.request(.start, "svc")
    let pid = h.pid("svc")!
    let (stop, _) = h.request(.stop, "svc")
    #expect(h.goalState("svc") == "stop/pre-stop")
    let (start, e1) = h.request(.start, "svc")
    #expect(e1.reply(stop) != nil, "the stop request is released")
    #expect(h.goalState("svc") == "start/pre-stop")
    let e2 = h.exit("svc", .preStop)
    #expect(h.goalState("svc") == "start/running")
    #expect(e2.signals.isEmpty)
    #expect(e2.jobEvents.isEmpty, "no started event for a cancelled stop")
    #expect(e2.reply(start) == .ok(h.engine.status("svc")))
    #expect(h.pid("svc") == pid)
}

/// stop while the main process is being spawned: it is killed once spawned.
@Test func stopWhileSpawnedKillsTheMainProcessOnceItIsThere() {
    var h = Harness(autoSpawn: false)
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    _ = h.request(.stop, "svc")
    #expect(h.goalState("svc") == "stop/spawned")
    let e = h.answerSpawn()
    #expect(e.jobEvents == ["stopping svc"])
    #expect(e.signals.map(\.0) == [h.pid("svc")!])
}

/// stop while an `expect stop` main process has not raised SIGSTOP yet:
/// the process is ended at once, not waited for (Upstart waits for ever,
/// and so `initctl stop` of a daemon that never stops itself hangs).
@Test func stopInSpawnedEndsAnExpectStopProcessAtOnce() {
    var h = Harness()
    h.add("svc", "expect stop\nexec /bin/svc\n")
    _ = h.request(.start, "svc", wait: false)
    #expect(h.goalState("svc") == "start/spawned")
    let pid = h.pid("svc")!
    let (stop, e) = h.request(.stop, "svc")
    #expect(e.jobEvents == ["stopping svc"])
    #expect(e.signals.map(\.0) == [pid])
    #expect(h.goalState("svc") == "stop/killed")
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.jobEvents == ["stopped svc"])
    #expect(e2.reply(stop) != nil)
    #expect(h.goalState("svc") == nil)
}

/// The same for `expect fork` and `expect daemon`, and for a stop that
/// comes while the main process is still being spawned.
@Test(arguments: ["fork", "daemon", "stop"])
func stopWhileSpawningAnExpectJobEndsItOnceSpawned(_ expect: String) {
    var h = Harness(autoSpawn: false)
    h.add("svc", "expect \(expect)\nexec /bin/svc\n")
    _ = h.request(.start, "svc", wait: false)
    _ = h.request(.stop, "svc", wait: false)
    #expect(h.goalState("svc") == "stop/spawned")
    let e = h.answerSpawn()
    #expect(e.jobEvents == ["stopping svc"])
    #expect(e.signals.map(\.0) == [h.pid("svc")!])
}

/// stop while post-start runs: post-start finishes, then stopping.
@Test func stopWhilePostStartRunsWaitsForPostStart() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\npost-start exec /bin/ready\n")
    _ = h.request(.start, "svc")
    _ = h.request(.stop, "svc")
    #expect(h.goalState("svc") == "stop/post-start")
    let e = h.exit("svc", .postStart)
    #expect(e.jobEvents == ["stopping svc"])
    #expect(h.goalState("svc") == "stop/killed")
}

/// Main dying while pre-stop runs is not a failure; the stop goes on.
@Test func mainDyingDuringPreStopIsNotAFailure() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\npre-stop exec /bin/drain\n")
    _ = h.request(.start, "svc")
    _ = h.request(.stop, "svc")
    let e1 = h.exit("svc", .main, .exited(1))
    #expect(h.goalState("svc") == "stop/pre-stop")
    #expect(e1.jobEvents.isEmpty)
    let e2 = h.exit("svc", .preStop)
    #expect(e2.jobEvents == ["stopping svc", "stopped svc"])
    #expect(e2.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
    #expect(e2.signals.isEmpty, "no signal to a pid that has exited")
}

/// restart without a pre-stop: the instance goes round, keeping its
/// environment, and runs post-stop and pre-start again.
@Test func restartWithoutPreStopStopsAndStartsKeepingTheEnvironment() {
    var h = Harness()
    h.add("svc", "pre-start exec /bin/prep\nexec /bin/svc\npost-stop exec /bin/clean\n")
    _ = h.request(.start, "svc", ["MODE=a"])
    h.exit("svc", .preStart)
    let old = h.pid("svc")!
    let (r, e1) = h.request(.restart, "svc", ["MODE=b"])
    #expect(e1.jobEvents == ["stopping svc"])
    #expect(e1.signals.map(\.0) == [old])
    h.exit("svc", .main, .killed(.term))
    let e2 = h.exit("svc", .postStop)
    #expect(e2.jobEvents == ["starting svc"])
    #expect(e2.spawns.first?.environment.contains("MODE=a") == true)
    let e3 = h.exit("svc", .preStart)
    #expect(e3.reply(r) == .ok(h.engine.status("svc")))
    #expect(h.goalState("svc") == "start/running")
}

/// restart with a pre-stop: as Upstart 1.13 does, pre-stop runs and, the
/// goal being start again, the instance returns to running: no post-stop,
/// pre-start or post-start, and the main process is kept.
@Test func restartWithPreStopRunsOnlyPreStop() {
    var h = Harness()
    h.add("svc", """
        pre-start exec /bin/a
        exec /bin/svc
        post-start exec /bin/b
        pre-stop exec /bin/c
        post-stop exec /bin/d
        """)
    _ = h.request(.start, "svc")
    h.exit("svc", .preStart)
    h.exit("svc", .postStart)
    let pid = h.pid("svc")!
    let (r, e1) = h.request(.restart, "svc")
    #expect(e1.spawnedKinds == ["svc:pre-stop"])
    let e2 = h.exit("svc", .preStop)
    #expect(e2.spawns.isEmpty)
    #expect(e2.signals.isEmpty)
    #expect(h.goalState("svc") == "start/running")
    #expect(h.pid("svc") == pid)
    #expect(e2.reply(r) == .ok(h.engine.status("svc")))
}

@Test func restartOfAStoppedJobIsAnError() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    let (r, e) = h.request(.restart, "svc")
    #expect(e.reply(r) == .error("Unknown instance: "))
}

@Test func stopOfAJobAlreadyStoppingIsAnError() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    _ = h.request(.stop, "svc")
    let (r, e) = h.request(.stop, "svc")
    #expect(e.reply(r) == .error("Job has already been stopped: svc"))
}

/// An event in both start on and stop on stops a running instance first,
/// then starts it again once stopped.
@Test func eventInStartOnAndStopOnRestartsTheJob() {
    var h = Harness()
    h.add("svc", "start on reconfig\nstop on reconfig\nexec /bin/svc\n")
    _ = h.emit("reconfig")
    #expect(h.goalState("svc") == "start/running")
    let old = h.pid("svc")!
    let e1 = h.emit("reconfig")
    #expect(e1.signals.map(\.0) == [old])
    #expect(h.goalState("svc") == "start/killed")
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.jobEvents == ["starting svc", "started svc"])
    #expect(h.goalState("svc") == "start/running")
}

/// start while post-stop runs: the instance starts again right after.
@Test func startWhilePostStopRunsStartsAgainAfterIt() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\npost-stop exec /bin/clean\n")
    _ = h.request(.start, "svc")
    _ = h.request(.stop, "svc")
    h.exit("svc", .main, .killed(.term))
    #expect(h.goalState("svc") == "stop/post-stop")
    let (r, e1) = h.request(.start, "svc")
    #expect(h.goalState("svc") == "start/post-stop")
    #expect(e1.jobEvents.isEmpty)
    let e2 = h.exit("svc", .postStop)
    #expect(e2.jobEvents == ["starting svc", "started svc"])
    #expect(e2.reply(r) == .ok(h.engine.status("svc")))
}

/// start while the stopping event is held: the kill still happens once the
/// event finishes, then the instance runs again.
@Test func startWhileStoppingEventIsHeldRunsAgainAfterTheStop() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    h.add("saver", "start on stopping svc\ntask\nexec /bin/save\n")
    _ = h.request(.start, "svc")
    let old = h.pid("svc")!
    _ = h.request(.stop, "svc")
    #expect(h.goalState("svc") == "stop/stopping")
    _ = h.request(.start, "svc")
    #expect(h.goalState("svc") == "start/stopping")
    let e1 = h.exit("saver")
    #expect(e1.signals.map(\.0) == [old])
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.jobEvents == ["starting svc", "started svc"])
    #expect(h.pid("svc") != old)
}
