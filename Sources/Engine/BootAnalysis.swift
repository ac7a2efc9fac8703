import JobFile
import JSON

/// What `initctl analyze` computes from a boot record (`Timeline`): pure
/// functions, so the tests check them on records built by the engine.
/// Every time here is in nanoseconds since the daemon's start.
extension Timeline {
    /// `analyze time`: how long the boot took, and which job came last.
    public struct BootTime: Hashable, Sendable {
        /// The kernel's part, when the daemon is PID 1 of a machine.
        public var kernel: Int64?
        /// When the boot event finished (nil: not yet).
        public var bootEventSettled: Int64?
        /// When the boot ended (nil: not yet).
        public var end: Int64?
        /// The job that arrived last before the end, and when.
        public var last: InstanceKey?
        public var lastAt: Int64?
        /// Jobs the boot started (their goal turned start before it ended).
        public var jobs: Int
        /// Jobs still on their way up, when the boot has not ended.
        public var pending: [InstanceKey]
        /// The record began at a re-exec: there is no boot in it.
        public var reexecuted = false
    }

    /// Nanoseconds since the daemon's start.
    func since(_ t: EngineTime?) -> Int64? { t.map { $0.nanoseconds - daemonStart.nanoseconds } }

    public var bootTime: BootTime {
        let started = sortedEntries.filter { e in
            guard let s = e.startedAt ?? e.time(.starting) else { return false }
            return bootEnd.map { s <= $0 } ?? true
        }
        let pending = bootEnd != nil ? [] : started.filter { e in
            e.arrived == nil && e.time(.waiting) == nil && e.time(.stopping) == nil
        }.map(\.key)
        return BootTime(kernel: kernelNanoseconds, bootEventSettled: since(bootEventFinished), end: since(bootEnd),
                        last: lastArrival, lastAt: since(lastArrivalTime), jobs: started.count,
                        pending: reexecuted ? [] : pending, reexecuted: reexecuted)
    }

    /// One line of `analyze blame`.
    public struct Blame: Hashable, Sendable {
        public var key: InstanceKey
        public var task: Bool
        /// `starting` to `running` (a task: to its end).
        public var total: Int64
        /// Time in the pre-start process (from its spawn), the main process
        /// (from entering `spawned` until it was ready; a task: until it
        /// ended), the post-start process (from its spawn); nil when the job
        /// has none. What the three leave of the total is time in `starting`
        /// and waiting for the shell to spawn a process.
        public var preStart: Int64?
        public var main: Int64?
        public var postStart: Int64?
    }

    /// `analyze blame`: the instances that arrived, longest first (ties
    /// by name).
    public var blame: [Blame] {
        var rows: [Blame] = []
        for e in sortedEntries {
            guard let start = e.time(.starting), let end = e.arrived else { continue }
            func span(_ a: EngineTime?, _ b: EngineTime?) -> Int64? {
                guard let x = a, let y = b, y >= x else { return nil }
                return y.nanoseconds - x.nanoseconds
            }
            let mainEnd = e.task ? end : (e.time(.postStart) ?? e.time(.running))
            rows.append(Blame(key: e.key, task: e.task, total: end.nanoseconds - start.nanoseconds,
                              preStart: e.hasPreStart ? span(e.preStartSpawned ?? e.time(.preStart), e.time(.spawned)) : nil,
                              main: span(e.time(.spawned), mainEnd),
                              postStart: e.hasPostStart ? span(e.postStartSpawned ?? e.time(.postStart), e.time(.running)) : nil))
        }
        return rows.sorted { ($0.total, $1.key) > ($1.total, $0.key) }
    }

    /// One link of a critical chain.
    public enum Link: Hashable, Sendable {
        /// A job: `at` is when it reached the state the link above waited
        /// for (the first link: when it arrived), `took` how long that was
        /// after it began `starting`; `via` is what linked it to the link
        /// above (`started a`, `while a`), nil for the first.
        case job(InstanceKey, at: Int64, took: Int64, via: String?)
        /// An event no job emitted (`startup`, `initctl emit`), at the
        /// time the job above was started by it.
        case event(String, at: Int64)
        /// A control request (`initctl start`).
        case request(at: Int64)
    }

    /// `analyze critical-chain [JOB]`: what held `key` back, from it to
    /// the first cause. At each link the cause that came last is
    /// followed: of the events that fired a `start on`, the latest; of
    /// the jobs a `while` condition names, the one that reached `running`
    /// last before the start. Nil when `key` was not recorded.
    public func criticalChain(_ key: InstanceKey) -> [Link]? {
        guard entries[key] != nil else { return nil }
        var links: [Link] = []
        var seen = Set<InstanceKey>()
        var current = key
        var at: EngineTime? = nil
        var via: String? = nil
        while let e = entries[current], seen.insert(current).inserted, links.count < 64 {
            let reached = at ?? e.arrived ?? e.entered.compactMap { $0 }.max() ?? daemonStart
            let began = e.time(.starting) ?? reached
            links.append(.job(current, at: since(reached)!, took: max(0, reached.nanoseconds - began.nanoseconds), via: via))
            let startedAt = e.startedAt ?? began
            switch e.cause {
            case .events(let list)?:
                // The event that came last held the job back.
                var best: (CauseEvent, EngineTime?)? = nil
                for c in list {
                    let t = c.job.flatMap { j in c.emittingState.flatMap { entries[j]?.time($0) } }
                    if best == nil || (t ?? startedAt) >= (best!.1 ?? startedAt) { best = (c, t) }
                }
                guard let pick = best else { return links }
                let c = pick.0
                if let j = c.job, let t = pick.1, entries[j] != nil {
                    current = j
                    at = t
                    via = "\(c.name) \(j)"
                } else {
                    links.append(.event(c.name, at: since(startedAt)!))
                    return links
                }
            case .condition(let text, let jobs)?:
                // The job named that reached `running` last before the start.
                var best: (InstanceKey, EngineTime)? = nil
                for k in entries.keys.sorted() where jobs.contains(k.job) {
                    guard let up = entries[k]!.time(.running), up <= startedAt else { continue }
                    if best == nil || up > best!.1 { best = (k, up) }
                }
                guard let pick = best else { return links }
                current = pick.0
                at = pick.1
                via = "while \(text)"
            case .request?:
                links.append(.request(at: since(startedAt)!))
                return links
            case nil:
                return links
            }
        }
        return links
    }
}

/// The boots remembered across boots (`daybreak --boot-history FILE`):
/// one line each, oldest first, at most `limit`.
///
/// ```
/// daybreak boot history 1
/// 1764470000000 - 921000000 4000000 7 c
/// ```
///
/// `WALL KERNEL BOOT SETTLED JOBS LAST`: when the boot ended (wall clock,
/// ms since the epoch), the kernel's part (`-` outside PID 1 of a
/// machine), the boot's and the boot event's times (ns since the daemon's
/// start), how many jobs it started and the last one (`-` for none).
public struct BootHistory: Hashable, Sendable {
    public static let limit = 50
    static let header = "daybreak boot history 1"

    public struct Boot: Hashable, Sendable {
        public var wallMilliseconds: Int64
        public var kernel: Int64?
        public var end: Int64
        public var settled: Int64?
        public var jobs: Int
        public var last: String?

        public init(wallMilliseconds: Int64, kernel: Int64?, end: Int64, settled: Int64?, jobs: Int, last: String?) {
            self.wallMilliseconds = wallMilliseconds
            self.kernel = kernel
            self.end = end
            self.settled = settled
            self.jobs = jobs
            self.last = last
        }

        /// This boot, from a record whose boot has ended.
        public init?(_ timeline: Timeline, wallMilliseconds: Int64) {
            let t = timeline.bootTime
            guard let end = t.end else { return nil }
            self.init(wallMilliseconds: wallMilliseconds, kernel: t.kernel, end: end, settled: t.bootEventSettled,
                      jobs: t.jobs, last: t.last.map(\.description))
        }

        var line: String {
            // One field: a space (as in `job (instance)`) becomes `_`.
            let lastText = last.map { l in l.isEmpty ? "-" : String(l.map { $0 == " " || $0 == "\n" ? "_" : $0 }) } ?? "-"
            return "\(wallMilliseconds) \(kernel.map(String.init) ?? "-") \(end) \(settled.map(String.init) ?? "-") \(jobs) \(lastText)"
        }
    }

    public var boots: [Boot] = []

    public init(boots: [Boot] = []) {
        self.boots = boots
    }

    /// A line that is not a boot: which line, and why.
    public struct Damaged: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var description: String
    }

    /// Adds a boot, forgetting the oldest past `limit`.
    public mutating func append(_ boot: Boot) {
        boots.append(boot)
        if boots.count > BootHistory.limit { boots.removeFirst(boots.count - BootHistory.limit) }
    }

    public func encoded() -> String {
        var out = BootHistory.header + "\n"
        for b in boots { out += b.line + "\n" }
        return out
    }

    /// Reads the file's text; any line that is not a boot is damage.
    public static func decode(_ text: String) throws(Damaged) -> BootHistory {
        var history = BootHistory()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, raw) in lines.enumerated() {
            let n = i + 1
            if i == lines.count - 1 && raw.isEmpty { break }
            if i == 0 {
                guard raw == header else { throw Damaged(line: n, description: "expected '\(header)'") }
                continue
            }
            let f = raw.split(separator: " ", omittingEmptySubsequences: false)
            guard f.count == 6 else { throw Damaged(line: n, description: "expected 6 fields (WALL KERNEL BOOT SETTLED JOBS LAST), found \(f.count)") }
            func number(_ s: Substring, _ what: String) throws(Damaged) -> Int64? {
                if s == "-" { return nil }
                guard let v = Int64(s), v >= 0 else { throw Damaged(line: n, description: "\(what) is not a number: '\(s)'") }
                return v
            }
            guard let wall = try number(f[0], "WALL"), let end = try number(f[2], "BOOT"), let jobs = try number(f[4], "JOBS") else {
                throw Damaged(line: n, description: "WALL, BOOT and JOBS may not be '-'")
            }
            history.append(Boot(wallMilliseconds: wall, kernel: try number(f[1], "KERNEL"), end: end,
                                settled: try number(f[3], "SETTLED"), jobs: Int(jobs), last: f[5] == "-" ? nil : String(f[5])))
        }
        return history
    }
}

extension BootHistory.Boot {
    /// The boot as the `analyze` reply carries it.
    public var json: JSONValue {
        var f: [(String, JSONValue)] = [("wall_ms", .number(Int(wallMilliseconds)))]
        if let k = kernel { f.append(("kernel", .number(Int(k)))) }
        f.append(("boot_end", .number(Int(end))))
        if let s = settled { f.append(("boot_event_finished", .number(Int(s)))) }
        f.append(("jobs", .number(jobs)))
        if let l = last { f.append(("last", .string(l))) }
        return .object(f)
    }

    public init?(json: JSONValue) {
        guard let wall = json["wall_ms"]?.int, let end = json["boot_end"]?.int, let jobs = json["jobs"]?.int else { return nil }
        self.init(wallMilliseconds: Int64(wall), kernel: json["kernel"]?.int.map(Int64.init), end: Int64(end),
                  settled: json["boot_event_finished"]?.int.map(Int64.init), jobs: jobs, last: json["last"]?.string)
    }
}
