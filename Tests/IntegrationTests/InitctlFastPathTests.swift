import Foundation
import Testing

/// initctl's fast path (Sources/Initctl/FastPath.swift) against its general
/// parser, on a real daemon.
///
/// Each command line runs twice: as given, which the fast path reads when
/// it can, and with `--dest=full` in front, which the fast path always
/// leaves to the general parser and the general parser ignores (Upstart's
/// D-Bus destination). What initctl prints and its exit status must be the
/// same both ways, pids aside. Lines the fast path must decline (command
/// options, `--help`, arguments `version` does not take) are checked for
/// the general parser's own words.
@Suite(.serialized) struct InitctlFastPath {
    /// Runs `args` both ways; `reset` (if any) after each run puts the
    /// daemon back as it was. Returns the run as given.
    @discardableResult
    func same(_ d: TestDaemon, _ args: [String], reset: [String]? = nil) throws -> RunResult {
        let fast = try d.initctl(args)
        if let reset { _ = try d.initctl(reset) }
        let full = try d.initctl(["--dest=full"] + args)
        if let reset { _ = try d.initctl(reset) }
        #expect(fast.status == full.status, "\(args)")
        #expect(withoutPids(fast.stdout) == withoutPids(full.stdout), "\(args)")
        #expect(fast.stderr == full.stderr, "\(args)")
        return fast
    }

    /// `process 1234` as `process N`: each run starts a new process.
    func withoutPids(_ text: String) -> String {
        text.replacingOccurrences(of: #"process [0-9]+"#, with: "process N", options: .regularExpression)
    }

    @Test func everydayCommandsSayWhatTheGeneralParserSays() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n",
                                      "inst": "instance $X\nexec /bin/sleep 600\n",
                                      "bad": "exec /nonexistent/program\n"])
        defer { d.stop() }
        #expect(try same(d, ["version"]).stdout.hasPrefix("init (daybreak "))
        #expect(try same(d, ["-q", "version"]).stdout == "")
        try same(d, ["version", "--quiet"])
        #expect(try same(d, ["status", "svc"]).stdout == "svc stop/waiting\n")
        #expect(try same(d, ["status", "nosuch"]).stderr == "initctl: Unknown job: nosuch\n")
        #expect(withoutPids(try same(d, ["start", "svc"], reset: ["stop", "svc"]).stdout) == "svc start/running, process N\n")
        try same(d, ["start", "--no-wait", "svc"], reset: ["stop", "svc"])
        try same(d, ["-n", "start", "svc"], reset: ["stop", "svc"])
        try same(d, ["start", "svc", "-q"], reset: ["stop", "svc"])
        try same(d, ["--user", "start", "svc", "A=1", "B=two words"], reset: ["stop", "svc"])
        #expect(try same(d, ["start", "inst", "X=1"], reset: ["stop", "inst", "X=1"]).stdout.hasPrefix("inst (1) start/running, process "))
        #expect(try same(d, ["start", "svc", "NOTKV"]).stderr == "initctl: Env must be KEY=VALUE pairs\n")
        #expect(try same(d, ["start", "bad"]).stderr == "initctl: Job failed to start\n")
        #expect(try same(d, ["start", "-"]).stderr == "initctl: Unknown job: -\n")
        #expect(try same(d, ["stop", "svc"]).status == 1)
        #expect(try same(d, ["restart", "svc"]).status == 1)

        // Running: status, a second start, restart, stop.
        let started = try d.initctl("start", "svc")
        #expect(started.status == 0)
        #expect(try same(d, ["status", "svc"]).stdout == started.stdout)
        #expect(try same(d, ["start", "svc"]).stderr == "initctl: Job is already running: svc\n")
        #expect(try same(d, ["restart", "svc"]).stdout.hasPrefix("svc start/running, process "))
        #expect(try same(d, ["stop", "svc"], reset: ["start", "svc"]).stdout == "svc stop/waiting\n")
        _ = try d.initctl("stop", "svc")

        // The socket given as --socket=PATH, and no daemon there.
        let path = binDirectory.appendingPathComponent("initctl").path
        for line in [["--socket=\(d.socket)", "status", "svc"], ["status", "svc", "--socket=/nonexistent/control"]] {
            let fast = try runProgram(path, line)
            let full = try runProgram(path, ["--dest=full"] + line)
            #expect(fast.status == full.status && fast.stdout == full.stdout && fast.stderr == full.stderr, "\(line)")
        }
        let status = try runProgram(path, ["--socket=\(d.socket)", "status", "svc"])
        // Its restart's kill and its stop were asked for: no failure to show.
        #expect(status.stdout == "svc stop/waiting\n", "\(status)")
    }

    @Test func linesTheFastPathLeavesAloneKeepTheGeneralParsersWords() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let hint = "Try `initctl --help' for more information.\n"
        #expect(try same(d, ["version", "extra"]).stderr == "initctl: unexpected argument: extra\n" + hint)
        #expect(try same(d, ["status", "--frobnicate", "svc"]).stderr == "initctl: invalid option: --frobnicate\n" + hint)
        #expect(try same(d, ["start", "-e", "svc"]).stderr == "initctl: invalid option: -e\n" + hint)
        #expect(try same(d, ["start", "--user=1", "svc"], reset: ["stop", "svc"]).stdout.hasPrefix("svc start/running"))
        let help = try same(d, ["start", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("Usage: initctl start [OPTION]... JOB [KEY=VALUE]...\nStart a job (a new instance of it).\n"))
        #expect(try same(d, ["status", "--help"]).stdout.hasPrefix("Usage: initctl status [OPTION]... [--history] [--verbose] JOB [KEY=VALUE]...\n"))
        #expect(try same(d, ["--version", "start", "svc"]).stdout.hasPrefix("initctl (daybreak "))
        #expect(try same(d, ["status", "--", "svc"]).stdout == "svc stop/waiting\n")
        #expect(try same(d, ["status", "--verbose", "svc"]).stdout.hasPrefix("svc stop/waiting\n"))
        // `--socket=` alone takes the next argument as the path.
        #expect(try same(d, ["status", "--socket=", d.socket, "svc"]).stdout == "svc stop/waiting\n")
        #expect(try same(d, ["status", "svc", "--socket"]).stderr == "initctl: missing argument: --socket\n" + hint)
    }
}
