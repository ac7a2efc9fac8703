import Foundation
import Testing

/// Timers in job files: checked by init-checkconf and the daemon.
@Suite struct TimerValidation {
    @Test func initCheckconfReportsAMalformedTimerWithFileLineAndWhatWasExpected() throws {
        let dir = try TempDir()
        try dir.write("a.conf", "description \"a\"\nstart on timer EVERY=often\nexec true\n")
        try dir.write("b.conf", "start on timer SCHEDULE=\"*/5 * * *\"\nexec true\n")
        try dir.write("c.conf", "start on timer AFTER=startup DELAY=1s COUNT=none\nexec true\n")
        try dir.write("ok.conf", "start on timer SCHEDULE=\"*/15 9-17 * * mon-fri\" TZ=Europe/Berlin PERSISTENT=yes\nexec true\n")
        let r = try run("init-checkconf", [dir.path("a.conf"), dir.path("b.conf"), dir.path("c.conf"), dir.path("ok.conf")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(dir.path("a.conf")):2:1: timer in 'start on': EVERY='often': expected an interval like 30s, 15m, 2h, 1d or 1h30m"))
        #expect(r.stderr.contains("\(dir.path("b.conf")):1:1: timer in 'start on': SCHEDULE=\"*/5 * * *\": expected five fields"))
        #expect(r.stderr.contains("\(dir.path("c.conf")):1:1: timer in 'start on': COUNT='none': expected a whole number of runs, 1 or more"))
        #expect(r.stdout == "File \(dir.path("ok.conf")): syntax ok\n")
    }

    @Test func initCheckconfReportsATimeZoneThatDoesNotExist() throws {
        let dir = try TempDir()
        try dir.write("z.conf", "exec true\nstart on timer SCHEDULE=@daily TZ=Europe/Atlantis\n")
        let r = try run("init-checkconf", [dir.path("z.conf")])
        #expect(r.status == 1)
        #expect(r.stderr == "init-checkconf: \(dir.path("z.conf")):2:1: timer: TZ='Europe/Atlantis': no such time zone (expected a name under /usr/share/zoneinfo, like Europe/Berlin)\n")
    }

    @Test func theShippedBridgeJobAndTimerExamplesPassAndTheBrokenOneSaysWhy() throws {
        let r = try run("init-checkconf", [repoRoot.appendingPathComponent("extra/init").path,
                                           repoRoot.appendingPathComponent("examples/periodic.conf").path,
                                           repoRoot.appendingPathComponent("examples/delayed.conf").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("daybreak-time-bridge.conf: syntax ok"))
        let broken = repoRoot.appendingPathComponent("examples/broken/bad-timer.conf.broken").path
        let b = try run("init-checkconf", [broken])
        #expect(b.stderr == "init-checkconf: \(broken):6:1: timer in 'start on': SCHEDULE=\"0 25 * * *\": hour '25': expected a number from 0 to 23\n")
    }

    @Test func theDaemonLogsAMalformedTimerAndLoadsTheRestOfTheDirectory() throws {
        let d = try TestDaemon(jobs: [
            "bad": "start on timer EVERY=1s COUNT=0\nexec sleep 100\n",
            "good": "start on timer EVERY=1s\nexec sleep 100\n",
        ])
        defer { d.stop() }
        #expect(eventually(timeout: 5) { d.daemonLog.contains("bad.conf:2:1: timer in 'start on': COUNT='0': expected a whole number of runs, 1 or more") }, "\(d.daemonLog)")
        let list = try d.initctl("list")
        #expect(list.stdout.contains("good stop/waiting"))
        #expect(!list.stdout.contains("bad "))
    }
}

/// The real daemon with the real bridge as one of its jobs.
@Suite(.serialized) struct TimeBridge {
    static let bridge = binDirectory.appendingPathComponent("daybreak-time-bridge").path

    /// A daemon, then the bridge as a job of it, its state under the
    /// daemon's directory (jobs get no HOME, and the real one is not ours).
    func daemon(_ jobs: [String: String]) throws -> TestDaemon {
        let d = try TestDaemon(jobs: jobs)
        try d.job("time-bridge", "start on startup\nrespawn\nenv XDG_STATE_HOME=\(d.dir.path("state"))\nexec \(TimeBridge.bridge)\n")
        #expect(eventually(timeout: 5) { (try? d.initctl("start", "time-bridge"))?.status == 0 })
        return d
    }

    func statePath(_ d: TestDaemon) -> String { d.dir.path("state/daybreak/time-bridge.state") }

    /// A task that appends `$JOB` (the timer's addressee) to out/NAME.
    func recorder(_ name: String, _ on: String, extra: String = "") -> String {
        "task\nstart on \(on)\n\(extra)exec /bin/sh -c 'echo $JOB >> $OUT/\(name)'\n"
    }

    func lines(_ d: TestDaemon, _ name: String) -> [String] {
        d.output(name).split(separator: "\n").map(String.init)
    }

    func bridgeLog(_ d: TestDaemon) -> String {
        (try? String(contentsOf: d.logs.appendingPathComponent("time-bridge.log"), encoding: .utf8)) ?? ""
    }

    @Test func everyOneSecondRunsAboutOnceASecondAndOnlyOnItsOwnTimer() throws {
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("every", "env OUT=\(d.out.path)\n" + recorder("every", "timer EVERY=1s"))
        try d.job("twice", "env OUT=\(d.out.path)\n" + recorder("twice", "timer EVERY=1s COUNT=2"))
        Thread.sleep(forTimeInterval: 4.5)
        let every = lines(d, "every"), twice = lines(d, "twice")
        #expect((3...6).contains(every.count), "\(every) \(bridgeLog(d))")
        #expect(every.allSatisfy { $0 == "every" }, "the other job's timer never starts it")
        #expect(twice == ["twice", "twice"], "COUNT=2: \(twice)")
    }

    @Test func countThreeStopsAfterThreeAndTheStateFileSaysSo() throws {
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("three", "env OUT=\(d.out.path)\n" + recorder("three", "timer EVERY=1s COUNT=3"))
        #expect(eventually(timeout: 10) { lines(d, "three").count == 3 })
        Thread.sleep(forTimeInterval: 2)
        #expect(lines(d, "three").count == 3)
        let state = try String(contentsOfFile: statePath(d), encoding: .utf8)
        #expect(state.contains("timer three "), "\(state)")
        #expect(state.contains(" 3 "), "\(state)")
        try d.job("hourly", "env OUT=\(d.out.path)\n" + recorder("hourly", "timer SCHEDULE=@hourly"))
        #expect(eventually(timeout: 5) { ((try? String(contentsOfFile: statePath(d), encoding: .utf8)) ?? "").contains("timer hourly") })
        let status = try d.initctl("status", "hourly", "--state", statePath(d))
        #expect(status.stdout.hasPrefix("hourly stop/waiting\n\tnext run: "), "\(status.stdout)")
        #expect(status.stdout.contains(":00:00 ") && status.stdout.hasSuffix(" (SCHEDULE=@hourly)\n"), "\(status.stdout)")
        let list = try d.initctl("list-timers", "--state", statePath(d))
        #expect(list.status == 0)
        let rows = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["JOB", "NEXT", "LAST", "RUNS", "TIMER"])
        // hourly: next at a whole hour, never run; three: done, ran three times.
        #expect(rows.count == 3, "\(list.stdout)")
        if rows.count == 3 {
            #expect(rows[1][0] == "hourly" && rows[1][2].hasSuffix(":00:00") && rows[1][4] == "-" && rows[1][5] == "0" && rows[1][6] == "SCHEDULE=@hourly", "\(rows[1])")
            #expect(rows[2][0] == "three" && rows[2][1] == "-" && rows[2][5] == "3" && rows[2].suffix(2) == ["EVERY=1s", "COUNT=3"], "\(rows[2])")
        }
    }

    @Test func afterStartupWithADelayRunsOnceAfterTheDelay() throws {
        let started = Date()
        let dir = try TempDir()
        let d = try daemon(["late": "env OUT=\(dir.url.path)\n" + recorder("late", "timer AFTER=startup DELAY=1s")])
        defer { d.stop() }
        #expect(eventually(timeout: 6) { (try? String(contentsOfFile: dir.path("late"), encoding: .utf8)) == "late\n" })
        #expect(Date().timeIntervalSince(started) >= 1)
        Thread.sleep(forTimeInterval: 1.5)
        #expect((try? String(contentsOfFile: dir.path("late"), encoding: .utf8)) == "late\n")
    }

    @Test func afterStartedXRunsDelayAfterEachStartOfX() throws {
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("x", "exec sleep 100\n")
        try d.job("follow", "env OUT=\(d.out.path)\n" + recorder("follow", "timer AFTER=\"started x\" DELAY=1s"))
        Thread.sleep(forTimeInterval: 0.5)
        _ = try d.initctl("start", "x")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(lines(d, "follow").isEmpty, "not before the delay")
        #expect(eventually(timeout: 5) { lines(d, "follow").count == 1 })
        _ = try d.initctl("stop", "x")
        _ = try d.initctl("start", "x")
        #expect(eventually(timeout: 5) { lines(d, "follow").count == 2 })
        _ = try d.initctl("stop", "x")
    }

    @Test func afterAJobEventWithAMatchOnItsInstance() throws {
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("backup", "instance $NAME\ntask\nexec true\n")
        try d.job("report", "env OUT=\(d.out.path)\n" + recorder("report", "timer AFTER=\"stopped backup INSTANCE=nightly\" DELAY=0s"))
        Thread.sleep(forTimeInterval: 0.5)
        _ = try d.initctl("start", "backup", "NAME=weekly")
        Thread.sleep(forTimeInterval: 1)
        #expect(lines(d, "report").isEmpty, "another instance's stop does not count")
        _ = try d.initctl("start", "backup", "NAME=nightly")
        #expect(eventually(timeout: 5) { lines(d, "report") == ["report"] }, "\(bridgeLog(d))")
    }

    @Test func aRunningJobIsNotStartedTwice() throws {
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("slow", "env OUT=\(d.out.path)\nstart on timer EVERY=1s\nexec /bin/sh -c 'echo run >> $OUT/slow; sleep 2.6'\n")
        Thread.sleep(forTimeInterval: 4.4)
        let runs = lines(d, "slow").count
        #expect((1...2).contains(runs), "\(runs)")
        #expect(bridgeLog(d).contains("slow is still running; its timer EVERY=1s skips this run"), "\(bridgeLog(d))")
    }

    @Test func theBridgeKilledAndRespawnedLosesNothing() throws {
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("five", "env OUT=\(d.out.path)\n" + recorder("five", "timer EVERY=1s COUNT=4"))
        #expect(eventually(timeout: 6) { lines(d, "five").count >= 2 })
        let status = try d.initctl("status", "time-bridge")
        let old = try #require(pid(in: status.stdout))
        kill(old, SIGKILL)
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "time-bridge")).flatMap { pid(in: $0.stdout) }.map { $0 != old } ?? false })
        #expect(eventually(timeout: 8) { lines(d, "five").count == 4 })
        Thread.sleep(forTimeInterval: 2)
        #expect(lines(d, "five").count == 4, "COUNT holds across the respawn")
    }

    @Test func aJobFileEditedToANewScheduleRunsOnTheNewOne() throws {
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("edit", "env OUT=\(d.out.path)\n" + recorder("edit", "timer EVERY=1h"))
        Thread.sleep(forTimeInterval: 1.5)
        #expect(lines(d, "edit").isEmpty)
        try d.job("edit", "env OUT=\(d.out.path)\n" + recorder("edit", "timer EVERY=1s COUNT=1"))
        #expect(eventually(timeout: 6) { lines(d, "edit") == ["edit"] }, "\(bridgeLog(d))")
    }

    @Test func theDaemonExecutableLinkedAsTheBridgeIsTheBridge() throws {
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        let link = d.dir.path("daybreak-time-bridge")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binDirectory.appendingPathComponent("daybreak").path)
        let v = try runProgram(link, ["--version"])
        #expect(v.stdout == "daybreak-time-bridge (daybreak 0.1.0)\n")
        try d.job("two", "env OUT=\(d.out.path)\n" + recorder("two", "timer EVERY=1s COUNT=2"))
        try d.job("time-bridge", "env XDG_STATE_HOME=\(d.dir.path("state"))\nexec \(link)\n")
        #expect(eventually(timeout: 5) { (try? d.initctl("start", "time-bridge"))?.status == 0 })
        #expect(eventually(timeout: 8) { lines(d, "two") == ["two", "two"] })
    }

    /// A TZif file for a zone `offset` seconds east of UTC, no transitions.
    func tzif(offset: Int32) -> Data {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        let header = Array("TZif2".utf8) + [UInt8](repeating: 0, count: 15) + be32(0) + be32(0) + be32(0) + be32(0) + be32(1) + be32(4)
        let body = be32(UInt32(bitPattern: offset)) + [0, 0] + Array("TST".utf8) + [0]
        return Data(header + body + header + body + [10, 10])
    }

    @Test func aCronScheduleRunsAtTheMinuteInItsZone() throws {
        // A zone whose minutes turn about three seconds from now, so that
        // `* * * * *` comes at once: the schedule, the zone file read by
        // the bridge and the minute, end to end.
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        let now = Int(Date().timeIntervalSince1970)
        let offset = Int32((60 - (now + 4) % 60) % 60)
        try FileManager.default.createDirectory(atPath: d.dir.path("zones/Test"), withIntermediateDirectories: true)
        try tzif(offset: offset).write(to: URL(fileURLWithPath: d.dir.path("zones/Test/Shift")))
        try d.job("minute", "env OUT=\(d.out.path)\ntask\nstart on timer SCHEDULE=\"* * * * *\" TZ=Test/Shift\nexec /bin/sh -c 'date +%s >> $OUT/minute'\n")
        try d.job("time-bridge", "env XDG_STATE_HOME=\(d.dir.path("state"))\nexec \(TimeBridge.bridge) --zoneinfo \(d.dir.path("zones"))\n")
        #expect(eventually(timeout: 5) { (try? d.initctl("start", "time-bridge"))?.status == 0 })
        #expect(eventually(timeout: 10) { !lines(d, "minute").isEmpty }, "\(bridgeLog(d))")
        let ran = try #require(lines(d, "minute").first.flatMap { Int($0) })
        #expect((ran + Int(offset)) % 60 <= 1, "ran at local second \((ran + Int(offset)) % 60)")
    }

    @Test func aDamagedStateFileIsReportedAndReplaced() throws {
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        try FileManager.default.createDirectory(atPath: d.dir.path("state/daybreak"), withIntermediateDirectories: true)
        try "not a state file\n".write(toFile: statePath(d), atomically: true, encoding: .utf8)
        try d.job("tick", "env OUT=\(d.out.path)\n" + recorder("tick", "timer EVERY=1s COUNT=1"))
        try d.job("time-bridge", "env XDG_STATE_HOME=\(d.dir.path("state"))\nexec \(TimeBridge.bridge)\n")
        #expect(eventually(timeout: 5) { (try? d.initctl("start", "time-bridge"))?.status == 0 })
        #expect(eventually(timeout: 6) { lines(d, "tick") == ["tick"] })
        #expect(bridgeLog(d).contains("time-bridge.state is damaged (line 1: expected 'daybreak-time-bridge state 1'); replacing it"), "\(bridgeLog(d))")
        let state = try String(contentsOfFile: statePath(d), encoding: .utf8)
        #expect(state.hasPrefix("daybreak-time-bridge state 1\n"))
    }
}
