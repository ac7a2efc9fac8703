/// Civil (proleptic Gregorian) calendar arithmetic on whole days and
/// seconds since the Unix epoch. Pure; no time zone. The day algorithms are
/// Howard Hinnant's `days_from_civil` / `civil_from_days`.
public struct CivilDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int  // 1...12
    public var day: Int    // 1...31

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(daysSinceEpoch z0: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), month: Int(m), day: Int(d))
    }

    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int {
        let d = daysSinceEpoch
        return Int(((d % 7) + 7 + 4) % 7)  // 1970-01-01 was a Thursday
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))"
    }
}

/// A wall-clock reading: a date and the seconds into it (0..<86400).
public struct CivilTime: Hashable, Sendable, CustomStringConvertible {
    public var date: CivilDate
    public var secondOfDay: Int

    public init(_ date: CivilDate, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.date = date
        self.secondOfDay = hour * 3600 + minute * 60 + second
    }

    /// The reading of `seconds` since the epoch with no offset applied.
    public init(epochSeconds s: Int64) {
        let days = s >= 0 ? s / 86400 : (s - 86399) / 86400
        date = CivilDate(daysSinceEpoch: days)
        secondOfDay = Int(s - days * 86400)
    }

    /// Seconds since the epoch if this reading were UTC.
    public var epochSeconds: Int64 { date.daysSinceEpoch * 86400 + Int64(secondOfDay) }

    public var hour: Int { secondOfDay / 3600 }
    public var minute: Int { secondOfDay / 60 % 60 }
    public var second: Int { secondOfDay % 60 }

    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(date) \(two(hour)):\(two(minute)):\(two(second))"
    }
}
