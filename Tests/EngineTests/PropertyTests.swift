import Testing
import PropertyBased
import JobFile
@testable import Engine

/// The jobs the random histories run: services, tasks, instances, `and`,
/// chains of `starting`, respawn, scripts only, and a short kill timeout.
let propertyJobs: [(String, String)] = [
    ("svc", "start on ev1\nstop on ev2\nrespawn\npre-start exec p\nexec svc\npost-stop exec q\n"),
    ("task1", "start on starting svc\ntask\nexec t\n"),
    ("multi", "instance $N\nstart on ev3\nstop on ev2 N=$N or ev4\nexec m\npost-start exec ps\npre-stop exec pst\n"),
    ("both", "start on ev1 and ev3\nstop on stopping svc\nexec b\nkill timeout 1\n"),
    ("scripts", "start on started svc\nstop on stopped svc\npre-start exec x\npost-stop exec y\n"),
    ("chain", "start on starting task1\ntask\nexec c\n"),
    ("forker", "start on ev4\nstop on ev2\nexpect fork\nrespawn\nexec f\n"),
    ("watcher", "while running svc and not running both\nexec w\npost-stop exec z\n"),
]
let alternativeJobs: [(String, String)] = [
    ("svc", "start on ev4\nstop on ev1\nexec svc2\npre-stop exec d\n"),
    ("multi", "instance $N\nstart on ev1 N=*\nexec m2\n"),
    ("both", "start on ev3 or ev2\ntask\nexec b2\n"),
]
let propertyEvents = ["ev1", "ev2", "ev3", "ev4", "startup"]

/// Drives the engine with one random history, playing the shell.
struct Simulation {
    var h = Harness(autoSpawn: false)
    var problems: [String] = []
    var waiter: RequestID = 10_000

    init() {
        for (name, text) in propertyJobs { h.add(name, text) }
    }

    mutating func step(_ code: Int) {
        switch code {
        case 0..<20:
            let name = propertyEvents[code % propertyEvents.count]
            _ = h.emit(name, ["N=\(code % 2)"])
        case 20..<30:
            let job = propertyJobs[code % propertyJobs.count].0
            let action: [ControlAction] = [.start, .stop, .restart, .reload, .start]
            _ = h.request(action[code % action.count], job, ["N=\(code % 2)"], wait: code % 3 != 0)
        case 30..<50:
            h.answerSpawn(fail: code % 10 == 0 ? "exec failed" : nil)
        case 50..<65:
            let pids = h.live.keys.sorted()
            guard !pids.isEmpty else { return }
            let pid = pids[code % pids.count]
            let statuses: [ProcessExit] = [.exited(0), .exited(1), .killed(.term)]
            h.send(.processExited(pid: pid, status: statuses[code % 3]))
        case 65..<73:
            if let t = h.timers.min(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key {
                _ = h.fire(t)
            }
        case 73..<80:
            h.advance(seconds: code - 72)
        case 85..<88:
            // The shell reports an `expect fork` main process ready.
            let waiting = h.engine.state.instances.values.sorted { $0.key < $1.key }
                .first { $0.state == .spawned && $0.pids[.main] != nil }
            if let inst = waiting, let pid = inst.pids[.main] {
                let final = h.nextPid
                h.nextPid += 1
                h.send(.mainProcessReady(pid: pid, finalPid: code == 85 ? pid : final))
            }
        case 80..<85:
            let (name, text) = alternativeJobs[code % alternativeJobs.count]
            switch code % 3 {
            case 0: h.send(.jobClassChanged(Harness.job(name, text)))
            case 1: h.send(.jobClassRemoved(name: name))
            default:
                let original = propertyJobs.first { $0.0 == name }!
                h.add(name, original.1)
            }
        default:
            waiter += 1
            _ = h.emit(propertyEvents[code % propertyEvents.count], ["N=\(code % 2)"], waiter: waiter)
        }
        check()
    }

    /// Plays the shell to the end: stops every instance, answers every
    /// spawn, lets every process exit, fires every timer, then deletes
    /// every job (which releases events held by half-fired `and`s).
    mutating func drain() {
        for _ in 0..<5_000 {
            if !h.pendingSpawns.isEmpty {
                h.answerSpawn()
            } else if let inst = h.engine.state.instances.values.sorted(by: { $0.key < $1.key }).first(where: { $0.goal != .stop }) {
                let env = inst.key.instance.isEmpty ? [] : ["N=\(inst.key.instance)"]
                let (_, _) = h.request(.stop, inst.key.job, env, wait: false)
            } else if let inst = h.engine.state.instances.values.sorted(by: { $0.key < $1.key })
                        .first(where: { $0.state == .spawned && $0.pids[.main] != nil }) {
                h.send(.mainProcessReady(pid: inst.pids[.main]!, finalPid: inst.pids[.main]!))
            } else if let pid = h.live.keys.sorted().first {
                h.send(.processExited(pid: pid, status: .exited(0)))
            } else if let t = h.timers.keys.sorted().first {
                _ = h.fire(t)
            } else if let name = h.engine.state.classes.keys.sorted().first {
                // Half-fired `and`s hold their events until the rest comes;
                // deleting the jobs lets them go.
                h.send(.jobClassRemoved(name: name))
            } else {
                break
            }
            check()
        }
    }

    /// The invariants that hold after every input.
    mutating func check() {
        let s = h.engine.state
        problems += h.violations
        h.violations = []
        for inst in s.instances.values {
            if inst.state == .waiting { problems.append("\(inst.key) left in waiting") }
            let waitsForEvent = inst.state == .starting || inst.state == .stopping
            if waitsForEvent != (inst.blocker != nil) {
                problems.append("\(inst.key) in \(inst.state) with blocker \(String(describing: inst.blocker))")
            }
            if let b = inst.blocker, s.events[b]?.blockedJobs.contains(inst.key) != true {
                problems.append("\(inst.key) waits for event \(b) that does not know it")
            }
            let live = inst.pids.keys.filter { $0 != .main }.count + inst.pendingSpawns.keys.filter { $0 != .main }.count
            if live > 1 { problems.append("\(inst.key) has \(live) helper processes at once") }
        }
        // Nothing ready is left behind, and every hold is accounted for.
        var holds: [EventID: Int] = [:]
        for c in s.classes.values { for e in c.startOn?.held ?? [] { if let e { holds[e, default: 0] += 1 } } }
        for inst in s.instances.values {
            for e in inst.stopOn?.held ?? [] { if let e { holds[e, default: 0] += 1 } }
            for b in inst.blocking { if case .event(let e) = b { holds[e, default: 0] += 1 } }
        }
        for ev in s.events.values {
            if ev.progress != .handling || ev.blockers <= 0 {
                problems.append("event \(ev.name) #\(ev.id) stalled: \(ev.progress) with \(ev.blockers) blockers")
            }
            if holds[ev.id, default: 0] != ev.blockers {
                problems.append("event \(ev.name) #\(ev.id) has \(ev.blockers) blockers but \(holds[ev.id, default: 0]) holds")
            }
        }
        for (e, _) in holds where s.events[e] == nil { problems.append("hold on finished event \(e)") }
        // The engine's idea of live processes is the shell's.
        if Set(s.pidIndex.keys) != Set(h.live.keys) {
            problems.append("engine pids \(s.pidIndex.keys.sorted()) != live \(h.live.keys.sorted())")
        }
        if Set(s.spawnIndex.keys) != Set(h.pendingSpawns.map(\.id)) {
            problems.append("engine spawns \(s.spawnIndex.keys.sorted()) != pending \(h.pendingSpawns.map(\.id))")
        }
    }

    /// What must hold once everything has been drained.
    mutating func checkEnd() {
        let s = h.engine.state
        if !s.instances.isEmpty { problems.append("instances left: \(s.instances.keys.sorted())") }
        if !s.events.isEmpty { problems.append("events left: \(s.events.values.map(\.name))") }
        let emitted = Set(h.log.emitted.map(\.id))
        let finished = h.log.finished.map(\.0.id)
        if Set(finished) != emitted { problems.append("emitted events never finished: \(emitted.subtracting(finished).sorted())") }
        if finished.count != Set(finished).count { problems.append("an event finished twice") }
        // Every waiter and request got exactly one answer.
        var answers: [RequestID: Int] = [:]
        for (id, _) in h.log.replies { answers[id, default: 0] += 1 }
        if let twice = answers.first(where: { $0.value > 1 }) { problems.append("request \(twice.key) answered \(twice.value) times") }
        for id in 1..<h.nextRequest where answers[id] == nil { problems.append("request \(id) never answered") }
        for id in 10_001..<(waiter + 1) where answers[id] == nil {
            // A refused emit is answered too; every waiter hears back.
            problems.append("emit waiter \(id) never answered")
        }
        // Every instance that started has stopped, and stopped last.
        var last: [String: String] = [:]
        var starting: [String: Int] = [:], stopped: [String: Int] = [:]
        for r in h.log.emitted where ["starting", "started", "stopping", "stopped"].contains(r.name) {
            let key = r.environment[0] + " " + r.environment[1]
            last[key] = r.name
            if r.name == "starting" { starting[key, default: 0] += 1 }
            if r.name == "stopped" { stopped[key, default: 0] += 1 }
        }
        for (key, name) in last where name != "stopped" { problems.append("\(key) ended with \(name), not stopped") }
        for (key, n) in stopped where n > starting[key, default: 0] { problems.append("\(key) stopped more often than it started") }
    }
}

@Test func randomHistoriesKeepTheEngineInvariants() async {
    await propertyCheck(count: 1000, input: Gen.int(in: 0...99).array(of: 1...80)) { codes in
        var sim = Simulation()
        for c in codes { sim.step(c) }
        sim.drain()
        sim.checkEnd()
        #expect(sim.problems == [], "history \(codes)")
    }
}

@Test func randomHistoriesEncodeToJSONAndBackEqual() async throws {
    await propertyCheck(count: 300, input: Gen.int(in: 0...99).array(of: 1...40)) { codes in
        var sim = Simulation()
        for c in codes { sim.step(c) }
        let data = try sim.h.engine.state.jsonData()
        let back = try EngineState.fromJSON(data)
        #expect(back == sim.h.engine.state, "history \(codes)")
        // And the decoded engine behaves the same on the next input.
        var a = sim.h.engine, b = Engine(state: back)
        let next = Input.emit(name: "ev2", environment: ["N=1"], waiter: nil)
        #expect(a.handle(next, at: sim.h.time) == b.handle(next, at: sim.h.time))
    }
}

@Test func sameHistoryGivesTheSameEffects() async {
    await propertyCheck(count: 30, input: Gen.int(in: 0...99).array(of: 1...40)) { codes in
        var a = Simulation(), b = Simulation()
        for c in codes { a.step(c); b.step(c) }
        #expect(a.h.log == b.h.log)
        #expect(a.h.engine == b.h.engine)
    }
}
