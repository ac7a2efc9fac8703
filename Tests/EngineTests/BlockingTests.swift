import Testing
import JobFile
@testable import Engine

/// `initctl emit` waits until what the event started is running.
@Test func emitWaiterIsAnsweredWhenTheStartedServiceIsRunning() {
    var h = Harness(autoSpawn: false)
    h.add("svc", "start on go\nexec /bin/svc\n")
    let e1 = h.emit("go", waiter: 1)
    #expect(e1.reply(1) == nil)
    #expect(h.engine.state.events.values.map(\.name) == ["go"])
    let e2 = h.answerSpawn()
    #expect(e2.reply(1) == .ok(nil))
    #expect(e2.finished.map(\.0.name).contains("go"))
    #expect(h.engine.state.events.isEmpty)
}

/// An event nothing matches finishes at once, and its waiter is answered.
@Test func unmatchedEventFinishesAtOnce() {
    var h = Harness()
    h.add("svc", "start on other\n")
    let e = h.emit("nobody-listens", waiter: 4)
    #expect(e.finished.map(\.0.name) == ["nobody-listens"])
    #expect(e.reply(4) == .ok(nil))
}

/// A task started by an event holds the event until the task has stopped.
@Test func taskHoldsItsEventUntilItHasStopped() {
    var h = Harness()
    h.add("t", "start on go\ntask\nexec /bin/t\n")
    let e1 = h.emit("go", waiter: 1)
    #expect(h.goalState("t") == "start/running")
    #expect(e1.reply(1) == nil)
    let e2 = h.exit("t")
    #expect(e2.jobEvents == ["stopping t", "stopped t"])
    #expect(e2.reply(1) == .ok(nil))
}

/// `starting A` holds A while B (started on `starting A`) starts.
@Test func startingEventHoldsTheJobUntilJobsItStartedAreRunning() {
    var h = Harness(autoSpawn: false)
    h.add("a", "exec /bin/a\n")
    h.add("b", "start on starting a\nexec /bin/b\n")
    _ = h.request(.start, "a")
    #expect(h.goalState("a") == "start/starting")
    #expect(h.goalState("b") == "start/spawned")
    #expect(h.pendingSpawns.map(\.job) == ["b"])
    h.answerSpawn()
    #expect(h.goalState("b") == "start/running")
    #expect(h.goalState("a") == "start/spawned", "a moved on once b was running")
}

/// The chain: A starting blocks on B, which starts C on `starting B`; C is
/// a task. C must finish, then B run, then A move.
@Test func blockingChainsThroughThreeJobs() {
    var h = Harness()
    h.add("a", "exec /bin/a\n")
    h.add("b", "start on starting a\nexec /bin/b\n")
    h.add("c", "start on starting b\ntask\nexec /bin/c\n")
    let (req, e1) = h.request(.start, "a")
    #expect(h.goalState("a") == "start/starting")
    #expect(h.goalState("b") == "start/starting")
    #expect(h.goalState("c") == "start/running")
    #expect(e1.spawnedKinds == ["c:main"])
    #expect(e1.reply(req) == nil)
    let e2 = h.exit("c")
    #expect(h.goalState("c") == nil)
    #expect(h.goalState("b") == "start/running")
    #expect(h.goalState("a") == "start/running")
    #expect(e2.spawnedKinds == ["b:main", "a:main"])
    #expect(e2.jobEvents == ["stopping c", "stopped c", "started b", "started a"])
    #expect(e2.reply(req) == .ok(h.engine.status("a")))
}

/// `stopping A` holds A (and its main process) while a job started on it runs.
@Test func stoppingEventHoldsTheKillUntilTheTaskItStartedIsDone() {
    var h = Harness()
    h.add("a", "exec /bin/a\n")
    h.add("saver", "start on stopping a\ntask\nexec /bin/save\n")
    _ = h.request(.start, "a")
    let (_, e1) = h.request(.stop, "a")
    #expect(h.goalState("a") == "stop/stopping")
    #expect(e1.signals.isEmpty, "a is not killed while saver runs")
    let e2 = h.exit("saver")
    #expect(h.goalState("a") == "stop/killed")
    #expect(e2.signals.map(\.0) == [h.pid("a")!])
}

/// An event matching part of an `and` is held until the whole fires; then
/// the job holds both until it is running.
@Test func eventMatchingHalfAnAndIsHeldUntilTheWholeFires() {
    var h = Harness()
    h.add("both", "start on net-up and fs-up\nexec /bin/both\n")
    let e1 = h.emit("net-up", waiter: 1)
    #expect(e1.reply(1) == nil)
    #expect(h.goalState("both") == nil)
    #expect(h.engine.state.events.values.first?.blockers == 1)
    let e2 = h.emit("fs-up", waiter: 2)
    #expect(h.goalState("both") == "start/running")
    #expect(e2.reply(1) == .ok(nil))
    #expect(e2.reply(2) == .ok(nil))
    #expect(h.engine.state.events.isEmpty)
}

/// A job already started does not hold the event; the event is released.
@Test func eventForAJobAlreadyStartedIsNotHeld() {
    var h = Harness()
    h.add("svc", "start on go\nexec /bin/svc\n")
    _ = h.emit("go")
    let e = h.emit("go", waiter: 3)
    #expect(e.reply(3) == .ok(nil))
}

/// A stop request waits until the instance is fully stopped.
@Test func stopRequestIsAnsweredWhenStopped() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    let (req, e1) = h.request(.stop, "svc")
    #expect(e1.reply(req) == nil)
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.reply(req) == .ok(InstanceStatus(job: "svc", instance: "", goal: .stop, state: .waiting, processes: [])))
    #expect(h.goalState("svc") == nil)
}

/// `--no-wait` answers as soon as the goal has changed.
@Test func noWaitRequestsAreAnsweredAtOnce() {
    var h = Harness(autoSpawn: false)
    h.add("svc", "exec /bin/svc\n")
    let (req, e) = h.request(.start, "svc", wait: false)
    #expect(e.reply(req) == .ok(InstanceStatus(job: "svc", instance: "", goal: .start, state: .starting, processes: [])))
}

/// The queue is first in, first out: events emitted by jobs come after
/// the event being handled, in order.
@Test func eventsAreHandledInTheOrderTheyWereQueued() {
    var h = Harness()
    h.add("x", "start on go\n")
    h.add("y", "start on go\n")
    let e = h.emit("go")
    #expect(e.emittedNames == ["go", "starting", "starting", "started", "started"])
    #expect(e.jobEvents == ["starting x", "starting y", "started x", "started y"])
}
