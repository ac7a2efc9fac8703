import Platform
import TimeSchedule

/// The bridge's state file for this invocation: `--state`, else the
/// session's or the system's default.
func bridgeStatePath(_ inv: Invocation) -> String {
    let env = Environment.current
    let user = !inv.globals.system && (inv.globals.user || env["UPSTART_SESSION"] != nil)
    return inv.values["state"] ?? BridgeState.defaultPath(user: user, environment: env, home: Identity.homeDirectory)
}

/// A wall-clock time in local time with its offset: `2026-11-30 03:00:00 +0100`.
func localTime(_ ms: Int64?) -> String {
    guard let ms else { return "-" }
    let zone = (try? FileSystem.readFile("/etc/localtime")).flatMap { try? Zone(tzif: $0, name: "localtime") } ?? .utc
    let s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
    let off = Int(zone.offset(at: s))
    let a = abs(off)
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(zone.local(s)) \(off < 0 ? "-" : "+")\(two(a / 3600))\(two(a / 60 % 60))"
}

/// `initctl status JOB` of a timer job: a line per timer with its next run,
/// `\tnext run: TIME (EVERY=1h)`, when the bridge's state file says. No line
/// (and no error) without a state file or timers: status stays Upstart's.
func timerStatusLines(job: String, _ inv: Invocation) -> [String] {
    guard let bytes = try? FileSystem.readFile(bridgeStatePath(inv)),
          let state = try? BridgeState.decode(String(decoding: bytes, as: UTF8.self)) else { return [] }
    return state.timers.keys.filter { $0.job == job }.sorted().map { k in
        "\tnext run: \(state.next[k].map { localTime($0) } ?? "none") (\(k.variables.joined(separator: " ")))"
    }
}

/// `initctl list-timers`: the time bridge's timers from its state file,
/// one line each, soonest first (docs/time-bridge.md).
func listTimers(_ inv: Invocation) throws(CommandFailure) {
    let path = bridgeStatePath(inv)
    let bytes: [UInt8]
    do {
        bytes = try FileSystem.readFile(path)
    } catch {
        throw CommandFailure(message: "cannot read \(path): \(error.errno) (is daybreak-time-bridge running?)")
    }
    let state: BridgeState
    do {
        state = try BridgeState.decode(String(decoding: bytes, as: UTF8.self))
    } catch {
        throw CommandFailure(message: "\(path) is damaged: \(error.description)")
    }
    func time(_ ms: Int64?) -> String { localTime(ms) }
    let keys = state.timers.keys.sorted { a, b in
        let na = state.next[a] ?? Int64.max, nb = state.next[b] ?? Int64.max
        return na != nb ? na < nb : a < b
    }
    var rows = [["JOB", "NEXT", "LAST", "RUNS", "TIMER"]]
    for k in keys {
        let r = state.timers[k]!
        rows.append([k.job, time(state.next[k]), time(r.lastRun), String(r.runs), k.variables.joined(separator: " ")])
    }
    var widths = [Int](repeating: 0, count: 5)
    for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
    var out = ""
    for row in rows {
        var line = ""
        for (i, c) in row.enumerated() {
            line += i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 2)
        }
        out += line + "\n"
    }
    FileSystem.writeStandardOutput(out)
}
