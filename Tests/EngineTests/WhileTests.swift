import Testing
import JobFile
@testable import Engine

// MARK: - Reading what happened, in order

extension Harness {
    /// What the effects did, in order, as `spawn job:kind` and `kill job`
    /// (a signal to the main process of job).
    func trace(_ effects: [Effect]) -> [String] {
        effects.compactMap { e in
            switch e {
            case .spawn(let s): return "spawn \(s.job):\(s.process.rawValue)"
            case .signal(let pid, _): return live[pid].map { "kill \($0.key.job)" } ?? "kill ?"
            default: return nil
            }
        }
    }

    /// Stops `job` with `initctl stop`, then makes each process the engine
    /// signals exit and each post-stop finish, until nothing is left to do;
    /// returns the trace of the whole stop.
    mutating func stopAndSettle(_ job: String) -> [String] {
        var t = trace(request(.stop, job).1)
        t += settle()
        return t
    }

    /// Ends every signalled main process and every running post-stop, pre-stop
    /// or post-start, oldest pid first, until none is left.
    mutating func settle() -> [String] {
        var t: [String] = []
        var rounds = 0
        while rounds < 100 {
            rounds += 1
            // A process to end: a post-stop, or a main process whose
            // instance is being killed.
            guard let (pid, owner) = live.sorted(by: { $0.key < $1.key }).first(where: { p in
                let inst = engine.state.instances[p.value.key]
                return p.value.kind == .postStop || p.value.kind == .preStop || p.value.kind == .preStart
                    || (p.value.kind == .main && inst?.state == .killed)
            }) else { break }
            t.append("exit \(owner.key.job):\(owner.kind.rawValue)")
            let status: ProcessExit = owner.kind == .main ? .killed(.term) : .exited(0)
            t += trace(send(.processExited(pid: pid, status: status)))
        }
        return t
    }
}

/// The slides' three jobs: bar and baz run; foo runs while both do.
/// baz's post-stop and foo's post-stop are there to show the order.
private func slides() -> Harness {
    var h = Harness()
    h.add("bar", "exec /bin/bar\n")
    h.add("baz", "exec /bin/baz\npost-stop exec /bin/baz-post\n")
    h.add("foo", "description \"foo job - runs when bar and baz are running\"\nwhile bar and baz\nexec /bin/mydaemon\npost-stop exec /bin/foo-post\n")
    return h
}

// MARK: - The slides' scenario

@Test func whileBarAndBazStartsFooOnlyOnceBothRun() {
    var h = slides()
    _ = h.request(.start, "bar")
    #expect(h.goalState("foo") == nil, "baz is not running yet")
    let (_, e) = h.request(.start, "baz")
    #expect(e.jobEvents == ["starting baz", "started baz", "starting foo", "started foo"])
    #expect(h.goalState("foo") == "start/running")
}

/// The guarantee `stop on stopping baz` gives: foo stops completely
/// (kill, post-stop) before baz's own main process is signalled; and when
/// baz starts again, foo runs again. A hundred times.
@Test func fooStopsCompletelyBeforeBazIsKilledAndComesBackEveryTime() {
    var h = slides()
    _ = h.request(.start, "bar")
    _ = h.request(.start, "baz")
    for cycle in 0..<100 {
        let t = h.stopAndSettle("baz")
        #expect(t == ["kill foo", "exit foo:main", "spawn foo:post-stop", "exit foo:post-stop",
                      "kill baz", "exit baz:main", "spawn baz:post-stop", "exit baz:post-stop"], "cycle \(cycle)")
        #expect(h.goalState("foo") == nil)
        #expect(h.goalState("baz") == nil)
        let (_, e) = h.request(.start, "baz")
        #expect(h.trace(e) == ["spawn baz:main", "spawn foo:main"], "cycle \(cycle)")
        #expect(h.goalState("foo") == "start/running", "cycle \(cycle)")
    }
    #expect(h.violations.isEmpty)
    #expect(h.engine.state.events.isEmpty, "no event is left held")
}

@Test func theStoppingEventOfTheJobADependentNeedsWaitsForTheDependent() {
    var h = slides()
    _ = h.request(.start, "bar")
    _ = h.request(.start, "baz")
    _ = h.request(.stop, "baz")
    #expect(h.goalState("baz") == "stop/stopping", "baz waits in stopping")
    #expect(h.goalState("foo") == "stop/killed")
    let stopFoo = h.engine.state.instances[InstanceKey(job: "foo")]!.stopEnvironment
    #expect(stopFoo?.value("JOB") == "baz", "foo's pre-stop and post-stop see the event that stopped it")
    #expect(stopFoo?.value("UPSTART_STOP_EVENTS") == "stopping")
}

@Test func chainsUnwindInOrder() {
    var h = Harness()
    h.add("c", "exec /bin/c\n")
    h.add("b", "while c\nexec /bin/b\n")
    h.add("a", "while b\nexec /bin/a\n")
    let (_, e) = h.request(.start, "c")
    #expect(h.trace(e) == ["spawn c:main", "spawn b:main", "spawn a:main"], "started in order")
    let t = h.stopAndSettle("c")
    #expect(t == ["kill a", "exit a:main", "kill b", "exit b:main", "kill c", "exit c:main"])
}

@Test func aJobWithNoMainProcessIsAStateOthersCanWaitOn() {
    var h = Harness()
    h.add("net-up", "pre-start exec /bin/configure\npost-stop exec /bin/deconfigure\n")
    h.add("web", "while net-up\nexec /bin/web\n")
    _ = h.request(.start, "net-up")
    #expect(h.goalState("web") == nil, "not during pre-start")
    h.exit("net-up", .preStart)
    #expect(h.goalState("net-up") == "start/running")
    #expect(h.goalState("web") == "start/running")
    let t = h.stopAndSettle("net-up")
    #expect(t == ["kill web", "exit web:main", "spawn net-up:post-stop", "exit net-up:post-stop"])
}

// MARK: - Negation, nesting, selection

@Test func aNegatedTermStopsTheDependentBeforeTheOtherJobStarts() {
    var h = Harness()
    h.add("maint", "pre-start exec /bin/maint-prepare\nexec /bin/maint\n")
    h.add("app", "while not maint\nexec /bin/app\npost-stop exec /bin/app-post\n")
    #expect(h.goalState("app") == "start/running")
    let (_, e) = h.request(.start, "maint", wait: false)
    #expect(h.trace(e) == ["kill app"], "maint's pre-start waits")
    #expect(h.goalState("maint") == "start/starting")
    let t = h.settle()
    #expect(t == ["exit app:main", "spawn app:post-stop", "exit app:post-stop", "spawn maint:pre-start",
                  "exit maint:pre-start", "spawn maint:main"])
    #expect(h.goalState("maint") == "start/running")
    _ = h.stopAndSettle("maint")
    #expect(h.goalState("app") == "start/running", "app comes back once maint has gone completely")
}

@Test func nestedAndNegatedConditions() {
    var h = Harness()
    for j in ["db", "replica", "maint"] { h.add(j, "exec /bin/\(j)\n") }
    h.add("app", "while (db or replica) and not maint\nexec /bin/app\n")
    #expect(h.goalState("app") == nil)
    _ = h.request(.start, "replica")
    #expect(h.goalState("app") == "start/running")
    _ = h.request(.start, "db")
    _ = h.stopAndSettle("replica")
    #expect(h.goalState("app") == "start/running", "db still holds the or")
    _ = h.request(.start, "maint")
    _ = h.settle()
    #expect(h.goalState("app") == nil)
    #expect(h.engine.whileReason("app") == "maint is running")
    _ = h.stopAndSettle("maint")
    #expect(h.goalState("app") == "start/running")
    _ = h.stopAndSettle("db")
    #expect(h.goalState("app") == nil)
    #expect(h.engine.whileReason("app") == "db is not running, replica is not running")
}

@Test func instanceSelectionByEnvironment() {
    var h = Harness()
    h.add("net-iface", "instance $IFACE\nexec /bin/ifup\n")
    h.add("dhcp", "while net-iface IFACE=eth0\nexec /bin/dhcp\n")
    _ = h.request(.start, "net-iface", ["IFACE=wlan0"])
    #expect(h.goalState("dhcp") == nil, "wlan0 is not eth0")
    #expect(h.engine.whileReason("dhcp") == "net-iface IFACE=eth0 is not running")
    _ = h.request(.start, "net-iface", ["IFACE=eth0"])
    #expect(h.goalState("dhcp") == "start/running")
    _ = h.request(.stop, "net-iface", ["IFACE=wlan0"])
    _ = h.settle()
    #expect(h.goalState("dhcp") == "start/running")
    let t = h.stopAndSettle2("net-iface", ["IFACE=eth0"])
    #expect(t.first == "kill dhcp")
    #expect(h.goalState("dhcp") == nil)
}

extension Harness {
    mutating func stopAndSettle2(_ job: String, _ env: [String]) -> [String] {
        trace(request(.stop, job, env).1) + settle()
    }
}

// MARK: - Loading and editing

@Test func whileThatAlreadyHoldsStartsTheJobWhenItIsAdded() {
    var h = Harness()
    h.add("app", "while not running maint\nexec /bin/app\n")
    #expect(h.goalState("app") == "start/running")
}

@Test func editingTheConditionAppliesAtOnce() {
    var h = Harness()
    h.add("a", "exec /bin/a\n")
    h.add("b", "exec /bin/b\n")
    h.add("app", "while a\nexec /bin/app\n")
    _ = h.request(.start, "a")
    #expect(h.goalState("app") == "start/running")
    h.send(.jobClassChanged(Harness.job("app", "while b\nexec /bin/app\n")))
    #expect(h.goalState("app") == "stop/killed", "b is not running: app stops")
    _ = h.settle()
    #expect(h.goalState("app") == nil)
    #expect(h.engine.state.whileDependents["a"] == nil)
    #expect(h.engine.state.whileDependents["b"] == ["app"])
    _ = h.request(.start, "b")
    #expect(h.goalState("app") == "start/running")
    h.send(.jobClassChanged(Harness.job("app", "while a or b\nexec /bin/app2\n")))
    #expect(h.goalState("app") == "start/running", "an edit that keeps it true does not restart it")
}

@Test func removingTheJobAConditionNamesStopsTheDependentFirst() {
    var h = Harness()
    h.add("a", "exec /bin/a\n")
    h.add("app", "while a\nexec /bin/app\n")
    _ = h.request(.start, "a")
    h.send(.jobClassRemoved(name: "a"))
    let t = h.stopAndSettle("a")
    #expect(t == ["kill app", "exit app:main", "kill a", "exit a:main"])
}

// MARK: - Level-triggered, and what stops on its own

@Test func theGoalFollowsTheConditionAsOftenAsItChanges() {
    var h = Harness()
    h.add("a", "")
    h.add("app", "while a\nexec /bin/app\n")
    for _ in 0..<5 {
        _ = h.request(.start, "a")
        #expect(h.goalState("app") == "start/running")
        _ = h.stopAndSettle("a")
        #expect(h.goalState("app") == nil)
    }
}

/// A task runs once each time its condition comes to hold.
@Test func aTaskThatFinishesIsNotRunAgainUntilTheConditionHoldsAgain() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("sync", "while running db\ntask\nexec /bin/sync\n")
    _ = h.request(.start, "db")
    #expect(h.goalState("sync") == "start/running")
    let e = h.exit("sync")
    #expect(e.spawns.isEmpty)
    #expect(h.goalState("sync") == nil)
    _ = h.stopAndSettle("db")
    _ = h.request(.start, "db")
    #expect(h.goalState("sync") == "start/running")
}

@Test func aServiceThatFailsStaysStoppedUntilTheConditionHoldsAgain() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("app", "while db\nexec /bin/app\n")
    _ = h.request(.start, "db")
    let e = h.exit("app", .main, .exited(1))
    #expect(e.spawns.isEmpty)
    #expect(h.goalState("app") == nil)
    _ = h.stopAndSettle("db")
    _ = h.request(.start, "db")
    #expect(h.goalState("app") == "start/running")
}

@Test func respawnKeepsAWhileJobUpWhileTheConditionHolds() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("app", "while db\nrespawn\nexec /bin/app\n")
    _ = h.request(.start, "db")
    let e = h.exit("app", .main, .exited(1))
    #expect(e.spawnedKinds == ["app:main"])
    #expect(h.goalState("app") == "start/running")
}

/// When what a job depends on respawns, the dependent stops before and
/// starts after, as if that job had been stopped and started.
@Test func aDependencyThatRespawnsTakesItsDependentsDownAndUp() {
    var h = Harness()
    h.add("db", "respawn\nexec /bin/db\n")
    h.add("app", "while db\nexec /bin/app\n")
    _ = h.request(.start, "db")
    let e = h.exit("db", .main, .exited(1))
    #expect(h.trace(e) == ["kill app"])
    let t = h.settle()
    #expect(t == ["exit app:main", "spawn db:main", "spawn app:main"])
    #expect(h.goalState("app") == "start/running")
}

// MARK: - Beside start on, stop on and initctl

@Test func initctlStartOfAJobWhoseConditionIsFalseIsRefusedWithTheReason() {
    var h = slides()
    _ = h.request(.start, "bar")
    let (id, e) = h.request(.start, "foo")
    #expect(e.reply(id) == .error("Job's while condition is false: baz is not running"))
    #expect(h.goalState("foo") == nil)
}

@Test func stopOnStopsAWhileJobWhichStaysStoppedUntilTheConditionHoldsAgain() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("app", "while db\nstop on pause\nexec /bin/app\n")
    _ = h.request(.start, "db")
    _ = h.emit("pause")
    _ = h.settle()
    #expect(h.goalState("app") == nil)
    let (id, e) = h.request(.start, "app")
    #expect(e.reply(id) == .ok(h.engine.status("app")), "initctl start works while the condition holds")
    #expect(h.goalState("app") == "start/running")
    _ = h.emit("pause")
    _ = h.settle()
    _ = h.stopAndSettle("db")
    _ = h.request(.start, "db")
    #expect(h.goalState("app") == "start/running", "and it comes back with its condition")
}

@Test func startOnCountsOnlyWhileTheConditionHolds() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("report", "start on go\nwhile db\nexec /bin/report\n")
    _ = h.emit("go")
    #expect(h.goalState("report") == nil, "db is not running")
    _ = h.request(.start, "db")
    #expect(h.goalState("report") == nil, "with start on, the condition alone does not start it")
    _ = h.emit("go")
    #expect(h.goalState("report") == "start/running")
    let t = h.stopAndSettle("db")
    #expect(t.first == "kill report", "and it still stops first when db stops")
}

// MARK: - Problems

@Test func cyclesAndUnknownJobsAreReported() {
    var h = Harness()
    h.add("a", "while b\n")
    h.add("b", "while a\n")
    h.add("c", "while ghost and a\n")
    h.add("self", "while not self\n")
    let problems = h.engine.whileProblems().map { "\($0.job): \($0.message)" }
    #expect(problems.contains("a: while conditions form a cycle: a -> b -> a"))
    #expect(problems.contains("c: while condition names unknown job ghost"))
    #expect(problems.contains("self: while conditions form a cycle: self -> self"))
    #expect(h.goalState("a") == nil && h.goalState("b") == nil, "nothing starts, nothing hangs")
    #expect(h.engine.state.events.isEmpty)
}

/// A condition on the job's own state cannot loop for ever within one input.
@Test func selfReferentialWhileStopsAfterABoundedNumberOfRounds() {
    var h = Harness()
    let e = h.add("flip", "while not running flip\n")
    #expect(e.contains(.log("flip: while condition changed \(Engine.maxWhilePasses) times in one step; it is evaluated again after the next input")))
    #expect(h.engine.state.events.isEmpty, "nothing is left held")
}

/// A chain far longer than the per-step bound comes up, and unwinds, in one input each.
@Test func aLongChainSettlesInOneStep() {
    var h = Harness()
    h.add("c-0", "")
    for i in 1...100 { h.add("c-\(i)", "while c-\(i - 1)\n") }
    _ = h.request(.start, "c-0")
    #expect(h.goalState("c-100") == "start/running")
    _ = h.request(.stop, "c-0")
    #expect(h.goalState("c-1") == nil && h.goalState("c-100") == nil)
}

// MARK: - Cost

@Test func aChangeReevaluatesOnlyTheConditionsThatNameTheJob() {
    var h = Harness(verbose: true)
    h.add("a", "exec /bin/a\n")
    h.add("b", "exec /bin/b\n")
    for i in 0..<50 { h.add("on-b-\(i)", "while b\nexec /bin/x\n") }
    h.add("on-a", "while a\nexec /bin/x\n")
    #expect(h.engine.state.whileDependents["a"] == ["on-a"])
    let (_, e) = h.request(.start, "a")
    let evaluated = e.compactMap { if case .log(let l) = $0, l.contains("while condition is now") { return l } else { return nil } }
    #expect(evaluated == ["on-a while condition is now true"])
}

@Test func whileStateSurvivesJSON() throws {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("app", "while running db\nexec /bin/app\n")
    _ = h.request(.start, "db")
    let back = try EngineState.fromJSON(try h.engine.state.jsonData())
    #expect(back == h.engine.state)
    #expect(back.classes["app"]?.whileHolds == true)
}
