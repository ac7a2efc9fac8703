/// What the time bridge keeps across restarts: a record per timer (for
/// COUNT, PERSISTENT and AFTER events waiting out their delay), and when
/// the daemon it serves started (for `AFTER=startup`).
///
/// The file is text, one item a line, so a person can read it:
///
/// ```
/// daybreak-time-bridge state 1
/// startup 4242:1234567 1764470000000
/// timer backup 1764470000000 3 1764473600000 1764473600000 - 1764477200000 EVERY=1h COUNT=5
/// ```
///
/// `timer JOB ANCHOR RUNS LASTRUN LASTDUE PENDING NEXT VARIABLE...`, with
/// `-` for none and PENDING comma-separated; NEXT is when the bridge will
/// run it next, for `initctl list-timers` (the bridge recomputes it); names and variables are
/// percent-encoded where they hold spaces, `%` or control characters.
/// Anything else is damage: `decode` says which line, and the bridge
/// reports it and starts afresh.
public struct BridgeState: Hashable, Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var job: String
        public var variables: [String]
        public init(job: String, variables: [String]) {
            self.job = job
            self.variables = variables
        }
        public static func < (a: Key, b: Key) -> Bool {
            (a.job, a.variables.joined(separator: " ")) < (b.job, b.variables.joined(separator: " "))
        }
    }
    public struct Startup: Hashable, Sendable {
        /// Which daemon run (its pid and start time): a new one is a new startup.
        public var daemon: String
        public var at: Int64
        public init(daemon: String, at: Int64) {
            self.daemon = daemon
            self.at = at
        }
    }

    public var timers: [Key: TimerRecord] = [:]
    public var startup: Startup?
    /// When each timer runs next, as the bridge last computed it.
    public var next: [Key: Int64] = [:]

    public init(timers: [Key: TimerRecord] = [:], startup: Startup? = nil) {
        self.timers = timers
        self.startup = startup
    }

    public struct Damaged: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var description: String
    }

    static let header = "daybreak-time-bridge state 1"

    public func encoded() -> String {
        var out = BridgeState.header + "\n"
        if let s = startup { out += "startup \(BridgeState.escape(s.daemon)) \(s.at)\n" }
        for key in timers.keys.sorted() {
            let r = timers[key]!
            let pending = r.pending.isEmpty ? "-" : r.pending.map(String.init).joined(separator: ",")
            var line = "timer \(BridgeState.escape(key.job)) \(r.anchor) \(r.runs) \(r.lastRun.map(String.init) ?? "-") \(r.lastDue.map(String.init) ?? "-") \(pending) \(next[key].map(String.init) ?? "-")"
            for v in key.variables { line += " " + BridgeState.escape(v) }
            out += line + "\n"
        }
        return out
    }

    public static func decode(_ text: String) throws(Damaged) -> BridgeState {
        var state = BridgeState()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init) == header else {
            throw Damaged(line: 1, description: "line 1: expected '\(header)'")
        }
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let n = i + 1
            let f = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            func bad(_ what: String) -> Damaged { Damaged(line: n, description: "line \(n): \(what)") }
            func int(_ s: String) throws(Damaged) -> Int64 {
                guard let v = Int64(s) else { throw bad("expected a number, found '\(s)'") }
                return v
            }
            func opt(_ s: String) throws(Damaged) -> Int64? { s == "-" ? nil : try int(s) }
            switch f[0] {
            case "startup":
                guard f.count == 3, let d = unescape(f[1]) else { throw bad("expected 'startup DAEMON TIME'") }
                state.startup = Startup(daemon: d, at: try int(f[2]))
            case "timer":
                guard f.count >= 9, let job = unescape(f[1]) else { throw bad("expected 'timer JOB ANCHOR RUNS LASTRUN LASTDUE PENDING NEXT VARIABLE...'") }
                var vars: [String] = []
                for v in f[8...] {
                    guard let u = unescape(v) else { throw bad("bad escape in '\(v)'") }
                    vars.append(u)
                }
                var pending: [Int64] = []
                if f[6] != "-" {
                    for p in f[6].split(separator: ",", omittingEmptySubsequences: false) { pending.append(try int(String(p))) }
                }
                let runs = try int(f[3])
                guard runs >= 0 && runs < Int64(Int32.max) else { throw bad("expected a run count, found '\(f[3])'") }
                if let n = try opt(f[7]) { state.next[Key(job: job, variables: vars)] = n }
                state.timers[Key(job: job, variables: vars)] = TimerRecord(
                    anchor: try int(f[2]), runs: Int(runs), lastRun: try opt(f[4]), lastDue: try opt(f[5]), pending: pending)
            default:
                throw bad("expected 'startup' or 'timer', found '\(f[0])'")
            }
        }
        return state
    }

    /// Where the bridge keeps its state: `/var/lib/daybreak/` for the
    /// system daemon; for a session, `$XDG_STATE_HOME/daybreak/` (an
    /// absolute XDG_STATE_HOME only, as the XDG spec says), else
    /// `HOME/.local/state/daybreak/`.
    public static func defaultPath(user: Bool, environment: [String: String], home: String?) -> String {
        guard user else { return "/var/lib/daybreak/time-bridge.state" }
        let h = environment["HOME"] ?? home ?? "/"
        let base = environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? (h + "/.local/state")
        return base + "/daybreak/time-bridge.state"
    }

    static func escape(_ s: String) -> String {
        if s.isEmpty { return "%" }
        var out: [UInt8] = []
        let hex = Array("0123456789ABCDEF".utf8)
        for b in s.utf8 {
            if b <= 0x20 || b == 0x25 || b == 0x7F {
                out += [0x25, hex[Int(b >> 4)], hex[Int(b & 15)]]
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unescape(_ s: String) -> String? {
        if s == "%" { return "" }
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        func digit(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            default: return nil
            }
        }
        while let b = it.popFirst() {
            if b == 0x25 {
                guard let h = it.popFirst().flatMap(digit), let l = it.popFirst().flatMap(digit) else { return nil }
                out.append(h << 4 | l)
            } else {
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
