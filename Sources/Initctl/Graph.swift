import Control
import JSON
import Platform

// `initctl graph [--dot|--svg] [JOB...]`: the jobs, the events that start
// and stop them, their `while` dependencies and what they emit, as a
// Graphviz digraph, in the manner of Upstart's initctl2dot. It is drawn
// from `show-config --enumerate`, so it shows what the daemon has loaded.
//
//   job             a rounded box
//   event           a diamond (job events are not drawn as nodes: an edge
//                   links the two jobs, labelled with the event)
//   start on        a green edge, event (or job) to the job it starts
//   stop on         a red edge
//   while           a blue dashed edge from the job needed to the job that
//                   needs it ("while"), grey and "while not" when negated
//   emits           a dotted edge from the job to the event
//
// With JOB names, only those jobs and what links to them are drawn.

/// One edge of the graph.
struct GraphEdge: Hashable {
    var from: String
    var to: String
    var attributes: String
}

/// Builds the DOT text from a `show-config --enumerate` result.
func graphDOT(_ result: JSONValue, only: [String]) -> String {
    let jobEvents: Set<String> = ["starting", "started", "stopping", "stopped"]
    var jobs: [String] = []
    var edges: [GraphEdge] = []
    var events = Set<String>()
    for job in result["jobs"]?.array ?? [] {
        guard let name = job["name"]?.string else { continue }
        jobs.append(name)
        let me = "job:" + name
        for line in job["lines"]?.strings ?? [] {
            let text = line.drop(while: { $0 == " " })
            if text.hasPrefix("emits ") {
                let ev = String(text.dropFirst(6))
                events.insert(ev)
                edges.append(GraphEdge(from: me, to: "event:" + ev, attributes: "style=dotted, arrowhead=open, label=\"emits\""))
                continue
            }
            for (label, color) in [("start on ", "#2e7d32"), ("stop on ", "#c62828")] where text.hasPrefix(label) {
                // `start on EVENT (job: JOB, event: EVENT, env: ...)` or `start on EVENT (job:, env: ...)`
                let rest = text.dropFirst(label.count)
                let event = String(rest.prefix(while: { $0 != " " }))
                let other = field(rest, "job:")
                if jobEvents.contains(event), !other.isEmpty {
                    edges.append(GraphEdge(from: "job:" + other, to: me, attributes: "color=\"\(color)\", fontcolor=\"\(color)\", label=\"\(label)\(event)\""))
                } else {
                    events.insert(event)
                    edges.append(GraphEdge(from: "event:" + event, to: me, attributes: "color=\"\(color)\", fontcolor=\"\(color)\", label=\"\(label.dropLast())\""))
                }
            }
            if text.hasPrefix("while ") {
                let negated = text.hasPrefix("while not ")
                let other = field(text, "job:")
                let env = field(text, "env:")
                let label = (negated ? "while not" : "while") + (env.isEmpty ? "" : " " + env)
                let color = negated ? "#757575" : "#1565c0"
                edges.append(GraphEdge(from: "job:" + other, to: me, attributes: "style=dashed, color=\"\(color)\", fontcolor=\"\(color)\", label=\"\(escape(label))\""))
            }
        }
    }
    // With JOB names: those jobs, and the edges that touch them.
    if !only.isEmpty {
        let wanted = Set(only.map { "job:" + $0 })
        edges = edges.filter { wanted.contains($0.from) || wanted.contains($0.to) }
    }
    var nodes = Set<String>()
    for e in edges { nodes.insert(e.from); nodes.insert(e.to) }
    if only.isEmpty { for j in jobs { nodes.insert("job:" + j) } } else { for j in only { nodes.insert("job:" + j) } }
    let loaded = Set(jobs)

    var out = "digraph daybreak {\n"
    out += "  rankdir=LR;\n"
    out += "  node [fontname=\"Helvetica\", fontsize=11];\n"
    out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
    for n in nodes.sorted() {
        if n.hasPrefix("job:") {
            let name = String(n.dropFirst(4))
            let style = loaded.contains(name) ? "style=\"rounded,filled\", fillcolor=\"#e3ecf7\"" : "style=\"rounded,dashed\""
            out += "  \"\(escape(n))\" [label=\"\(escape(name))\", shape=box, \(style)];\n"
        } else {
            out += "  \"\(escape(n))\" [label=\"\(escape(String(n.dropFirst(6))))\", shape=diamond, style=filled, fillcolor=\"#fff3cd\"];\n"
        }
    }
    var seen = Set<GraphEdge>()
    for e in edges where seen.insert(e).inserted {
        out += "  \"\(escape(e.from))\" -> \"\(escape(e.to))\" [\(e.attributes)];\n"
    }
    out += "}\n"
    return out
}

/// The value after `key` in `(job: A, event: B, env: X=1 Y=2)`, up to the
/// next `,` or `)`.
private func field<S: StringProtocol>(_ text: S, _ key: String) -> String {
    guard let r = text.range(of: key) else { return "" }
    let after = text[r.upperBound...].drop(while: { $0 == " " })
    let value = after.prefix(while: { $0 != "," && $0 != ")" })
    return String(value).trimmingSpaces
}

private func escape(_ s: String) -> String {
    var out = ""
    for ch in s {
        if ch == "\"" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        while s.first == " " { s = s.dropFirst() }
        return String(s)
    }
}

extension StringProtocol {
    func range(of needle: String) -> Range<Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
