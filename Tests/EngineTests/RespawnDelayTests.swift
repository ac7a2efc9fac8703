import Testing
import JobFile
@testable import Engine

/// `respawn delay SECONDS [MAX]` (a Daybreak stanza), with injected time.
extension Harness {
    /// The one respawn-delay timer armed now, and when it fires.
    var respawnTimer: (TimerID, EngineTime)? {
        guard let inst = engine.state.instances.values.first(where: { $0.respawnTimer != nil }),
              let t = inst.respawnTimer, let at = timers[t] else { return nil }
        return (t, at)
    }

    /// Moves the clock to `t` (milliseconds from now).
    mutating func advance(milliseconds: Int64) {
        time = EngineTime(nanoseconds: time.nanoseconds + milliseconds * 1_000_000)
    }
}

@Test func respawnDelayDoublesFromOneToEightSecondsAndNeverGivesUp() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 1 8\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    var waits: [Int64] = []
    for _ in 0..<12 {
        let crashedAt = h.time
        let e = h.exit("svc", .main, .exited(1))
        #expect(e.spawns.isEmpty, "no respawn before the delay")
        #expect(h.goalState("svc") == "start/post-stop")
        guard let (t, at) = h.respawnTimer else {
            Issue.record("no respawn timer armed")
            return
        }
        waits.append((at.nanoseconds - crashedAt.nanoseconds) / 1_000_000)
        h.time = at
        let f = h.fire(t)
        #expect(f.spawnedKinds == ["svc:main"])
        #expect(h.goalState("svc") == "start/running")
        h.advance(milliseconds: 100)
    }
    #expect(waits == [1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000, 8000, 8000, 8000, 8000])
}

@Test func respawnDelayResetsOnceTheServiceHasStayedUpTenSeconds() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 1 4\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    func crashAndWait(_ h: inout Harness) -> Int64 {
        let crashedAt = h.time
        h.exit("svc", .main, .exited(1))
        let (t, at) = h.respawnTimer!
        h.time = at
        _ = h.fire(t)
        return (at.nanoseconds - crashedAt.nanoseconds) / 1_000_000
    }
    #expect(crashAndWait(&h) == 1000)
    #expect(crashAndWait(&h) == 2000)
    h.advance(milliseconds: 9_999)
    #expect(crashAndWait(&h) == 4000, "up for less than ten seconds: still doubling")
    h.advance(milliseconds: 10_000)
    #expect(crashAndWait(&h) == 1000, "up for ten seconds: back to SECONDS")
}

@Test func respawnDelayWithoutMaxWaitsTheSameEachTime() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 0.5\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    for _ in 0..<3 {
        let crashedAt = h.time
        h.exit("svc", .main, .exited(1))
        let (t, at) = h.respawnTimer!
        #expect(at.nanoseconds - crashedAt.nanoseconds == 500_000_000)
        h.time = at
        _ = h.fire(t)
    }
}

@Test func stopEndsARespawnDelayAtOnce() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 5 60\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    h.exit("svc", .main, .exited(1))
    let (t, _) = h.respawnTimer!
    let (id, e) = h.request(.stop, "svc")
    #expect(e.jobEvents == ["stopped svc"])
    #expect(e.contains(.cancelTimer(t)))
    if case .ok? = e.reply(id) {} else { Issue.record("stop not answered: \(String(describing: e.reply(id)))") }
    #expect(h.goalState("svc") == nil)
    #expect(h.fire(t).spawns.isEmpty, "a late timer is ignored")
}

@Test func startEndsARespawnDelayAtOnce() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 5 60\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    h.exit("svc", .main, .exited(1))
    let (t, _) = h.respawnTimer!
    let (_, e) = h.request(.start, "svc")
    #expect(e.contains(.cancelTimer(t)))
    #expect(e.spawnedKinds == ["svc:main"])
    #expect(h.goalState("svc") == "start/running")
}

@Test func statusShowsWhenAnInstanceWaitingToBeRespawnedWillBe() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 3\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    #expect(h.engine.status("svc")?.respawnAt == nil)
    let crashedAt = h.time
    h.exit("svc", .main, .exited(1))
    let s = h.engine.status("svc")!
    #expect(s.respawnAt == crashedAt.adding(seconds: 3))
    #expect(s.respawnDelayMilliseconds == 3000)
}

@Test func respawnDelayStillCountsTheRespawnLimit() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 0.1\nrespawn limit 3 60\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    for _ in 0..<3 {
        h.exit("svc", .main, .exited(1))
        let (t, at) = h.respawnTimer!
        h.time = at
        _ = h.fire(t)
    }
    let e = h.exit("svc", .main, .exited(1))
    #expect(e.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=respawn"])
    #expect(h.goalState("svc") == nil)
}

@Test func respawnLimitUnlimitedWithADelayNeverStops() {
    var h = Harness()
    h.add("svc", "respawn\nrespawn delay 0.1\nrespawn limit unlimited\nexec /bin/svc\n")
    _ = h.request(.start, "svc")
    for _ in 0..<50 {
        h.exit("svc", .main, .exited(1))
        let (t, at) = h.respawnTimer!
        h.time = at
        _ = h.fire(t)
    }
    #expect(h.goalState("svc") == "start/running")
}
