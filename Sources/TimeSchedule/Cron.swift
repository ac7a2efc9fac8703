/// A five-field cron schedule: minute, hour, day of month, month, day of
/// week, as crontab(5) has them (Vixie cron / cronie):
///
/// - each field is a comma-separated list of `*`, `N`, `N-M`, each
///   optionally `/STEP`; `N/STEP` means `N-MAX/STEP`;
/// - months may be named `jan`...`dec`, days `sun`...`sat` (any case),
///   also in ranges (`mon-fri`); day of week 0 and 7 are both Sunday;
/// - when both day fields are restricted (neither begins with `*`), a day
///   matches if either matches, as in cron;
/// - `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly`
///   (`@annually`) stand for `0 * * * *`, `0 0 * * *`, `0 0 * * 0`,
///   `0 0 1 * *` and `0 0 1 1 *`.
public struct CronSchedule: Hashable, Sendable {
    public var minutes: UInt64 = 0  // bit n: minute n
    public var hours: UInt64 = 0
    public var daysOfMonth: UInt64 = 0  // bits 1...31
    public var months: UInt64 = 0  // bits 1...12
    public var daysOfWeek: UInt64 = 0  // bits 0...6
    public var domStar = false
    public var dowStar = false
    /// The hour field is `*` (or begins with it): cron runs such frequent
    /// jobs by the wall clock as it reads (see `nextRun`).
    public var hourStar = false
    /// The text as written.
    public var text: String

    public struct Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ text: String) throws(Invalid) {
        self.text = text
        var t = text
        while t.first == " " || t.first == "\t" { t.removeFirst() }
        while t.last == " " || t.last == "\t" { t.removeLast() }
        if t.hasPrefix("@") {
            switch t.lowercased() {
            case "@hourly": t = "0 * * * *"
            case "@daily", "@midnight": t = "0 0 * * *"
            case "@weekly": t = "0 0 * * 0"
            case "@monthly": t = "0 0 1 * *"
            case "@yearly", "@annually": t = "0 0 1 1 *"
            case "@reboot":
                throw Invalid(description: "'@reboot' is not a schedule here: use AFTER=startup (with DELAY=) instead")
            default:
                throw Invalid(description: "unknown '\(t)': expected @hourly, @daily, @weekly, @monthly or @yearly")
            }
        }
        let fields = t.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            throw Invalid(description: "expected five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly; found \(fields.count)")
        }
        minutes = try CronSchedule.field(fields[0], "minute", 0, 59, names: [])
        hours = try CronSchedule.field(fields[1], "hour", 0, 23, names: [])
        daysOfMonth = try CronSchedule.field(fields[2], "day of month", 1, 31, names: [])
        months = try CronSchedule.field(fields[3], "month", 1, 12, names: CronSchedule.monthNames)
        var dow = try CronSchedule.field(fields[4], "day of week", 0, 7, names: CronSchedule.dayNames)
        if dow & (1 << 7) != 0 { dow = (dow | 1) & ~(1 << 7) }
        daysOfWeek = dow
        hourStar = fields[1].hasPrefix("*")
        domStar = fields[2].hasPrefix("*")
        dowStar = fields[4].hasPrefix("*")
        // A day that can never come (30 February) is a mistake worth naming.
        if dowStar && !domStar {
            var possible = false
            for m in 1...12 where months & (1 << UInt64(m)) != 0 {
                let len = CivilDate.daysIn(month: m, year: 2000)
                if daysOfMonth & ((UInt64(1) << UInt64(len + 1)) - 2) != 0 { possible = true }
            }
            if !possible { throw Invalid(description: "'\(text)' names a day that never comes (day \(fields[2]) in month \(fields[3]))") }
        }
    }

    static func field(_ text: Substring, _ what: String, _ lo: Int, _ hi: Int, names: [String]) throws(Invalid) -> UInt64 {
        func value(_ s: Substring) throws(Invalid) -> Int {
            if let n = Int(s), n >= lo, n <= hi { return n }
            if let i = names.firstIndex(of: s.lowercased()) { return i + (names.count == 12 ? 1 : 0) }
            let nameHint = names.isEmpty ? "" : names.count == 12 ? " or jan...dec" : " or sun...sat"
            throw Invalid(description: "\(what) '\(s)': expected a number from \(lo) to \(hi)\(nameHint)")
        }
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw Invalid(description: "\(what) '\(text)': empty item in a list") }
            var range = item
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                range = item[..<slash]
                guard let s = Int(item[item.index(after: slash)...]), s >= 1, s <= hi - lo + 1 else {
                    throw Invalid(description: "\(what) '\(item)': expected a step from 1 to \(hi - lo + 1) after '/'")
                }
                step = s
            }
            var a: Int, b: Int
            if range == "*" {
                (a, b) = (lo, hi)
            } else if let dash = range.firstIndex(of: "-") {
                a = try value(range[..<dash])
                b = try value(range[range.index(after: dash)...])
                guard a <= b else { throw Invalid(description: "\(what) '\(item)': a range must run from low to high") }
            } else {
                a = try value(range)
                b = step > 1 || item.contains("/") ? hi : a
            }
            var v = a
            while v <= b { bits |= 1 << UInt64(v); v += step }
        }
        return bits
    }

    func has(_ set: UInt64, _ n: Int) -> Bool { set & (1 << UInt64(n)) != 0 }

    /// Whether the day, by its two fields and month, is one to run on.
    public func matches(day d: CivilDate) -> Bool {
        guard has(months, d.month) else { return false }
        let dom = has(daysOfMonth, d.day), dow = has(daysOfWeek, d.weekday)
        if domStar || dowStar { return dom && dow }
        return dom || dow
    }

    /// The first instant after `t` (strictly) at which this schedule runs in
    /// `zone`, or nil if it never does within 28 years.
    ///
    /// Daylight-saving changes follow cron (Vixie cron, cronie):
    /// - a reading skipped when the clock springs forward runs once, at the
    ///   instant of the change (so `30 2 * * *` runs at 03:00 that day, and
    ///   `*/15 2 * * *` runs once then, not four times);
    /// - a reading that occurs twice when the clock falls back runs once, the
    ///   first time;
    /// - except for jobs whose hour field is `*` (they run at least hourly):
    ///   those run by the clock as it reads, so in a repeated hour they run
    ///   in both passes, and readings that never occur are simply skipped.
    public func nextRun(after t: Int64, in zone: Zone) -> Int64? {
        // Readings are walked in order; only those that could name an
        // instant after t are resolved, and the walk stops once no later
        // reading could name an instant before the best found.
        let offs = [zone.offset(at: t - 86400), zone.offset(at: t), zone.offset(at: t + 2 * 86400)].map(Int64.init)
        let lowest = t + offs.min()! - 3600
        let slack = offs.max()! + 3600
        let startDay = zone.local(t).date.daysSinceEpoch - 1
        var best: Int64? = nil
        var day = startDay
        while day < startDay + 28 * 366 {
            let date = CivilDate(daysSinceEpoch: day)
            if let b = best, day * 86400 - slack > b { break }
            if matches(day: date) {
                for h in 0..<24 where has(hours, h) {
                    for m in 0..<60 where has(minutes, m) {
                        let reading = CivilTime(date, hour: h, minute: m)
                        let l = reading.epochSeconds
                        if l < lowest { continue }
                        if let b = best, l - slack > b { return best }
                        let instants: [Int64]
                        switch zone.resolve(reading) {
                        case .unique(let u): instants = [u]
                        case .repeated(let a, let b): instants = hourStar ? [a, b] : [a]
                        case .skipped(let after): instants = hourStar ? [] : [after]
                        }
                        for i in instants where i > t {
                            if best == nil || i < best! { best = i }
                        }
                    }
                }
            }
            day += 1
        }
        return best
    }
}
