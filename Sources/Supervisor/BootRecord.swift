import Control
import Engine
import JSON
import Platform

/// The shell's side of the boot record (`Engine.timeline`, read by
/// `initctl analyze`): where its clock starts, and the boot history file.
///
/// The origin is the daemon's start on the monotonic clock. When the
/// daemon is PID 1 of a machine (not of a container: there the clock's
/// zero is the host's boot), that clock counts from the kernel's boot, so
/// the kernel's part is the clock's value at the start. A container's
/// PID 1 is told apart by the kernel's own threads: `kthreadd` is pid 2
/// in the machine's first pid namespace only.
///
/// With `--boot-history FILE`, the figures of past boots are read from
/// FILE at the start, and this boot's are added once it ends, the file
/// rewritten whole (atomically, at most `BootHistory.limit` boots). A
/// file that is damaged is reported (its path and line) and left as it
/// is: this boot is then not added to it.
struct BootRecordShell {
    var history = BootHistory()
    /// False when the file was damaged or unreadable: it is not written.
    var historyWritable = true
    var saved = false

    static func kernelIsOrigin(isPID1: Bool) -> Bool {
        guard isPID1, let comm = try? FileSystem.readFile("/proc/2/comm", limit: 64) else { return false }
        return String(decoding: comm, as: UTF8.self).hasPrefix("kthreadd")
    }
}

extension Daemon {
    /// Sets the record's origin and reads the history file (at start-up,
    /// not after a re-exec: the record starts afresh, with no boot).
    func startBootRecord() {
        let start = now
        engine.timeline.daemonStart = start
        engine.timeline.bootEvent = options.startupEvent
        if BootRecordShell.kernelIsOrigin(isPID1: options.isPID1) {
            engine.timeline.kernelNanoseconds = start.nanoseconds
        }
        guard let path = options.bootHistory else { return }
        guard FileSystem.kind(of: path) != nil else { return }
        do {
            let bytes = try FileSystem.readFile(path, limit: 1 << 20)
            bootRecord.history = try BootHistory.decode(String(decoding: bytes, as: UTF8.self))
        } catch let damage as BootHistory.Damaged {
            bootRecord.historyWritable = false
            log.write(.warn, "\(path):\(damage.line): \(damage.description); the boot history is left as it is and this boot is not added")
        } catch {
            bootRecord.historyWritable = false
            log.write(.warn, "\(path): \(error); the boot history is left as it is and this boot is not added")
        }
    }

    /// Once the boot has ended: adds it to the history file (after each
    /// input until then; one comparison after).
    func saveBootOnce() {
        guard !bootRecord.saved, engine.timeline.bootEnd != nil else { return }
        bootRecord.saved = true
        guard let boot = BootHistory.Boot(engine.timeline, wallMilliseconds: wallClockMilliseconds()) else { return }
        log.write(.info, "boot finished after \(Double(boot.end / 1_000_000) / 1000) s")
        guard let path = options.bootHistory, bootRecord.historyWritable else { return }
        bootRecord.history.append(boot)
        if let e = FileSystem.writeAtomically(Array(bootRecord.history.encoded().utf8), to: path, mode: 0o644) {
            log.write(.warn, "\(path): cannot write the boot history: \(e)")
        }
    }

    /// The `analyze` reply: the record, and the past boots when kept.
    func analyzeResult() -> JSONValue {
        guard case .object(var fields) = engine.timeline.json else { return .object([]) }
        if options.bootHistory != nil {
            fields.append(("history", .array(bootRecord.history.boots.map(\.json))))
        }
        return .object(fields)
    }
}
