import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `:sys:` events: a session daemon with the event bridge as a job, and a
/// second test daemon in system mode on its own socket.
@Suite(.serialized) struct EventBridge {
    static let bridge = binDirectory.appendingPathComponent("daybreak-event-bridge").path

    /// A system-mode daemon listening on `socket` (not its harness's own).
    func systemDaemon(_ socket: String) throws -> TestDaemon {
        let d = try TestDaemon(arguments: ["--socket", socket], user: false, waitForSocket: false)
        #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: socket) && (try? initctl(socket, ["version"]))?.status == 0 })
        return d
    }

    func initctl(_ socket: String, _ args: [String]) throws -> RunResult {
        try runProgram(binDirectory.appendingPathComponent("initctl").path, ["--socket", socket] + args)
    }

    @Test func aSessionJobRunsOnSysFooWhenTheSystemDaemonEmitsFooAndAgainAfterItRestarts() throws {
        let run = try TempDir()
        chmod(run.url.path, 0o755)
        let sys = run.path("system.sock")
        var system: TestDaemon? = try systemDaemon(sys)
        defer { system?.stop() }
        let session = try TestDaemon()
        defer { session.stop() }
        try session.job("on-foo", "env OUT=\(session.out.path)\ninstance $N\ntask\nstart on :sys:foo IFACE=wlan0\nexec /bin/sh -c 'echo \"$UPSTART_EVENTS $IFACE $N\" >> $OUT/foo'\n")
        try session.job("event-bridge", "respawn\nexec \(EventBridge.bridge) --system-socket \(sys) --socket \(session.socket)\n")
        // The files were written after the daemon began: make sure they are read.
        _ = try session.initctl("reload-configuration")
        #expect(try session.initctl("start", "event-bridge").status == 0)
        // The bridge subscribes asynchronously: emit until the first arrives.
        #expect(eventually(timeout: 10) {
            _ = try? initctl(sys, ["emit", "foo", "IFACE=wlan0", "N=1"])
            return session.output("foo").contains(":sys:foo wlan0 1")
        }, "\(session.output("foo")) \(session.daemonLog)")
        _ = try initctl(sys, ["emit", "foo", "IFACE=eth0", "N=2"])
        Thread.sleep(forTimeInterval: 0.3)
        #expect(!session.output("foo").contains(" 2"), "IFACE=wlan0 only")

        // Unprivileged: may read the system daemon's events, never emit there.
        let denied = try runProgram("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                         binDirectory.appendingPathComponent("initctl").path, "--socket", sys, "emit", "foo", "IFACE=wlan0", "N=3"])
        #expect(denied.status != 0)
        #expect(!session.output("foo").contains(" 3"))

        // The system daemon restarts (a new process on the same socket).
        system?.stop()
        system = try systemDaemon(sys)
        #expect(eventually(timeout: 10) {
            _ = try? initctl(sys, ["emit", "foo", "IFACE=wlan0", "N=4"])
            return session.output("foo").contains(":sys:foo wlan0 4")
        }, "\(session.output("foo"))")
    }

    @Test func theShippedBridgeJobPasses() throws {
        let r = try run("init-checkconf", [repoRoot.appendingPathComponent("extra/init/daybreak-event-bridge.conf").path])
        #expect(r.status == 0, "\(r.stderr)")
    }
}
