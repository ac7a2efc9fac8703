import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Job files, jobs and a newcomer's first hour, as Upstart 1.13.2 has them
/// (issue 10).
@Suite(.serialized) struct Fidelity {
    @Test func reloadSignalsTheMainProcessOnlyNotItsGroup() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let out = d.out.path
        try d.job("sh", """
            script
              /bin/sleep 600 &
              echo $! > \(out)/child
              trap 'echo hup >> \(out)/hup' HUP
              while :; do wait || true; /bin/sleep 0.1; done
            end script

            """)
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "sh").stdout) == "sh stop/waiting\n" })
        _ = try d.initctl("start", "sh")
        #expect(eventually(timeout: 5) { !d.output("child").isEmpty })
        let child = try #require(Int32(d.output("child").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try d.initctl("reload", "sh").status == 0)
        #expect(eventually(timeout: 5) { d.output("hup").contains("hup") })
        usleep(200_000)
        #expect(isAlive(child), "the main process's child died of a SIGHUP meant for the main process")
    }

    @Test func listShowsADeletedJobUntilItsInstanceStops() throws {
        let d = try TestDaemon(jobs: ["gone": "exec /bin/sleep 600\n", "other": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let started = try d.initctl("start", "gone")
        let mainPid = try #require(pid(in: started.stdout))
        try d.removeJob("gone")
        #expect(eventually(timeout: 5) { (try? d.initctl("start", "gone").stderr) == "initctl: Unknown job: gone\n" })
        #expect(try d.initctl("list").stdout == "gone start/running, process \(mainPid)\nother stop/waiting\n")
        _ = try d.initctl("stop", "gone")
        #expect(try d.initctl("list").stdout == "other stop/waiting\n")
    }

    @Test func aJobFileIsReadOnceClosedNotWhileItIsBeingWritten() throws {
        let d = try TestDaemon(jobs: ["other": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let path = d.jobs.appendingPathComponent("bad.conf").path
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        try #require(fd >= 0)
        // Another file's change makes the daemon read the directory while bad.conf is still open, empty.
        try d.job("other", "exec /bin/sleep 601\n")
        usleep(500_000)
        #expect(try d.initctl("status", "bad").stderr == "initctl: Unknown job: bad\n")
        let text = "exec /bin/sleep 600\nstart on (\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #expect(eventually(timeout: 5) { d.daemonLog.contains("bad.conf:") })
        #expect(d.daemonLog.contains("job 'bad' not loaded"))
        #expect(try d.initctl("start", "bad").stderr == "initctl: Unknown job: bad\n")
    }

    @Test func aJobDirectoryCreatedAfterStartUpIsWatchedAndMissingOnesAreNamed() throws {
        let base = try TempDir()
        let missing = base.url.appendingPathComponent("later/jobs").path
        let d = try TestDaemon(arguments: ["--confdir", missing])
        defer { d.stop() }
        #expect(d.daemonLog.contains("job directory \(missing) does not exist"))
        try FileManager.default.createDirectory(atPath: missing, withIntermediateDirectories: true)
        try "env DAYBREAK_TEST_ID\nexec /bin/sleep 600\n".write(toFile: missing + "/late.conf", atomically: true, encoding: .utf8)
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "late").stdout) == "late stop/waiting\n" })
    }

    @Test func userModeReadsXDGConfigDirs() throws {
        let home = try TempDir()
        try home.write("xdg/upstart/shared.conf", "exec /bin/sleep 600\n")
        let socket = home.path("run/control")
        try FileManager.default.createDirectory(atPath: home.path("run"), withIntermediateDirectories: true)
        chmod(home.path("run"), 0o700)
        let p = Foundation.Process()
        p.executableURL = binDirectory.appendingPathComponent("daybreak")
        p.arguments = ["--user", "--socket", socket, "--no-log", "--no-startup-event"]
        p.environment = ["HOME": home.url.path, "XDG_CONFIG_DIRS": home.path("xdg"), "PATH": "/usr/bin:/bin"]
        let log = Pipe()
        p.standardError = log
        p.standardOutput = log
        try p.run()
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        #expect(eventually(timeout: 10) { (try? run("initctl", ["--socket", socket, "status", "shared"]).stdout) == "shared stop/waiting\n" })
    }

    @Test func theControlSocketIsRemovedAfterACleanExit() throws {
        let d = try TestDaemon()
        #expect(FileManager.default.fileExists(atPath: d.socket))
        d.stop()
        #expect(d.process?.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: d.socket))
    }

    @Test func theStartUpHintNamesACommandThatRunsHereAndWhereLogsGo() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let initctl = binDirectory.appendingPathComponent("initctl").path
        #expect(d.daemonLog.contains("in another shell try: \(initctl) --user --socket \(d.socket) list"))
        #expect(d.daemonLog.contains("job output goes to \(d.logs.path)/JOB.log"))
    }

    @Test func routineStopsAndNormalExitsAreNotInTheDefaultLog() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n", "three": "normal exit 3\ntask\nexec /bin/sh -c 'exit 3'\n"])
        defer { d.stop() }
        _ = try d.initctl("start", "svc")
        _ = try d.initctl("stop", "svc")
        _ = try d.initctl("start", "three")
        usleep(300_000)
        let log = d.daemonLog
        #expect(!log.contains("killed by TERM signal"))
        #expect(!log.contains("terminated with status 3"))
        #expect(!log.contains("other processes of the job remain"))
    }

    @Test func socketPrivacyRuleIsStatedInHelp() throws {
        let r = try run("daybreak", ["--help"])
        #expect(r.stdout.contains("--socket PATH"))
        #expect(r.stdout.contains("owned by you and private (mode 0700)"))
        let i = try run("initctl", ["--help"])
        #expect(i.stdout.contains("owned by you and private (mode 0700)"))
    }
}
