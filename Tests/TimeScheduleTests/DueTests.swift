import Testing

@testable import TimeSchedule

let second: Int64 = 1000, minute: Int64 = 60_000, hour: Int64 = 3_600_000, day: Int64 = 86_400_000

func ms(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Int64 { utc(y, mo, d, h, mi) * 1000 }

func timer(_ pairs: [(String, String)]) throws -> TimerSpec { try TimerSpec(pairs.map { ($0.0, $0.1) }) }

/// A bridge on an injected clock: it sleeps until each due time, wakes
/// `late` after it, and runs the timer; `jumps` move the clock (a suspend,
/// the clock set) when the simulated time reaches them. Returns the runs.
func simulate(_ spec: TimerSpec, zone: Zone = .utc, from start: Int64, until end: Int64, late: Int64 = 3,
              jumps: [(at: Int64, to: Int64)] = [], record: TimerRecord? = nil) -> [Int64] {
    var rec = record ?? TimerRecord(anchor: start)
    var now = start
    var pendingJumps = jumps
    var out: [Int64] = []
    var guardSteps = 0
    while now < end, guardSteps < 1_000_000 {
        guardSteps += 1
        rec = Due.settle(spec, rec, now: now)
        guard let due = Due.next(spec, rec, now: now, zone: zone) else { break }
        if due > now {
            // Sleep; a jump that comes first wakes the bridge (cancel-on-set).
            if let j = pendingJumps.first, j.at <= due + late {
                pendingJumps.removeFirst()
                now = j.to
                continue
            }
            now = due + late
            if now >= end { break }
            continue
        }
        out.append(now)
        rec = Due.ran(spec, rec, due: due, now: now)
    }
    return out
}

@Suite struct DueTests {
    @Test func everyRunsOncePerIntervalForADay() throws {
        let t = try timer([("EVERY", "15m")])
        let r = simulate(t, from: ms(2026, 1, 1), until: ms(2026, 1, 2) + 10)
        #expect(r.count == 96)
        #expect(zip(r, r.dropFirst()).allSatisfy { $1 - $0 == 15 * minute })
    }

    @Test func countStopsAfterN() throws {
        let t = try timer([("EVERY", "1s"), ("COUNT", "3")])
        #expect(simulate(t, from: 0, until: 60 * second).count == 3)
        let s = try timer([("SCHEDULE", "@hourly"), ("COUNT", "2")])
        #expect(simulate(s, from: ms(2026, 1, 1), until: ms(2026, 1, 2)) == [ms(2026, 1, 1, 1) + 3, ms(2026, 1, 1, 2) + 3])
    }

    @Test func suspendGapWithoutPersistentSkipsTheMissedRuns() throws {
        let t = try timer([("SCHEDULE", "0 3 * * *")])
        // Asleep from 01:00 on the 1st to 08:00 on the 3rd: 03:00 twice missed.
        let r = simulate(t, from: ms(2026, 5, 1), until: ms(2026, 5, 5), jumps: [(ms(2026, 5, 1, 1), ms(2026, 5, 3, 8))])
        #expect(r == [ms(2026, 5, 4, 3) + 3])
        let e = try timer([("EVERY", "1h")])
        let er = simulate(e, from: ms(2026, 5, 1), until: ms(2026, 5, 1, 12), jumps: [(ms(2026, 5, 1, 1, 30), ms(2026, 5, 1, 9, 30))])
        #expect(er == [ms(2026, 5, 1, 1) + 3, ms(2026, 5, 1, 10) + 3, ms(2026, 5, 1, 11) + 3])
    }

    @Test func suspendGapWithPersistentCatchesUpOnceAtOnce() throws {
        let t = try timer([("SCHEDULE", "0 3 * * *"), ("PERSISTENT", "yes")])
        let r = simulate(t, from: ms(2026, 5, 1), until: ms(2026, 5, 5), jumps: [(ms(2026, 5, 1, 1), ms(2026, 5, 3, 8))])
        #expect(r == [ms(2026, 5, 3, 8), ms(2026, 5, 4, 3) + 3])
        let e = try timer([("EVERY", "1h"), ("PERSISTENT", "yes")])
        let er = simulate(e, from: ms(2026, 5, 1), until: ms(2026, 5, 1, 12), jumps: [(ms(2026, 5, 1, 1, 30), ms(2026, 5, 1, 9, 30))])
        #expect(er == [ms(2026, 5, 1, 1) + 3, ms(2026, 5, 1, 9, 30), ms(2026, 5, 1, 10, 30) + 3, ms(2026, 5, 1, 11, 30) + 3])
    }

    @Test func machineOffAcrossRestartsWithPersistentRunsOnce() throws {
        // The state file says the last run was a week ago.
        let t = try timer([("SCHEDULE", "@daily"), ("PERSISTENT", "yes")])
        let rec = TimerRecord(anchor: ms(2026, 1, 1), runs: 5, lastRun: ms(2026, 6, 1), lastDue: ms(2026, 6, 1))
        let now = ms(2026, 6, 8, 9)
        #expect(Due.next(t, rec, now: now) == now)
        let after = Due.ran(t, rec, due: now, now: now)
        #expect(Due.next(t, after, now: now + 5) == ms(2026, 6, 9))
        let np = try timer([("SCHEDULE", "@daily")])
        #expect(Due.next(np, rec, now: now) == ms(2026, 6, 9))
    }

    @Test func clockSetForwardMakesNoBurst() throws {
        for persistent in ["no", "yes"] {
            let t = try timer([("EVERY", "1m"), ("PERSISTENT", persistent)])
            let r = simulate(t, from: 0, until: 3 * day, jumps: [(2 * minute + 10 * second, day + 45 * second)])
            #expect(r.count == (persistent == "yes" ? 2 + 1 + 2 * 1440 - 1 : 2 + 2 * 1440 - 1) , "\(persistent) \(r.count)")
            #expect(zip(r, r.dropFirst()).allSatisfy { $1 - $0 >= 30 * second })
        }
    }

    @Test func clockSetBackNeitherRepeatsNorStalls() throws {
        // Daily at 03:00; the 03:00 run happened; at 03:30 the clock goes back an hour.
        let t = try timer([("SCHEDULE", "0 3 * * *")])
        let r = simulate(t, from: ms(2026, 5, 1), until: ms(2026, 5, 3), jumps: [(ms(2026, 5, 1, 3, 30), ms(2026, 5, 1, 2, 30))])
        #expect(r == [ms(2026, 5, 1, 3) + 3, ms(2026, 5, 2, 3) + 3])
        // Back by a day: the schedule starts afresh from the new time.
        let b = simulate(t, from: ms(2026, 5, 2), until: ms(2026, 5, 3), jumps: [(ms(2026, 5, 2, 3, 30), ms(2026, 5, 1, 3, 30))])
        #expect(b == [ms(2026, 5, 2, 3) + 3, ms(2026, 5, 2, 3) + 3])
        // EVERY counts from the clock as it now reads: at most one interval away.
        let e = try timer([("EVERY", "10m")])
        let er = simulate(e, from: ms(2026, 5, 1, 12), until: ms(2026, 5, 1, 12, 25), jumps: [(ms(2026, 5, 1, 12, 15), ms(2026, 5, 1, 11))])
        #expect(er.first == ms(2026, 5, 1, 12, 10) + 3)
        #expect(er.dropFirst().first == ms(2026, 5, 1, 11, 10) + 3)
    }

    @Test func aYearInTwoZonesWithBothChangesRunsOnceADay() throws {
        for (name, time) in [("Europe/Berlin", "30 2 * * *"), ("America/New_York", "30 1 * * *"), ("America/New_York", "30 2 * * *")] {
            let z = try zone(name)
            let t = try timer([("SCHEDULE", time), ("TZ", name)])
            let r = simulate(t, zone: z, from: ms(2026, 1, 1), until: ms(2027, 1, 1))
            #expect(r.count == 365, "\(name) \(time)")
            #expect(Set(r.map { z.local($0 / 1000).date }).count == 365)
        }
    }

    @Test func lateWakeWithinGraceRunsOnTimeAndNeverTwice() throws {
        let t = try timer([("EVERY", "1m")])
        let r = simulate(t, from: 0, until: 10 * minute, late: 20 * second)
        #expect(r.count == 9)
        #expect(zip(r, r.dropFirst()).allSatisfy { $1 - $0 == minute })
    }

    @Test func afterFiresDelayAfterEachEventAndAPendingOneSurvivesARestart() throws {
        let t = try timer([("AFTER", "started mysql"), ("DELAY", "2m")])
        var rec = TimerRecord(anchor: 0)
        #expect(Due.next(t, rec, now: 0) == nil)
        rec = Due.eventSeen(t, rec, now: 10 * second)
        #expect(Due.next(t, rec, now: 11 * second) == 10 * second + 2 * minute)
        rec = Due.eventSeen(t, rec, now: 20 * second)
        let due = Due.next(t, rec, now: 10 * second + 2 * minute)!
        rec = Due.ran(t, rec, due: due, now: due)
        #expect(Due.next(t, rec, now: due) == 20 * second + 2 * minute)
        rec = Due.ran(t, rec, due: 20 * second + 2 * minute, now: 20 * second + 2 * minute)
        #expect(Due.next(t, rec, now: 5 * minute) == nil)
        #expect(rec.runs == 2)
    }

    @Test func skippedRunIsNotCounted() throws {
        let t = try timer([("EVERY", "1s"), ("COUNT", "2")])
        var rec = TimerRecord(anchor: 0)
        rec = Due.skipped(t, rec, due: second, now: second)
        #expect(rec.runs == 0)
        #expect(Due.next(t, rec, now: second) == 2 * second)
    }
}

@Suite struct StateFileTests {
    @Test func stateRoundTripsWithSpacesInVariables() throws {
        var s = BridgeState(startup: .init(daemon: "42:99", at: 5))
        s.timers[.init(job: "net/backup", variables: ["SCHEDULE=*/15 9-17 * * mon-fri", "TZ=Europe/Berlin"])] =
            TimerRecord(anchor: 1, runs: 2, lastRun: 3, lastDue: 4)
        s.timers[.init(job: "a", variables: ["AFTER=started db", "DELAY=1s"])] = TimerRecord(anchor: 7, pending: [10, 20])
        s.timers[.init(job: "odd", variables: ["EVERY=1s", "%", ""])] = TimerRecord(anchor: -3)
        s.next[.init(job: "a", variables: ["AFTER=started db", "DELAY=1s"])] = 10
        #expect(try BridgeState.decode(s.encoded()) == s)
    }

    @Test func stateLivesInVarLibForTheSystemAndUnderXDGStateHomeForASession() {
        #expect(BridgeState.defaultPath(user: false, environment: ["XDG_STATE_HOME": "/x"], home: "/h") == "/var/lib/daybreak/time-bridge.state")
        #expect(BridgeState.defaultPath(user: true, environment: ["XDG_STATE_HOME": "/x"], home: "/h") == "/x/daybreak/time-bridge.state")
        #expect(BridgeState.defaultPath(user: true, environment: ["XDG_STATE_HOME": "rel"], home: "/h") == "/h/.local/state/daybreak/time-bridge.state")
        #expect(BridgeState.defaultPath(user: true, environment: ["HOME": "/e"], home: "/h") == "/e/.local/state/daybreak/time-bridge.state")
    }

    @Test func damagedStateSaysWhichLine() {
        let table: [(String, String)] = [
            ("", "line 1: expected 'daybreak-time-bridge state 1'"),
            ("daybreak-time-bridge state 1\ntimer a 1 x - - - - EVERY=1s\n", "line 2: expected a number, found 'x'"),
            ("daybreak-time-bridge state 1\ntimer a 1\n", "line 2: expected 'timer JOB"),
            ("daybreak-time-bridge state 1\n\nbogus\n", "line 3: expected 'startup' or 'timer', found 'bogus'"),
            ("daybreak-time-bridge state 1\ntimer a 1 0 - - - - EVERY=%zz\n", "line 2: bad escape"),
        ]
        for (text, message) in table {
            #expect(throws: BridgeState.Damaged.self) { try BridgeState.decode(text) }
            do { _ = try BridgeState.decode(text) } catch { #expect(error.description.hasPrefix(message), "\(error.description)") }
        }
    }
}
