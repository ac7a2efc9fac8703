import Foundation
import Testing

/// initctl's command line without a daemon: usage errors, help, and the
/// connection error. (DaemonTests drive every verb against a real daemon.)
@Suite struct InitctlCommandLine {
    let socket = "/nonexistent/daybreak/control"

    @Test func helpListsEveryCommand() throws {
        let r = try run("initctl", ["--help"])
        #expect(r.status == 0)
        for verb in ["start", "stop", "restart", "reload", "status", "list", "emit", "reload-configuration", "version",
                     "log-priority", "show-config", "check-config", "list-env", "get-env", "set-env", "unset-env",
                     "reset-env", "usage", "notify-disk-writeable", "monitor"] {
            #expect(r.stdout.contains("\n  \(verb)"), "\(verb) missing from --help")
        }
    }

    @Test func unknownCommandAndOptionAreUpstartStyleUsageErrors() throws {
        let bad = try run("initctl", ["frobnicate"])
        #expect(bad.status == 1)
        #expect(bad.stderr == "initctl: invalid command: frobnicate\nTry `initctl --help' for more information.\n")
        let option = try run("initctl", ["list", "--frobnicate"])
        #expect(option.status == 1)
        #expect(option.stderr.hasPrefix("initctl: invalid option: --frobnicate\n"))
        let flagOfAnotherCommand = try run("initctl", ["list", "-e"])
        #expect(flagOfAnotherCommand.stderr.hasPrefix("initctl: invalid option: -e\n"))
    }

    @Test func argumentCountsAreChecked() throws {
        #expect(try run("initctl", ["emit"]).stderr.hasPrefix("initctl: missing event name\n"))
        #expect(try run("initctl", ["get-env"]).stderr.hasPrefix("initctl: missing variable name\n"))
        #expect(try run("initctl", ["version", "extra"]).stderr.hasPrefix("initctl: unexpected argument: extra\n"))
        #expect(try run("initctl", []).stderr.hasPrefix("initctl: missing command\n"))
    }

    @Test func startWithoutAJobOutsideAJobSaysSo() throws {
        let r = try runProgram(binDirectory.appendingPathComponent("initctl").path, ["start", "--socket", socket], environment: [:])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("initctl: missing job name\n"))
    }

    @Test func environmentArgumentsMustBeAssignments() throws {
        let r = try run("initctl", ["--socket", socket, "emit", "ev", "NOTKV"])
        #expect(r.stderr == "initctl: Env must be KEY=VALUE pairs\n")
    }

    @Test func noDaemonGivesAConnectionErrorNamingTheSocket() throws {
        let r = try run("initctl", ["--socket", socket, "version"])
        #expect(r.status == 1)
        #expect(r.stderr == "initctl: Unable to connect to Upstart: Failed to connect to socket \(socket): No such file or directory\n")
    }

    @Test func globalOptionsMayComeBeforeOrAfterTheCommand() throws {
        let before = try run("initctl", ["--socket", socket, "--quiet", "list"])
        let after = try run("initctl", ["list", "--quiet", "--socket=\(socket)"])
        #expect(before.stderr == after.stderr)
        #expect(before.stderr.contains(socket))
    }
}
