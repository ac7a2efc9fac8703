import JobFile
import Testing
@testable import Engine

/// Shutdown in reverse dependency order (`stopEverything`, `continueShutdown`).
@Suite struct ShutdownOrder {
    /// web starts on `started db`, worker on `starting web or started db`
    /// (it needs both); cache stands alone.
    func running() -> Harness {
        var h = Harness()
        h.add("db", "start on startup\nexec db\n")
        h.add("web", "start on started db\nexec web\n")
        h.add("worker", "start on starting web or started db\nexec worker\n")
        h.add("cache", "start on startup\nexec cache\n")
        h.emit("startup")
        return h
    }

    @Test func dependentsStopFirstAndWhatTheyNeedOnlyOnceTheyAreGone() {
        var h = running()
        for job in ["db", "web", "worker", "cache"] { #expect(h.goalState(job) == "start/running", "\(job)") }
        let effects = h.engine.stopEverything(at: h.time)
        // worker and cache are needed by nothing: asked to stop at once. web waits for worker, db for both.
        #expect(h.goalState("worker") == "stop/killed")
        #expect(h.goalState("cache") == "stop/killed")
        #expect(h.goalState("web") == "start/running")
        #expect(h.goalState("db") == "start/running")
        #expect(Set(effects.signals.map(\.0)) == Set(["worker", "cache"].compactMap { h.pid($0) }))
        h.exit("worker", .main, .killed(.term))
        let next = h.engine.continueShutdown(at: h.time)
        #expect(h.goalState("web") == "stop/killed")
        #expect(h.goalState("db") == "start/running", "web still needs db")
        #expect(next.signals.map(\.0) == [h.pid("web")].compactMap { $0 })
        h.exit("web", .main, .killed(.term))
        let last = h.engine.continueShutdown(at: h.time)
        #expect(h.goalState("db") == "stop/killed")
        #expect(last.signals.map(\.0) == [h.pid("db")].compactMap { $0 })
        // Nothing more to do until db is gone.
        #expect(h.engine.continueShutdown(at: h.time).isEmpty)
    }

    @Test func whileConditionsCountAsDependencies() {
        var h = Harness()
        h.add("net", "start on startup\nexec net\n")
        h.add("vpn", "while net\nexec vpn\n")
        h.emit("startup")
        #expect(h.goalState("vpn") == "start/running")
        _ = h.engine.stopEverything(at: h.time)
        #expect(h.goalState("vpn") == "stop/killed")
        #expect(h.goalState("net") == "start/running")
    }

    @Test func aCycleIsStoppedAllAtOnce() {
        var h = Harness()
        h.add("a", "start on startup or started b\nexec a\n")
        h.add("b", "start on started a\nexec b\n")
        h.emit("startup")
        #expect(h.goalState("a") == "start/running")
        #expect(h.goalState("b") == "start/running")
        _ = h.engine.stopEverything(at: h.time)
        #expect(h.goalState("a") == "stop/killed")
        #expect(h.goalState("b") == "stop/killed")
    }
}
