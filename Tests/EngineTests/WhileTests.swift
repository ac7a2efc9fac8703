import Testing
import JobFile
@testable import Engine

@Test func whileRunningStartsAndStopsWithTheOtherJob() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("app", "while running db\nexec /bin/app\n")
    #expect(h.goalState("app") == nil)
    let (_, e1) = h.request(.start, "db")
    #expect(h.goalState("app") == "start/running")
    #expect(e1.jobEvents == ["starting db", "started db", "starting app", "started app"])
    _ = h.request(.stop, "db")
    #expect(h.goalState("app") == "stop/killed", "app is stopped once db leaves running")
    h.exit("app", .main, .killed(.term))
    h.exit("db", .main, .killed(.term))
    #expect(h.goalState("app") == nil)
    _ = h.request(.start, "db")
    #expect(h.goalState("app") == "start/running", "and started again when db runs again")
}

@Test func whileConditionsCombineWithNotAndOr() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("maint", "exec /bin/maint\n")
    h.add("app", "while running db and not running maint\nexec /bin/app\n")
    _ = h.request(.start, "db")
    #expect(h.goalState("app") == "start/running")
    _ = h.request(.start, "maint")
    #expect(h.goalState("app") == "stop/killed")
}

@Test func whileThatAlreadyHoldsStartsTheJobWhenItIsAdded() {
    var h = Harness()
    h.add("app", "while not running maint\nexec /bin/app\n")
    #expect(h.goalState("app") == "start/running")
}

/// Edge-triggered: a job that ends on its own is not started again until
/// the condition has been false and true again.
@Test func whileJobThatEndsIsNotRestartedUntilTheConditionChanges() {
    var h = Harness()
    h.add("db", "exec /bin/db\n")
    h.add("sync", "while running db\ntask\nexec /bin/sync\n")
    _ = h.request(.start, "db")
    #expect(h.goalState("sync") == "start/running")
    let e = h.exit("sync")
    #expect(e.spawns.isEmpty)
    #expect(h.goalState("sync") == nil)
    _ = h.request(.stop, "db")
    h.exit("db", .main, .killed(.term))
    _ = h.request(.start, "db")
    #expect(h.goalState("sync") == "start/running")
}

/// A condition on the job's own state cannot loop for ever within one input.
@Test func selfReferentialWhileStopsAfterABoundedNumberOfRounds() {
    var h = Harness()
    let e = h.add("flip", "while not running flip\n")
    #expect(e.contains(.log("while conditions did not settle after \(Engine.maxWhilePasses) rounds; they are evaluated again after the next input")))
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
