#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs `body` `rounds` times and returns the best (lowest) time in
/// nanoseconds: the least disturbed run on a shared machine.
public func bestOf(_ rounds: Int, _ body: () -> Void) -> UInt64 {
    var best = UInt64.max
    for _ in 0..<rounds {
        let start = monotonicNanoseconds()
        body()
        best = min(best, monotonicNanoseconds() - start)
    }
    return best
}

/// Keeps a value alive so the optimizer cannot drop the work that made it.
@inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// Formats a number with a fixed count of decimals.
public func fixed(_ value: Double, _ decimals: Int = 2) -> String {
    if decimals == 0 { return String(Int(value.rounded())) }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let have = text.distance(from: dot, to: text.endIndex) - 1
        if have < decimals { text += String(repeating: "0", count: decimals - have) }
    } else if decimals > 0 {
        text += "." + String(repeating: "0", count: decimals)
    }
    return text
}

/// Prints one row of a Markdown table.
public func row(_ cells: [String]) {
    print("| " + cells.joined(separator: " | ") + " |")
}

/// Ends the benchmark process with `status`.
public func Process_exit(_ status: Int32) -> Never {
    exit(status)
}
