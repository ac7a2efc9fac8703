/// A signal, as `kill signal`, `reload signal` and `normal exit` name it.
///
/// Names are accepted with or without the `SIG` prefix, in any case, and as
/// numbers; they are kept as Linux numbers and printed back as names.
public struct Signal: Hashable, Sendable, Comparable {
    public var number: Int32

    public init(number: Int32) {
        self.number = number
    }

    public static let hup = Signal(number: 1)
    public static let int = Signal(number: 2)
    public static let kill = Signal(number: 9)
    public static let term = Signal(number: 15)

    /// Linux signal names by number (x86-64, arm64 and most others).
    static let names: [(String, Int32)] = [
        ("HUP", 1), ("INT", 2), ("QUIT", 3), ("ILL", 4), ("TRAP", 5), ("ABRT", 6),
        ("BUS", 7), ("FPE", 8), ("KILL", 9), ("USR1", 10), ("SEGV", 11), ("USR2", 12),
        ("PIPE", 13), ("ALRM", 14), ("TERM", 15), ("STKFLT", 16), ("CHLD", 17),
        ("CONT", 18), ("STOP", 19), ("TSTP", 20), ("TTIN", 21), ("TTOU", 22),
        ("URG", 23), ("XCPU", 24), ("XFSZ", 25), ("VTALRM", 26), ("PROF", 27),
        ("WINCH", 28), ("IO", 29), ("PWR", 30), ("SYS", 31),
    ]
    /// Aliases accepted on input only.
    static let aliases: [(String, Int32)] = [("IOT", 6), ("POLL", 29), ("CLD", 17)]

    /// The highest signal number Linux has (SIGRTMAX).
    public static let maxNumber: Int32 = 64

    /// Parses `TERM`, `SIGTERM`, `sigterm` or `15`. Returns nil for anything else.
    public init?(parsing text: String) {
        if isDigits(text), let n = Int32(text), n >= 1, n <= Signal.maxNumber {
            self.number = n
            return
        }
        var upper = text.uppercased()
        if upper.hasPrefix("SIG") { upper.removeFirst(3) }
        if let hit = (Signal.names + Signal.aliases).first(where: { $0.0 == upper }) {
            self.number = hit.1
            return
        }
        if upper.hasPrefix("RTMIN+"), isDigits(upper.dropFirst(6)), let n = Int32(upper.dropFirst(6)), n >= 0, 34 + n <= Signal.maxNumber {
            self.number = 34 + n
            return
        }
        if upper.hasPrefix("RTMAX-"), isDigits(upper.dropFirst(6)), let n = Int32(upper.dropFirst(6)), n >= 0, Signal.maxNumber - n >= 34 {
            self.number = Signal.maxNumber - n
            return
        }
        if upper == "RTMIN" { self.number = 34; return }
        if upper == "RTMAX" { self.number = Signal.maxNumber; return }
        return nil
    }

    /// The signal's name without the `SIG` prefix (`TERM`), or its number as text.
    public var name: String {
        if let hit = Signal.names.first(where: { $0.1 == number }) { return hit.0 }
        if number == 34 { return "RTMIN" }
        if number == Signal.maxNumber { return "RTMAX" }
        if number > 34 && number < Signal.maxNumber { return "RTMIN+\(number - 34)" }
        return String(number)
    }

    /// The full name, `SIGTERM`, as the JSON form and messages use it.
    public var fullName: String {
        Int32(name) == nil ? "SIG" + name : name
    }

    public static func < (a: Signal, b: Signal) -> Bool { a.number < b.number }
}
