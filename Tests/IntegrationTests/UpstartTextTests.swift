import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// initctl's texts, each against Upstart 1.13.2's util/initctl.c and the
/// daemon's control methods (init/control.c, init/job_class.c), byte for
/// byte: scripts written for Upstart match them.
@Suite(.serialized) struct UpstartTexts {
    let usageHint = "Try `initctl --help' for more information.\n"

    @Test func stoppingAnInstanceJobPrintsTheJobAloneOnceTheInstanceIsGone() throws {
        let d = try TestDaemon(jobs: ["tty": "instance $TTY\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        #expect(try d.initctl("start", "tty", "TTY=tty1").stdout.hasPrefix("tty (tty1) start/running, process "))
        let r = try d.initctl("stop", "tty", "TTY=tty1")
        #expect(r.status == 0 && r.stdout == "tty stop/waiting\n")
    }

    @Test func aTaskStartedAndFinishedPrintsTheJobAlone() throws {
        let d = try TestDaemon(jobs: ["t": "task\ninstance $N\nexec /bin/true\n"])
        defer { d.stop() }
        let r = try d.initctl("start", "t", "N=1")
        #expect(r.status == 0 && r.stdout == "t stop/waiting\n")
    }

    @Test func unknownInstanceNamesTheInstanceAloneEmptyForASingleInstanceJob() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n", "tty": "instance $TTY\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let single = try d.initctl("stop", "svc")
        #expect(single.status == 1 && single.stderr == "initctl: Unknown instance: \n")
        let multi = try d.initctl("stop", "tty", "TTY=tty9")
        #expect(multi.status == 1 && multi.stderr == "initctl: Unknown instance: tty9\n")
        let status = try d.initctl("status", "tty", "TTY=tty9")
        #expect(status.status == 1 && status.stderr == "initctl: Unknown instance: tty9\n")
    }

    @Test func alreadyRunningAndAlreadyStoppedNameTheJobAndInstance() throws {
        let d = try TestDaemon(jobs: ["tty": "instance $TTY\nexec /bin/sleep 600\npre-stop exec /bin/sleep 2\n"])
        defer { d.stop() }
        _ = try d.initctl("start", "tty", "TTY=tty1")
        #expect(try d.initctl("start", "tty", "TTY=tty1").stderr == "initctl: Job is already running: tty (tty1)\n")
        _ = try d.initctl("stop", "--no-wait", "tty", "TTY=tty1")
        #expect(try d.initctl("stop", "tty", "TTY=tty1").stderr == "initctl: Job has already been stopped: tty (tty1)\n")
    }

    @Test func jobFailedToStartHasNoSuffix() throws {
        let d = try TestDaemon(jobs: ["bad": "pre-start exec /bin/false\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let r = try d.initctl("start", "bad")
        #expect(r.status == 1 && r.stderr == "initctl: Job failed to start\n")
    }

    @Test func emitWithoutANameSaysMissingEventName() throws {
        let r = try run("initctl", ["--socket", "/nonexistent/daybreak/control", "emit"])
        #expect(r.status == 1 && r.stderr == "initctl: missing event name\n" + usageHint)
    }

    @Test func emitOfAnEmptyNameIsRefusedByTheDaemon() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let r = try d.initctl("emit", "")
        #expect(r.status == 1 && r.stderr == "initctl: Name may not be empty string\n")
    }

    @Test func anUnknownLogPriorityIsNotRecognised() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let r = try d.initctl("log-priority", "loud")
        #expect(r.status == 1 && r.stderr == "initctl: The log priority given was not recognised\n")
    }

    @Test func environmentCommandsWithoutArgumentsSayWhatIsMissing() throws {
        let socket = "/nonexistent/daybreak/control"
        let tool = binDirectory.appendingPathComponent("initctl").path
        #expect(try runProgram(tool, ["--socket", socket, "set-env"], environment: [:]).stderr == "initctl: missing variable value\n" + usageHint)
        #expect(try runProgram(tool, ["--socket", socket, "get-env"], environment: [:]).stderr == "initctl: missing variable name\n" + usageHint)
        #expect(try runProgram(tool, ["--socket", socket, "unset-env"], environment: [:]).stderr == "initctl: missing variable name\n" + usageHint)
        #expect(try runProgram(tool, ["--socket", socket, "usage"], environment: [:]).stderr == "initctl: missing job name\n" + usageHint)
    }

    @Test func unsettingAnUnknownVariableSaysNoSuchVariable() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let r = try d.initctl("unset-env", "NOPE_NOT_SET")
        #expect(r.status == 1 && r.stderr == "initctl: No such variable: NOPE_NOT_SET\n")
        let g = try d.initctl("get-env", "NOPE_NOT_SET")
        #expect(g.status == 1 && g.stderr == "initctl: No such variable: NOPE_NOT_SET\n")
    }

    @Test func setEnvRefusesANameWithASpaceAndAnEmptyName() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let spaced = try d.initctl("set-env", "A B=1")
        #expect(spaced.status == 1)
        #expect(spaced.stderr == "initctl: Invalid variable name: 'A B'\n")
        let empty = try d.initctl("set-env", "=x")
        #expect(empty.status == 1)
        #expect(empty.stderr == "initctl: Invalid variable name: ''\n")
        #expect(!(try d.initctl("list-env").stdout.contains("A B")))
        #expect(!(try d.initctl("list-env").stdout.split(separator: "\n").contains { $0.hasPrefix("=") }))
    }

    @Test func checkConfigOfAnUnknownJobIsAnInvalidJobClass() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let r = try d.initctl("check-config", "nosuch")
        #expect(r.status == 1 && r.stderr == "initctl: Invalid job class: nosuch\n")
    }

    @Test(.enabled(if: isRoot, "needs root to run initctl as another user"))
    func permissionErrorsNameWhatWasRefused() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        chmod(d.dir.path("run"), 0o755)
        chmod(d.socket, 0o666)
        chmod(d.dir.url.path, 0o755)
        let nobody = "65534"
        #expect(try d.initctl(["emit", "ev"], asUser: nobody).stderr == "initctl: You do not have permission to emit an event\n")
        #expect(try d.initctl(["reload-configuration"], asUser: nobody).stderr == "initctl: You do not have permission to reload configuration\n")
        #expect(try d.initctl(["log-priority", "info"], asUser: nobody).stderr == "initctl: You do not have permission to set log priority\n")
        #expect(try d.initctl(["notify-disk-writeable"], asUser: nobody).stderr == "initctl: You do not have permission to notify disk is writeable\n")
        #expect(try d.initctl(["set-env", "A=1"], asUser: nobody).stderr == "initctl: You do not have permission to modify job environment\n")
        #expect(try d.initctl(["start", "svc"], asUser: nobody).stderr == "initctl: You do not have permission to modify job: svc\n")
    }

    @Test func anOptionWithoutItsValueIsAMissingArgument() throws {
        let r = try run("initctl", ["list", "--socket"])
        #expect(r.status == 1 && r.stderr == "initctl: missing argument: --socket\n" + usageHint)
    }

    @Test func versionOptionsPrintTheVersionWithoutADaemon() throws {
        let i = try run("initctl", ["--version"])
        #expect(i.status == 0 && i.stdout.hasPrefix("initctl (daybreak 0.1.0)\n"))
        let d = try run("daybreak", ["--version"])
        #expect(d.status == 0 && d.stdout.hasPrefix("init (daybreak 0.1.0)\n"))
    }

    @Test func helpAfterACommandPrintsThatCommandsHelpOnly() throws {
        let r = try run("initctl", ["start", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("Usage: initctl start [OPTION]... JOB [KEY=VALUE]...\nStart a job"))
        #expect(!r.stdout.contains("reload-configuration"))
        #expect(r.stdout.contains("--no-wait"))
    }

    @Test func theConnectionErrorIsUpstartsWithTheSocketOnTheNextLine() throws {
        let socket = "/nonexistent/daybreak/control"
        let r = try run("initctl", ["--socket", socket, "version"])
        #expect(r.status == 1)
        #expect(r.stderr == "initctl: Unable to connect to Upstart: Failed to connect to socket \(socket): No such file or directory\n")
    }

    @Test(.enabled(if: isRoot && !FileManager.default.fileExists(atPath: "/run/daybreak/control"), "root without a system daemon"))
    func rootWithOnlyAUserDaemonIsPointedAtUser() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try FileManager.default.createDirectory(atPath: d.dir.path("run/daybreak"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: d.dir.path("run/daybreak/control"), withDestinationPath: d.socket)
        let r = try runProgram(binDirectory.appendingPathComponent("initctl").path, ["list"],
                               environment: ["XDG_RUNTIME_DIR": d.dir.path("run"), "PATH": "/usr/bin:/bin"])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("initctl: Unable to connect to Upstart: ") == true)
        #expect(lines.count == 2 && lines[1].contains("initctl --user"))
        #expect(try runProgram(binDirectory.appendingPathComponent("initctl").path, ["--user", "list"],
                               environment: ["XDG_RUNTIME_DIR": d.dir.path("run")]).status == 0)
    }

    @Test func showConfigPrintsTheWhileLine() throws {
        let d = try TestDaemon(jobs: ["db": "exec /bin/sleep 600\n", "web": "while running db\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let r = try d.initctl("show-config", "web")
        #expect(r.stdout == "web\n  while running db\n")
    }
}
