import Engine
import JobFile
import Testing
@testable import Supervisor

/// The post-mortem store, fed by hand the inputs and events a daemon sees.
@Suite struct PostMortemStore {
    func running(_ text: String) throws -> (Engine, Int32) {
        var engine = Engine()
        let job = try Parser.parse(name: "svc", text: text, file: "svc.conf")
        _ = engine.handle(.jobClassAdded(job), at: .seconds(1))
        let effects = engine.handle(.control(ControlRequest(id: 1, action: .start, job: "svc", wait: false)), at: .seconds(1))
        guard let spawn = effects.compactMap({ if case .spawn(let s) = $0 { return s } else { return nil } }).first else {
            throw PostMortemTestError()
        }
        _ = engine.handle(.processSpawned(spawn: spawn.id, pid: 4242), at: .seconds(1))
        return (engine, 4242)
    }

    @Test func anOutOfMemoryKillIsTheLastFailureAndSaysSo() throws {
        let (engine, pid) = try running("exec /bin/svc\n")
        var pm = PostMortem()
        pm.observe(.processOutOfMemory(pid: pid), engine: engine)
        pm.observe(.processExited(pid: pid, status: .killed(.kill)), engine: engine)
        let r = try #require(pm.records[InstanceKey(job: "svc")])
        #expect(r.lastFailure?.text == "main process (4242) killed by KILL signal (out of memory)")
        #expect(r.history.map(\.text) == ["main process (4242) killed by KILL signal (out of memory)"])
    }

    /// A line longer than the bound whose cut falls inside a multi-byte
    /// character (a path in a spawn failure) is cut before that character;
    /// it trapped the daemon before (a failable String init, force-unwrapped).
    @Test func aLongLineIsCutBeforeACharacterItWouldSplit() throws {
        var engine = Engine()
        _ = engine.handle(.jobClassAdded(try Parser.parse(name: "svc", text: "exec /bin/svc\n", file: "svc.conf")), at: .seconds(1))
        let effects = engine.handle(.control(ControlRequest(id: 1, action: .start, job: "svc", wait: false)), at: .seconds(1))
        let spawn = try #require(effects.compactMap({ if case .spawn(let s) = $0 { return s } else { return nil } }).first)
        let prefix = "main process failed to start: "
        let reason = String(repeating: "x", count: PostMortem.maxLine - prefix.utf8.count - 1) + "éé"
        var pm = PostMortem()
        pm.observe(.spawnFailed(spawn: spawn.id, reason: reason), engine: engine)
        let text = try #require(pm.records[InstanceKey(job: "svc")]?.lastFailure?.text)
        #expect(text == prefix + String(repeating: "x", count: PostMortem.maxLine - prefix.utf8.count - 1))
        #expect(text.utf8.count <= PostMortem.maxLine)
        // Taken back after a re-exec, the same.
        var again = PostMortem()
        again.imported(pm.exported())
        #expect(again.records[InstanceKey(job: "svc")]?.lastFailure?.text == text)
        #expect(again.exported() == pm.exported())
    }

    /// `initctl restart` sends the main process its kill signal while the
    /// goal is already start again: its death is the daemon's doing, not a
    /// failure (it was one before: `status` showed "last failure ... killed
    /// by TERM signal" after every restart).
    @Test func theKillOfARestartIsHistoryButNotAFailure() throws {
        var (engine, pid) = try running("exec /bin/svc\n")
        let effects = engine.handle(.control(ControlRequest(id: 2, action: .restart, job: "svc", wait: false)), at: .seconds(2))
        #expect(effects.contains { if case .signal(let p, .term) = $0 { return p == pid } else { return false } }, "\(effects)")
        var pm = PostMortem()
        pm.observe(.processExited(pid: pid, status: .killed(.term)), engine: engine)
        let r = try #require(pm.records[InstanceKey(job: "svc")])
        #expect(r.lastFailure == nil)
        #expect(r.history.map(\.text) == ["main process (\(pid)) killed by TERM signal"])
        // The same signal from elsewhere, the job running, is a failure.
        let (running, other) = try self.running("exec /bin/svc\n")
        var crashed = PostMortem()
        crashed.observe(.processExited(pid: other, status: .killed(.term)), engine: running)
        #expect(crashed.records[InstanceKey(job: "svc")]?.lastFailure?.text == "main process (\(other)) killed by TERM signal")
    }

    @Test func aNormalExitIsHistoryButNotAFailure() throws {
        let (engine, pid) = try running("normal exit 3\nexec /bin/svc\n")
        var pm = PostMortem()
        pm.observe(.processExited(pid: pid, status: .exited(3)), engine: engine)
        let r = try #require(pm.records[InstanceKey(job: "svc")])
        #expect(r.lastFailure == nil)
        #expect(r.history.count == 1)
    }

    @Test func historyKeepsTheLastTenAndInstancesAreBounded() throws {
        let (engine, _) = try running("exec /bin/svc\n")
        var pm = PostMortem()
        for i in 0..<25 {
            pm.observe(EventRecord(id: UInt64(i), name: i % 2 == 0 ? "starting" : "stopped", environment: ["JOB=svc", "INSTANCE="]), engine: engine)
        }
        #expect(pm.records[InstanceKey(job: "svc")]?.history.count == PostMortem.historyLength)
        for i in 0..<(PostMortem.maxInstances + 50) {
            pm.observe(EventRecord(id: 100, name: "starting", environment: ["JOB=j\(i)", "INSTANCE="]), engine: engine)
        }
        #expect(pm.records.count == PostMortem.maxInstances)
        #expect(pm.records[InstanceKey(job: "j\(PostMortem.maxInstances + 49)")] != nil, "the newest is kept")
    }
}

struct PostMortemTestError: Error {}
