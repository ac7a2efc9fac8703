import Foundation
import Testing

/// `--kmsg DEVICE`: the daemon's log as Upstart wrote it to /dev/kmsg when
/// it was PID 1. The tests point it at a file, never at the machine's
/// kernel log.
@Suite struct KernelLog {
    @Test func eachLineCarriesItsPriorityAndNoTime() throws {
        let scratch = try TempDir()
        let device = scratch.path("kmsg")
        FileManager.default.createFile(atPath: device, contents: nil)
        let d = try TestDaemon(arguments: ["--kmsg", device, "--verbose", "--log-timestamps"])
        defer { d.stop() }
        try d.job("bad", "start on startup\nexec /nonexistent/program\n")
        _ = try d.initctl("reload-configuration")
        _ = try? d.initctl("start", "bad")
        d.stop()
        let text = try String(contentsOfFile: device, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("<6>daybreak: listening on ") }, "\(text)")
        // A process that could not be run is said at the default level, message: <5>.
        #expect(lines.contains { $0.hasPrefix("<5>daybreak: bad main process failed to start: ") }, "\(text)")
        #expect(lines.allSatisfy { $0.range(of: #"^<[2-7]>daybreak: "#, options: .regularExpression) != nil }, "\(text)")
        // Nothing went to standard error.
        #expect(!d.daemonLog.contains("daybreak: listening"), "\(d.daemonLog)")
    }

    @Test func aDeviceThatCannotBeOpenedFallsBackToStandardError() throws {
        let d = try TestDaemon(arguments: ["--kmsg", "/nonexistent/kmsg", "--verbose"])
        defer { d.stop() }
        #expect(d.daemonLog.contains("daybreak: cannot open /nonexistent/kmsg ("), "\(d.daemonLog)")
        #expect(d.daemonLog.contains("); logging to standard error"))
        #expect(d.daemonLog.contains("daybreak: listening on "))
    }
}
