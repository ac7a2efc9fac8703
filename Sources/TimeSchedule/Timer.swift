/// A timer as a job file asks for it: the variables of one `timer` event
/// match in `start on` or `stop on`, checked and made ready to compute with.
///
/// Variables (docs/time-bridge.md):
/// - `EVERY=15m`: an interval of `s`, `m`, `h`, `d` parts (`1h30m`);
/// - `SCHEDULE="*/15 9-17 * * mon-fri"`: cron, in local time or `TZ=`;
/// - `AFTER=EVENT [ARGS]` with `DELAY=`: DELAY after each such event;
/// - `COUNT=N`: at most N runs; `PERSISTENT=yes|no`; `TZ=Area/City`.
/// Exactly one of EVERY, SCHEDULE and AFTER. Anything else is an error.
public struct TimerSpec: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case every(milliseconds: Int64)
        case schedule(CronSchedule)
        /// The event's name and its arguments (`started mysql`), and the delay.
        case after(event: String, arguments: [String], delayMilliseconds: Int64)
    }
    public var kind: Kind
    public var count: Int?
    public var persistent = false
    /// The zone's name (`Europe/Berlin`), for SCHEDULE only; nil: local time.
    public var timeZone: String?
    /// The variables as written, `KEY=VALUE`, in the job file's order: the
    /// timer's identity, and what the bridge emits.
    public var variables: [String]

    /// A problem with one variable: which, and what was expected.
    public struct Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static let keys: Set<String> = ["EVERY", "SCHEDULE", "AFTER", "DELAY", "COUNT", "PERSISTENT", "TZ"]

    /// Checks the `KEY=VALUE` pairs of one `timer` match. `isValidZone`
    /// answers whether a `TZ` name exists (the shell looks in zoneinfo);
    /// nil skips that check.
    public init(_ pairs: [(key: String?, value: String)], isValidZone: ((String) -> Bool)? = nil) throws(Invalid) {
        var seen: [String: String] = [:]
        variables = []
        for (key, value) in pairs {
            guard let key else {
                throw Invalid(description: "'timer \(value)': a timer takes named variables only (EVERY=, SCHEDULE=, AFTER=, DELAY=, COUNT=, PERSISTENT=, TZ=)")
            }
            guard TimerSpec.keys.contains(key) else {
                throw Invalid(description: "'\(key)=': not a timer variable; expected EVERY=, SCHEDULE=, AFTER=, DELAY=, COUNT=, PERSISTENT= or TZ=")
            }
            guard seen[key] == nil else { throw Invalid(description: "'\(key)=' given twice") }
            seen[key] = value
            variables.append("\(key)=\(value)")
        }
        let kinds = ["EVERY", "SCHEDULE", "AFTER"].filter { seen[$0] != nil }
        guard kinds.count == 1 else {
            throw Invalid(description: kinds.isEmpty
                ? "a timer needs one of EVERY= (an interval), SCHEDULE= (cron fields) or AFTER= (an event, with DELAY=)"
                : "a timer takes only one of EVERY=, SCHEDULE= and AFTER=; found \(kinds.map { $0 + "=" }.joined(separator: " and "))")
        }
        if let e = seen["EVERY"] {
            guard let ms = TimerSpec.interval(e), ms > 0 else {
                throw Invalid(description: "EVERY='\(e)': expected an interval like 30s, 15m, 2h, 1d or 1h30m")
            }
            kind = .every(milliseconds: ms)
        } else if let s = seen["SCHEDULE"] {
            do {
                kind = .schedule(try CronSchedule(s))
            } catch {
                throw Invalid(description: "SCHEDULE=\"\(s)\": \(error.description)")
            }
        } else {
            let a = seen["AFTER"]!
            let words = a.split(separator: " ").map(String.init)
            guard let first = words.first else { throw Invalid(description: "AFTER='': expected an event name (startup, filesystem, \"started mysql\")") }
            guard let d = seen["DELAY"] else { throw Invalid(description: "AFTER=\(a) needs DELAY= (an interval like 30s or 2m)") }
            guard let ms = TimerSpec.interval(d) else {
                throw Invalid(description: "DELAY='\(d)': expected an interval like 0s, 30s, 2m or 1h30m")
            }
            kind = .after(event: first, arguments: Array(words.dropFirst()), delayMilliseconds: ms)
        }
        if seen["DELAY"] != nil, seen["AFTER"] == nil {
            throw Invalid(description: "DELAY= goes with AFTER= (DELAY after an event); for a repeating timer use EVERY=")
        }
        if let c = seen["COUNT"] {
            guard let n = Int(c), n >= 1, c.first != "+" else { throw Invalid(description: "COUNT='\(c)': expected a whole number of runs, 1 or more") }
            count = n
        }
        if let p = seen["PERSISTENT"] {
            switch p {
            case "yes", "true", "1": persistent = true
            case "no", "false", "0": persistent = false
            default: throw Invalid(description: "PERSISTENT='\(p)': expected yes or no")
            }
            if persistent, case .after = kind {
                throw Invalid(description: "PERSISTENT=yes goes with SCHEDULE= or EVERY=, not AFTER=")
            }
        }
        if let z = seen["TZ"] {
            guard case .schedule = kind else { throw Invalid(description: "TZ= goes with SCHEDULE= only") }
            guard TimerSpec.isZoneName(z) else {
                throw Invalid(description: "TZ='\(z)': expected a zone name like UTC or Europe/Berlin")
            }
            if let isValidZone, !isValidZone(z) {
                throw Invalid(description: "TZ='\(z)': no such time zone (expected a name under /usr/share/zoneinfo, like Europe/Berlin)")
            }
            timeZone = z
        }
    }

    /// A zone name is a relative path of letters, digits and `_+-` parts.
    public static func isZoneName(_ z: String) -> Bool {
        guard !z.isEmpty, z.utf8.count < 256, !z.hasPrefix("/") else { return false }
        for part in z.split(separator: "/", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part != ".", part != ".." else { return false }
            for c in part.unicodeScalars {
                guard (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "_" || c == "-" || c == "+" else { return false }
            }
        }
        return true
    }

    /// `1h30m`, `15m`, `2d`, `45s`: whole numbers of days, hours, minutes and
    /// seconds, largest first, each unit at most once. Milliseconds, or nil.
    public static func interval(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64? = nil
        var lastUnit = 5
        for c in text.utf8 {
            if c >= 48 && c <= 57 {
                let n = (number ?? 0) * 10 + Int64(c - 48)
                guard n < 1_000_000_000 else { return nil }
                number = n
                continue
            }
            let unit: (rank: Int, ms: Int64)
            switch c {
            case UInt8(ascii: "d"): unit = (4, 86_400_000)
            case UInt8(ascii: "h"): unit = (3, 3_600_000)
            case UInt8(ascii: "m"): unit = (2, 60_000)
            case UInt8(ascii: "s"): unit = (1, 1000)
            default: return nil
            }
            guard let n = number, unit.rank < lastUnit else { return nil }
            total += n * unit.ms
            lastUnit = unit.rank
            number = nil
        }
        guard number == nil, lastUnit < 5 else { return nil }
        return total
    }
}
