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
    private(set) var masters: [Int32: String] = [:]
    private var held: [String: [UInt8]] = [:]

    init(directory: String) {
        self.directory = directory
    }

    mutating func attach(master: Int32, file: String) {
        masters[master] = directory + "/" + file
    }

    /// Reads what the master has. Returns false when the pty is finished
    /// (every writer gone), after which the master is forgotten; the
    /// caller closes it.
    mutating func read(master: Int32) -> Bool {
        guard let path = masters[master] else { return false }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Platform.readDescriptor(master, $0) }
            if n > 0 {
                write(Array(buffer[0..<n]), to: path)
                continue
            }
            if n < 0 && Platform.lastErrorWouldBlock() { return true }
            masters[master] = nil
            return false
        }
    }

    private mutating func write(_ bytes: [UInt8], to path: String) {
        var data = held[path] ?? []
        data += bytes
        if FileSystem.makeDirectories(directory, mode: 0o755), FileSystem.append(data, to: path) {
            held[path] = nil
        } else {
            if data.count > JobLogs.maxHeld { data.removeFirst(data.count - JobLogs.maxHeld) }
            held[path] = data
        }
    }

    /// Tries again to write held output.
    mutating func flushHeld() {
        for (path, data) in held where FileSystem.makeDirectories(directory, mode: 0o755) && FileSystem.append(data, to: path) {
            held[path] = nil
        }
    }

    var heldBytes: Int { held.values.reduce(0) { $0 + $1.count } }
}
