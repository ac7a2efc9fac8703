import Foundation
import Testing

@testable import TimeSchedule

// Times here are seconds (cron, zones) or milliseconds (Due) since the epoch.

func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Int64 {
    CivilTime(CivilDate(year: y, month: mo, day: d), hour: h, minute: mi, second: s).epochSeconds
}

func zone(_ name: String) throws -> Zone {
    let bytes = try #require(FileManager.default.contents(atPath: "/usr/share/zoneinfo/\(name)"))
    return try Zone(tzif: Array(bytes), name: name)
}

/// Every run of `cron` in [from, to), by walking nextRun.
func runs(_ cron: CronSchedule, in zone: Zone, from: Int64, to: Int64) -> [Int64] {
    var out: [Int64] = []
    var t = from - 1
    while let n = cron.nextRun(after: t, in: zone), n < to {
        out.append(n)
        t = n
    }
    return out
}

@Suite struct CivilTests {
    @Test func daysRoundTripOverEightCenturiesWithKnownWeekdays() {
        for d in Int64(-146_097 * 2)...Int64(146_097 * 2) where d % 7 == 0 || d % 113 == 0 {
            #expect(CivilDate(daysSinceEpoch: d).daysSinceEpoch == d)
        }
        #expect(CivilDate(year: 1970, month: 1, day: 1).weekday == 4)
        #expect(CivilDate(year: 2026, month: 11, day: 30).weekday == 1)
        #expect(CivilDate(year: 2000, month: 2, day: 29).daysSinceEpoch + 1 == CivilDate(year: 2000, month: 3, day: 1).daysSinceEpoch)
        #expect(CivilDate.isLeap(2028) && !CivilDate.isLeap(2100) && CivilDate.isLeap(2000))
    }
}

@Suite struct IntervalTests {
    @Test func intervalsOfEveryUnitAndCombinations() {
        #expect(TimerSpec.interval("1s") == 1000)
        #expect(TimerSpec.interval("15m") == 900_000)
        #expect(TimerSpec.interval("2h") == 7_200_000)
        #expect(TimerSpec.interval("1d") == 86_400_000)
        #expect(TimerSpec.interval("1h30m") == 5_400_000)
        #expect(TimerSpec.interval("1d2h3m4s") == 93_784_000)
        #expect(TimerSpec.interval("0s") == 0)
        for bad in ["", "5", "m", "1x", "1m1h", "1h1h", "-1s", "1.5h", "1 h", "99999999999s"] {
            #expect(TimerSpec.interval(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct CronParseTests {
    func bits(_ xs: [Int]) -> UInt64 { xs.reduce(0) { $0 | (1 << UInt64($1)) } }

    @Test func everyFieldFormListsRangesStepsAndNames() throws {
        let c = try CronSchedule("*/15 9-17 1,15 jan-mar,DEC mon-fri")
        #expect(c.minutes == bits([0, 15, 30, 45]))
        #expect(c.hours == bits(Array(9...17)))
        #expect(c.daysOfMonth == bits([1, 15]))
        #expect(c.months == bits([1, 2, 3, 12]))
        #expect(c.daysOfWeek == bits([1, 2, 3, 4, 5]))
        let d = try CronSchedule("5-20/5 3/8 */10 */4 7")
        #expect(d.minutes == bits([5, 10, 15, 20]))
        #expect(d.hours == bits([3, 11, 19]))
        #expect(d.daysOfMonth == bits([1, 11, 21, 31]))
        #expect(d.months == bits([1, 5, 9]))
        #expect(d.daysOfWeek == bits([0]))  // 7 is Sunday
        #expect(try CronSchedule("0 0 * * sun,7,0").daysOfWeek == bits([0]))
        #expect(try CronSchedule("0 0 * * Sat,SUN").daysOfWeek == bits([0, 6]))
    }

    @Test func atShortcutsStandForTheirFields() throws {
        let table = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                     "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"]
        for (at, fields) in table {
            var a = try CronSchedule(at), b = try CronSchedule(fields)
            a.text = ""; b.text = ""
            #expect(a == b, "\(at)")
        }
    }

    @Test func malformedSchedulesSayWhatWasExpected() {
        let table: [(String, String)] = [
            ("* * * *", "expected five fields"),
            ("* * * * * *", "expected five fields"),
            ("60 * * * *", "minute '60': expected a number from 0 to 59"),
            ("* 24 * * *", "hour '24': expected a number from 0 to 23"),
            ("* * 0 * *", "day of month '0': expected a number from 1 to 31"),
            ("* * * 13 *", "month '13': expected a number from 1 to 12 or jan...dec"),
            ("* * * * 8", "day of week '8': expected a number from 0 to 7 or sun...sat"),
            ("* * * foo *", "month 'foo'"),
            ("*/0 * * * *", "expected a step from 1 to 60"),
            ("5-1 * * * *", "from low to high"),
            ("1,,2 * * * *", "empty item"),
            ("@often", "expected @hourly, @daily, @weekly, @monthly or @yearly"),
            ("@reboot", "use AFTER=startup"),
            ("0 0 30 feb *", "never comes"),
        ]
        for (text, fragment) in table {
            do {
                _ = try CronSchedule(text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.description.contains(fragment), "\(text): \(error.description)")
            }
        }
    }
}

@Suite struct CronYearTests {
    /// The reference: every minute of the year, checked field by field.
    func bruteForce(_ c: CronSchedule, year: Int) -> [Int64] {
        var out: [Int64] = []
        var t = utc(year, 1, 1)
        let end = utc(year + 1, 1, 1)
        while t < end {
            let r = CivilTime(epochSeconds: t)
            if c.matches(day: r.date) && c.has(c.hours, r.hour) && c.has(c.minutes, r.minute) { out.append(t) }
            t += 60
        }
        return out
    }

    @Test func aSimulatedYearInUTCMatchesMinuteByMinuteForEveryFieldForm() throws {
        for text in ["*/15 9-17 * * mon-fri", "0 0 1,15 * *", "5-10/2 */6 * jan,jul sun", "0 12 13 * fri",
                     "0 0 * * 7", "@weekly", "@monthly", "@yearly", "@hourly", "59 23 31 * *", "0 0 29 2 *", "30 4 */3 * *"] {
            let c = try CronSchedule(text)
            #expect(runs(c, in: .utc, from: utc(2026, 1, 1), to: utc(2027, 1, 1)) == bruteForce(c, year: 2026), "\(text)")
        }
        // A leap year, day by day.
        let daily = try CronSchedule("@daily")
        #expect(runs(daily, in: .utc, from: utc(2028, 1, 1), to: utc(2029, 1, 1)).count == 366)
    }

    @Test func domOrDowWhenBothAreRestricted() throws {
        // Friday the 13th style: the 13th OR any Friday.
        let c = try CronSchedule("0 12 13 * fri")
        let r = runs(c, in: .utc, from: utc(2026, 2, 1), to: utc(2026, 3, 1))
        #expect(r == [utc(2026, 2, 6, 12), utc(2026, 2, 13, 12), utc(2026, 2, 20, 12), utc(2026, 2, 27, 12)])
        // A star-step in one field makes it AND, as in cron.
        let d = try CronSchedule("0 12 */2 * fri")
        #expect(runs(d, in: .utc, from: utc(2026, 2, 1), to: utc(2026, 3, 1)) == [utc(2026, 2, 13, 12), utc(2026, 2, 27, 12)])
    }

    @Test func leapDayScheduleWaitsForTheNextLeapYear() throws {
        let c = try CronSchedule("0 12 29 2 *")
        #expect(c.nextRun(after: utc(2026, 1, 1), in: .utc) == utc(2028, 2, 29, 12))
        #expect(c.nextRun(after: utc(2028, 2, 29, 12), in: .utc) == utc(2032, 2, 29, 12))
    }
}

@Suite struct ZoneTests {
    @Test func tzifAndPosixRulesAgreeOnBerlinAndNewYork() throws {
        let berlin = try zone("Europe/Berlin"), ny = try zone("America/New_York")
        let bp = try Zone(posix: "CET-1CEST,M3.5.0,M10.5.0/3"), np = try Zone(posix: "EST5EDT,M3.2.0,M11.1.0")
        var t = utc(2026, 1, 1)
        while t < utc(2027, 1, 1) {
            #expect(berlin.offset(at: t) == bp.offset(at: t))
            #expect(ny.offset(at: t) == np.offset(at: t))
            t += 1800
        }
        #expect(berlin.offset(at: utc(2026, 3, 29, 0, 59, 59)) == 3600)
        #expect(berlin.offset(at: utc(2026, 3, 29, 1)) == 7200)
        #expect(berlin.offset(at: utc(2026, 10, 25, 0, 59, 59)) == 7200)
        #expect(berlin.offset(at: utc(2026, 10, 25, 1)) == 3600)
        #expect(ny.offset(at: utc(2026, 3, 8, 7)) == -4 * 3600)
        #expect(ny.offset(at: utc(2026, 11, 1, 6)) == -5 * 3600)
        // Past the file's transitions, the footer rule.
        #expect(berlin.offset(at: utc(2080, 7, 1)) == 7200)
        #expect(berlin.offset(at: utc(2080, 12, 1)) == 3600)
    }

    @Test func southernHemisphereAndJulianRulesAgreeWithTheirFiles() throws {
        let sydney = try zone("Australia/Sydney")
        let sp = try Zone(posix: "AEST-10AEDT,M10.1.0,M4.1.0/3")
        var t = utc(2026, 1, 1)
        while t < utc(2027, 1, 1) {
            #expect(sydney.offset(at: t) == sp.offset(at: t))
            t += 1800
        }
        #expect(sydney.offset(at: utc(2026, 1, 15)) == 11 * 3600)
        #expect(sydney.offset(at: utc(2026, 7, 15)) == 10 * 3600)
        // Jn never counts 29 February; n does.
        let j = try Zone(posix: "XST-1XDT,J60/0,J300/0")
        #expect(j.offset(at: utc(2028, 2, 29, 12)) == 3600)
        #expect(j.offset(at: utc(2028, 3, 1, 12)) == 7200)
        let n = try Zone(posix: "XST-1XDT,59/0,300/0")
        #expect(n.offset(at: utc(2028, 2, 29, 12)) == 7200)
        #expect(try Zone(posix: "<+0330>-3:30").offset(at: 0) == 12600)
    }

    @Test func readingsAreUniqueRepeatedOrSkipped() throws {
        let berlin = try zone("Europe/Berlin")
        let d = CivilDate(year: 2026, month: 3, day: 29)
        #expect(berlin.resolve(CivilTime(d, hour: 2, minute: 30)) == .skipped(after: utc(2026, 3, 29, 1)))
        #expect(berlin.resolve(CivilTime(d, hour: 3)) == .unique(utc(2026, 3, 29, 1)))
        let o = CivilDate(year: 2026, month: 10, day: 25)
        #expect(berlin.resolve(CivilTime(o, hour: 2, minute: 30)) == .repeated(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)))
        #expect(Zone.utc.resolve(CivilTime(o, hour: 2)) == .unique(utc(2026, 10, 25, 2)))
    }

    @Test func badZoneTextIsReported() {
        #expect(throws: Zone.Invalid.self) { try Zone(tzif: [1, 2, 3], name: "x") }
        #expect(throws: Zone.Invalid.self) { try Zone(tzif: Array("TZif2".utf8) + [UInt8](repeating: 0, count: 39), name: "x") }
        #expect(throws: Zone.Invalid.self) { try Zone(posix: "X1") }
        #expect(throws: Zone.Invalid.self) { try Zone(posix: "CET-1CEST,M13.5.0,M10.5.0") }
    }
}

@Suite struct DaylightSavingTests {
    @Test func springForwardSkippedTimeRunsOnceRightAfterInBothZones() throws {
        let berlin = try zone("Europe/Berlin"), ny = try zone("America/New_York")
        let c = try CronSchedule("30 2 * * *")
        #expect(runs(c, in: berlin, from: utc(2026, 3, 28), to: utc(2026, 3, 31))
                == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)])
        #expect(runs(c, in: ny, from: utc(2026, 3, 7), to: utc(2026, 3, 10))
                == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)])
        // Four skipped readings still make one run.
        let q = try CronSchedule("*/15 2 * * *")
        #expect(runs(q, in: berlin, from: utc(2026, 3, 29), to: utc(2026, 3, 30)) == [utc(2026, 3, 29, 1)])
    }

    @Test func fallBackRepeatedHourRunsOnceInBothZones() throws {
        let berlin = try zone("Europe/Berlin"), ny = try zone("America/New_York")
        let c = try CronSchedule("30 2 * * *")
        #expect(runs(c, in: berlin, from: utc(2026, 10, 25), to: utc(2026, 10, 26)) == [utc(2026, 10, 25, 0, 30)])
        let n = try CronSchedule("30 1 * * *")
        #expect(runs(n, in: ny, from: utc(2026, 11, 1), to: utc(2026, 11, 2)) == [utc(2026, 11, 1, 5, 30)])
    }

    @Test func hourlyJobsRunByTheClockAsItReads() throws {
        let berlin = try zone("Europe/Berlin")
        let c = try CronSchedule("*/30 * * * *")
        // Fall back: 02:00 and 02:30 come twice and run twice.
        #expect(runs(c, in: berlin, from: utc(2026, 10, 24, 23, 30), to: utc(2026, 10, 25, 2, 1))
                == [utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1),
                    utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2)])
        // Spring forward: 02:00 and 02:30 never come; nothing extra runs.
        #expect(runs(c, in: berlin, from: utc(2026, 3, 29, 0), to: utc(2026, 3, 29, 1, 31))
                == [utc(2026, 3, 29, 0), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)])
    }

    @Test func aDailyJobRunsOnceADayForAYearAcrossBothChangesInTwoZones() throws {
        for name in ["Europe/Berlin", "America/New_York"] {
            let z = try zone(name)
            for text in ["30 2 * * *", "30 1 * * *", "0 3 * * *", "0 0 * * *"] {
                let r = runs(try CronSchedule(text), in: z, from: utc(2026, 1, 1), to: utc(2027, 1, 1))
                let days = Set(r.map { z.local($0).date })
                #expect(r.count == 365 && days.count == 365, "\(name) \(text): \(r.count)")
            }
        }
    }
}

@Suite struct TimerSpecTests {
    func spec(_ s: String) throws -> TimerSpec {
        try TimerSpec(s.split(separator: " ").map { w in
            let kv = w.split(separator: "=", maxSplits: 1)
            return (String(kv[0]), String(kv[1]).replacingOccurrences(of: "_", with: " "))
        })
    }

    @Test func everyFormIsRead() throws {
        let e = try spec("EVERY=1h30m COUNT=3 PERSISTENT=yes")
        #expect(e.kind == .every(milliseconds: 5_400_000) && e.count == 3 && e.persistent && e.timeZone == nil)
        #expect(e.variables == ["EVERY=1h30m", "COUNT=3", "PERSISTENT=yes"])
        if case .schedule(let c) = try spec("SCHEDULE=*/5_*_*_*_* TZ=Europe/Berlin").kind { #expect(c.minutes.nonzeroBitCount == 12) } else { Issue.record() }
        #expect(try spec("AFTER=started_mysql DELAY=2m").kind == .after(event: "started", arguments: ["mysql"], delayMilliseconds: 120_000))
    }

    @Test func malformedTimersSayWhatWasExpected() {
        let table: [(String, String)] = [
            ("EVERY=soon", "EVERY='soon': expected an interval like 30s"),
            ("EVERY=0s", "EVERY='0s'"),
            ("SCHEDULE=*_*", "SCHEDULE=\"* *\": expected five fields"),
            ("AFTER=startup", "needs DELAY="),
            ("AFTER=startup DELAY=later", "DELAY='later': expected an interval"),
            ("EVERY=1s COUNT=0", "COUNT='0': expected a whole number of runs, 1 or more"),
            ("EVERY=1s COUNT=x", "COUNT='x'"),
            ("EVERY=1s PERSISTENT=maybe", "PERSISTENT='maybe': expected yes or no"),
            ("SCHEDULE=@daily TZ=../etc/passwd", "TZ='../etc/passwd': expected a zone name"),
            ("EVERY=1s TZ=UTC", "TZ= goes with SCHEDULE= only"),
            ("EVERY=1s SCHEDULE=@daily", "only one of"),
            ("COUNT=1", "needs one of EVERY="),
            ("EVERY=1s DELAY=1s", "DELAY= goes with AFTER="),
            ("EVERY=1s WHEN=now", "'WHEN=': not a timer variable"),
            ("EVERY=1s EVERY=2s", "given twice"),
            ("AFTER=startup DELAY=1s PERSISTENT=yes", "PERSISTENT=yes goes with SCHEDULE= or EVERY="),
        ]
        for (text, fragment) in table {
            do {
                _ = try spec(text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect("\(error)".contains(fragment), "\(text): \(error)")
            }
        }
        #expect(throws: TimerSpec.Invalid.self) { try TimerSpec([(nil, "5m")]) }
        #expect(throws: TimerSpec.Invalid.self) { try TimerSpec([("SCHEDULE", "@daily"), ("TZ", "Nowhere/Else")], isValidZone: { _ in false }) }
    }
}
