import Control
import Platform

/// The daemon's own log: one line at a time on standard error, prefixed
/// `daybreak:`, at or above the priority `initctl log-priority` sets.
///
/// It never blocks the daemon. Lines go into a bounded queue
/// (`capacity` bytes) that is written as far as standard error takes it
/// now (`LogOutput`); what does not fit waits for the next turn of the
/// loop. When the queue is full because nobody reads standard error, new
/// lines are dropped and counted, and once standard error takes bytes
/// again a line says how many were lost. The daemon goes on either way.
public final class DaemonLog {
    public enum Priority: Int, CaseIterable, Comparable, Sendable {
        case debug, info, message, warn, error, fatal

        public var name: String { "\(self)" }

        public init?(name: String) {
            guard let p = Priority.allCases.first(where: { $0.name == name }) else { return nil }
            self = p
        }

        public static func < (a: Priority, b: Priority) -> Bool { a.rawValue < b.rawValue }
    }

    /// The most bytes of log lines held while standard error is not taking them.
    public static let capacity = 64 * 1024

    public var minimum: Priority
    /// `--log-timestamps`: each line begins with the wall-clock time (UTC),
    /// for containers whose runtime does not stamp lines itself.
    public var timestamps = false
    /// `--kmsg`: each line begins with its kernel log priority, `<5>`,
    /// as Upstart wrote to `/dev/kmsg` (debug 7, info 6, message 5, warn
    /// 4, error 3, fatal 2), and no time (the kernel stamps its records).
    public var kernelPriorities = false
    /// What the output is, for the line that reports dropped lines.
    private let destination: String
    private let output: LogOutput
    /// Lines not yet written, oldest first; the first may be partly written.
    private var queue: [[UInt8]] = []
    private var head = 0
    private var headWritten = 0
    private var queuedBytes = 0
    /// Lines dropped since the last report.
    private(set) var dropped = 0
    /// Lines dropped since the daemon started.
    private(set) var droppedTotal = 0

    public init(minimum: Priority, output: LogOutput = LogOutput(), destination: String = "standard error") {
        self.minimum = minimum
        self.output = output
        self.destination = destination
    }

    public func write(_ priority: Priority, _ line: String) {
        guard priority >= minimum else { return }
        if kernelPriorities {
            enqueue(Array("<\(7 - priority.rawValue)>daybreak: \(line)\n".utf8))
        } else {
            let stamp = timestamps ? Timestamp.utc(milliseconds: wallClockMilliseconds()) + " " : ""
            enqueue(Array("\(stamp)daybreak: \(line)\n".utf8))
        }
        flush()
    }

    /// Queues bytes as they are (job output on standard output,
    /// `JobOutputStream`), under the same bound.
    func writeRaw(_ bytes: [UInt8]) {
        enqueue(bytes)
        flush()
    }

    /// Whether lines are waiting for standard error to take them.
    var hasBacklog: Bool { head < queue.count || dropped > 0 }

    /// Writes what standard error takes now.
    func flush() {
        while head < queue.count {
            let line = queue[head]
            let n = output.write(line[headWritten...])
            if n < 0 {
                // Standard error is gone for good: drop what waits.
                queue.removeAll()
                head = 0
                headWritten = 0
                queuedBytes = 0
                return
            }
            headWritten += n
            queuedBytes -= n
            guard headWritten == line.count else { return }
            head += 1
            headWritten = 0
            if head == queue.count && dropped > 0 {
                // Standard error is taking lines again: say what was lost.
                let lost = dropped
                dropped = 0
                append(Array("\(kernelPriorities ? "<4>" : "")daybreak: \(lost) log lines were dropped because \(destination) was not taking them\n".utf8))
            }
        }
        queue.removeAll(keepingCapacity: queue.capacity <= 64)
        head = 0
    }

    private func enqueue(_ line: [UInt8]) {
        guard queuedBytes + line.count <= DaemonLog.capacity else {
            dropped += 1
            droppedTotal += 1
            return
        }
        append(line)
    }

    private func append(_ line: [UInt8]) {
        if head > 256 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        queue.append(line)
        queuedBytes += line.count
    }
}
