import Control
import Engine
import JobFile
import Platform

/// What happened to each job instance lately, for `initctl status` after
/// the fact ("there is no way to debug Upstart failures after the fact").
///
/// The daemon watches its own inputs and effects (`observe`): process
/// exits (with the OOM killer's kills), spawns that failed, and the job
/// events. For each instance it keeps:
/// - the last failure: when, which process (and pid), its exit status or
///   signal, `out of memory` when the OOM killer killed it, or why it
///   could not be spawned;
/// - its last `historyLength` (10) transitions, each a wall-clock time
///   and a line.
///
/// Bounded: at most `maxInstances` (512) instances are remembered; past
/// that the one whose latest entry is oldest is forgotten. Each line is
/// at most 200 bytes, so the whole store stays under about 1.2 MB even
/// for instance jobs that come and go by the thousand.
struct PostMortem {
    static let historyLength = 10
    static let maxInstances = 512
    static let maxLine = 200
    /// Lines of output `initctl status` shows under a failure.
    static let outputLines = 5

    struct Entry {
        var wallMilliseconds: Int64
        var text: String
    }

    struct Record {
        var history: [Entry] = []
        var lastFailure: Entry?
        var touched: UInt64 = 0
    }

    private(set) var records: [InstanceKey: Record] = [:]
    /// Pids the OOM killer killed whose exit has not come yet.
    private var outOfMemory: Set<Int32> = []
    private var clock: UInt64 = 0

    /// Notes an input before the engine takes it.
    mutating func observe(_ input: Input, engine: Engine) {
        switch input {
        case .processOutOfMemory(let pid):
            outOfMemory.insert(pid)
        case .processExited(let pid, let status):
            let oom = outOfMemory.remove(pid) != nil
            guard let owner = engine.processOwner(pid) else { return }
            let text = "\(owner.kind.rawValue) process (\(pid)) \(PostMortem.describe(status))\(oom ? " (out of memory)" : "")"
            let normal = engine.jobClass(owner.key.job)?.isNormalExit(status) ?? false
            // A main process that dies once the daemon has sent it its kill
            // signal (a stop, or a restart, whose goal is start again) ended
            // as asked: history, not a failure, as the engine counts it.
            let killedAsAsked = owner.kind == .main && (owner.state == .killed || owner.state == .stopping)
            let failed = status.isFailure && !normal && owner.goal != .stop && !killedAsAsked
            add(owner.key, text, failure: failed)
        case .spawnFailed(let id, let reason):
            guard let owner = engine.spawnOwner(id) else { return }
            add(owner.key, "\(owner.kind.rawValue) process failed to start: \(reason)", failure: true)
        default:
            break
        }
    }

    /// Notes a job event the engine emitted.
    mutating func observe(_ record: EventRecord, engine: Engine) {
        guard ["starting", "started", "stopping", "stopped"].contains(record.name),
              let job = value("JOB", record.environment) else { return }
        let key = InstanceKey(job: job, instance: value("INSTANCE", record.environment) ?? "")
        var text = record.name
        if value("RESULT", record.environment) == "failed" {
            text += " (failed: " + (value("PROCESS", record.environment) ?? "?")
            if let s = value("EXIT_STATUS", record.environment) { text += " status \(s)" }
            if let s = value("EXIT_SIGNAL", record.environment) { text += " signal \(s)" }
            if value("KILLED_BY", record.environment) == "oom" { text += ", out of memory" }
            text += ")"
            if value("PROCESS", record.environment) == "respawn", record.name == "stopped" {
                add(key, "respawning too fast: stopped", failure: true)
                return
            }
        }
        if record.name == "started", let pid = engine.status(key.job, instance: key.instance)?.processes.first(where: { $0.process == .main })?.pid {
            text += ", process \(pid)"
        }
        add(key, text, failure: false)
    }

    private func value(_ name: String, _ env: [String]) -> String? {
        for e in env where e.hasPrefix(name + "=") { return String(e.dropFirst(name.count + 1)) }
        return nil
    }

    private mutating func add(_ key: InstanceKey, _ text: String, failure: Bool) {
        clock += 1
        let entry = Entry(wallMilliseconds: wallClockMilliseconds(), text: PostMortem.clipped(text))
        if records[key] == nil && records.count >= PostMortem.maxInstances,
           let oldest = records.min(by: { $0.value.touched < $1.value.touched })?.key {
            records[oldest] = nil
        }
        var r = records[key] ?? Record()
        r.history.append(entry)
        if r.history.count > PostMortem.historyLength { r.history.removeFirst(r.history.count - PostMortem.historyLength) }
        if failure { r.lastFailure = entry }
        r.touched = clock
        records[key] = r
    }

    /// The records as the re-exec document carries them, least recently
    /// touched first, so that `imported` keeps which is oldest.
    func exported() -> [PostMortemRecord] {
        records.sorted { $0.value.touched < $1.value.touched }.map { key, r in
            PostMortemRecord(job: key.job, instance: key.instance,
                             history: r.history.map { PostMortemLine(at: $0.wallMilliseconds, text: $0.text) },
                             lastFailure: r.lastFailure.map { PostMortemLine(at: $0.wallMilliseconds, text: $0.text) })
        }
    }

    /// Takes back what `exported` gave (after a re-exec), within the same bounds.
    mutating func imported(_ saved: [PostMortemRecord]) {
        for p in saved.suffix(PostMortem.maxInstances) {
            clock += 1
            let line = { (l: PostMortemLine) in Entry(wallMilliseconds: l.at, text: PostMortem.clipped(l.text)) }
            records[InstanceKey(job: p.job, instance: p.instance)] =
                Record(history: p.history.suffix(PostMortem.historyLength).map(line), lastFailure: p.lastFailure.map(line), touched: clock)
        }
    }

    /// At most `maxLine` bytes of `text`, cut before a character the bound
    /// would split.
    static func clipped(_ text: String) -> String {
        guard text.utf8.count > maxLine else { return text }
        var bytes = 0
        var end = text.unicodeScalars.startIndex
        for (i, scalar) in zip(text.unicodeScalars.indices, text.unicodeScalars) {
            bytes += UTF8.width(scalar)
            if bytes > maxLine { end = i; break }
        }
        return String(text.unicodeScalars[..<end])
    }

    static func describe(_ status: ProcessExit) -> String {
        switch status {
        case .exited(0): return "exited normally"
        case .exited(let s): return "terminated with status \(s)"
        case .killed(let sig): return "killed by \(sig.name) signal"
        }
    }
}

extension Daemon {
    /// `initctl status`: the instance's last failure with the last lines of
    /// its output, and its history (initctl prints that with `--history`).
    func addPostMortem(to status: inout Control.InstanceStatus) {
        guard let r = postMortem.records[InstanceKey(job: status.job, instance: status.instance)] else { return }
        status.history = r.history.map { HistoryEntry(at: $0.wallMilliseconds, what: $0.text) }
        if let f = r.lastFailure {
            status.lastFailure = HistoryEntry(at: f.wallMilliseconds, what: f.text)
            status.output = logs?.lastLines(of: logFileName(job: status.job, instance: status.instance), count: PostMortem.outputLines) ?? []
        }
    }
}
