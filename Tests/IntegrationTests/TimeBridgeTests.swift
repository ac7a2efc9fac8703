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
