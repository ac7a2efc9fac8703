import Control
import Engine
import JSON
import Platform

// `initctl analyze time|blame|critical-chain [JOB]|plot [--history]`:
// where the boot went, from the daemon's boot record (the `analyze`
// method; docs/initctl.md, "analyze"). The figures come from
// `Timeline` (Engine/BootAnalysis.swift); this file only words and draws
// them.

/// Runs `initctl analyze`.
func analyze(_ inv: Invocation) throws(CommandFailure) {
    let what = inv.positionals.first ?? "time"
    let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.analyze, Request.Params()) }
    guard let record = Timeline(json: result) else { throw CommandFailure(message: "the daemon's boot record could not be read") }
    switch what {
    case "time":
        guard inv.positionals.count == 1 else { throw CommandFailure(message: "analyze time takes no job", hint: true) }
        if inv.flags.contains("history") {
            guard let list = result["history"]?.array else {
                throw CommandFailure(message: "the daemon keeps no boot history: start it with --boot-history FILE")
            }
            FileSystem.writeStandardOutput(historyText(list.compactMap(BootHistory.Boot.init(json:))))
        } else {
            FileSystem.writeStandardOutput(timeText(record.bootTime))
        }
    case "blame":
        guard inv.positionals.count == 1 else { throw CommandFailure(message: "analyze blame takes no job", hint: true) }
        FileSystem.writeStandardOutput(blameText(record.blame))
    case "critical-chain":
        guard inv.positionals.count <= 2 else { throw CommandFailure(message: "analyze critical-chain takes one job at most", hint: true) }
        var key: InstanceKey
        if inv.positionals.count == 2 {
            // The job's instance without a name, else its first recorded one.
            let name = inv.positionals[1]
            key = InstanceKey(job: name)
            if record.entries[key] == nil, let other = record.entries.keys.filter({ $0.job == name }).min() { key = other }
        } else {
            guard let last = record.lastArrival else { throw CommandFailure(message: "no job has reached running yet: name one") }
            key = last
        }
        guard let chain = record.criticalChain(key) else { throw CommandFailure(message: "Unknown job: \(key) (not in the boot record)") }
        FileSystem.writeStandardOutput(chainText(chain))
    case "plot":
        guard inv.positionals.count == 1 else { throw CommandFailure(message: "analyze plot takes no job", hint: true) }
        FileSystem.writeStandardOutput(plotSVG(record))
    default:
        throw CommandFailure(message: "unknown analysis '\(what)': expected time, blame, critical-chain or plot", hint: true)
    }
}

/// Nanoseconds as seconds with three decimals: `1.234s`.
func seconds(_ ns: Int64) -> String {
    let ms = (ns + 500_000) / 1_000_000
    let frac = String(ms % 1000)
    return "\(ms / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)s"
}

/// `analyze time`.
func timeText(_ t: Timeline.BootTime) -> String {
    if t.reexecuted {
        return "The daemon was re-executed (initctl reexec): its record starts there and holds no boot.\n"
    }
    guard let end = t.end else {
        var out = "The boot has not finished"
        out += t.bootEventSettled == nil ? " (its event has not settled)" : ""
        out += t.pending.isEmpty ? ".\n" : ": \(t.pending.count) job\(t.pending.count == 1 ? " is" : "s are") still starting: \(t.pending.map(\.description).joined(separator: ", ")).\n"
        return out
    }
    var out = "Boot finished after "
    if let k = t.kernel {
        out += "\(seconds(k + end)) (kernel \(seconds(k)) + daybreak \(seconds(end)))"
    } else {
        out += "\(seconds(end)) (from the daemon's start)"
    }
    out += ".\n"
    if let s = t.bootEventSettled { out += "The startup event settled after \(seconds(s)).\n" }
    if let last = t.last, let at = t.lastAt {
        out += "The last job the boot started: \(last), up after \(seconds(at)).\n"
    }
    out += "\(t.jobs) job\(t.jobs == 1 ? "" : "s") started during the boot.\n"
    return out
}

/// `analyze time --history`: a line per boot, oldest first, and the trend.
func historyText(_ boots: [BootHistory.Boot]) -> String {
    guard let latest = boots.last else { return "No boot has been recorded yet.\n" }
    var rows = [["boot ended", "kernel", "boot", "startup", "jobs", "last"]]
    for b in boots {
        rows.append([localTime(b.wallMilliseconds), b.kernel.map(seconds) ?? "-", seconds(b.end),
                     b.settled.map(seconds) ?? "-", String(b.jobs), b.last ?? "-"])
    }
    var out = tableText(rows, rightAligned: [1, 2, 3, 4])
    let before = boots.dropLast().map(\.end)
    if !before.isEmpty {
        let mean = before.reduce(0, +) / Int64(before.count)
        let change = mean > 0 ? Int((Double(latest.end - mean) / Double(mean) * 100).rounded()) : 0
        let word = change > 0 ? "\(change)% slower than" : change < 0 ? "\(-change)% faster than" : "as fast as"
        out += "The last boot took \(seconds(latest.end)), \(word) the mean of the \(before.count) before it (\(seconds(mean))).\n"
    }
    return out
}

/// `analyze blame`.
func blameText(_ rows: [Timeline.Blame]) -> String {
    var table = [["total", "pre-start", "main", "post-start", "job"]]
    for r in rows {
        table.append([seconds(r.total), r.preStart.map(seconds) ?? "-", r.main.map(seconds) ?? "-",
                      r.postStart.map(seconds) ?? "-", r.key.description + (r.task ? " (task)" : "")])
    }
    return tableText(table, rightAligned: [0, 1, 2, 3])
}

/// `analyze critical-chain`.
func chainText(_ chain: [Timeline.Link]) -> String {
    var out = "After @ is when the job reached the state the line above waited for, after + how long that took from its starting.\n\n"
    for (depth, link) in chain.enumerated() {
        let pad = depth == 0 ? "" : String(repeating: "   ", count: depth - 1) + "└─ "
        switch link {
        case .job(let key, let at, let took, let via):
            out += pad + (via.map { "\($0): " } ?? "") + "\(key) @\(seconds(at)) +\(seconds(took))\n"
        case .event(let name, let at):
            out += pad + "\(name) event @\(seconds(at))\n"
        case .request(let at):
            out += pad + "initctl start @\(seconds(at))\n"
        }
    }
    return out
}

/// Columns padded to their widest cell, two spaces apart.
func tableText(_ rows: [[String]], rightAligned: Set<Int>) -> String {
    var widths: [Int] = []
    for r in rows {
        for (i, c) in r.enumerated() {
            if i >= widths.count { widths.append(0) }
            widths[i] = max(widths[i], c.count)
        }
    }
    var out = ""
    for r in rows {
        var line = ""
        for (i, c) in r.enumerated() {
            let fill = String(repeating: " ", count: widths[i] - c.count)
            let last = i == r.count - 1
            line += rightAligned.contains(i) ? fill + c : c + (last ? "" : fill)
            if !last { line += "  " }
        }
        out += line + "\n"
    }
    return out
}

// MARK: - plot

/// The colour of each state in the plot.
let stateColours: [(JobState, String)] = [
    (.starting, "#b0bec5"), (.preStart, "#ffb74d"), (.spawned, "#64b5f6"), (.postStart, "#ba68c8"),
    (.running, "#81c784"), (.preStop, "#e57373"), (.stopping, "#e57373"), (.killed, "#e57373"), (.postStop, "#e57373"),
]

func xmlEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

/// `analyze plot`: an SVG with one bar per instance (a `<g class="job">`
/// each), in the order they began starting, over a time axis; each state
/// a colour, a legend on top, the boot's end a line. Rows are 18 pixels,
/// so 200 jobs make a picture 3,700 pixels tall that scrolls like a page.
func plotSVG(_ record: Timeline) -> String {
    let entries = record.sortedEntries.filter { $0.time(.starting) != nil }
        .sorted { ($0.time(.starting)!, $0.key) < ($1.time(.starting)!, $1.key) }
    var end: Int64 = record.bootEnd?.nanoseconds ?? 0
    for e in entries { for t in e.entered.compactMap({ $0 }) { end = max(end, t.nanoseconds) } }
    end = max(end + end / 20, 100_000_000)
    let label = 220, plotWidth = 1000, row = 18, top = 80
    let width = label + plotWidth + 20
    let height = top + row * entries.count + 30
    func x(_ ns: Int64) -> Int { label + Int(Double(ns) / Double(end) * Double(plotWidth)) }
    var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff"/>
        <text x="10" y="20" font-size="15" font-weight="bold">Daybreak boot: \(entries.count) job\(entries.count == 1 ? "" : "s")\(record.bootEnd.map { ", finished after " + seconds($0.nanoseconds) } ?? ", not finished")</text>

        """
    // Legend.
    var lx = 10
    for (state, colour) in stateColours where state.ordinal <= JobState.stopping.ordinal && state != .preStop {
        let name = state == .stopping ? "stopping" : state.rawValue
        out += "<g class=\"legend\"><rect x=\"\(lx)\" y=\"32\" width=\"14\" height=\"12\" fill=\"\(colour)\"/><text x=\"\(lx + 18)\" y=\"43\">\(name)</text></g>\n"
        lx += 30 + name.count * 7
    }
    // Time axis: a tick at each round step, about ten across.
    let steps: [Int64] = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000, 120000, 300000, 600000].map { $0 * 1_000_000 }
    let step: Int64 = steps.first(where: { end / $0 <= 12 }) ?? steps[steps.count - 1]
    var t: Int64 = 0
    while t <= end {
        let px = x(t)
        out += "<line x1=\"\(px)\" y1=\"\(top - 8)\" x2=\"\(px)\" y2=\"\(top + row * entries.count)\" stroke=\"#e0e0e0\"/>"
        out += "<text x=\"\(px)\" y=\"\(top - 12)\" text-anchor=\"middle\" fill=\"#555555\">\(seconds(t))</text>\n"
        t += step
    }
    for (i, e) in entries.enumerated() {
        let y = top + i * row
        let name = xmlEscape(e.key.description)
        out += "<g class=\"job\" data-job=\"\(name)\"><title>\(name)\(e.task ? " (task)" : "")</title>"
        if i % 2 == 1 { out += "<rect x=\"0\" y=\"\(y)\" width=\"\(width)\" height=\"\(row)\" fill=\"#f7f7f7\"/>" }
        out += "<text x=\"\(label - 8)\" y=\"\(y + 13)\" text-anchor=\"end\">\(name)</text>"
        // Each state from its first entry to the next state entered, in
        // lifecycle order where times are equal; `waiting` (the end of the
        // run) comes last and is not drawn.
        func rank(_ s: JobState) -> Int { s == .waiting ? JobState.allCases.count : s.ordinal }
        let marks = JobState.allCases.compactMap { s in e.time(s).map { (s, $0.nanoseconds) } }
            .sorted { ($0.1, rank($0.0)) < ($1.1, rank($1.0)) }
        for (j, (state, from)) in marks.enumerated() where state != .waiting {
            let to = j + 1 < marks.count ? marks[j + 1].1 : end
            let colour = stateColours.first { $0.0 == state }!.1
            let w = max(1, x(to) - x(from))
            out += "<rect class=\"state\" x=\"\(x(from))\" y=\"\(y + 3)\" width=\"\(w)\" height=\"\(row - 6)\" fill=\"\(colour)\"><title>\(name) \(state.rawValue) at \(seconds(from))</title></rect>"
        }
        if let a = e.arrived, let s = e.time(.starting) {
            out += "<text x=\"\(x(a.nanoseconds) + 4)\" y=\"\(y + 13)\" fill=\"#333333\">\(seconds(a.nanoseconds - s.nanoseconds))</text>"
        }
        out += "</g>\n"
    }
    if let b = record.bootEnd {
        let px = x(b.nanoseconds)
        out += "<line class=\"boot-end\" x1=\"\(px)\" y1=\"\(top - 8)\" x2=\"\(px)\" y2=\"\(top + row * entries.count)\" stroke=\"#d32f2f\" stroke-dasharray=\"4 3\"/>\n"
    }
    out += "</svg>\n"
    return out
}
