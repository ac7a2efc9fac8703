import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `while` in a real daemon: the slides' scenario, what `initctl` says
/// about it, and problems reported when jobs are loaded.
@Suite(.serialized) struct WhileStates {
    /// The slides' jobs. baz's main process records the SIGTERM it gets,
    /// and foo's post-stop records that foo has stopped completely, both in
    /// one file, in the order they happen.
    func slides(_ d: TestDaemon) throws {
        let seq = d.out.appendingPathComponent("seq").path
        try d.job("bar", "exec /bin/sleep 600\n")
        try d.job("baz", """
            script
                trap 'echo baz-sigterm >> \(seq); exit 0' TERM
                echo $$ > \(d.out.path)/baz-trapped
                /bin/sleep 600 &
                wait $!
            end script

            """)
        try d.job("foo", """
            description "foo job - runs when bar and baz are running"
            while bar and baz
            exec /bin/sleep 600
            post-stop exec /bin/sh -c 'echo foo-post-stop >> \(seq)'

            """)
        _ = try d.initctl("reload-configuration")
    }

    @Test func fooStopsCompletelyBeforeBazIsSignalledAndRunsAgainEveryTimeForAHundredCycles() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try slides(d)
        #expect(try d.initctl("start", "bar").status == 0)
        #expect(try d.initctl("status", "foo").stdout == "foo stop/waiting\n\twhile condition false: baz is not running\n")
        #expect(try d.initctl("start", "baz").status == 0)
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "foo").stdout.hasPrefix("foo start/running, process ")) == true })
        var rssAfter10 = 0
        // baz's SIGTERM trap is set once its script has said so: a stop
        // before that (a slow machine) would kill it without its line.
        func bazTrapped() -> Bool {
            guard let main = pid(in: (try? d.initctl("status", "baz").stdout) ?? "") else { return false }
            return d.output("baz-trapped").trimmingCharacters(in: .whitespacesAndNewlines) == "\(main)"
        }
        for cycle in 1...100 {
            #expect(eventually(timeout: 10, bazTrapped), "cycle \(cycle): baz's script set its trap")
            let stop = try d.initctl("stop", "baz")
            #expect(stop.status == 0 && stop.stdout == "baz stop/waiting\n", "cycle \(cycle): \(stop.stderr)")
            let lines = d.output("seq").split(separator: "\n").map(String.init)
            #expect(lines.suffix(2) == ["foo-post-stop", "baz-sigterm"], "cycle \(cycle): foo had stopped completely before baz was signalled")
            #expect(lines.count == 2 * cycle, "cycle \(cycle)")
            #expect(try d.initctl("status", "foo").stdout == "foo stop/waiting\n\twhile condition false: baz is not running\n")
            #expect(try d.initctl("start", "baz").status == 0)
            #expect(eventually(timeout: 10) { (try? d.initctl("status", "foo").stdout.hasPrefix("foo start/running, process ")) == true },
                    "cycle \(cycle): foo runs again")
            if cycle == 10 { rssAfter10 = residentKiB(d.daemonPid) }
        }
        let rssAfter100 = residentKiB(d.daemonPid)
        #expect(rssAfter10 > 0)
        if memoryBoundsApply("the 100 while cycles", "\(rssAfter10) kB after 10 cycles, \(rssAfter100) kB after 100") {
            #expect(rssAfter100 <= rssAfter10 + 256, "the daemon's memory is flat: \(rssAfter10) kB after 10 cycles, \(rssAfter100) kB after 100")
        }
    }

    @Test func startOfAJobWhoseConditionIsFalseIsRefusedWithWhatIsFalse() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try slides(d)
        let r = try d.initctl("start", "foo")
        #expect(r.status == 1)
        #expect(r.stderr == "initctl: Job's while condition is false: bar is not running, baz is not running\n")
    }

    @Test func showConfigPrintsTheConditionAndWithEnumerateWhatItNeeds() throws {
        let d = try TestDaemon(jobs: ["net-iface": "instance $IFACE\nexec /bin/sleep 600\n",
                                      "dhcp": "while net-iface IFACE=eth0 and not maint\nexec /bin/sleep 600\n",
                                      "maint": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        #expect(try d.initctl("show-config", "dhcp").stdout == "dhcp\n  while running net-iface IFACE=eth0 and not running maint\n")
        #expect(try d.initctl("show-config", "-e", "dhcp").stdout
                == "dhcp\n  while running (job: net-iface, env: IFACE=eth0)\n  while not running (job: maint, env:)\n")
        _ = try d.initctl("start", "net-iface", "IFACE=wlan0")
        #expect(try d.initctl("status", "dhcp").stdout == "dhcp stop/waiting\n\twhile condition false: net-iface IFACE=eth0 is not running\n")
        _ = try d.initctl("start", "net-iface", "IFACE=eth0")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "dhcp").stdout.hasPrefix("dhcp start/running, process ")) == true })
    }

    @Test func editingAJobFileChangesTheCondition() throws {
        let d = try TestDaemon(jobs: ["a": "exec /bin/sleep 600\n", "b": "exec /bin/sleep 600\n",
                                      "app": "while a\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        _ = try d.initctl("start", "a")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "app").stdout.hasPrefix("app start/running")) == true })
        try d.job("app", "while b\nexec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "app").stdout) == "app stop/waiting\n\twhile condition false: b is not running\n" })
        _ = try d.initctl("start", "b")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "app").stdout.hasPrefix("app start/running")) == true })
    }

    @Test func cyclesAndUnknownJobsAreReportedWithFileAndLineAndNothingHangs() throws {
        let d = try TestDaemon(jobs: ["a": "# a needs b\nwhile b\nexec /bin/sleep 600\n",
                                      "b": "while a\nexec /bin/sleep 600\n",
                                      "c": "description \"c\"\n\nwhile ghost\nexec /bin/sleep 600\n",
                                      "ok": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        // The harness tags each file with a first line of its own: find
        // the `while` line as the file has it.
        func whileLine(_ job: String) throws -> String {
            let path = d.jobs.appendingPathComponent(job + ".conf").path
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            return "\(path):\((lines.firstIndex { $0.hasPrefix("while ") } ?? -2) + 1)"
        }
        let a = try whileLine("a"), c = try whileLine("c")
        #expect(eventually(timeout: 5) { d.daemonLog.contains("\(a): while conditions form a cycle: a -> b -> a") })
        #expect(d.daemonLog.contains("\(c): while condition names unknown job ghost"))
        let check = try d.initctl("check-config")
        #expect(check.stdout.contains("a\n  while: cycle: a -> b -> a\n"))
        #expect(check.stdout.contains("c\n  while: unknown job ghost\n"))
        #expect(try d.initctl("start", "ok").status == 0, "the rest keeps working")
        #expect(try d.initctl("status", "a").stdout == "a stop/waiting\n\twhile condition false: b is not running\n")
    }

    @Test func startOnAndStopOnBesideWhile() throws {
        let d = try TestDaemon(jobs: ["db": "exec /bin/sleep 600\n",
                                      "report": "start on go\nstop on halt\nwhile db\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        _ = try d.initctl("emit", "go")
        #expect(try d.initctl("status", "report").stdout.hasPrefix("report stop/waiting"), "db is not running")
        _ = try d.initctl("start", "db")
        #expect(try d.initctl("status", "report").stdout == "report stop/waiting\n", "with start on, it waits for its event")
        _ = try d.initctl("emit", "go")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "report").stdout.hasPrefix("report start/running")) == true })
        _ = try d.initctl("emit", "halt")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "report").stdout) == "report stop/waiting\n" })
        _ = try d.initctl("emit", "go")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "report").stdout.hasPrefix("report start/running")) == true })
        _ = try d.initctl("stop", "db")
        #expect(try d.initctl("status", "report").stdout.hasPrefix("report stop/waiting"), "stopped before db's stop returned")
    }

    @Test func graphDrawsJobsEventsWhileAndEmits() throws {
        let d = try TestDaemon(jobs: ["bar": "emits bar-ready\nstart on startup\nexec /bin/sleep 600\n",
                                      "baz": "start on started bar\nstop on stopping bar\nexec /bin/sleep 600\n",
                                      "foo": "while bar and not baz\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let dot = try d.initctl("graph")
        #expect(dot.status == 0)
        #expect(dot.stdout.hasPrefix("digraph daybreak {\n"))
        #expect(dot.stdout.contains("\"event:startup\" -> \"job:bar\" [color=\"#2e7d32\", fontcolor=\"#2e7d32\", label=\"start on\"];"))
        #expect(dot.stdout.contains("\"job:bar\" -> \"job:baz\" [color=\"#2e7d32\", fontcolor=\"#2e7d32\", label=\"start on started\"];"))
        #expect(dot.stdout.contains("\"job:bar\" -> \"job:baz\" [color=\"#c62828\", fontcolor=\"#c62828\", label=\"stop on stopping\"];"))
        #expect(dot.stdout.contains("\"job:bar\" -> \"job:foo\" [style=dashed, color=\"#1565c0\", fontcolor=\"#1565c0\", label=\"while\"];"))
        #expect(dot.stdout.contains("\"job:baz\" -> \"job:foo\" [style=dashed, color=\"#757575\", fontcolor=\"#757575\", label=\"while not\"];"))
        #expect(dot.stdout.contains("\"job:bar\" -> \"event:bar-ready\" [style=dotted, arrowhead=open, label=\"emits\"];"))
        #expect(try d.initctl("graph", "--dot").stdout == dot.stdout)
        let one = try d.initctl("graph", "foo")
        #expect(!one.stdout.contains("event:startup"), "only foo and what links to it")
        #expect(try d.initctl("graph", "nosuch").stderr == "initctl: Unknown job: nosuch\n")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/dot") {
            let svg = try d.initctl("graph", "--svg")
            #expect(svg.status == 0)
            #expect(svg.stdout.contains("<svg"))
            #expect(svg.stdout.contains(">foo</text>"))
        }
    }
}
