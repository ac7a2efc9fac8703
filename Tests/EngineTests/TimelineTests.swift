import Testing
import JobFile
@testable import Engine

// The boot record (`Timeline`) and what `initctl analyze` computes from it
// (`BootAnalysis.swift`), driven through the engine with a clock the test
// moves.

extension Harness {
    /// Moves the clock on by `ms` milliseconds.
    mutating func wait(ms: Int64) {
        time = EngineTime(nanoseconds: time.nanoseconds + ms * 1_000_000)
    }

    /// Ends the pre-start process of `job` successfully.
    mutating func endPreStart(_ job: String) {
        guard let pid = pid(job, .preStart) else {
            Issue.record("\(job) has no pre-start process")
            return
        }
        send(.processExited(pid: pid, status: .exited(0)))
    }
}

let ms: Int64 = 1_000_000

/// a, b, c: a chain (`started a`, `started b`) with pre-starts taking 300,
/// 200 and 400 ms; p: a parallel branch on `startup` whose pre-start takes
/// 100 ms; w: runs `while a`; a post-start on b of 50 ms.
func bootChain() -> Harness {
    var h = Harness()
    h.engine.timeline.daemonStart = h.time
    h.add("a", "start on startup\npre-start exec sleep 0.3\nexec sleep 100\n")
    h.add("b", "start on started a\npre-start exec sleep 0.2\nexec sleep 100\npost-start exec sleep 0.05\n")
    h.add("c", "start on started b\npre-start exec sleep 0.4\nexec sleep 100\n")
    h.add("p", "start on startup\npre-start exec sleep 0.1\nexec sleep 100\n")
    h.add("w", "while a\nexec sleep 100\n")
    h.wait(ms: 5)
    h.emit("startup")
    h.wait(ms: 100)
    h.endPreStart("p")
    h.wait(ms: 200)
    h.endPreStart("a")      // a up at 305; b and w start
    h.wait(ms: 200)
    h.endPreStart("b")      // b's post-start runs
    h.wait(ms: 50)
    if let pid = h.pid("b", .postStart) { h.send(.processExited(pid: pid, status: .exited(0))) }  // b up at 555; c starts
    h.wait(ms: 400)
    h.endPreStart("c")      // c up at 955: the boot ends
    return h
}

@Suite struct TimelineTests {
    @Test func bootTimeEndsWhenTheLastJobOfTheChainIsRunning() {
        let h = bootChain()
        let t = h.engine.timeline.bootTime
        #expect(t.end == 955 * ms)
        #expect(t.last == InstanceKey(job: "c"))
        #expect(t.lastAt == 955 * ms)
        // startup is held by a and p, the jobs it started; a is up last.
        #expect(t.bootEventSettled == 305 * ms)
        #expect(t.jobs == 5)
        #expect(t.kernel == nil)
        #expect(t.pending.isEmpty)
    }

    @Test func bootIsNotFinishedWhileAJobIsStillStarting() {
        var fresh = Harness()
        fresh.engine.timeline.daemonStart = fresh.time
        fresh.add("slow", "start on startup\npre-start exec sleep 1\nexec sleep 100\n")
        fresh.emit("startup")
        let t = fresh.engine.timeline.bootTime
        #expect(t.end == nil)
        #expect(t.bootEventSettled == nil)
        #expect(t.pending == [InstanceKey(job: "slow")])
        fresh.wait(ms: 1000)
        fresh.endPreStart("slow")
        #expect(fresh.engine.timeline.bootTime.end == 1000 * ms)
    }

    @Test func blameSortsByStartingToRunningWithPreAndPostStartApart() {
        let rows = bootChain().engine.timeline.blame
        #expect(rows.map(\.key.job) == ["c", "a", "b", "p", "w"])
        #expect(rows.map(\.total) == [400 * ms, 300 * ms, 250 * ms, 100 * ms, 0])
        #expect(rows.map(\.preStart) == [400 * ms, 300 * ms, 200 * ms, 100 * ms, nil])
        #expect(rows.map(\.postStart) == [nil, nil, 50 * ms, nil, nil])
        #expect(rows.map(\.main) == [0, 0, 0, 0, 0])
    }

    /// Two jobs enter pre-start together; the shell spawns one 40 ms after
    /// the other: the second's pre-start counts from its spawn, and its
    /// total keeps the wait.
    @Test func preStartCountsFromItsSpawn() {
        var h = Harness(autoSpawn: false)
        h.engine.timeline.daemonStart = h.time
        h.add("first", "start on startup\npre-start exec sleep 1\nexec sleep 100\n")
        h.add("second", "start on startup\npre-start exec sleep 1\nexec sleep 100\n")
        h.emit("startup")
        _ = h.answerSpawn()
        h.wait(ms: 40)
        _ = h.answerSpawn()
        h.wait(ms: 100)
        h.endPreStart("first")
        _ = h.answerSpawn()
        h.endPreStart("second")
        _ = h.answerSpawn()
        let rows = Dictionary(uniqueKeysWithValues: h.engine.timeline.blame.map { ($0.key.job, $0) })
        #expect(rows["first"]?.preStart == 140 * ms)
        #expect(rows["second"]?.preStart == 100 * ms)
        #expect(rows["second"]?.total == 140 * ms)
        let back = Timeline(json: h.engine.timeline.json)
        #expect(back?.blame == h.engine.timeline.blame)
    }

    @Test func blameOfATaskRunsToItsEnd() {
        var h = Harness()
        h.engine.timeline.daemonStart = h.time
        h.add("t", "task\nstart on startup\nexec true\n")
        h.emit("startup")
        h.wait(ms: 700)
        _ = h.exit("t")
        let rows = h.engine.timeline.blame
        #expect(rows.count == 1)
        #expect(rows.first?.task == true)
        #expect(rows.first?.main == 700 * ms)
        #expect(rows.first?.total == 700 * ms)
        #expect(h.engine.timeline.bootTime.end == 700 * ms)
        #expect(h.engine.timeline.bootTime.last == InstanceKey(job: "t"))
    }

    @Test func criticalChainFollowsStartedEventsBackToStartup() {
        let chain = bootChain().engine.timeline.criticalChain(InstanceKey(job: "c"))
        #expect(chain == [
            .job(InstanceKey(job: "c"), at: 955 * ms, took: 400 * ms, via: nil),
            .job(InstanceKey(job: "b"), at: 555 * ms, took: 250 * ms, via: "started b"),
            .job(InstanceKey(job: "a"), at: 305 * ms, took: 300 * ms, via: "started a"),
            .event("startup", at: 5 * ms),
        ])
    }

    @Test func criticalChainFollowsAWhileConditionToTheJobItNeeds() {
        let chain = bootChain().engine.timeline.criticalChain(InstanceKey(job: "w"))
        #expect(chain == [
            .job(InstanceKey(job: "w"), at: 305 * ms, took: 0, via: nil),
            .job(InstanceKey(job: "a"), at: 305 * ms, took: 300 * ms, via: "while running a"),
            .event("startup", at: 5 * ms),
        ])
    }

    @Test func criticalChainOfAnAndFollowsTheEventThatCameLast() {
        var h = Harness()
        h.engine.timeline.daemonStart = h.time
        h.add("x", "start on startup\npre-start exec sleep 0.1\nexec sleep 100\n")
        h.add("y", "start on startup\npre-start exec sleep 0.3\nexec sleep 100\n")
        h.add("z", "start on started x and started y\nexec sleep 100\n")
        h.emit("startup")
        h.wait(ms: 100)
        h.endPreStart("x")
        h.wait(ms: 200)
        h.endPreStart("y")
        let chain = h.engine.timeline.criticalChain(InstanceKey(job: "z"))
        #expect(chain?.count == 3)
        #expect(chain?[1] == .job(InstanceKey(job: "y"), at: 300 * ms, took: 300 * ms, via: "started y"))
    }

    @Test func criticalChainOfARequestEndsAtTheRequest() {
        var h = Harness()
        h.engine.timeline.daemonStart = h.time
        h.add("r", "exec sleep 100\n")
        h.wait(ms: 40)
        _ = h.request(.start, "r")
        #expect(h.engine.timeline.criticalChain(InstanceKey(job: "r")) == [
            .job(InstanceKey(job: "r"), at: 40 * ms, took: 0, via: nil),
            .request(at: 40 * ms),
        ])
        #expect(h.engine.timeline.criticalChain(InstanceKey(job: "nothing")) == nil)
    }

    @Test func noStartupEventMeansTheBootEndsWhenNothingIsStarting() {
        var h = Harness()
        h.engine.timeline.daemonStart = h.time
        h.engine.timeline.bootEvent = nil
        h.wait(ms: 3)
        h.add("idle", "exec sleep 100\n")
        #expect(h.engine.timeline.bootTime.end == 3 * ms)
    }

    @Test func laterRunsKeepTheFirstRunsTimes() {
        var h = Harness()
        h.engine.timeline.daemonStart = h.time
        h.add("again", "start on go\nexec sleep 100\n")
        h.emit("go")
        let first = h.engine.timeline.entries[InstanceKey(job: "again")]
        h.wait(ms: 500)
        _ = h.stopAndSettle("again")
        h.wait(ms: 500)
        h.emit("go")
        let later = h.engine.timeline.entries[InstanceKey(job: "again")]
        #expect(first?.time(.running) == later?.time(.running))
        #expect(first?.time(.waiting) == nil)
        #expect(later?.time(.waiting) == EngineTime(nanoseconds: h.engine.timeline.daemonStart.nanoseconds + 500 * ms))
        #expect(later?.time(.stopping) == later?.time(.waiting))
    }

    /// 100,000 transitions of 11,112 instances, each through nine states,
    /// given to the record as the engine gives them (`recordStart`, then
    /// `record` for each state): it keeps 4,096 instances and counts the
    /// rest. (Straight to the record: through a debug-built engine the same
    /// would take 15 s of CPU, beside latency tests; the next test takes the
    /// engine's own path past the bound.)
    @Test func recordStaysBoundedAfterAHundredThousandTransitions() {
        var t = Timeline()
        let def = ClassDefinition(Harness.job("worker", "task\ninstance $N\nexec true\n"))
        let run: [JobState] = [.starting, .preStart, .spawned, .postStart, .running, .stopping, .killed, .postStop, .waiting]
        var n = 0
        var now = EngineTime.seconds(1)
        while t.transitions < 100_000 {
            n += 1
            let key = InstanceKey(job: "worker", instance: "\(n)")
            t.recordStart(key, .events([CauseEvent(name: "go")]), at: now, job: def)
            var old = JobState.waiting
            for s in run {
                t.record(key, from: old, to: s, at: now, job: def)
                old = s
                now = EngineTime(nanoseconds: now.nanoseconds + 1000)
            }
        }
        #expect(t.transitions >= 100_000)
        #expect(t.entries.count == Timeline.maxInstances)
        #expect(t.dropped == n - Timeline.maxInstances)
        #expect(t.busy == 0)
        let first = t.entries[InstanceKey(job: "worker", instance: "1")]
        #expect(first?.entered.compactMap { $0 }.count == 9)
        #expect(first?.time(.preStop) == nil)
    }

    /// Through the engine: 4,100 instances of an instance task (the shell's
    /// part: answer each spawn, then end the process): the record stops at
    /// 4,096 and counts the four it left out.
    @Test func engineStopsRecordingAtTheBound() {
        var engine = Engine()
        var now = EngineTime.seconds(1)
        engine.timeline.daemonStart = now
        _ = engine.handle(.jobClassAdded(Harness.job("worker", "task\ninstance $N\nstart on go\nexec true\n")), at: now)
        var pid: Int32 = 100
        for n in 1...(Timeline.maxInstances + 4) {
            now = EngineTime(nanoseconds: now.nanoseconds + ms)
            for effect in engine.handle(.emit(name: "go", environment: ["N=\(n)"], waiter: nil), at: now) {
                guard case .spawn(let s) = effect else { continue }
                pid += 1
                _ = engine.handle(.processSpawned(spawn: s.id, pid: pid), at: now)
                _ = engine.handle(.processExited(pid: pid, status: .exited(0)), at: now)
            }
        }
        let t = engine.timeline
        #expect(t.entries.count == Timeline.maxInstances)
        #expect(t.dropped == 4)
        #expect(t.transitions == 9 * (Timeline.maxInstances + 4))
        #expect(engine.state.instances.isEmpty)
        let first = t.entries[InstanceKey(job: "worker", instance: "1")]
        #expect(first?.time(.waiting) == first?.entered.compactMap { $0 }.max())
    }

    /// A job started again and again stays one entry with its first run.
    @Test func oneJobRestartedManyTimesIsOneEntry() {
        var h = Harness()
        h.engine.timeline.daemonStart = h.time
        h.add("flap", "task\nstart on go\nexec true\n")
        for run in 1...500 {
            h.wait(ms: 1)
            h.emit("go")
            if let pid = h.pid("flap") { h.send(.processExited(pid: pid, status: .exited(0))) }
            if run == 1 { #expect(h.engine.timeline.entries[InstanceKey(job: "flap")]?.time(.waiting) != nil) }
        }
        #expect(h.engine.timeline.entries.count == 1)
        #expect(h.engine.timeline.transitions >= 500 * 8)
        #expect(h.engine.timeline.entries[InstanceKey(job: "flap")]?.time(.starting) == EngineTime(nanoseconds: h.engine.timeline.daemonStart.nanoseconds + ms))
    }

    @Test func recordSurvivesItsJSONUnchanged() throws {
        let t = bootChain().engine.timeline
        let back = try #require(Timeline(json: t.json))
        #expect(back.bootTime == t.bootTime)
        #expect(back.blame == t.blame)
        for k in t.entries.keys {
            #expect(back.criticalChain(k) == t.criticalChain(k))
        }
        #expect(Timeline(json: .object([])) == nil)
    }

    @Test func aRecordAfterAReexecHoldsNoBoot() throws {
        var h = Harness()
        h.engine.timeline.reexecuted = true
        h.add("a", "start on startup\nexec sleep 100\n")
        h.emit("startup")
        #expect(h.engine.timeline.bootEnd == nil)
        #expect(h.engine.timeline.bootTime.reexecuted)
        #expect(Timeline(json: h.engine.timeline.json)?.bootTime.reexecuted == true)
        #expect(BootHistory.Boot(h.engine.timeline, wallMilliseconds: 1) == nil)
    }

    @Test func kernelPartTravelsInTheJSON() throws {
        var t = bootChain().engine.timeline
        t.kernelNanoseconds = 2_000 * ms
        let back = try #require(Timeline(json: t.json))
        #expect(back.bootTime.kernel == 2_000 * ms)
    }
}

@Suite struct BootHistoryTests {
    @Test func historyRoundTripsAndKeepsTheLastFifty() throws {
        var history = BootHistory()
        for i in 0..<60 {
            history.append(BootHistory.Boot(wallMilliseconds: Int64(1_000 + i), kernel: i % 2 == 0 ? nil : Int64(i), end: Int64(i) * ms,
                                            settled: Int64(i), jobs: i, last: i % 3 == 0 ? nil : "job \(i)"))
        }
        #expect(history.boots.count == BootHistory.limit)
        #expect(history.boots.first?.wallMilliseconds == 1_010)
        let back = try BootHistory.decode(history.encoded())
        #expect(back.boots.count == BootHistory.limit)
        #expect(back.boots.map(\.end) == history.boots.map(\.end))
        #expect(back.boots.map(\.kernel) == history.boots.map(\.kernel))
        // A name with a space is written with an underscore: one field.
        #expect(back.boots.map(\.last).compactMap { $0 }.allSatisfy { !$0.contains(" ") })
    }

    @Test func damagedHistoryNamesItsLine() {
        let text = "daybreak boot history 1\n1 - 2 3 4 a\n1 - x 3 4 a\n"
        #expect(throws: BootHistory.Damaged(line: 3, description: "BOOT is not a number: 'x'")) { try BootHistory.decode(text) }
        #expect(throws: BootHistory.Damaged.self) { try BootHistory.decode("something else\n") }
        #expect(throws: BootHistory.Damaged.self) { try BootHistory.decode("daybreak boot history 1\n1 2 3\n") }
    }

    @Test func bootFromARecordThatHasEnded() {
        let h = bootChain()
        let boot = BootHistory.Boot(h.engine.timeline, wallMilliseconds: 42)
        #expect(boot?.end == 955 * ms)
        #expect(boot?.last == "c")
        #expect(boot?.jobs == 5)
        #expect(BootHistory.Boot(Timeline(), wallMilliseconds: 1) == nil)
    }
}
