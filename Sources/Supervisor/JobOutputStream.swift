import Control
import Platform

/// `--log-to-stdout`: the output of `console log` jobs on the daemon's
/// standard output instead of log files, as a container runtime collects
/// it (`docker logs`).
///
/// Output arrives from each process's pty in pieces; it is written whole
/// lines at a time, so two jobs' lines never mix within a line. With
/// `--prefix-output` each line begins with the job's name, `web: ...`
/// (`web (8080): ...` for an instance); with `--log-timestamps` it begins
/// with the UTC time before that. The pty's carriage returns are
/// dropped. A line longer than `maxLine` bytes is written in pieces of
/// that size, and what a process left without a newline is written, with
/// one, when its pty closes.
///
/// Writing never blocks the daemon: lines go through a bounded queue
/// (`DaemonLog`'s, 64 KiB); while standard output takes nothing, new lines
/// are dropped and counted, and a line says how many once it takes bytes
/// again.
final class JobOutputStream {
    static let maxLine = 4096
    let prefixed: Bool
    let timestamps: Bool
    let out: DaemonLog
    private var partial: [Int32: [UInt8]] = [:]
    private var labels: [Int32: String] = [:]

    init(prefixed: Bool, timestamps: Bool = false) {
        self.prefixed = prefixed
        self.timestamps = timestamps
        out = DaemonLog(minimum: .debug, output: LogOutput(descriptor: 1), destination: "standard output")
    }

    /// A process's pty master, and the job it writes for.
    func attach(master: Int32, job: String, instance: String) {
        labels[master] = instance.isEmpty ? job : "\(job) (\(instance))"
        partial[master] = nil
    }

    /// Whether a master's output comes here (else to its log file).
    func carries(_ master: Int32) -> Bool { labels[master] != nil }

    /// Output read from a master.
    func take(_ bytes: ArraySlice<UInt8>, from master: Int32) {
        var line = partial[master] ?? []
        for b in bytes {
            if b == 0x0A {
                emit(line, from: master)
                line = []
            } else if b != 0x0D {
                line.append(b)
                if line.count == JobOutputStream.maxLine {
                    emit(line, from: master)
                    line = []
                }
            }
        }
        partial[master] = line.isEmpty ? nil : line
    }

    /// The master is done: what is left is a last line.
    func finish(master: Int32) {
        if let rest = partial.removeValue(forKey: master) { emit(rest, from: master) }
        labels[master] = nil
    }

    private func emit(_ line: [UInt8], from master: Int32) {
        var prefix = timestamps ? Timestamp.utc(milliseconds: wallClockMilliseconds()) + " " : ""
        if prefixed { prefix += (labels[master] ?? "?") + ": " }
        out.writeRaw(Array(prefix.utf8) + line + [0x0A])
    }

    var hasBacklog: Bool { out.hasBacklog }
    func flush() { out.flush() }
}
