/// Wall-clock times as people read them, without Foundation: UTC,
/// `2026-11-30 05:40:12.123` (for post-mortems and `--log-timestamps`).
public enum Timestamp {
    /// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
    public static func utc(milliseconds ms: Int64) -> String {
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = Int(ms - secs * 1000)
        var days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = Int(secs - days * 86_400)
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let frac = String(milli + 1000).dropFirst()
        return "\(y)-\(two(Int(m)))-\(two(Int(d))) \(two(rem / 3600)):\(two(rem / 60 % 60)):\(two(rem % 60)).\(frac)"
    }
}
