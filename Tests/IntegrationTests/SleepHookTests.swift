import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The sleep hook (extra/power/daybreak-sleep) run as systemd-sleep and
/// pm-utils run it, against a test daemon's socket.
@Suite struct SleepHook {
    static let hook = repoRoot.appendingPathComponent("extra/power/daybreak-sleep").path

    func runHook(_ d: TestDaemon, _ args: [String], env: [String: String] = [:]) throws -> (RunResult, Double) {
        var e = ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "DAYBREAK_SOCKET": d.socket,
                 "DAYBREAK_INITCTL": binDirectory.appendingPathComponent("initctl").path]
        e.merge(env) { $1 }
        let start = Date()
        let r = try runProgram("/bin/sh", [SleepHook.hook] + args, environment: e)
        return (r, Date().timeIntervalSince(start))
    }

    @Test func preSuspendBlocksUntilTheJobOnSuspendHasRunAndPostSuspendEmitsResume() throws {
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        try d.job("lock", "env OUT=\(d.out.path)\ntask\nstart on suspend\nexec /bin/sh -c 'sleep 1; echo \"$SLEEP\" >> $OUT/lock'\n")
        try d.job("wake", "env OUT=\(d.out.path)\ntask\nstart on resume\nexec /bin/sh -c 'echo \"$SLEEP\" >> $OUT/wake'\n")
        let (r, took) = try runHook(d, ["pre", "suspend"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(took >= 0.9, "it waited for the job: \(took)s")
        #expect(d.output("lock") == "suspend\n", "the job had run when the hook returned")
        let (p, _) = try runHook(d, ["post", "suspend"])
        #expect(p.status == 0)
        #expect(eventually(timeout: 5) { d.output("wake") == "suspend\n" })
        // pm-utils' arguments.
        let (h, _) = try runHook(d, ["thaw"])
        #expect(h.status == 0)
        #expect(eventually(timeout: 5) { d.output("wake") == "suspend\nhibernate\n" })
    }

    @Test func aHungJobOnSuspendHoldsTheHookOnlyUntilTheBound() throws {
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        try d.job("hang", "task\nstart on suspend\nexec sleep 1000\n")
        let (r, took) = try runHook(d, ["--timeout", "1", "pre", "suspend"])
        #expect(r.status == 0, "a hook never stops the sleep")
        #expect(took >= 0.9 && took < 4, "returned at the bound: \(took)s")
        #expect(r.stderr.contains("still running after 1s"), "\(r.stderr)")
        // The bound from the environment, with pm-utils' arguments (the
        // hung job stopped first: one still running is not started again).
        #expect(try d.initctl("stop", "hang").status == 0)
        let (p, took2) = try runHook(d, ["suspend"], env: ["DAYBREAK_SLEEP_TIMEOUT": "1"])
        #expect(p.status == 0)
        #expect(took2 >= 0.9 && took2 < 4, "\(took2)s")
    }
}
