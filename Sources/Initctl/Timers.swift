import Platform
import TimeSchedule

/// `initctl list-timers`: the time bridge's timers from its state file,
/// one line each, soonest first (docs/time-bridge.md).
func listTimers(_ inv: Invocation) throws(CommandFailure) {
    let env = Environment.current
    let user = !inv.globals.system && (inv.globals.user || env["UPSTART_SESSION"] != nil)
    let path = inv.values["state"] ?? BridgeState.defaultPath(user: user, environment: env, home: Identity.homeDirectory)
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
    let zone = (try? FileSystem.readFile("/etc/localtime")).flatMap { try? Zone(tzif: $0, name: "localtime") } ?? .utc
    func time(_ ms: Int64?) -> String {
        guard let ms else { return "-" }
        let s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let off = Int(zone.offset(at: s))
        let sign = off < 0 ? "-" : "+"
        let a = abs(off)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(zone.local(s)) \(sign)\(two(a / 3600))\(two(a / 60 % 60))"
    }
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
