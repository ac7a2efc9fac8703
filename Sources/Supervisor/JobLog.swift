import Platform

/// The output of `console log` jobs: each process's pty master, read by
/// the event loop and appended to the instance's log file.
///
/// Output that cannot be written yet (the log directory is missing or not
/// writable, as early in boot) is kept in memory, up to `maxHeld` bytes per
/// file (the oldest bytes go first), and written when a later write to that
/// file succeeds or `flushHeld()` runs.
struct JobLogs {
    static let maxHeld = 64 * 1024

    let directory: String
    /// pty master descriptor to log file path.
    var masters: [Int32: String] = [:]
    /// The process each master was opened for, and back.
    var masterByPid: [Int32: Int32] = [:]
    var pidByMaster: [Int32: Int32] = [:]
    var held: [String: [UInt8]] = [:]

    init(directory: String) {
        self.directory = directory
    }

    mutating func attach(master: Int32, file: String, pid: Int32) {
        masters[master] = directory + "/" + file
        masterByPid[pid] = master
        pidByMaster[master] = pid
    }

    /// The master opened for process `pid`, if it is still open.
    func master(of pid: Int32) -> Int32? {
        masterByPid[pid]
    }

    /// Reads what the master has, at most `reads` times 16 KiB (what is
    /// left is read on a later turn). Returns false when the pty is
    /// finished (every writer gone), after which the master is
    /// forgotten; the caller closes it.
    mutating func read(master: Int32, reads: Int) -> Bool {
        guard let path = masters[master] else { return false }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        for _ in 0..<reads {
            let n = buffer.withUnsafeMutableBytes { Platform.readDescriptor(master, $0) }
            if n > 0 {
                write(Array(buffer[0..<n]), to: path)
                continue
            }
            if n < 0 && Platform.lastErrorWouldBlock() { return true }
            masters[master] = nil
            if let pid = pidByMaster.removeValue(forKey: master) { masterByPid[pid] = nil }
            return false
        }
        return true
    }

    private mutating func write(_ bytes: [UInt8], to path: String) {
        var data = held[path] ?? []
        data += bytes
        if FileSystem.makeDirectories(directory, mode: 0o755) {
            let (written, error) = FileSystem.appendSome(data[...], to: path)
            // What was written stays written: only the rest is held, so a
            // disk that fills part-way never duplicates a line.
            if written > 0 { data.removeFirst(written) }
            if let error {
                if !failing.contains(path) {
                    failing.insert(path)
                    warnings.append("cannot write \(path): \(error); holding its newest \(JobLogs.maxHeld / 1024) KiB of output until it can be written")
                }
            } else if failing.remove(path) != nil {
                warnings.append("writing \(path) again")
            }
        } else if !failing.contains(path) {
            failing.insert(path)
            warnings.append("cannot create the log directory \(directory); holding the newest \(JobLogs.maxHeld / 1024) KiB of each job's output until it can be written")
        }
        if data.isEmpty {
            held[path] = nil
        } else {
            if data.count > JobLogs.maxHeld { data.removeFirst(data.count - JobLogs.maxHeld) }
            held[path] = data
        }
    }

    /// Log files that could not be written, so each failure is reported once.
    private var failing: Set<String> = []
    /// Lines for the daemon's log, taken by `takeWarnings()`.
    private var warnings: [String] = []

    /// What went wrong (or right again) since the last call, for the daemon's log.
    mutating func takeWarnings() -> [String] {
        defer { warnings = [] }
        return warnings
    }

    /// Tries again to write held output.
    mutating func flushHeld() {
        for path in held.keys { write([], to: path) }
    }

    var heldBytes: Int { held.values.reduce(0) { $0 + $1.count } }
}
