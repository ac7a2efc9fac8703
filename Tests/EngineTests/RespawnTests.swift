import Testing
import JobFile
@testable import Engine

@Test func respawnRestartsADeadMainProcessThroughStoppingAndStarting() {
    var h = Harness()
    h.add("svc", "respawn\nexec /bin/svc\npost-stop exec /bin/clean\n")
    _ = h.request(.start, "svc")
    let first = h.pid("svc")!
    let e = h.exit("svc", .main, .exited(1))
    #expect(e.jobEvents == ["stopping svc"])
    #expect(e.environment(of: "stopping") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
    #expect(e.spawnedKinds == ["svc:post-stop"])
    // From post-stop with goal start, straight to starting: no stopped event.
    let e2 = h.exit("svc", .postStop)
    #expect(e2.jobEvents == ["starting svc", "started svc"])
    #expect(h.goalState("svc") == "start/running")
    #expect(h.pid("svc") != first)
}

@Test func respawnAlsoFollowsACleanExitOfAService() {
    var h = Harness()
    h.add("svc", "respawn\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    let e = h.exit("svc", .main, .exited(0))
    #expect(e.spawnedKinds == ["svc:main"])
    #expect(h.goalState("svc") == "start/running")
}

@Test func normalExitStopsARespawningJobWithoutRespawning() {
    var h = Harness()
    h.add("svc", "respawn\nnormal exit 0 2 TERM\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    let e = h.exit("svc", .main, .exited(2))
    #expect(e.spawns.isEmpty)
    #expect(e.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
    _ = h.request(.start, "svc")
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
}

@Test func normalExitMakesANonZeroStatusNotAFailure() {
    var h = Harness()
    h.add("svc", "normal exit 7\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    let e = h.exit("svc", .main, .exited(7))
    #expect(e.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
}

@Test func respawnLimitStopsJobAfterTenRespawnsInFiveSeconds() {
    var h = Harness()
    h.add("svc", "respawn\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    for _ in 0..<10 {
        let e = h.exit("svc", .main, .exited(1))
        #expect(e.spawnedKinds == ["svc:main"])
    }
    let e = h.exit("svc", .main, .exited(1))
    #expect(e.spawns.isEmpty)
    let failed = ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=respawn"]
    #expect(e.environment(of: "stopping") == failed)
    #expect(e.environment(of: "stopped") == failed)
    #expect(e.contains(.log("svc respawning too fast, stopped")))
    #expect(h.goalState("svc") == nil)
}

@Test func respawnsSpreadOverTimeNeverHitTheLimit() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn limit 2 10\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    for _ in 0..<6 {
        h.advance(seconds: 11)
        let e = h.exit("svc", .main, .exited(1))
        #expect(e.spawnedKinds == ["svc:main"])
    }
    // Three quick ones pass the limit of two.
    h.exit("svc", .main, .exited(1))
    let e = h.exit("svc", .main, .exited(1))
    #expect(e.spawns.isEmpty)
    #expect(h.goalState("svc") == nil)
}

@Test func unlimitedRespawnNeverStops() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn limit unlimited\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    for _ in 0..<50 { h.exit("svc", .main, .exited(1)) }
    #expect(h.goalState("svc") == "start/running")
}

@Test func respawnWaitsForARunningPostStartAndRemembersGoalRespawn() {
    var h = Harness()
    h.add("svc", "respawn\nexec /bin/svc\npost-start exec /bin/wait-ready\n")
    _ = h.request(.start, "svc")
    #expect(h.goalState("svc") == "start/post-start")
    let e1 = h.exit("svc", .main, .exited(1))
    #expect(h.goalState("svc") == "respawn/post-start")
    #expect(e1.jobEvents.isEmpty)
    let e2 = h.exit("svc", .postStart)
    #expect(e2.jobEvents == ["stopping svc", "starting svc"])
    #expect(h.goalState("svc") == "start/post-start")
}

@Test func taskIsStartedWhenSpawnedAndStoppedWhenItExits() {
    var h = Harness()
    h.add("t", "task\nexec /bin/t\n")
    let (r, e1) = h.request(.start, "t")
    #expect(e1.jobEvents == ["starting t", "started t"])
    #expect(e1.reply(r) == nil, "start of a task waits for it to finish")
    let e2 = h.exit("t")
    #expect(e2.jobEvents == ["stopping t", "stopped t"])
    #expect(e2.environment(of: "stopped") == ["JOB=t", "INSTANCE=", "RESULT=ok"])
    #expect(e2.reply(r) == .ok(InstanceStatus(job: "t", instance: "", goal: .stop, state: .waiting, processes: [])))
}

@Test func failingTaskFailsItsStartRequest() {
    var h = Harness()
    h.add("t", "task\nexec /bin/t\n")
    let (r, _) = h.request(.start, "t")
    let e = h.exit("t", .main, .exited(4))
    #expect(e.reply(r) == .error("Job failed to start"))
}

@Test func taskWithRespawnRespawnsOnlyOnFailure() {
    var h = Harness()
    h.add("t", "task\nrespawn\nexec /bin/t\n")
    _ = h.request(.start, "t")
    let e1 = h.exit("t", .main, .exited(1))
    #expect(e1.spawnedKinds == ["t:main"])
    let e2 = h.exit("t", .main, .exited(0))
    #expect(e2.spawns.isEmpty)
    #expect(h.goalState("t") == nil)
}

/// stop: kill signal, then after kill timeout, SIGKILL; the exit cancels nothing twice.
@Test func killTimeoutEscalatesFromKillSignalToSigkill() {
    var h = Harness()
    h.add("svc", "kill signal INT\nkill timeout 3\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    let pid = h.pid("svc")!
    let (_, e1) = h.request(.stop, "svc")
    #expect(e1.signals.map(\.0) == [pid])
    #expect(e1.signals.map(\.1) == [.int])
    let armed = e1.compactMap { e -> (TimerID, EngineTime)? in
        if case .armTimer(let t, let at) = e { return (t, at) } else { return nil }
    }
    #expect(armed.count == 1)
    #expect(armed.first?.1 == h.time.adding(seconds: 3))
    h.advance(seconds: 3)
    let e2 = h.fire(armed[0].0)
    #expect(e2.signals.map(\.0) == [pid])
    #expect(e2.signals.map(\.1) == [.kill])
    let e3 = h.exit("svc", .main, .killed(.kill))
    #expect(e3.jobEvents == ["stopped svc"])
    #expect(e3.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
}

@Test func exitBeforeTheKillTimeoutCancelsTheTimer() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    let (_, e1) = h.request(.stop, "svc")
    var timer: TimerID?
    for e in e1 { if case .armTimer(let t, _) = e { timer = t } }
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.contains(.cancelTimer(timer!)))
    let e3 = h.fire(timer!)
    #expect(e3.signals.isEmpty)
}
