import JobFile

/// One socket a loaded job wants: the pure part of the socket bridge.
///
/// Sockets are keyed by their job and their variables as written: a job
/// file edited to another port is a new socket (the old one is closed), and
/// one read again unchanged keeps its listener.
public struct WantedSocket: Hashable, Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var job: String
        public var variables: [String]

        public static func < (a: Key, b: Key) -> Bool {
            (a.job, a.variables.joined(separator: " ")) < (b.job, b.variables.joined(separator: " "))
        }
    }

    public var key: Key
    public var spec: SocketSpec
    /// Where it is written: `FILE:LINE`, or the job's name when the file is
    /// unknown. Every message about the socket starts with it.
    public var location: String

    /// The `socket` event that hands this socket to its job: the match's
    /// variables, `JOB=` (the daemon offers it to that job alone) and
    /// `FDNAME=` (its name in `LISTEN_FDNAMES`).
    public var eventEnvironment: [String] {
        spec.variables + ["JOB=\(key.job)", "FDNAME=\(spec.fdName)"]
    }
}

public enum SocketPlan {
    /// The sockets of one job, from its `show-config` lines: every `socket`
    /// match of its `start on`, in the expression's order (the order its
    /// main process gets them at fd 3, 4, ...). `file` is the job's file
    /// and `text` its contents (for the line numbers), when known.
    ///
    /// Returns the sockets and the problems found (a match the parser
    /// would refuse cannot be loaded, so these are rare: an old daemon).
    public static func sockets(job: String, lines: [String], file: String?, text: String?) -> (sockets: [WantedSocket], problems: [String]) {
        var found: [WantedSocket] = []
        var problems: [String] = []
        for line in lines {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("start on ") else { continue }
            guard let parsed = try? Parser.parse(name: job, text: String(trimmed) + "\n", file: job), let expr = parsed.startOn else { continue }
            for m in expr.matches where m.name == "socket" {
                let location = locate(file: file, text: text, variables: m.arguments.compactMap { a in a.key.map { "\($0)=\(a.value)" } })
                do {
                    let spec = try SocketSpec(m.arguments)
                    let key = WantedSocket.Key(job: job, variables: spec.variables)
                    guard !found.contains(where: { $0.key == key }) else { continue }
                    found.append(WantedSocket(key: key, spec: spec, location: location))
                } catch {
                    problems.append("\(location): job \(job): socket: \(error.description); ignored")
                }
            }
        }
        return (found, problems)
    }

    /// `FILE:LINE` of a socket match: the line, within the job's last
    /// `start on` stanza (the one that counts), that holds its
    /// `SOCKET_PATH=` or `PORT=` (else its first variable); the stanza's
    /// first line when none does; the file alone when there is no text.
    public static func locate(file: String?, text: String?, variables: [String]) -> String {
        guard let file else { return "(unknown file)" }
        guard let text else { return file }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var start: Int?
        for (i, raw) in lines.enumerated() {
            let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 2 && words[0] == "start" && words[1] == "on" { start = i }
        }
        guard let start else { return file }
        let needle = variables.first { $0.hasPrefix("SOCKET_PATH=") } ?? variables.first { $0.hasPrefix("PORT=") } ?? variables.first
        if let needle {
            // The stanza runs on over continued lines and open brackets; a
            // few lines is as far as any socket match is written.
            for i in start..<min(lines.count, start + 32) {
                let l = lines[i]
                if i > start, let first = l.split(whereSeparator: { $0 == " " || $0 == "\t" }).first,
                   !l.hasPrefix(" ") && !l.hasPrefix("\t") && ["exec", "script", "env", "stop", "respawn", "task", "console", "expect"].contains(first) {
                    break
                }
                if containsWord(l, needle) { return "\(file):\(i + 1)" }
            }
        }
        return "\(file):\(start + 1)"
    }

    /// Whether `line` holds `word` bounded by a non-name character.
    static func containsWord(_ line: Substring, _ word: String) -> Bool {
        var rest = line[...]
        while let r = rest.firstRange(of: word) {
            let before = r.lowerBound == line.startIndex ? nil : line[line.index(before: r.lowerBound)]
            let after = r.upperBound == line.endIndex ? nil : line[r.upperBound]
            let okBefore = before.map { !($0.isLetter || $0.isNumber || $0 == "_") } ?? true
            let okAfter = after.map { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "/") } ?? true
            if okBefore && okAfter { return true }
            rest = line[r.upperBound...]
        }
        return false
    }

    /// Activation pacing: a job started by a socket that stops again at
    /// once (it fails, or exits without accepting) would otherwise be
    /// started in a loop by the connection still waiting. After `burst`
    /// activations within `window` ms that ended in a failure (`stopped
    /// RESULT=failed`), or `quietBurst` that did not (a server that exits
    /// 0 without accepting; an administrator's `initctl stop`), listening
    /// waits `pause` ms.
    public struct Pacing: Sendable {
        public var burst = 10
        public var quietBurst = 100
        public var window: Int64 = 2_000
        public var pause: Int64 = 2_000
        public init() {}

        /// When to listen again after the activations at `times` (ms,
        /// ascending), the last one just now: `now`, or later when paced.
        public func listenAgain(after times: [Int64], now: Int64, failed: Bool) -> Int64 {
            let recent = times.filter { $0 > now - window }
            return recent.count >= (failed ? burst : quietBurst) ? now + pause : now
        }
    }
}
