/// A time zone's rules: the UTC offset in force at any instant, and the
/// reverse, what instant (if any, or which two) a wall-clock reading names.
///
/// Built from a TZif file's bytes (RFC 8536, versions 1 to 4; the shell reads
/// `/usr/share/zoneinfo/NAME`, this type never touches a file) or from a POSIX
/// `TZ` rule string such as `CET-1CEST,M3.5.0,M10.5.0/3`. Instants past a
/// TZif file's last transition follow its footer rule, as the C library does.
public struct Zone: Hashable, Sendable {
    /// Transition instants (seconds since the epoch, ascending) and the
    /// offset (seconds east of UTC) in force from each.
    var transitions: [Int64] = []
    var offsets: [Int32] = []
    /// Offset before the first transition.
    var initialOffset: Int32 = 0
    /// The rule after the last transition (or for all time, with none).
    var rule: PosixRule?
    public private(set) var name: String

    public static let utc = Zone(name: "UTC")

    init(name: String) { self.name = name }

    /// Why bytes or a rule could not be read.
    public struct Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Reads a POSIX `TZ` rule (`EST5EDT,M3.2.0,M11.1.0`, `UTC0`, `<+03>-3`).
    public init(posix text: String) throws(Invalid) {
        self.name = text
        self.rule = try PosixRule(text)
    }

    /// Reads TZif bytes. Uses the 64-bit data of a version 2+ file, and its
    /// footer rule for instants past the last transition.
    public init(tzif bytes: [UInt8], name: String) throws(Invalid) {
        self.name = name
        var r = Reader(bytes: bytes)
        func header() throws(Invalid) -> (version: UInt8, isutc: Int, isstd: Int, leap: Int, time: Int, type: Int, char: Int) {
            guard r.remaining >= 44, r.bytes[r.at] == 0x54, r.bytes[r.at + 1] == 0x5A, r.bytes[r.at + 2] == 0x69, r.bytes[r.at + 3] == 0x66 else {
                throw Invalid(description: "\(name): not a TZif file")
            }
            let version = r.bytes[r.at + 4]
            r.at += 20
            let counts = (0..<6).map { _ in Int(r.u32()) }
            return (version, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5])
        }
        let h1 = try header()
        let v1Size = h1.time * 5 + h1.type * 6 + h1.char + h1.leap * 8 + h1.isstd + h1.isutc
        var h = h1
        var wide = false
        if h1.version >= 0x32 {
            guard r.remaining >= v1Size else { throw Invalid(description: "\(name): truncated TZif file") }
            r.at += v1Size
            h = try header()
            wide = true
        }
        let timeSize = wide ? 8 : 4
        let need = h.time * timeSize + h.time + h.type * 6 + h.char + h.leap * (timeSize + 4) + h.isstd + h.isutc
        guard h.type >= 1, r.remaining >= need else { throw Invalid(description: "\(name): truncated TZif file") }
        var times: [Int64] = []
        times.reserveCapacity(h.time)
        for _ in 0..<h.time { times.append(wide ? Int64(bitPattern: r.u64()) : Int64(Int32(bitPattern: r.u32()))) }
        var idx: [Int] = []
        for _ in 0..<h.time { idx.append(Int(r.bytes[r.at])); r.at += 1 }
        var types: [Int32] = []
        for _ in 0..<h.type {
            types.append(Int32(bitPattern: r.u32()))
            r.at += 2
        }
        r.at += h.char + h.leap * (timeSize + 4) + h.isstd + h.isutc
        for i in idx where i >= types.count { throw Invalid(description: "\(name): TZif transition names type \(i) of \(types.count)") }
        transitions = times
        offsets = idx.map { types[$0] }
        initialOffset = types[0]
        if wide, r.remaining > 2, r.bytes[r.at] == 0x0A {
            let start = r.at + 1
            var end = start
            while end < r.bytes.count && r.bytes[end] != 0x0A { end += 1 }
            let footer = String(decoding: r.bytes[start..<end], as: UTF8.self)
            if !footer.isEmpty { rule = try? PosixRule(footer) }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var at = 0
        var remaining: Int { bytes.count - at }
        mutating func u32() -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 { v = v << 8 | UInt32(bytes[at]); at += 1 }
            return v
        }
        mutating func u64() -> UInt64 {
            var v: UInt64 = 0
            for _ in 0..<8 { v = v << 8 | UInt64(bytes[at]); at += 1 }
            return v
        }
    }

    /// Seconds east of UTC in force at `t` (seconds since the epoch).
    public func offset(at t: Int64) -> Int32 {
        if let last = transitions.last, t >= last, let rule { return rule.offset(at: t) }
        if transitions.isEmpty { return rule?.offset(at: t) ?? initialOffset }
        if t < transitions[0] { return initialOffset }
        var lo = 0, hi = transitions.count - 1  // transitions[lo] <= t
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if transitions[mid] <= t { lo = mid } else { hi = mid - 1 }
        }
        return offsets[lo]
    }

    /// The wall-clock reading at `t`.
    public func local(_ t: Int64) -> CivilTime { CivilTime(epochSeconds: t + Int64(offset(at: t))) }

    /// What a wall-clock reading names.
    public enum Resolution: Hashable, Sendable {
        /// One instant.
        case unique(Int64)
        /// Twice (the clock was set back over it): earlier, later.
        case repeated(Int64, Int64)
        /// Never (the clock was set forward over it); the instant the jump
        /// happened, the first one after the skipped readings.
        case skipped(after: Int64)
    }

    public func resolve(_ reading: CivilTime) -> Resolution {
        let l = reading.epochSeconds
        let o1 = Int64(offset(at: l - 86400)), o2 = Int64(offset(at: l + 86400))
        var hits: [Int64] = []
        for o in [o1, o2, Int64(offset(at: l - o1)), Int64(offset(at: l - o2))] {
            let t = l - o
            if Int64(offset(at: t)) == o && !hits.contains(t) { hits.append(t) }
        }
        hits.sort()
        if hits.count == 1 { return .unique(hits[0]) }
        if hits.count >= 2 { return .repeated(hits[0], hits[hits.count - 1]) }
        // A gap: find the first instant whose reading is past `reading`.
        let lo0 = l - max(o1, o2), hi0 = l - min(o1, o2)
        var lo = lo0, hi = hi0  // the change lies in (lo, hi]
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if mid + Int64(offset(at: mid)) > l { hi = mid } else { lo = mid }
        }
        return .skipped(after: hi)
    }
}

/// A POSIX `TZ` rule: standard name and offset, optionally a daylight name,
/// offset and the two rules for entering and leaving it (`Mm.w.d[/time]`,
/// `Jn[/time]`, `n[/time]`).
struct PosixRule: Hashable, Sendable {
    enum DateRule: Hashable, Sendable {
        case monthWeekDay(month: Int, week: Int, weekday: Int)
        case julianNoLeap(Int)  // Jn, 1...365, Feb 29 never counted
        case julianZero(Int)  // n, 0...365
    }
    var std: Int32  // seconds east of UTC
    var dst: Int32?
    var start: DateRule = .monthWeekDay(month: 3, week: 2, weekday: 0)
    var startTime: Int32 = 7200
    var end: DateRule = .monthWeekDay(month: 11, week: 1, weekday: 0)
    var endTime: Int32 = 7200

    init(_ text: String) throws(Zone.Invalid) {
        var s = Array(text.utf8)[...]
        func bad(_ why: String) -> Zone.Invalid { Zone.Invalid(description: "'\(text)': \(why)") }
        func name() throws(Zone.Invalid) {
            if s.first == UInt8(ascii: "<") {
                guard let close = s.firstIndex(of: UInt8(ascii: ">")) else { throw bad("unclosed '<' in a zone name") }
                s = s[(close + 1)...]
            } else {
                var n = 0
                while let c = s.first, (c >= 65 && c <= 90) || (c >= 97 && c <= 122) { s.removeFirst(); n += 1 }
                guard n >= 3 else { throw bad("expected a zone name of three or more letters") }
            }
        }
        func number() -> Int? {
            var v = 0, n = 0
            while let c = s.first, c >= 48 && c <= 57 { v = v * 10 + Int(c - 48); s.removeFirst(); n += 1 }
            return n == 0 ? nil : v
        }
        func time() throws(Zone.Invalid) -> Int32 {
            var sign: Int32 = 1
            if s.first == UInt8(ascii: "+") { s.removeFirst() } else if s.first == UInt8(ascii: "-") { sign = -1; s.removeFirst() }
            guard let h = number(), h <= 167 else { throw bad("expected hours") }
            var v = Int32(h) * 3600
            if s.first == UInt8(ascii: ":") {
                s.removeFirst()
                guard let m = number(), m < 60 else { throw bad("expected minutes") }
                v += Int32(m) * 60
                if s.first == UInt8(ascii: ":") {
                    s.removeFirst()
                    guard let sec = number(), sec < 60 else { throw bad("expected seconds") }
                    v += Int32(sec)
                }
            }
            return sign * v
        }
        func date() throws(Zone.Invalid) -> (DateRule, Int32) {
            let r: DateRule
            if s.first == UInt8(ascii: "M") {
                s.removeFirst()
                guard let m = number(), (1...12).contains(m), s.popFirst() == UInt8(ascii: "."),
                      let w = number(), (1...5).contains(w), s.popFirst() == UInt8(ascii: "."),
                      let d = number(), d <= 6 else { throw bad("expected Mm.w.d") }
                r = .monthWeekDay(month: m, week: w, weekday: d)
            } else if s.first == UInt8(ascii: "J") {
                s.removeFirst()
                guard let n = number(), (1...365).contains(n) else { throw bad("expected Jn, n from 1 to 365") }
                r = .julianNoLeap(n)
            } else {
                guard let n = number(), n <= 365 else { throw bad("expected a date rule") }
                r = .julianZero(n)
            }
            var t: Int32 = 7200
            if s.first == UInt8(ascii: "/") { s.removeFirst(); t = try time() }
            return (r, t)
        }
        try name()
        std = -(try time())
        if s.isEmpty { return }
        try name()
        var d = std + 3600
        if let c = s.first, c != UInt8(ascii: ",") { d = -(try time()) }
        dst = d
        if s.isEmpty { return }  // rules default to US ones, as glibc does
        guard s.popFirst() == UInt8(ascii: ",") else { throw bad("expected ',' before the daylight rule") }
        (start, startTime) = try date()
        guard s.popFirst() == UInt8(ascii: ",") else { throw bad("expected ',' between the daylight rules") }
        (end, endTime) = try date()
        guard s.isEmpty else { throw bad("unexpected text at the end") }
    }

    /// The local day (days since the epoch) a rule names in `year`.
    static func day(_ r: DateRule, year: Int) -> Int64 {
        let jan1 = CivilDate(year: year, month: 1, day: 1).daysSinceEpoch
        switch r {
        case .julianZero(let n): return jan1 + Int64(n)
        case .julianNoLeap(let n):
            let leapShift: Int64 = CivilDate.isLeap(year) && n >= 60 ? 1 : 0
            return jan1 + Int64(n - 1) + leapShift
        case .monthWeekDay(let m, let w, let wd):
            let first = CivilDate(year: year, month: m, day: 1)
            var day = 1 + (wd - first.weekday + 7) % 7 + (w - 1) * 7
            let len = CivilDate.daysIn(month: m, year: year)
            if w == 5 { while day > len { day -= 7 } }
            return CivilDate(year: year, month: m, day: day).daysSinceEpoch
        }
    }

    func offset(at t: Int64) -> Int32 {
        guard let dst else { return std }
        let year = CivilTime(epochSeconds: t + Int64(std)).date.year
        // Daylight time from start (a reading in standard time) to end (a
        // reading in daylight time), in the year of the instant.
        let s = PosixRule.day(start, year: year) * 86400 + Int64(startTime) - Int64(std)
        let e = PosixRule.day(end, year: year) * 86400 + Int64(endTime) - Int64(dst)
        if s < e { return (t >= s && t < e) ? dst : std }
        return (t >= e && t < s) ? std : dst  // southern hemisphere
    }
}
