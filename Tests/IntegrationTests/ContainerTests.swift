import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The container recipe (docs/containers.md): daybreak as PID 1 of a pid
/// namespace running extra/container's jobs with `--prefix-output` and
/// `--exit-with`, as `docker run` would.
@Suite(.serialized, .enabled(if: isRoot, "pid namespaces need root"))
struct Container {
    static let example = repoRoot.appendingPathComponent("extra/container")

    /// The example's job files, their programs taken from the checkout
    /// instead of the image's /app; `extra` is added to a job's file.
    func recipe(arguments: [String], extra: [String: String] = [:]) throws -> TestDaemon {
        // Written before the daemon starts: `--exit-with` looks for its job then.
        var jobs: [String: String] = [:]
        for job in ["migrate", "app", "worker"] {
            let text = try String(contentsOf: Container.example.appendingPathComponent("init/\(job).conf"), encoding: .utf8)
            jobs[job] = text.replacingOccurrences(of: "exec /app/", with: "exec \(Container.example.path)/app/") + (extra[job] ?? "")
        }
        let d = try TestDaemon(jobs: jobs, arguments: arguments, user: false, wrapper: PID1.wrapper, waitForSocket: false)
        _ = eventually(timeout: 10) { (try? d.initctl("version"))?.status == 0 }
        return d
    }

    /// Lines of the daemon's standard output and error (one file here).
    func lines(_ d: TestDaemon) -> [String] { d.daemonLog.split(separator: "\n").map(String.init) }

    @Test func sigtermStopsEveryJobDependentsFirstAndExitsZero() throws {
        let d = try recipe(arguments: ["--prefix-output", "--no-startup-event"])
        defer { d.stop() }
        _ = try d.initctl("emit", "startup")
        #expect(eventually(timeout: 10) { self.lines(d).contains("worker: working") }, "\(d.daemonLog)")
        #expect(lines(d).contains("migrate: migrating the data"))
        #expect(lines(d).contains("app: listening"))
        kill(d.daemonPid, SIGTERM)
        #expect(eventually(timeout: 15) { d.process?.isRunning == false })
        #expect(d.process?.terminationStatus == 0, "\(d.daemonLog)")
        let out = lines(d)
        // worker needs app (start on started app): it is stopped, and gone, before app is asked.
        let worker = try #require(out.firstIndex(of: "worker: stopping"), "\(d.daemonLog)")
        let app = try #require(out.firstIndex(of: "app: stopping"), "\(d.daemonLog)")
        #expect(worker < app)
        #expect(d.markedProcesses().isEmpty)
    }

    @Test func exitWithEndsTheContainerWithTheMainJobsStatus() throws {
        let d = try recipe(arguments: ["--prefix-output", "--exit-with", "app", "--no-startup-event"],
                           extra: ["app": "env APP_EXIT_AFTER=1\nenv APP_EXIT_STATUS=7\n"])
        defer { d.stop() }
        _ = try d.initctl("emit", "startup")
        #expect(eventually(timeout: 15) { d.process?.isRunning == false }, "\(d.daemonLog)")
        #expect(d.process?.terminationStatus == 7, "\(d.daemonLog)")
        #expect(lines(d).contains("app: exiting with status 7"))
        // The worker was running and was stopped on the way out.
        #expect(lines(d).contains("worker: stopping"), "\(d.daemonLog)")
        #expect(d.markedProcesses().isEmpty)
    }

    @Test func exitWithAJobThatIsNotThereIsRefusedAndStartsNothing() throws {
        let scratch = try TempDir()
        let d = try TestDaemon(jobs: ["first": "task\nstart on startup\nexec /bin/sh -c 'echo ran > \(scratch.path("ran"))'\n"],
                               arguments: ["--exit-with", "ap"], user: false, wrapper: PID1.wrapper, waitForSocket: false)
        defer { d.stop() }
        #expect(eventually(timeout: 10) { d.process?.isRunning == false })
        #expect(d.process?.terminationStatus == 1)
        #expect(d.daemonLog.contains("--exit-with: no job named 'ap' in \(d.jobs.path); nothing started"), "\(d.daemonLog)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("ran")))
    }

    @Test func aJobKilledAfterItsKillTimeoutMakesTheStatusThree() throws {
        let d = try TestDaemon(jobs: ["stubborn": "start on startup\nkill timeout 1\nexec /bin/sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'\n"],
                               user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "stubborn"))?.stdout.hasPrefix("stubborn start/running") == true })
        kill(d.daemonPid, SIGTERM)
        #expect(eventually(timeout: 15) { d.process?.isRunning == false })
        #expect(d.process?.terminationStatus == 3, "\(d.daemonLog)")
        #expect(d.daemonLog.contains("exiting with status 3 (1 process killed after the kill timeout)"), "\(d.daemonLog)")
    }

    @Test func aJobWhoseKillSignalIsKILLStillStopsCleanly() throws {
        let d = try TestDaemon(jobs: ["hard": "start on startup\nkill signal KILL\nexec /bin/sleep 600\n"], user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "hard"))?.stdout.hasPrefix("hard start/running") == true })
        kill(d.daemonPid, SIGTERM)
        #expect(eventually(timeout: 15) { d.process?.isRunning == false })
        // SIGKILL is how this job stops, not a kill timeout that ran out.
        #expect(d.process?.terminationStatus == 0, "\(d.daemonLog)")
    }

    /// `--log-timestamps` with `--prefix-output`: every job's lines, those
    /// of `console output` jobs too (they go through the daemon then, as
    /// `console log` jobs' do), begin with the UTC time and the job's name,
    /// for a runtime that does not stamp lines itself.
    @Test func everyJobsLinesCarryTheTimeAndTheNameWhenAsked() throws {
        let d = try TestDaemon(jobs: ["talker": "start on startup\nconsole output\nexec /bin/sh -c 'echo said; exec sleep 600'\n",
                                      "logger": "start on startup\nconsole log\nexec /bin/sh -c 'echo logged; exec sleep 600'\n"],
                               arguments: ["--prefix-output", "--log-timestamps"], user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        func stamped(_ rest: String) -> Bool {
            lines(d).contains { line in
                // 2026-11-30 09:10:43.123 talker: said
                let parts = line.split(separator: " ", maxSplits: 2)
                return parts.count == 3 && parts[2] == rest && parts[0].count == 10 && parts[0].filter { $0 == "-" }.count == 2
                    && parts[1].count == 12 && parts[1].filter { $0 == ":" }.count == 2 && parts[1].contains(".")
            }
        }
        #expect(eventually(timeout: 10) { stamped("talker: said") && stamped("logger: logged") }, "\(d.daemonLog)")
    }

    /// `--log-timestamps` alone: `console output` jobs' lines are stamped
    /// on standard output; `console log` jobs still write their log files.
    @Test func timestampsAloneStampConsoleOutputAndLeaveLogFiles() throws {
        let d = try TestDaemon(jobs: ["talker": "start on startup\nconsole output\nexec /bin/sh -c 'echo said; exec sleep 600'\n",
                                      "logger": "start on startup\nconsole log\nexec /bin/sh -c 'echo logged; exec sleep 600'\n"],
                               arguments: ["--log-timestamps"], user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        #expect(eventually(timeout: 10) { self.lines(d).contains { $0.hasSuffix(" said") && $0.count == "2026-11-30 09:10:43.123 said".count } },
                "\(d.daemonLog)")
        let log = d.logs.appendingPathComponent("logger.log").path
        #expect(eventually(timeout: 10) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("logged") })
        #expect(!lines(d).contains { $0.hasSuffix("logged") }, "\(d.daemonLog)")
    }

    @Test func prefixedOutputKeepsTheJobsNameAcrossAReexec() throws {
        let d = try TestDaemon(arguments: ["--prefix-output"])
        defer { d.stop() }
        let go = d.out.appendingPathComponent("go").path
        try d.job("talker", "exec /bin/sh -c 'echo before; while [ ! -e \(go) ]; do sleep 0.05; done; echo after; exec sleep 600'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "talker")
        #expect(eventually(timeout: 5) { self.lines(d).contains("talker: before") }, "\(d.daemonLog)")
        #expect(try d.initctl("reexec").status == 0)
        FileManager.default.createFile(atPath: go, contents: nil)
        #expect(eventually(timeout: 5) { self.lines(d).contains("talker: after") }, "\(d.daemonLog)")
    }

    @Test func outputLinesAreWholeAndAnOrphanedZombieIsReaped() throws {
        let d = try TestDaemon(arguments: ["--prefix-output"], user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        // Two lines written in pieces, one without its newline; and a grandchild left to PID 1.
        try d.job("talker", "task\nexec /bin/sh -c 'printf \"one \"; sleep 0.1; printf \"two\\\\nthree\"; (sleep 0.2 &)'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "talker")
        let inner = try #require(PID1().innerPid(d))
        #expect(eventually(timeout: 5) { self.lines(d).contains("talker: three") }, "\(d.daemonLog)")
        #expect(lines(d).contains("talker: one two"))
        usleep(600_000)
        #expect(PID1().zombies(of: inner).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: d.logs.appendingPathComponent("talker.log").path))
    }
}
