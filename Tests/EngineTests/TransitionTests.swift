import Testing
import JobFile
@testable import Engine

/// The goal/state table of init(8), one row per (state, goal), checked
/// against `nextState` directly.
struct TransitionRow: Sendable, CustomStringConvertible {
    var state: JobState
    var goal: Goal
    var mainAlive: Bool
    var next: JobState
    var goalAfter: Goal
    var description: String { "\(state.rawValue)/\(goal.rawValue)\(mainAlive ? "+main" : "") -> \(next.rawValue)" }
}

let transitionTable: [TransitionRow] = [
    .init(state: .waiting, goal: .start, mainAlive: false, next: .starting, goalAfter: .start),
    .init(state: .starting, goal: .start, mainAlive: false, next: .preStart, goalAfter: .start),
    .init(state: .starting, goal: .stop, mainAlive: false, next: .stopping, goalAfter: .stop),
    .init(state: .preStart, goal: .start, mainAlive: false, next: .spawned, goalAfter: .start),
    .init(state: .preStart, goal: .stop, mainAlive: false, next: .stopping, goalAfter: .stop),
    .init(state: .spawned, goal: .start, mainAlive: true, next: .postStart, goalAfter: .start),
    .init(state: .spawned, goal: .stop, mainAlive: true, next: .stopping, goalAfter: .stop),
    .init(state: .postStart, goal: .start, mainAlive: true, next: .running, goalAfter: .start),
    .init(state: .postStart, goal: .stop, mainAlive: true, next: .stopping, goalAfter: .stop),
    .init(state: .postStart, goal: .respawn, mainAlive: false, next: .stopping, goalAfter: .start),
    .init(state: .running, goal: .start, mainAlive: false, next: .stopping, goalAfter: .start),
    .init(state: .running, goal: .stop, mainAlive: true, next: .preStop, goalAfter: .stop),
    .init(state: .running, goal: .stop, mainAlive: false, next: .stopping, goalAfter: .stop),
    .init(state: .preStop, goal: .start, mainAlive: true, next: .running, goalAfter: .start),
    .init(state: .preStop, goal: .stop, mainAlive: true, next: .stopping, goalAfter: .stop),
    .init(state: .preStop, goal: .respawn, mainAlive: false, next: .stopping, goalAfter: .start),
    .init(state: .stopping, goal: .start, mainAlive: true, next: .killed, goalAfter: .start),
    .init(state: .stopping, goal: .stop, mainAlive: true, next: .killed, goalAfter: .stop),
    .init(state: .killed, goal: .start, mainAlive: false, next: .postStop, goalAfter: .start),
    .init(state: .killed, goal: .stop, mainAlive: false, next: .postStop, goalAfter: .stop),
    .init(state: .postStop, goal: .start, mainAlive: false, next: .starting, goalAfter: .start),
    .init(state: .postStop, goal: .stop, mainAlive: false, next: .waiting, goalAfter: .stop),
]

@Test(arguments: transitionTable)
func nextStateFollowsUpstartsGoalStateTable(_ row: TransitionRow) {
    var h = Harness()
    h.add("svc", "exec daemon\n")
    let key = InstanceKey(job: "svc")
    h.engine.createInstance(key)
    h.engine.state.instances[key]!.state = row.state
    h.engine.state.instances[key]!.goal = row.goal
    if row.mainAlive { h.engine.state.instances[key]!.pids[.main] = 42 }
    #expect(h.engine.nextState(key) == row.next)
    #expect(h.engine.state.instances[key]!.goal == row.goalAfter)
}

@Test func transitionTableCoversEveryStateAndGoalThatCanOccur() {
    for s in JobState.allCases {
        for g in [Goal.start, Goal.stop] where !(s == .waiting && g == .stop) {
            #expect(transitionTable.contains { $0.state == s && $0.goal == g }, "missing \(s) \(g)")
        }
    }
}

/// A service with every process, started and stopped by hand, visits every
/// state in order and spawns each process in its state.
@Test func serviceWithEveryProcessWalksTheWholeLifecycle() {
    var h = Harness(autoSpawn: false, verbose: true)
    h.add("svc", """
        pre-start exec /bin/pre
        exec /bin/daemon
        post-start exec /bin/post
        pre-stop exec /bin/prestop
        post-stop exec /bin/poststop
        """)
    let (start, e1) = h.request(.start, "svc")
    // starting event handled at once (nothing blocks it), then pre-start.
    #expect(e1.jobEvents == ["starting svc"])
    #expect(h.goalState("svc") == "start/pre-start")
    #expect(e1.spawnedKinds == ["svc:pre-start"])
    h.answerSpawn()
    h.exit("svc", .preStart)
    #expect(h.goalState("svc") == "start/spawned")
    #expect(h.pendingSpawns.map(\.process) == [.main])
    h.answerSpawn()
    #expect(h.goalState("svc") == "start/post-start")
    #expect(h.pendingSpawns.map(\.process) == [.postStart])
    h.answerSpawn()
    #expect(h.engine.status("svc")?.processes.map(\.process) == [.main, .postStart])
    let e2 = h.exit("svc", .postStart)
    #expect(h.goalState("svc") == "start/running")
    #expect(e2.jobEvents == ["started svc"])
    #expect(e2.reply(start) == .ok(h.engine.status("svc")))

    let (stop, e3) = h.request(.stop, "svc")
    #expect(h.goalState("svc") == "stop/pre-stop")
    #expect(e3.spawnedKinds == ["svc:pre-stop"])
    h.answerSpawn()
    let e4 = h.exit("svc", .preStop)
    #expect(e4.jobEvents == ["stopping svc"])
    #expect(h.goalState("svc") == "stop/killed")
    let mainPid = h.pid("svc")!
    #expect(e4.signals.map(\.0) == [mainPid])
    #expect(e4.signals.map(\.1) == [.term])
    let e5 = h.exit("svc", .main, .killed(.term))
    #expect(h.goalState("svc") == "stop/post-stop")
    #expect(e5.spawnedKinds == ["svc:post-stop"])
    h.answerSpawn()
    let e6 = h.exit("svc", .postStop)
    #expect(e6.jobEvents == ["stopped svc"])
    #expect(h.goalState("svc") == nil)
    #expect(e6.reply(stop) != nil)

    // The verbose log names every state in order.
    let states = h.log.compactMap { e -> String? in
        if case .log(let l) = e, l.hasPrefix("svc state changed from ") { return String(l.split(separator: " ").last!) }
        return nil
    }
    #expect(states == ["starting", "pre-start", "spawned", "post-start", "running",
                       "pre-stop", "stopping", "killed", "post-stop", "waiting"])
}

/// A job with no processes at all passes straight through to running and
/// back to waiting.
@Test func jobWithoutProcessesRunsAndStopsWithoutSpawning() {
    var h = Harness()
    h.add("state", "start on go\nstop on halt\n")
    let e1 = h.emit("go")
    #expect(e1.spawns.isEmpty)
    #expect(h.goalState("state") == "start/running")
    #expect(e1.jobEvents == ["starting state", "started state"])
    let e2 = h.emit("halt")
    #expect(e2.jobEvents == ["stopping state", "stopped state"])
    #expect(h.goalState("state") == nil)
}

/// With only scripts (no main process), pre-stop is not run: Upstart goes
/// from running straight to stopping when there is no main process.
@Test func jobWithOnlyScriptsSkipsPreStopAndRunsPostStop() {
    var h = Harness()
    h.add("scripts", "pre-start exec /bin/a\npre-stop exec /bin/b\npost-stop exec /bin/c\n")
    _ = h.request(.start, "scripts")
    h.exit("scripts", .preStart)
    #expect(h.goalState("scripts") == "start/running")
    let (_, e) = h.request(.stop, "scripts")
    #expect(e.spawnedKinds == ["scripts:post-stop"])
    #expect(h.goalState("scripts") == "stop/post-stop")
    h.exit("scripts", .postStop)
    #expect(h.goalState("scripts") == nil)
}

/// `expect fork`: the instance stays in spawned until the shell reports the
/// final pid, which is then the one supervised and killed.
@Test func expectForkWaitsInSpawnedForTheFinalPid() {
    var h = Harness()
    h.add("forker", "expect fork\nexec /usr/sbin/forker\n")
    _ = h.request(.start, "forker")
    #expect(h.goalState("forker") == "start/spawned")
    let first = h.pid("forker")!
    h.send(.mainProcessReady(pid: first, finalPid: 777))
    #expect(h.goalState("forker") == "start/running")
    #expect(h.pid("forker") == 777)
    let (_, e) = h.request(.stop, "forker")
    #expect(e.signals.map(\.0) == [777])
}
