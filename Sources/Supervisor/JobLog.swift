import JobFile
import Platform
import SystemPackage

/// The output of `console log` jobs: each process's pty master, read by
/// the event loop and appended to the instance's log file.
///
/// Output that cannot be written yet (the log directory is missing or not
/// writable, as early in boot) is kept in memory, up to `maxHeld` bytes per
/// file (the oldest bytes go first), and written when a later write to that
/// file succeeds or `flushHeld()` runs.
///
/// `log size` caps each file (`LogCap`): a write that would pass the cap
/// first renames the file `FILE.1` (`.1` to `.2` and so on up to `log
/// keep`; the oldest is overwritten), so a job's output takes at most
/// (keep + 1) x size bytes of disk. Files are opened for each write, so
/// a file that logrotate moved or truncated is simply created again;
/// `initctl reopen-logs` makes the daemon forget the sizes it counted.
///
/// The newest `tailBytes` of each file are also kept in memory (for at
/// most `maxTails` files), for `initctl log` and post-mortems when the
/// disk cannot be read or written yet.
struct JobLogs {
    static let maxHeld = 64 * 1024
    static let tailBytes = 8 * 1024
    static let maxTails = 64

    let directory: String
    /// pty master descriptor to log file path.
    var masters: [Int32: String] = [:]
    /// The process each master was opened for, and back.
    var masterByPid: [Int32: Int32] = [:]
    var pidByMaster: [Int32: Int32] = [:]
    var held: [String: [UInt8]] = [:]
    /// `--log-to-stdout`: output goes here, not to the files (whose
    /// newest bytes are still kept for `initctl log`).
    var stream: JobOutputStream?

    init(directory: String) {
        self.directory = directory
    }

    /// A cap on one log file: its size in bytes, and how many rotated
    /// files to keep beside it.
    struct LogCap: Hashable {
        var bytes: Int
        var keep: Int
    }
    private var caps: [String: LogCap] = [:]
    /// Sizes of capped files as this daemon counted them (nil: stat first).
    private var sizes: [String: Int] = [:]
    /// The newest output of each file, and the order files were written in.
    private var tails: [String: [UInt8]] = [:]
    private var tailOrder: [String: UInt64] = [:]
    private var tailClock: UInt64 = 0
    /// Files rotated so far (for tests and `initctl log`).
    private(set) var rotations = 0
    /// `initctl log -f`: client descriptors following each file, and the
    /// output read for followed files since `takeFollowed()`.
    var followers: [String: Set<Int32>] = [:]
    private var followedOutput: [(path: String, bytes: [UInt8])] = []

    mutating func attach(master: Int32, file: String, pid: Int32, cap: LogCap? = nil) {
        let path = directory + "/" + file
        if let cap { caps[path] = cap } else { caps[path] = nil; sizes[path] = nil }
        masters[master] = path
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
                if let stream, stream.carries(master) {
                    stream.take(buffer[0..<n], from: master)
                    keepTail(Array(buffer[0..<n]), of: path)
                } else {
                    write(Array(buffer[0..<n]), to: path)
                }
                if followers[path] != nil { followedOutput.append((path, Array(buffer[0..<n]))) }
                continue
            }
            if n < 0 && Platform.lastErrorWouldBlock() { return true }
            stream?.finish(master: master)
            masters[master] = nil
            if let pid = pidByMaster.removeValue(forKey: master) { masterByPid[pid] = nil }
            return false
        }
        return true
    }

    private mutating func write(_ bytes: [UInt8], to path: String) {
        if !bytes.isEmpty { keepTail(bytes, of: path) }
        var data = held[path] ?? []
        data += bytes
        if FileSystem.makeDirectories(directory, mode: 0o755) {
            let (written, error) = append(data[...], to: path)
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

    /// Appends to a file, rotating it at its cap: returns what was written
    /// and the error that stopped it.
    private mutating func append(_ data: ArraySlice<UInt8>, to path: String) -> (Int, Errno?) {
        guard let cap = caps[path] else { return FileSystem.appendSome(data, to: path) }
        var offset = data.startIndex
        while offset < data.endIndex {
            let size = sizes[path] ?? Int(FileStamp(path: path)?.size ?? 0)
            if size >= cap.bytes {
                if let e = rotate(path, keep: cap.keep) { return (offset - data.startIndex, e) }
                sizes[path] = 0
                continue
            }
            let n = min(cap.bytes - size, data.endIndex - offset)
            let (w, e) = FileSystem.appendSome(data[offset..<offset + n], to: path)
            offset += w
            sizes[path] = size + w
            if let e { return (offset - data.startIndex, e) }
        }
        return (offset - data.startIndex, nil)
    }

    /// `FILE` becomes `FILE.1`, `FILE.1` becomes `FILE.2`, ... up to
    /// `FILE.keep`; with `keep` 0 the file is removed.
    private mutating func rotate(_ path: String, keep: Int) -> Errno? {
        rotations += 1
        guard keep > 0 else {
            FileSystem.remove(path)
            return nil
        }
        var i = keep - 1
        while i >= 1 {
            _ = FileSystem.rename("\(path).\(i)", to: "\(path).\(i + 1)")
            i -= 1
        }
        if let e = FileSystem.rename(path, to: path + ".1"), e != .noSuchFileOrDirectory { return e }
        return nil
    }

    private mutating func keepTail(_ bytes: [UInt8], of path: String) {
        tailClock += 1
        if tails[path] == nil && tails.count >= JobLogs.maxTails {
            let live = Set(masters.values)
            if let oldest = tailOrder.filter({ !live.contains($0.key) }).min(by: { $0.value < $1.value })?.key ?? tailOrder.min(by: { $0.value < $1.value })?.key {
                tails[oldest] = nil
                tailOrder[oldest] = nil
            }
        }
        var t = tails[path] ?? []
        if bytes.count >= JobLogs.tailBytes {
            t = Array(bytes.suffix(JobLogs.tailBytes))
        } else {
            if t.count + bytes.count > JobLogs.tailBytes { t.removeFirst(t.count + bytes.count - JobLogs.tailBytes) }
            t += bytes
        }
        tails[path] = t
        tailOrder[path] = tailClock
    }

    /// The newest output of a log file: what this daemon wrote (or holds)
    /// of it lately, or else the end of the file on disk. At most
    /// `JobLogs.tailBytes`.
    func tail(of file: String) -> [UInt8] {
        let path = directory + "/" + file
        if let t = tails[path] { return t }
        return FileSystem.readTail(path, count: JobLogs.tailBytes) ?? []
    }

    /// The last `count` whole lines of a log file's newest output, without
    /// the pty's carriage returns.
    func lastLines(of file: String, count: Int) -> [String] {
        JobLogs.lines(tail(of: file), last: count)
    }

    static func lines(_ bytes: [UInt8], last count: Int) -> [String] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> String in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        return Array(lines.suffix(count))
    }

    /// Output read for followed files since the last call.
    mutating func takeFollowed() -> [(path: String, bytes: [UInt8])] {
        defer { followedOutput = [] }
        return followedOutput
    }

    /// `initctl log`: the last `count` lines of a log file, from the file
    /// when it can be read, else from what the daemon holds in memory
    /// (output not written yet, as before the disk is writable).
    func recentLines(of file: String, count: Int) -> (lines: [String], fromMemory: Bool) {
        let path = directory + "/" + file
        if let bytes = FileSystem.readTail(path, count: min(max(count, 1) * 512, 1 << 20)) {
            var lines = JobLogs.lines(bytes, last: count + 1)
            // The first line may be cut; drop it unless the file is that short.
            if lines.count > count { lines.removeFirst() }
            return (lines, false)
        }
        let memory = held[path] ?? tails[path] ?? []
        return (JobLogs.lines(memory, last: count), true)
    }

    /// `initctl reopen-logs`: forget counted sizes (logrotate may have
    /// moved or truncated the files) and write what is held.
    mutating func reopen() {
        sizes = [:]
        flushHeld()
    }

    /// The path of a log file, for `initctl log`.
    func path(of file: String) -> String { directory + "/" + file }

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

/// The cap on a job's log files: its `log size` and `log keep`, or the
/// daemon's `--log-size` and `--log-keep`; nil when unlimited.
func logCap(for job: JobClass, options: DaemonOptions) -> JobLogs.LogCap? {
    let bytes: Int?
    switch job.logSize {
    case .bytes(let n)?: bytes = n
    case .unlimited?: bytes = nil
    case nil: bytes = options.logSize
    }
    return bytes.map { JobLogs.LogCap(bytes: $0, keep: job.logKeep ?? options.logKeep) }
}
