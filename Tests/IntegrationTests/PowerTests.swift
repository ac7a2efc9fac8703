import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `initctl reboot`, `poweroff`, `halt`: PID 1 stops every job, then calls
/// reboot(2). Only ever run with daybreak as PID 1 of a new pid namespace,
/// where reboot(2) ends the namespace (its init killed by SIGHUP for a
/// reboot, SIGINT otherwise), never the machine.
@Suite(.serialized, .enabled(if: isRoot, "pid namespaces need root"))
struct PowerDown {
    func running(_ d: TestDaemon) throws {
        try d.job("svc", "exec /bin/sleep 600\npost-stop exec /bin/sh -c 'echo stopped > \(d.out.path)/svc'\n")
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("start", "svc").status == 0)
    }

    @Test func rebootStopsEveryJobThenEndsTheNamespaceWithSIGHUP() throws {
        let d = try TestDaemon(user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        try running(d)
        let r = try d.initctl("reboot")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(eventually(timeout: 15) { d.process?.isRunning == false })
        #expect(d.process?.terminationReason == .uncaughtSignal)
        #expect(d.process?.terminationStatus == SIGHUP, "\(d.daemonLog)")
        #expect(d.output("svc") == "stopped\n", "the job went through its post-stop first")
        #expect(d.daemonLog.contains("every job is stopped; rebooting"), "\(d.daemonLog)")
        #expect(d.markedProcesses().isEmpty)
    }

    @Test func poweroffAsTheProgramsNameEndsItWithSIGINT() throws {
        let d = try TestDaemon(user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        try running(d)
        let links = try TempDir()
        let poweroff = links.path("poweroff")
        try FileManager.default.createSymbolicLink(atPath: poweroff, withDestinationPath: binDirectory.appendingPathComponent("initctl").path)
        let r = try runProgram(poweroff, ["--socket", d.socket])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(eventually(timeout: 15) { d.process?.isRunning == false })
        #expect(d.process?.terminationReason == .uncaughtSignal)
        #expect(d.process?.terminationStatus == SIGINT, "\(d.daemonLog)")
        #expect(d.output("svc") == "stopped\n")
    }

    @Test func aDaemonThatIsNotPIDOneRefusesAndGoesOn() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try running(d)
        let r = try d.initctl("halt")
        #expect(r.status == 1)
        #expect(r.stderr.contains("daybreak is not PID 1 here: halt is for the init of a machine or a container"), "\(r.stderr)")
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc start/running"))
    }
}
